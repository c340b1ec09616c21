import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm } from './batchNorm';
import { checkGradients, handWritten, uniformArray, type OpCase } from './testing';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const EPSILON = 1e-5;

function batchNormCase(m = 6, units = 4, inferenceStatistics: 'population' | 'moving' = 'population'): OpCase {
  const op = new BatchNorm('bn', units, { epsilon: EPSILON, inferenceStatistics, movingAverageDecay: 0.9 });
  return {
    op,
    m,
    inUnits: units,
    outUnits: units,
    params: [uniformArray(units, 11, 0.5, 1.5), uniformArray(units, 12)],
    // Algorithm 1 written out: each unit over the mini-batch, biased variance.
    float64: (x, [gamma, beta]) => {
      const out = new Float64Array(x.length);
      for (let j = 0; j < units; j++) {
        let mean = 0;
        for (let i = 0; i < m; i++) mean += x[i * units + j] / m;
        let variance = 0;
        for (let i = 0; i < m; i++) variance += (x[i * units + j] - mean) ** 2 / m;
        for (let i = 0; i < m; i++) out[i * units + j] = (gamma[j] * (x[i * units + j] - mean)) / Math.sqrt(variance + EPSILON) + beta[j];
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
});
