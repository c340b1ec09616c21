import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPackageMnist } from '../../../scripts/build-mnist';
import type { Activation, Normalization } from '../../config/schema';
import { useBackend } from '../backend';
import { compactBuffers, fillBatch, fillCompactBatch, indexInk, type InkIndex, type MnistData } from '../data';
import { initialWeights, Network, type NetworkSpec } from '../network';
import { drawNoise } from '../noise';
import { ReferenceNetwork } from '../reference';
import { createRng } from '../rng';
import { MomentumSgd } from '../optimizer';
import { copyAll, JS_SUMS, landscape, walkInArrays } from '../santurkar';
import { BatchSequence } from '../trainer';
import { packedInkCapacity, packInk, SimdStep, simdCoverage } from './simdStep';

let train: MnistData;
let ink: InkIndex;

beforeAll(async () => {
  await useBackend('wasm');
  train = readPackageMnist().train;
  ink = indexInk(train);
});

function specOf(normalization: Normalization[], units = 100, activation: Activation = 'sigmoid', ghostBatchSize = 0): NetworkSpec {
  return {
    inputSize: 784,
    outputSize: 10,
    hiddenLayers: normalization.length,
    hiddenUnits: units,
    activation,
    normalization,
    epsilon: 1e-5,
    inferenceStatistics: 'population',
    movingAverageDecay: 0.99,
    ghostBatchSize,
  };
}

let instance = 0;

/** The SIMD step and the autodiff reference from the same weights on the same mini-batches: both arms' losses, step by step. */
function compare(spec: NetworkSpec, steps: number, batchSize: number, learningRate: number, momentum: number): { simd: number[]; reference: number[] } {
  const noiseAt = (step: number) => drawNoise(spec.normalization, spec.hiddenUnits, 1, 1, step, batchSize);
  const weights = initialWeights(spec, 0.1, 1);
  const network = new Network(spec, weights, `simd-test-${instance++}`);
  const simd = new SimdStep(spec, network.parameters(), batchSize, train, ink);
  const reference = new ReferenceNetwork(spec, weights, `simd-reference-${instance++}`);
  const batches = new BatchSequence(1, train.count, batchSize);
  const x = new Float32Array(batchSize * 784);
  const y = new Float32Array(batchSize * 10);
  const result = { simd: [] as number[], reference: [] as number[] };
  for (let s = 0; s < steps; s++) {
    const { order, start } = batches.next();
    result.simd.push(simd.trainStep(order, start, learningRate, momentum, noiseAt(s)));
    fillBatch(train, order, start, batchSize, x, y);
    const [xt, yt] = [tf.tensor2d(x, [batchSize, 784]), tf.tensor2d(y, [batchSize, 10])];
    result.reference.push(reference.trainStep(xt, yt, learningRate, momentum, noiseAt(s)));
    tf.dispose([xt, yt]);
  }
  return result;
}

/**
 * A gradient's largest difference from the hand-written one, relative to its largest entry: the
 * two sum the same float32 products in other orders (SIMD lanes, blocked rows), a few ulps per
 * sum, which BN's backward pass (differences of sums) lifts by an order or so; a wrong term
 * moves a gradient by far more.
 */
const TOLERANCE = 2e-5;

function worstDifference(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}

describe('SimdStep', () => {
  const paper: [string, Normalization[], number][] = [
    ['no normalization, plain SGD', ['none', 'none', 'none'], 0],
    ['BN before each sigmoid, plain SGD', ['batchnorm', 'batchnorm', 'batchnorm'], 0],
    ['BN, momentum 0.9', ['batchnorm', 'batchnorm', 'batchnorm'], 0.9],
    ['ghost BN over groups of 10, plain SGD', ['ghost-batchnorm', 'ghost-batchnorm', 'ghost-batchnorm'], 0],
    ['BN after each sigmoid, plain SGD', ['batchnorm-after', 'batchnorm-after', 'batchnorm-after'], 0],
    ['noisy BN, plain SGD', ['noisy', 'noisy', 'noisy'], 0],
    ['LayerNorm, plain SGD', ['layernorm', 'layernorm', 'layernorm'], 0],
  ];
  for (const [name, normalization, momentum] of paper) {
    it(`trains the paper's 784-100-100-100-10 sigmoid network (${name}) as the autodiff reference does: losses within 1e-5 over 1,000 steps`, () => {
      const { simd, reference } = compare(specOf(normalization, 100, 'sigmoid', 10), 1000, 60, momentum === 0 ? 0.1 : 0.05, momentum);
      expect(worstDifference(simd, reference)).toBeLessThan(1e-5);
      // It learns: the last 100 steps' mean loss is well below the first 100's.
      const mean = (losses: number[]) => losses.reduce((a, b) => a + b) / losses.length;
      expect(mean(simd.slice(-100))).toBeLessThan(0.8 * mean(simd.slice(0, 100)));
    });
  }

  // Shorter runs: with momentum, tiny batches or ReLU a float32 rounding difference between two
  // correct computations grows from step to step, as it does between the hand-written and the
  // autodiff tfjs paths; the first tens of steps check the arithmetic.
  const others: [string, NetworkSpec, number, number][] = [
    ['no normalization, momentum 0.9', specOf(['none', 'none', 'none']), 60, 100],
    ['ghost BN over groups of 4 of 60, tanh', specOf(['ghost-batchnorm', 'ghost-batchnorm'], 100, 'tanh', 4), 60, 50],
    ['BN after the nonlinearity, ReLU', specOf(['batchnorm-after', 'none', 'batchnorm-after'], 64, 'relu'), 60, 50],
    ['one layer of 2 units, batch of 7', specOf(['batchnorm'], 2), 7, 50],
    ['noisy BN and LayerNorm, ReLU, 33 units', specOf(['noisy', 'layernorm', 'noisy'], 33, 'relu'), 60, 50],
    ['6 layers of 3 units, tanh, batch of 2', specOf(['none', 'batchnorm', 'batchnorm-after', 'none', 'batchnorm', 'none'], 3, 'tanh'), 2, 20],
    ['257 units, batch of 1,000', specOf(['batchnorm', 'none'], 257), 1000, 10],
  ];
  for (const [name, spec, batchSize, steps] of others) {
    it(`trains ${name} as the autodiff reference does (losses within 1e-5 over ${steps} steps, momentum 0.9)`, () => {
      const { simd, reference } = compare(spec, steps, batchSize, 0.05, 0.9);
      expect(worstDifference(simd, reference)).toBeLessThan(1e-5);
    });
  }

  it('is bit for bit the same run twice from the same weights and mini-batches: losses and every parameter', () => {
    const spec = specOf(['noisy', 'batchnorm', 'ghost-batchnorm', 'layernorm'], 100, 'sigmoid', 6);
    const run = () => {
      const network = new Network(spec, initialWeights(spec, 0.1, 7), `simd-twice-${instance++}`);
      const simd = new SimdStep(spec, network.parameters(), 60, train, ink);
      const batches = new BatchSequence(7, train.count, 60);
      const losses: number[] = [];
      for (let s = 0; s < 300; s++) {
        const { order, start } = batches.next();
        losses.push(simd.trainStep(order, start, 0.1, s < 150 ? 0 : 0.9, drawNoise(spec.normalization, 100, 1, 7, s, 60)));
      }
      simd.writeBack();
      return { losses, params: network.parameters().map((p) => Array.from(p.values)) };
    };
    const [first, second] = [run(), run()];
    expect(second.losses).toEqual(first.losses);
    expect(second.params).toEqual(first.params);
  });

  it("leaves the network's arrays alone while it trains, writes its parameters into them on writeBack, and hands the network BN's batch statistics, so the network measures what the steps trained", () => {
    const spec = specOf(['batchnorm', 'none'], 20);
    const network = new Network(spec, initialWeights(spec, 0.1, 3), `simd-sync-${instance++}`);
    const before = network.parameters().map((p) => p.values.slice());
    const simd = new SimdStep(spec, network.parameters(), 60, train, ink);
    const { order, start } = new BatchSequence(3, train.count, 60).next();
    simd.trainStep(order, start, 0.1, 0);
    network.parameters().forEach((p, k) => expect(p.values).toEqual(before[k]));
    simd.writeBack();
    network.parameters().forEach((p, k) => expect(p.values).not.toEqual(before[k]));
    const [statistics] = simd.batchStatistics();
    // The batch's mean and biased variance of layer 1's Wx, from the digits themselves.
    const x = new Float32Array(60 * 784);
    fillBatch(train, order, start, 60, x, new Float32Array(600));
    const wx = tf.tidy(() => tf.matMul(tf.tensor2d(x, [60, 784]), tf.tensor2d(before[0], [784, 20])));
    const moments = tf.tidy(() => tf.moments(wx, 0));
    const [mean, variance] = [moments.mean.dataSync(), moments.variance.dataSync()];
    expect(worstDifference(Array.from(statistics.mean), Array.from(mean))).toBeLessThan(1e-5);
    expect(worstDifference(Array.from(statistics.variance), Array.from(variance))).toBeLessThan(1e-5);
    tf.dispose([wx, moments.mean, moments.variance]);
  });

  it('covers every normalization of the schema, names one it does not know, and refuses to build for it rather than train it wrongly', () => {
    expect(simdCoverage(specOf(['none', 'batchnorm', 'noisy', 'layernorm', 'ghost-batchnorm', 'batchnorm-after']))).toBeNull();
    // A normalization added to the schema before the kernels compute it.
    const unknown = specOf(['batchnorm', 'whitening' as Normalization]);
    expect(simdCoverage(unknown)).toBe('the WebAssembly SIMD step does not cover whitening yet: training with the hand-written tfjs step instead');
    expect(() => new SimdStep(unknown, [], 60, train, ink)).toThrow(/does not cover whitening/);
  });

  it("packInk keeps every digit's ink: its entries decode to each digit's pixels, of real MNIST and of digits with ink at both corners and wide gaps", () => {
    const pixelsPerDigit = 784;
    // Ink at pixel 0 and 783 only, a blank digit, one ink pixel a row.
    const edges = new Uint8Array(3 * pixelsPerDigit);
    edges[0] = 1;
    edges[783] = 255;
    for (let row = 0; row < 28; row++) edges[2 * pixelsPerDigit + row * 28 + row] = row + 1;
    const synthetic: MnistData = { count: 3, rows: 28, cols: 28, labels: Uint8Array.of(1, 2, 3), pixels: edges };
    for (const split of [train, synthetic]) {
      const splitInk = indexInk(split);
      const offsets = new Uint32Array(split.count + 1);
      const entries = new Uint16Array(packedInkCapacity(split, splitInk));
      const written = packInk(split, splitInk, offsets, entries);
      expect(offsets[split.count]).toBe(written);
      const decoded = new Uint8Array(split.pixels.length);
      let outside = 0;
      for (let digit = 0; digit < split.count; digit++) {
        let pixel = 0;
        for (let e = offsets[digit]; e < offsets[digit + 1]; e++) {
          pixel += entries[e] >> 8;
          if (pixel >= pixelsPerDigit) outside++;
          else if ((entries[e] & 255) !== 0) decoded[digit * pixelsPerDigit + pixel] = entries[e] & 255;
        }
      }
      expect(outside).toBe(0);
      // Counted, not compared by toEqual: that walks 47 million bytes one matcher step at a time.
      let wrong = 0;
      for (let i = 0; i < decoded.length; i++) if (decoded[i] !== split.pixels[i]) wrong++;
      expect(wrong).toBe(0);
    }
  });

  it('refuses a noisy BN step without its noise', () => {
    const spec = specOf(['noisy']);
    const network = new Network(spec, initialWeights(spec, 0.1, 1), `simd-noisy-${instance++}`);
    const simd = new SimdStep(spec, network.parameters(), 60, train, ink);
    const { order, start } = new BatchSequence(1, train.count, 60).next();
    expect(() => simd.trainStep(order, start, 0.1, 0)).toThrow('hidden layer 1 is noisy BN: a training step needs its noise');
  });

  describe("gradientAt: the loss and gradients at given parameters on the loaded mini-batch, for Santurkar et al.'s measures", () => {
    const normalizations: Normalization[] = ['none', 'batchnorm', 'noisy', 'noisy-shared', 'ghost-batchnorm', 'layernorm', 'batchnorm-after'];
    for (const normalization of normalizations) {
      for (const layers of [1, 3]) {
        for (const momentum of [0, 0.9]) {
          it(`equals the hand-written lossAndGradients at the same parameters, batch and noise, and changes nothing of the module (${normalization}, ${layers} layer${layers > 1 ? 's' : ''}, momentum ${momentum})`, () => {
            const spec = specOf(Array(layers).fill(normalization), 100, 'sigmoid', 10);
            const m = 60;
            const learningRate = 0.1;
            const noiseAt = (step: number) => drawNoise(spec.normalization, spec.hiddenUnits, 1, 1, step, m);
            const weights = initialWeights(spec, 0.1, 1);
            // Two modules on the same run: one is asked for a gradient before its step, its twin is not.
            const network = new Network(spec, weights, `simd-gradient-${instance++}`);
            const simd = new SimdStep(spec, network.parameters(), m, train, ink);
            const twin = new SimdStep(spec, new Network(spec, weights, `simd-twin-${instance++}`).parameters(), m, train, ink);
            const batches = new BatchSequence(1, train.count, m);
            // A few steps first, so that momentum has velocities to keep.
            for (let step = 0; step < 3; step++) {
              const { order, start } = batches.next();
              expect(simd.trainStep(order, start, learningRate, momentum, noiseAt(step))).toBe(
                twin.trainStep(order, start, learningRate, momentum, noiseAt(step)),
              );
            }
            const { order, start } = batches.next();
            const noise = noiseAt(3);
            simd.loadBatch(order, start, noise);
            twin.loadBatch(order, start, noise);
            // Parameters away from the module's own, as ICS and the landscape ask for them.
            const uniform = createRng(5);
            const at = network.parameterValues().map((p) => p.map((v) => v + 0.02 * (uniform() - 0.5)));
            const result = simd.gradientAt(at);
            const [loss, gradients] = [result.loss, copyAll(result.gradients)];

            const yOneHot = new Float32Array(m * 10);
            const x = fillCompactBatch(train, ink, order, start, m, compactBuffers(train, m), yOneHot);
            const y = tf.tensor2d(yOneHot, [m, 10]);
            const expected = network.lossAndGradients(at, x, y, { noise });
            y.dispose();
            expect(Math.abs(loss - expected.loss)).toBeLessThan(1e-6);
            gradients.forEach((g, k) => {
              const scale = Math.max(...expected.gradients[k].map(Math.abs));
              expect(worstDifference(Array.from(g), Array.from(expected.gradients[k])), network.parameters()[k].name).toBeLessThan(TOLERANCE * scale);
            });
            // Not the gradient at the module's own parameters: those are another point.
            expect(worstDifference(Array.from(gradients[0]), Array.from(copyAll(twin.gradientAt(network.parameterValues()).gradients)[0]))).toBeGreaterThan(
              100 * TOLERANCE * Math.max(...gradients[0].map(Math.abs)),
            );

            // The two modules' next steps, their batch statistics and the step after (velocities), bit for bit.
            expect(simd.step(learningRate, momentum)).toBe(twin.step(learningRate, momentum));
            expect(simd.batchStatistics()).toEqual(twin.batchStatistics());
            const next = batches.next();
            expect(simd.trainStep(next.order, next.start, learningRate, momentum, noiseAt(4))).toBe(
              twin.trainStep(next.order, next.start, learningRate, momentum, noiseAt(4)),
            );
            expect(simd.optimizer().state()).toEqual(twin.optimizer().state());
          });
        }
      }
    }

    /** Two SIMD steps of one network from the same weights, each with the same mini-batch of 60 and its noise laid out. */
    function twins(spec: NetworkSpec, name: string) {
      const m = 60;
      const noise = drawNoise(spec.normalization, spec.hiddenUnits, 1, 1, 0, m);
      const weights = initialWeights(spec, 0.1, 1);
      const network = new Network(spec, weights, `simd-${name}-${instance++}`);
      const twinNetwork = new Network(spec, weights, `simd-${name}-twin-${instance++}`);
      const [simd, twin] = [network, twinNetwork].map((n) => new SimdStep(spec, n.parameters(), m, train, ink));
      const { order, start } = new BatchSequence(1, train.count, m).next();
      simd.loadBatch(order, start, noise);
      twin.loadBatch(order, start, noise);
      return { network, simd, twinNetwork, twin };
    }

    it("reads the network's own arrays where the module holds them: ICS's mix of own and moved arrays gives the bits of copies of them all, as does a pass that stops at one layer's weights, and leaves the module's step as it was", () => {
      const spec = specOf(['batchnorm', 'none', 'noisy'], 13);
      const { network, simd, twinNetwork, twin } = twins(spec, 'resident');
      const own = network.parameterValues();
      const { layerOf, weightsOf } = network.parameterLayout();
      const uniform = createRng(7);
      for (const layer of [0, 1, 2, 3]) {
        // Layers below `layer` moved (new arrays), the others the network's own.
        const mixed = own.map((p, k) => (layerOf[k] < layer ? p.map((v) => v + 0.02 * (uniform() - 0.5)) : p));
        const result = simd.gradientAt(mixed);
        const [loss, gradients] = [result.loss, copyAll(result.gradients)];
        const copied = twin.gradientAt(mixed.map((p) => p.slice()));
        expect(loss).toBe(copied.loss);
        gradients.forEach((g, k) => expect(g, network.parameters()[k].name).toEqual(copied.gradients[k]));
        if (layer < weightsOf.length) {
          const only = weightsOf[layer];
          const stopped = simd.gradientAt(mixed, only);
          expect(stopped.loss).toBe(loss);
          expect(stopped.gradients[only]).toEqual(gradients[only]);
        }
      }
      expect(simd.step(0.1, 0)).toBe(twin.step(0.1, 0));
      simd.writeBack();
      twin.writeBack();
      expect(network.parameterValues()).toEqual(twinNetwork.parameterValues());
    });

    for (const [normalization, units] of [
      [['none', 'none', 'none'], 100],
      [['batchnorm', 'noisy', 'layernorm'], 13],
      [['ghost-batchnorm', 'batchnorm-after'], 5],
    ] as [Normalization[], number][]) {
      it(`walkAlong walks the landscape in the module with the bits of walkInArrays over gradientAt, and changes nothing of the module (${normalization.join('/')}, ${units} units)`, () => {
        const spec = specOf(normalization, units, 'sigmoid', 10);
        const { network, simd, twinNetwork, twin } = twins(spec, 'walk');
        const params = network.parameterValues();
        const gradient = copyAll(simd.gradientAt(params).gradients);
        const inModule = simd.walkAlong(gradient);
        const inArrays = walkInArrays(twin.gradientAt, twinNetwork.parameterValues(), gradient);
        expect(inModule.gradientSquaredNorms).toEqual(inArrays.gradientSquaredNorms);
        const etas = [0.025, 0.1, 0.4, 1.7];
        expect(inModule.along(etas)).toEqual(inArrays.along(etas));
        expect(inModule.along([0.3])).toEqual(inArrays.along([0.3]));
        expect(landscape(simd.walkAlong(gradient), 0.1)).toEqual(landscape(walkInArrays(twin.gradientAt, twinNetwork.parameterValues(), gradient), 0.1));

        // The measures' arrays in the module: the sums and plain SGD's update there, as JS computes them.
        const arrays = simd.santurkarArrays();
        copyAll(gradient, arrays.gradient);
        const shifted = simd.gradientAt(params.map((p) => p.map((v) => v * 1.01))).gradients;
        arrays.gradient.forEach((g, k) => {
          expect(simd.sums.squaredNorm(g)).toBe(JS_SUMS.squaredNorm(g));
          expect(simd.sums.dot(g, shifted[k])).toBe(JS_SUMS.dot(g, shifted[k]));
          expect(simd.sums.distance(g, shifted[k])).toBe(JS_SUMS.distance(g, shifted[k]));
        });
        expect(() => simd.sums.squaredNorm(gradient[0])).toThrow("SimdStep: the sums read arrays in the module's memory only");
        simd.plainSgdUpdate(0.37);
        const stepped = copyAll(params);
        new MomentumSgd().update(stepped, gradient, network.parameterShapes(), 0.37, 0);
        expect(arrays.updated).toEqual(stepped);
        // Read where they lie: the same gradient as copies of them give.
        expect(copyAll(simd.gradientAt(arrays.updated).gradients)).toEqual(copyAll(twin.gradientAt(copyAll(arrays.updated)).gradients));
        expect(simd.step(0.1, 0)).toBe(twin.step(0.1, 0));
        simd.writeBack();
        twin.writeBack();
        expect(network.parameterValues()).toEqual(twinNetwork.parameterValues());
      });
    }

    it('says what it needs rather than compute on no mini-batch or on parameters of another network', () => {
      const spec = specOf(['batchnorm', 'none'], 20);
      const network = new Network(spec, initialWeights(spec, 0.1, 1), `simd-gradient-input-${instance++}`);
      const simd = new SimdStep(spec, network.parameters(), 60, train, ink);
      expect(() => simd.gradientAt(network.parameterValues())).toThrow('SimdStep: a gradient needs a mini-batch (loadBatch) first');
      expect(() => simd.walkAlong(network.parameterValues())).toThrow('SimdStep: a walk needs a mini-batch (loadBatch) first');
      const { order, start } = new BatchSequence(1, train.count, 60).next();
      simd.loadBatch(order, start);
      expect(() => simd.gradientAt(network.parameterValues().slice(1))).toThrow('SimdStep: the parameters do not match the network');
      expect(() => simd.gradientAt(network.parameterValues().map((p) => p.subarray(1)))).toThrow('SimdStep: the parameters do not match the network');
      expect(() => simd.walkAlong(network.parameterValues().slice(1))).toThrow('SimdStep: the gradient does not match the network');
    });
  });
});
