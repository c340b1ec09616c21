import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm } from './batchNorm';
import { checkGradients, handWritten, handWrittenForward, uniformArray, type OpCase } from './testing';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const EPSILON = 1e-5;

/** `ghost`: the virtual batch size (0: the whole mini-batch). */
function batchNormCase(m = 6, units = 4, inferenceStatistics: 'population' | 'moving' = 'population', ghost = 0): OpCase {
  const op = new BatchNorm('bn', units, { epsilon: EPSILON, inferenceStatistics, movingAverageDecay: 0.9, ghostBatchSize: ghost });
  const group = ghost === 0 ? m : ghost;
  return {
    op,
    m,
    inUnits: units,
    outUnits: units,
    params: [uniformArray(units, 11, 0.5, 1.5), uniformArray(units, 12)],
    // Algorithm 1 written out: each unit over each group of examples (the whole mini-batch unless ghost), biased variance.
    float64: (x, [gamma, beta]) => {
      const out = new Float64Array(x.length);
      for (let first = 0; first < m; first += group) {
        for (let j = 0; j < units; j++) {
          let mean = 0;
          for (let i = first; i < first + group; i++) mean += x[i * units + j] / group;
          let variance = 0;
          for (let i = first; i < first + group; i++) variance += (x[i * units + j] - mean) ** 2 / group;
          for (let i = first; i < first + group; i++) out[i * units + j] = (gamma[j] * (x[i * units + j] - mean)) / Math.sqrt(variance + EPSILON) + beta[j];
        }
      }
      return out;
    },
  };
}

describe('BatchNorm', () => {
  it('gradients through the batch mean and variance match float64 finite differences and autodiff', () => {
    const c = batchNormCase();
    checkGradients(c, uniformArray(c.m * c.inUnits, 13, -3, 3), uniformArray(c.m * c.outUnits, 14));
  });

  it('replaces the bias: the dense op before it has none', () => {
    expect(batchNormCase().op.replacesBias).toBe(true);
  });

  it('moves its moving averages only when asked, toward the batch mean and unbiased variance', () => {
    const c = batchNormCase(4, 2, 'moving');
    const x = Float32Array.from([1, 10, 2, 20, 3, 30, 6, 40]);
    handWritten(c, x, new Float32Array(8));
    // The forward and backward passes leave the running statistics alone.
    expect(c.op.populationStatistics!()).toEqual({ mean: Float32Array.from([0, 0]), variance: Float32Array.from([1, 1]) });
    c.op.observe!(c.op.batchStatistics!(), 4);
    const { mean, variance } = c.op.populationStatistics!();
    // Batch means 3 and 25, sample variances 14/3 and 500/3; decay 0.9 from 0 and 1.
    expect(mean[0]).toBeCloseTo(0.1 * 3, 5);
    expect(mean[1]).toBeCloseTo(0.1 * 25, 5);
    expect(variance[0]).toBeCloseTo(0.9 + 0.1 * (14 / 3), 4);
    expect(variance[1]).toBeCloseTo(0.9 + 0.1 * (500 / 3), 3);
  });

  it('gradients of ghost BN (statistics per virtual batch) match float64 finite differences and autodiff', () => {
    // Not V = 2: there each xhat is +-1 whatever x is, dx is only what epsilon leaves of it, and
    // float32 rounding is no longer small beside it.
    for (const [m, ghost] of [
      [8, 4],
      [6, 3],
      [12, 3],
    ]) {
      const c = batchNormCase(m, 4, 'population', ghost);
      checkGradients(c, uniformArray(c.m * c.inUnits, 15 + m, -3, 3), uniformArray(c.m * c.outUnits, 16 + ghost));
    }
  });

  it('ghost BN normalizes each virtual batch with its own statistics only', () => {
    const c = batchNormCase(6, 3, 'population', 2);
    const x = uniformArray(18, 17, -2, 2);
    const out = handWrittenForward(c, x);
    const other = Float32Array.from(x);
    // Examples 3 to 6 (the second and third virtual batches) replaced.
    for (let at = 6; at < 18; at++) other[at] = 5 * Math.cos(at);
    expect(handWrittenForward(c, other).subarray(0, 6)).toEqual(out.subarray(0, 6));
    const alone = handWrittenForward({ ...batchNormCase(2, 3), params: c.params }, x.slice(0, 6));
    expect(alone).toEqual(out.subarray(0, 6));
  });

  it('ghost BN with V = m (or 0) computes what BN computes, bit for bit', () => {
    const x = uniformArray(24, 18, -3, 3);
    const dy = uniformArray(24, 19);
    const plain = handWritten(batchNormCase(6, 4), x, dy);
    for (const ghost of [6, 0]) {
      const ghostCase = batchNormCase(6, 4, 'population', ghost);
      expect(handWrittenForward(ghostCase, x)).toEqual(handWrittenForward(batchNormCase(6, 4), x));
      const mine = handWritten(ghostCase, x, dy);
      expect(mine.dx).toEqual(plain.dx);
      expect(mine.dParams).toEqual(plain.dParams);
    }
  });

  it('refuses virtual batches that do not divide the mini-batch, naming both sizes', () => {
    expect(() => handWrittenForward(batchNormCase(6, 2, 'population', 4), uniformArray(12, 20))).toThrow(
      /ghost batches of 4 examples do not divide a mini-batch of 6/,
    );
  });
});
