import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Normalization } from '../config/schema';
import { initialWeights, Network, type NetworkSpec } from './network';
import { drawNoise, type LayerNoise } from './noise';
import { ReferenceNetwork } from './reference';
import { createRng } from './rng';
import { copyAll, internalCovariateShift, LANDSCAPE_STEP_FACTORS, landscape, walkInArrays, type GradientAt } from './santurkar';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

function spec(normalization: Normalization[]): NetworkSpec {
  return {
    inputSize: 12,
    outputSize: 10,
    hiddenLayers: normalization.length,
    hiddenUnits: 8,
    activation: 'sigmoid',
    normalization,
    epsilon: 1e-5,
    inferenceStatistics: 'population',
    movingAverageDecay: 0.99,
  };
}

function randomBatch(s: NetworkSpec, m: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const uniform = createRng(seed);
  const x = tf.tensor2d(Array.from({ length: m }, () => Array.from({ length: s.inputSize }, () => uniform())));
  const labels = Array.from({ length: m }, () => Math.floor(uniform() * s.outputSize));
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), s.outputSize).toFloat() as tf.Tensor2D);
  return { x, y };
}

/** The ICS of every hidden layer as the trainer measures it: the network's own gradients, its optimizer cloned for the update. */
function measuredIcs(net: Network, x: tf.Tensor2D, y: tf.Tensor2D, noise: readonly (LayerNoise | null)[], learningRate: number, momentum: number) {
  const params = net.parameterValues();
  const gradientAt: GradientAt = (at) => net.lossAndGradients(at, x, y, { noise });
  const gradient = copyAll(gradientAt(params).gradients);
  const updated = copyAll(params);
  net.optimizer.clone().update(updated, gradient, net.parameterShapes(), learningRate, momentum);
  return internalCovariateShift(gradientAt, params, gradient, updated, net.parameterLayout());
}

function norm(a: Float32Array): number {
  return Math.sqrt(a.reduce((sum, v) => sum + v * v, 0));
}

describe('internalCovariateShift (Santurkar et al., Definition 2.1)', () => {
  for (const normalization of [
    ['none', 'none', 'none'],
    ['batchnorm', 'batchnorm', 'batchnorm'],
    ['noisy', 'batchnorm', 'noisy'],
  ] as Normalization[][])
    it(`equals the direct computation through autodiff: snapshot, take the step, put back layer i and above, recompute (${normalization.join('/')}, momentum 0.9)`, () => {
      const s = spec(normalization);
      const weights = initialWeights(s, 1, 3);
      const net = new Network(s, weights, 'measured');
      const reference = new ReferenceNetwork(s, weights, 'direct');
      const noiseAt = (step: number) => drawNoise(s.normalization, s.hiddenUnits, 1, 9, step, 16);
      // A few steps first, so the update carries momentum from earlier steps.
      for (let step = 0; step < 3; step++) {
        const { x, y } = randomBatch(s, 16, 50 + step);
        net.trainStep(x, y, 0.5, 0.9, noiseAt(step));
        reference.trainStep(x, y, 0.5, 0.9, noiseAt(step));
        tf.dispose([x, y]);
      }
      const { x, y } = randomBatch(s, 16, 60);
      const noise = noiseAt(3);
      const ics = measuredIcs(net, x, y, noise, 0.5, 0.9);

      const values = reference.parameters().map((p) => p.values);
      const snapshot = copyAll(values);
      const before = reference.gradients(x, y, noise).gradients.map((g) => g.slice());
      reference.trainStep(x, y, 0.5, 0.9, noise);
      const { layerOf, weightsOf } = net.parameterLayout();
      weightsOf.forEach((w, layer) => {
        const updated = copyAll(values);
        values.forEach((v, k) => v.set(layerOf[k] < layer ? updated[k] : snapshot[k]));
        const after = reference.gradients(x, y, noise).gradients[w];
        values.forEach((v, k) => v.set(updated[k]));
        const difference = norm(before[w].map((g, i) => g - after[i]));
        const cosine = before[w].reduce((sum, g, i) => sum + g * after[i], 0) / (norm(before[w]) * norm(after));
        if (layer === 0) {
          expect(ics[0]).toEqual({ l2: 0, cosine: 1 });
          return;
        }
        // The shift is far above float32 rounding of the two gradients (~1e-6 of their size).
        expect(difference).toBeGreaterThan(1e-3 * norm(before[w]));
        expect(Math.abs(ics[layer].l2 - difference)).toBeLessThan(2e-3 * difference);
        expect(ics[layer].cosine).toBeCloseTo(cosine, 5);
      });
      tf.dispose([x, y]);
      net.dispose();
      reference.dispose();
    });

  it('gives the first layer exactly 0 and 1, and goes to 0 with the learning rate (the update of the layers below vanishes)', () => {
    const s = spec(['batchnorm', 'none', 'batchnorm']);
    const net = new Network(s, initialWeights(s, 1, 5), 'lr');
    const { x, y } = randomBatch(s, 16, 7);
    const l2 = [1, 0.1, 0.01, 0.001].map((lr) => {
      const ics = measuredIcs(net, x, y, [], lr, 0);
      expect(ics[0]).toEqual({ l2: 0, cosine: 1 });
      return ics.slice(1).map((layer) => layer.l2);
    });
    for (let k = 1; k < l2.length; k++) l2[k].forEach((v, layer) => expect(v).toBeLessThan(0.2 * l2[k - 1][layer]));
    // At a rate of 0.001 the gradient barely moves: the cosine is 1 to six places.
    expect(measuredIcs(net, x, y, [], 0.001, 0)[2].cosine).toBeCloseTo(1, 6);
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('copyAll', () => {
  it('copies into the arrays it is given, and returns those, where a caller keeps them from one measure to the next', () => {
    const arrays = [Float32Array.of(1, 2, 3), Float32Array.of(4)];
    const into = [new Float32Array(3), new Float32Array(1)];
    const copies = copyAll(arrays, into);
    expect(copies[0]).toBe(into[0]);
    expect(copies[1]).toBe(into[1]);
    expect(copies).toEqual(arrays);
    arrays[0][0] = 9;
    expect(into[0][0]).toBe(1);
    expect(copyAll(arrays)[0]).not.toBe(arrays[0]);
  });
});

describe('landscape (Santurkar et al., Figure 4)', () => {
  it('at a tiny step size finds the loss at W itself and no change of gradient', () => {
    const s = spec(['batchnorm', 'none']);
    const net = new Network(s, initialWeights(s, 1, 11), 'tiny');
    const { x, y } = randomBatch(s, 16, 12);
    const gradientAt: GradientAt = (at) => net.lossAndGradients(at, x, y, { noise: [] });
    const here = gradientAt(net.parameterValues());
    const loss = here.loss;
    const gradient = copyAll(here.gradients);
    // The loss moves by about eta ||g||^2 at first order: under 1e-6 here.
    const tiny = landscape(walkInArrays(gradientAt, net.parameterValues(), gradient), 1e-7);
    expect(tiny.lossMin).toBeCloseTo(loss, 5);
    expect(tiny.lossMax).toBeCloseTo(loss, 5);
    expect(tiny.gradientChangeMax).toBeLessThan(1e-4 * Math.sqrt(gradient.reduce((sum, g) => sum + norm(g) ** 2, 0)));
    tf.dispose([x, y]);
    net.dispose();
  });

  it('reports the band, the gradient change and beta-smoothness over steps of 1/4 to 4 learning rates, as a direct walk along -g finds them', () => {
    const s = spec(['none', 'none']);
    const net = new Network(s, initialWeights(s, 1, 13), 'walk');
    const { x, y } = randomBatch(s, 16, 14);
    const gradientAt: GradientAt = (at) => net.lossAndGradients(at, x, y, { noise: [] });
    const params = net.parameterValues();
    const gradient = copyAll(gradientAt(params).gradients);
    const before = copyAll(params);
    const measured = landscape(walkInArrays(gradientAt, params, gradient), 0.5);
    const gradientNorm = Math.sqrt(gradient.reduce((sum, g) => sum + norm(g) ** 2, 0));
    const walk = LANDSCAPE_STEP_FACTORS.map((factor) => {
      const eta = factor * 0.5;
      const there = gradientAt(params.map((p, k) => p.map((v, i) => v - eta * gradient[k][i])));
      const change = Math.sqrt(there.gradients.reduce((sum, g, k) => sum + norm(g.map((v, i) => v - gradient[k][i])) ** 2, 0));
      return { loss: there.loss, change, beta: change / (eta * gradientNorm) };
    });
    expect(measured.lossMin).toBeCloseTo(Math.min(...walk.map((w) => w.loss)), 6);
    expect(measured.lossMax).toBeCloseTo(Math.max(...walk.map((w) => w.loss)), 6);
    expect(measured.gradientChangeMin).toBeCloseTo(Math.min(...walk.map((w) => w.change)), 6);
    expect(measured.gradientChangeMax).toBeCloseTo(Math.max(...walk.map((w) => w.change)), 6);
    expect(measured.betaSmoothness).toBeCloseTo(Math.max(...walk.map((w) => w.beta)), 5);
    expect(measured.lossMax).toBeGreaterThan(measured.lossMin);
    // The walk left the parameters where they were.
    params.forEach((p, k) => expect(p).toEqual(before[k]));
    tf.dispose([x, y]);
    net.dispose();
  });
});
