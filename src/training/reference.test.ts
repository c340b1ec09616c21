import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Normalization } from '../config/schema';
import { initialWeights, Network, type NetworkSpec } from './network';
import { drawNoise } from './noise';
import { ReferenceNetwork } from './reference';
import { createRng } from './rng';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

function spec(activation: Activation, normalization: Normalization[]): NetworkSpec {
  return {
    inputSize: 12,
    outputSize: 10,
    hiddenLayers: normalization.length,
    hiddenUnits: 8,
    activation,
    normalization,
    epsilon: 1e-5,
    inferenceStatistics: 'population',
    movingAverageDecay: 0.99,
    // Ghost BN layers normalize each 4 examples of the batches of 16 below.
    ghostBatchSize: 4,
  };
}

/** Inputs in [0, 1) whose `blank` pixels are 0 in every example, as MNIST's borders are in a mini-batch. */
function randomBatch(s: NetworkSpec, m: number, seed: number, blank: readonly number[] = []): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const uniform = createRng(seed);
  const x = tf.tensor2d(Array.from({ length: m }, () => Array.from({ length: s.inputSize }, (_, pixel) => (blank.includes(pixel) ? 0 : uniform()))));
  const labels = Array.from({ length: m }, () => Math.floor(uniform() * s.outputSize));
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), s.outputSize).toFloat() as tf.Tensor2D);
  return { x, y };
}

const CASES: [Activation, Normalization[]][] = [
  ['sigmoid', ['none', 'none', 'none']],
  ['sigmoid', ['batchnorm', 'batchnorm', 'batchnorm']],
  ['tanh', ['batchnorm', 'none', 'batchnorm']],
  ['relu', ['none', 'batchnorm']],
  // LayerNorm next to BN: each layer normalizes as its ops say, not as "has gamma" would.
  ['sigmoid', ['layernorm', 'batchnorm', 'layernorm']],
  ['tanh', ['layernorm', 'none', 'layernorm']],
  ['sigmoid', ['batchnorm-after', 'none', 'batchnorm-after']],
  ['relu', ['batchnorm', 'batchnorm-after']],
  ['sigmoid', ['ghost-batchnorm', 'batchnorm', 'ghost-batchnorm']],
];

describe('ReferenceNetwork (autodiff) and Network (hand-written backward pass)', () => {
  for (const [activation, normalization] of CASES) {
    const label = `${activation}, ${normalization.join('/')}`;

    // With 4 of 12 pixels blank in the whole mini-batch the fast path leaves them out of the first layer's products.
    for (const blank of [[], [0, 1, 6, 11]])
      it(`compute the same loss and gradients from the same seed and batch (${label}, ${blank.length} blank pixels)`, () => {
        const s = spec(activation, normalization);
        const weights = initialWeights(s, 1, 3);
        const fast = new Network(s, weights, 'fast');
        const reference = new ReferenceNetwork(s, weights, 'reference');
        const { x, y } = randomBatch(s, 16, 4, blank);
        const a = fast.gradients(x, y);
        const b = reference.gradients(x, y);
        expect(reference.parameters().map((p) => p.shape)).toEqual(fast.parameters().map((p) => p.shape));
        // Both are float32 with the same operations in a different order: they differ by rounding,
        // ~1e-7 relative per op; measured at most 2e-6 of each tensor's largest gradient, 1e-4 leaves 50x room.
        expect(a.loss).toBeCloseTo(b.loss, 5);
        a.gradients.forEach((g, k) => {
          const scale = Math.max(...Array.from(b.gradients[k], Math.abs));
          expect(scale).toBeGreaterThan(1e-4);
          g.forEach((v, i) => expect(Math.abs(v - b.gradients[k][i])).toBeLessThan(1e-4 * scale));
        });
        tf.dispose([x, y]);
        fast.dispose();
        reference.dispose();
      });

    it(`follow the same loss sequence over 20 SGD steps with momentum (${label})`, () => {
      const s = spec(activation, normalization);
      const weights = initialWeights(s, 1, 5);
      const fast = new Network(s, weights, 'fast');
      const reference = new ReferenceNetwork(s, weights, 'reference');
      // Every other batch with blank pixels: their momentum keeps moving the weights the batch leaves out.
      const batches = Array.from({ length: 20 }, (_, step) => randomBatch(s, 16, 100 + step, step % 2 === 0 ? [2, 3, 7, 8] : []));
      const fastLosses = batches.map(({ x, y }) => fast.trainStep(x, y, 0.2, 0.9));
      const referenceLosses = batches.map(({ x, y }) => reference.trainStep(x, y, 0.2, 0.9));
      // Rounding differences compound over the steps; they stayed below 1e-6 when written (bound 5e-5).
      fastLosses.forEach((loss, step) => expect(loss, `step ${step}`).toBeCloseTo(referenceLosses[step], 4));
      // The sequence moved: a same-loss check on a network that does not learn would prove little.
      expect(Math.abs(fastLosses[19] - fastLosses[0])).toBeGreaterThan(0.05);
      tf.dispose(batches.flatMap(({ x, y }) => [x, y]));
      fast.dispose();
      reference.dispose();
    });
  }

  for (const kind of ['noisy', 'noisy-shared'] as const)
    it(`compute the same gradients through noisy BN layers given the same noise, and the noise changes them (${kind})`, () => {
      const s = spec('sigmoid', [kind, 'batchnorm', kind]);
      const weights = initialWeights(s, 1, 3);
      const fast = new Network(s, weights, 'fast');
      const reference = new ReferenceNetwork(s, weights, 'reference');
      const { x, y } = randomBatch(s, 16, 4);
      const noise = drawNoise(s.normalization, s.hiddenUnits, 1, 9, 0, 16);
      const a = fast.gradients(x, y, noise);
      const b = reference.gradients(x, y, noise);
      // The same float32 rounding bound as for plain BN above.
      expect(a.loss).toBeCloseTo(b.loss, 5);
      a.gradients.forEach((g, k) => {
        const scale = Math.max(...Array.from(b.gradients[k], Math.abs));
        expect(scale).toBeGreaterThan(1e-4);
        g.forEach((v, i) => expect(Math.abs(v - b.gradients[k][i])).toBeLessThan(1e-4 * scale));
      });
      // Another step's noise gives another loss: the noise is applied, not ignored.
      expect(Math.abs(fast.gradients(x, y, drawNoise(s.normalization, s.hiddenUnits, 1, 9, 1, 16)).loss - a.loss)).toBeGreaterThan(1e-3);
      tf.dispose([x, y]);
      fast.dispose();
      reference.dispose();
    });

  it('follow the same loss sequence over 20 noisy-BN steps, the noise redrawn at every step', () => {
    const s = spec('tanh', ['noisy', 'none', 'noisy']);
    const weights = initialWeights(s, 1, 5);
    const fast = new Network(s, weights, 'fast');
    const reference = new ReferenceNetwork(s, weights, 'reference');
    const batches = Array.from({ length: 20 }, (_, step) => randomBatch(s, 16, 100 + step));
    const noiseAt = (step: number) => drawNoise(s.normalization, s.hiddenUnits, 1, 9, step, 16);
    const fastLosses = batches.map(({ x, y }, step) => fast.trainStep(x, y, 0.2, 0.9, noiseAt(step)));
    const referenceLosses = batches.map(({ x, y }, step) => reference.trainStep(x, y, 0.2, 0.9, noiseAt(step)));
    fastLosses.forEach((loss, step) => expect(loss, `step ${step}`).toBeCloseTo(referenceLosses[step], 4));
    expect(Math.abs(fastLosses[19] - fastLosses[0])).toBeGreaterThan(0.05);
    tf.dispose(batches.flatMap(({ x, y }) => [x, y]));
    fast.dispose();
    reference.dispose();
  });

  it('refuse a training step of a noisy BN layer without its noise', () => {
    const s = spec('sigmoid', ['none', 'noisy']);
    const weights = initialWeights(s, 1, 3);
    const fast = new Network(s, weights, 'fast');
    const reference = new ReferenceNetwork(s, weights, 'reference');
    const { x, y } = randomBatch(s, 16, 4);
    expect(() => fast.trainStep(x, y, 0.1, 0)).toThrow(/hidden layer 2 is noisy BN/);
    expect(() => reference.trainStep(x, y, 0.1, 0)).toThrow(/hidden layer 2 is noisy BN/);
    tf.dispose([x, y]);
    fast.dispose();
    reference.dispose();
  });

  it('the reference leaks no tensors, per step or once disposed', () => {
    const s = spec('sigmoid', ['batchnorm', 'none']);
    const { x, y } = randomBatch(s, 16, 7);
    const before = tf.memory().numTensors;
    const reference = new ReferenceNetwork(s, initialWeights(s, 1, 6), 'reference');
    for (let step = 0; step < 10; step++) reference.trainStep(x, y, 0.1, 0.9);
    const afterTen = tf.memory().numTensors;
    for (let step = 10; step < 200; step++) reference.trainStep(x, y, 0.1, 0.9);
    reference.gradients(x, y);
    expect(tf.memory().numTensors).toBe(afterTen);
    reference.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
