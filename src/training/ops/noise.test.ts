import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Noise } from './noise';
import { checkGradients, handWrittenForward, uniformArray, type OpCase } from './testing';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

function noiseCase(m = 5, units = 3): OpCase {
  const noise = { scale: Float32Array.from([1.2, 1.7, 1.05]), shift: Float32Array.from([0.3, -0.4, 0.1]) };
  return {
    op: new Noise('hidden layer 1'),
    m,
    inUnits: units,
    outUnits: units,
    params: [],
    noise,
    float64: (y) => y.map((v, at) => v * noise.scale[at % units] + noise.shift[at % units]),
  };
}

describe('Noise', () => {
  it("maps each unit's value y to y * scale + shift, and its gradient matches finite differences and autodiff", () => {
    const c = noiseCase();
    const y = uniformArray(15, 21);
    const out = handWrittenForward(c, y);
    out.forEach((v, at) => expect(v).toBeCloseTo(y[at] * c.noise!.scale![at % 3] + c.noise!.shift[at % 3], 6));
    checkGradients(c, y, uniformArray(15, 22));
  });

  it('adds noise drawn per example (Santurkar et al.) to each example and unit, and passes the gradient through as it is', () => {
    const shift = uniformArray(15, 25);
    const c: OpCase = { ...noiseCase(), noise: { scale: null, shift }, float64: (y) => y.map((v, at) => v + shift[at]) };
    const y = uniformArray(15, 26);
    handWrittenForward(c, y).forEach((v, at) => expect(v).toBeCloseTo(y[at] + shift[at], 6));
    checkGradients(c, y, uniformArray(15, 27));
  });

  it('refuses noise drawn for a mini-batch of another size', () => {
    const c: OpCase = { ...noiseCase(), noise: { scale: null, shift: uniformArray(12, 28) } };
    expect(() => handWrittenForward(c, uniformArray(15, 29))).toThrow(/hidden layer 1: noise for 4 examples, the mini-batch has 5/);
  });

  it('refuses a training step without its noise, and leaves inference alone', () => {
    const c = { ...noiseCase(), noise: null };
    expect(() => handWrittenForward(c, uniformArray(15, 23))).toThrow(/hidden layer 1 is noisy BN: a training step needs its noise/);
    const x = tf.tensor2d(uniformArray(15, 24), [5, 3]);
    expect(c.op.forwardTensor(x, [], { training: false, noise: noiseCase().noise!, requireNoise: false })).toBe(x);
    x.dispose();
  });
});
