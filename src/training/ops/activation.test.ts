import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation as ActivationName } from '../../config/schema';
import { Activation } from './activation';
import { checkGradients, handWritten, uniformArray, type OpCase } from './testing';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const FLOAT64: Record<ActivationName, (v: number) => number> = {
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
};

function activationCase(activation: ActivationName, m = 5, units = 4): OpCase {
  return { op: new Activation(activation), m, inUnits: units, outUnits: units, params: [], float64: (x) => x.map(FLOAT64[activation]) };
}

describe('Activation', () => {
  for (const activation of ['sigmoid', 'tanh', 'relu'] as const) {
    it(`${activation}'s gradient, read from its output, matches float64 finite differences and autodiff`, () => {
      const c = activationCase(activation);
      // Away from ReLU's kink, where finite differences see half the slope.
      const x = uniformArray(c.m * c.inUnits, 7, -2, 2).map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
      checkGradients(c, x, uniformArray(c.m * c.outUnits, 8));
    });
  }

  it('takes the gradient transposed, as a backward matMul gives it, to the same result', () => {
    const c = activationCase('sigmoid', 3, 2);
    const x = uniformArray(6, 9);
    const dy = uniformArray(6, 10);
    const rowMajor = handWritten(c, x, dy).dx!;
    let transposed: Float32Array | undefined;
    tf.tidy(() => {
      const step = { params: [], gradients: [], noise: null, requireNoise: true };
      c.op.forward({ m: 3, units: 2, tensor: null, array: x }, step);
      const dyT = Float32Array.from([dy[0], dy[2], dy[4], dy[1], dy[3], dy[5]]);
      transposed = c.op.backward({ values: dyT, transposed: true }, step)!.values.slice();
    });
    expect(transposed).toEqual(rowMajor);
  });
});
