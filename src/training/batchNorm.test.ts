import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormBackward, batchNormGroups, batchNormInference, batchNormTraining, batchNormTrainingArrays, unbiasedVariance } from './batchNorm';
import { createGaussian, createRng } from './rng';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const M = 16;
const UNITS = 5;
const EPSILON = 1e-5;

/** A mini-batch whose units have very different means and spreads, as Wx does before BN. */
function randomBatch(seed: number, m = M, units = UNITS): number[][] {
  const gaussian = createGaussian(createRng(seed));
  return Array.from({ length: m }, () => Array.from({ length: units }, (_, j) => 3 * j - 4 + (j + 0.5) * gaussian()));
}

function randomVector(seed: number, units = UNITS): number[] {
  const gaussian = createGaussian(createRng(seed));
  return Array.from({ length: units }, () => gaussian());
}

function column(rows: number[][], j: number): number[] {
  return rows.map((row) => row[j]);
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

function biasedVariance(values: number[]): number {
  const mu = mean(values);
  return mean(values.map((v) => (v - mu) ** 2));
}

/** Algorithm 1 in float64 plain JS, the independent formulation the tfjs version is checked against. */
function batchNorm64(x: number[][], gamma: number[], beta: number[]): number[][] {
  const mus = gamma.map((_, j) => mean(column(x, j)));
  const variances = gamma.map((_, j) => biasedVariance(column(x, j)));
  return x.map((row) => row.map((v, j) => (gamma[j] * (v - mus[j])) / Math.sqrt(variances[j] + EPSILON) + beta[j]));
}

describe('batchNormTraining (Algorithm 1)', () => {
  it('normalizes every unit to mean 0 and variance 1 over the mini-batch', () => {
    const x = randomBatch(1);
    const [xhat, batchMean, batchVariance] = tf.tidy(() => {
      const bn = batchNormTraining(tf.tensor2d(x), tf.ones([UNITS]), tf.zeros([UNITS]), EPSILON);
      return [bn.xhat, bn.batchMean, bn.batchVariance];
    });
    const rows = xhat.arraySync() as number[][];
    for (let j = 0; j < UNITS; j++) {
      expect(mean(column(rows, j))).toBeCloseTo(0, 5);
      // var(xhat) = var / (var + eps): 1 up to epsilon over the unit's variance (>= 0.25 here).
      expect(biasedVariance(column(rows, j))).toBeCloseTo(1, 4);
      expect(batchMean.dataSync()[j]).toBeCloseTo(mean(column(x, j)), 4);
      expect(batchVariance.dataSync()[j]).toBeCloseTo(biasedVariance(column(x, j)), 4);
    }
    tf.dispose([xhat, batchMean, batchVariance]);
  });

  it('scales each normalized unit by its gamma and shifts it by its beta', () => {
    const x = randomBatch(2);
    const gamma = [0.5, -2, 1, 3, 0.1];
    const beta = [1, 0, -3, 2, 0.5];
    const normalized = tf.tidy(() => batchNormTraining(tf.tensor2d(x), tf.tensor1d(gamma), tf.tensor1d(beta), EPSILON).normalized);
    const rows = normalized.arraySync() as number[][];
    const expected = batchNorm64(x, gamma, beta);
    for (let j = 0; j < UNITS; j++) {
      expect(mean(column(rows, j))).toBeCloseTo(beta[j], 4);
      expect(Math.sqrt(biasedVariance(column(rows, j)))).toBeCloseTo(Math.abs(gamma[j]), 4);
      for (let i = 0; i < M; i++) expect(rows[i][j]).toBeCloseTo(expected[i][j], 4);
    }
    normalized.dispose();
  });
});

describe('batchNormGroups', () => {
  it('normalizes each stacked mini-batch with its own statistics, as Algorithm 1 on each alone', () => {
    const batches = [randomBatch(11), randomBatch(12), randomBatch(13)];
    const gamma = randomVector(14);
    const beta = randomVector(15);
    const result = tf.tidy(() => {
      const bn = batchNormGroups(tf.tensor2d(batches.flat()), batches.length, tf.tensor1d(gamma), tf.tensor1d(beta), EPSILON);
      return { normalized: bn.normalized.arraySync(), means: bn.batchMeans.arraySync(), variances: bn.batchVariances.arraySync() };
    });
    batches.forEach((batch, g) => {
      const expected = batchNorm64(batch, gamma, beta);
      expected.forEach((row, r) => row.forEach((v, j) => expect(result.normalized[g * M + r][j]).toBeCloseTo(v, 4)));
      gamma.forEach((_, j) => {
        expect(result.means[g][j]).toBeCloseTo(mean(column(batch, j)), 4);
        expect(result.variances[g][j]).toBeCloseTo(biasedVariance(column(batch, j)), 3);
      });
    });
  });
});

describe('batchNormTrainingArrays (Algorithm 1 on plain arrays)', () => {
  it('computes what batchNormTraining computes in tfjs: statistics, xhat and gamma * xhat + beta', () => {
    const x = randomBatch(21);
    const gamma = randomVector(22);
    const beta = randomVector(23);
    const arrays = batchNormTrainingArrays(Float32Array.from(x.flat()), Float32Array.from(gamma), Float32Array.from(beta), EPSILON);
    const tensors = tf.tidy(() => {
      const bn = batchNormTraining(tf.tensor2d(x), tf.tensor1d(gamma), tf.tensor1d(beta), EPSILON);
      return [bn.normalized, bn.xhat, bn.inverseStd, bn.batchMean, bn.batchVariance].map((t) => t.dataSync());
    });
    const expected = batchNorm64(x, gamma, beta).flat();
    [arrays.normalized, arrays.xhat, arrays.inverseStd, arrays.batchMean, arrays.batchVariance].forEach((values, k) => {
      expect(values.length).toBe(tensors[k].length);
      values.forEach((v, i) => expect(v).toBeCloseTo(tensors[k][i], 4));
    });
    arrays.normalized.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
  });
});

describe('batchNormBackward', () => {
  it('matches central finite differences of a float64 Algorithm 1, through the batch mean and variance', () => {
    const x = randomBatch(3);
    const gamma = randomVector(4).map((g) => 1 + 0.5 * g);
    const beta = randomVector(5);
    // A loss sum(c * BN(x)) with random c makes dLoss/dBN(x) = c, an arbitrary upstream gradient.
    const c = randomBatch(6).map((row) => row.map((v) => v / 5));
    const loss = (xs: number[][], g: number[], b: number[]) => batchNorm64(xs, g, b).reduce((s, row, i) => s + row.reduce((t, v, j) => t + c[i][j] * v, 0), 0);

    const gammaArray = Float32Array.from(gamma);
    const forward = batchNormTrainingArrays(Float32Array.from(x.flat()), gammaArray, Float32Array.from(beta), EPSILON);
    const { dx, dGamma, dBeta } = batchNormBackward(Float32Array.from(c.flat()), forward, gammaArray);

    // Float64 central differences with h = 1e-6 are exact to ~1e-9 here (rounding 1e-16/h, truncation
    // h^2 x third derivative); the float32 analytic gradients are sums of ~16 terms of size <= ~5,
    // so float32 rounding (6e-8 relative) leaves errors below ~1e-5. A missing term (e.g. no gradient
    // through the batch mean) would be off by O(1).
    const h = 1e-6;
    const tolerance = 1e-4;
    let largest = 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < UNITS; j++) {
        const plus = x.map((row) => [...row]);
        const minus = x.map((row) => [...row]);
        plus[i][j] += h;
        minus[i][j] -= h;
        const numeric = (loss(plus, gamma, beta) - loss(minus, gamma, beta)) / (2 * h);
        expect(Math.abs(dx[i * UNITS + j] - numeric)).toBeLessThan(tolerance);
        largest = Math.max(largest, Math.abs(numeric));
      }
    }
    // The check means something only if the input gradient is not ~0.
    expect(largest).toBeGreaterThan(0.1);
    for (let j = 0; j < UNITS; j++) {
      const shifted = (values: number[], delta: number) => values.map((v, k) => (k === j ? v + delta : v));
      const numericGamma = (loss(x, shifted(gamma, h), beta) - loss(x, shifted(gamma, -h), beta)) / (2 * h);
      const numericBeta = (loss(x, gamma, shifted(beta, h)) - loss(x, gamma, shifted(beta, -h))) / (2 * h);
      expect(Math.abs(dGamma[j] - numericGamma)).toBeLessThan(tolerance);
      expect(Math.abs(dBeta[j] - numericBeta)).toBeLessThan(tolerance);
    }
  });
});

describe('batchNormInference (Algorithm 2)', () => {
  it('applies gamma * (x - mean) / sqrt(variance + eps) + beta per unit, the same for an example alone or in a batch', () => {
    const x = randomBatch(7);
    const gamma = [0.5, -2, 1, 3, 0.1];
    const beta = [1, 0, -3, 2, 0.5];
    const populationMean = [-4, -1, 2, 5, 8];
    const populationVariance = [0.3, 2, 6, 12, 20];
    const infer = (rows: number[][]) =>
      tf.tidy(() =>
        batchNormInference(tf.tensor2d(rows), tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(populationMean), tf.tensor1d(populationVariance), EPSILON),
      );
    const batch = infer(x);
    const alone = infer([x[3]]);
    const batchRows = batch.arraySync() as number[][];
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < UNITS; j++) {
        const expected = (gamma[j] * (x[i][j] - populationMean[j])) / Math.sqrt(populationVariance[j] + EPSILON) + beta[j];
        expect(batchRows[i][j]).toBeCloseTo(expected, 4);
      }
    }
    alone.dataSync().forEach((value, j) => expect(value).toBeCloseTo(batchRows[3][j], 6));
    tf.dispose([batch, alone]);
  });

  it('unbiasedVariance is m/(m-1) x the biased variance: the sample variance of the batch', () => {
    const x = randomBatch(8, 6);
    const result = tf.tidy(() => unbiasedVariance(batchNormTraining(tf.tensor2d(x), tf.ones([UNITS]), tf.zeros([UNITS]), EPSILON).batchVariance, 6));
    for (let j = 0; j < UNITS; j++) {
      const values = column(x, j);
      const mu = mean(values);
      const sampleVariance = values.reduce((s, v) => s + (v - mu) ** 2, 0) / 5;
      expect(result.dataSync()[j]).toBeCloseTo(sampleVariance, 4);
    }
    result.dispose();
  });
});
