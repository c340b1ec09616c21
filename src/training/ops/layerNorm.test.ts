import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerNorm } from './layerNorm';
import { checkGradients, handWrittenForward, uniformArray, type OpCase } from './testing';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const EPSILON = 1e-5;

function layerNormCase(m = 5, units = 6): OpCase {
  const op = new LayerNorm('ln', units, EPSILON);
  return {
    op,
    m,
    inUnits: units,
    outUnits: units,
    params: [uniformArray(units, 31, 0.5, 1.5), uniformArray(units, 32)],
    // Ba et al.'s definition: each example over its own units, biased variance.
    float64: (x, [gamma, beta]) => {
      const out = new Float64Array(x.length);
      for (let i = 0; i < m; i++) {
        const row = x.subarray(i * units, (i + 1) * units);
        const mean = row.reduce((s, v) => s + v, 0) / units;
        const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / units;
        row.forEach((v, j) => (out[i * units + j] = (gamma[j] * (v - mean)) / Math.sqrt(variance + EPSILON) + beta[j]));
      }
      return out;
    },
  };
}

describe('LayerNorm', () => {
  it("gradients through each example's mean and variance match float64 finite differences and autodiff", () => {
    const c = layerNormCase();
    checkGradients(c, uniformArray(c.m * c.inUnits, 33, -3, 3), uniformArray(c.m * c.outUnits, 34));
  });

  it("an example's output does not depend on the rest of the batch", () => {
    const c = layerNormCase(4, 6);
    const x = uniformArray(24, 35, -2, 2);
    const inBatch = handWrittenForward(c, x);
    const other = Float32Array.from(x);
    // The other three examples replaced by something else entirely.
    for (let at = 6; at < 24; at++) other[at] = 10 * Math.sin(at);
    expect(handWrittenForward(c, other).subarray(0, 6)).toEqual(inBatch.subarray(0, 6));
    const alone = handWrittenForward({ ...c, m: 1 }, x.slice(0, 6));
    expect(alone).toEqual(inBatch.subarray(0, 6));
  });

  it('computes the same in training and inference mode, hand-written and in tfjs', () => {
    const c = layerNormCase(3, 4);
    const x = uniformArray(12, 36, -2, 2);
    const handWritten = handWrittenForward(c, x);
    tf.tidy(() => {
      const params = c.params.map((p) => tf.tensor1d(p));
      const xt = tf.tensor2d(x, [3, 4]);
      const training = c.op.forwardTensor(xt, params, { training: true, noise: null, requireNoise: false }).dataSync();
      const inference = c.op.forwardTensor(xt, params, { training: false, noise: null, requireNoise: false }).dataSync();
      expect(inference).toEqual(training);
      training.forEach((v, i) => expect(handWritten[i]).toBeCloseTo(v, 5));
    });
    expect(c.op.replacesBias).toBe(true);
    expect(c.op.observe).toBeUndefined();
  });
});
