import { readPackageMnist } from '../../scripts/build-mnist';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation, InferenceStatistics, Normalization } from '../config/schema';
import { useBackend } from './backend';
import { initialWeights, layerSizes, Network, type CompactInput, type NetworkSpec } from './network';
import { applyNoise, drawNoise } from './noise';
import { createRng } from './rng';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

function smallSpec(activation: Activation, normalization: Normalization[], overrides: Partial<NetworkSpec> = {}): NetworkSpec {
  return {
    inputSize: 6,
    outputSize: 4,
    hiddenLayers: normalization.length,
    hiddenUnits: 5,
    activation,
    normalization,
    epsilon: 1e-5,
    inferenceStatistics: 'population',
    movingAverageDecay: 0.9,
    ...overrides,
  };
}

/**
 * Pixel-like inputs in [0, 1) and one-hot labels, as plain arrays (for the float64 forward pass
 * too). The `blank` pixels are 0 in every example, as MNIST's borders are in a mini-batch.
 */
function randomBatch(spec: NetworkSpec, m: number, seed: number, blank: readonly number[] = []): { x: number[][]; y: number[][] } {
  const uniform = createRng(seed);
  const x = Array.from({ length: m }, () => Array.from({ length: spec.inputSize }, (_, pixel) => (blank.includes(pixel) ? 0 : uniform())));
  const y = Array.from({ length: m }, () => {
    const label = Math.floor(uniform() * spec.outputSize);
    return Array.from({ length: spec.outputSize }, (_, k) => (k === label ? 1 : 0));
  });
  return { x, y };
}

function withTensors<T>(batch: { x: number[][]; y: number[][] }, f: (x: tf.Tensor2D, y: tf.Tensor2D) => T): T {
  const x = tf.tensor2d(batch.x);
  const y = tf.tensor2d(batch.y);
  try {
    return f(x, y);
  } finally {
    tf.dispose([x, y]);
  }
}

const NONLINEARITY: Record<Activation, (v: number) => number> = {
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
};

/**
 * The network in float64 plain JS, written from the paper independently of network.ts. `params`
 * are in Network.parameters() order. Returns the mean cross-entropy and, per hidden layer, Wx.
 */
function float64Forward(spec: NetworkSpec, params: Float64Array[], x: number[][], y: number[][]): { loss: number; wx: number[][][] } {
  const sizes = layerSizes(spec);
  const m = x.length;
  const wx: number[][][] = [];
  let next = 0;
  let h = x;
  for (let layer = 0; layer <= spec.hiddenLayers; layer++) {
    const fanOut = sizes[layer + 1];
    const w = params[next++];
    const a = h.map((row) => Array.from({ length: fanOut }, (_, j) => row.reduce((s, v, i) => s + v * w[i * fanOut + j], 0)));
    if (layer === spec.hiddenLayers) {
      const b = params[next++];
      const loss = a.reduce((total, logits, n) => {
        const z = logits.map((v, k) => v + b[k]);
        const max = Math.max(...z);
        const logSumExp = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
        return total - z.reduce((s, v, k) => s + y[n][k] * (v - logSumExp), 0);
      }, 0);
      return { loss: loss / m, wx };
    }
    wx.push(a);
    // Algorithm 1 over each group of `group` consecutive examples (the whole batch but for ghost BN).
    const batchNorm = (values: number[][], group: number) => {
      const gamma = params[next++];
      const beta = params[next++];
      return values.map((row, n) => {
        const members = values.slice(n - (n % group), n - (n % group) + group);
        return row.map((v, j) => {
          const mu = members.reduce((s, r) => s + r[j], 0) / group;
          const variance = members.reduce((s, r) => s + (r[j] - mu) ** 2, 0) / group;
          return (gamma[j] * (v - mu)) / Math.sqrt(variance + spec.epsilon) + beta[j];
        });
      });
    };
    let u: number[][];
    if (spec.normalization[layer] === 'batchnorm' || spec.normalization[layer] === 'ghost-batchnorm') {
      u = batchNorm(a, spec.normalization[layer] === 'ghost-batchnorm' && spec.ghostBatchSize ? spec.ghostBatchSize : m);
    } else if (spec.normalization[layer] === 'layernorm') {
      // Ba et al.: each example over its own units.
      const gamma = params[next++];
      const beta = params[next++];
      u = a.map((row) => {
        const mu = row.reduce((s, v) => s + v, 0) / fanOut;
        const variance = row.reduce((s, v) => s + (v - mu) ** 2, 0) / fanOut;
        return row.map((v, j) => (gamma[j] * (v - mu)) / Math.sqrt(variance + spec.epsilon) + beta[j]);
      });
    } else {
      const b = params[next++];
      u = a.map((row) => row.map((v, j) => v + b[j]));
    }
    h = u.map((row) => row.map(NONLINEARITY[spec.activation]));
    // BN after the nonlinearity: the next layer reads BN(g(Wx + b)).
    if (spec.normalization[layer] === 'batchnorm-after') h = batchNorm(h, m);
  }
  throw new Error('unreachable: the output layer returns');
}

function readParameters(net: Network): Float64Array[] {
  return net.parameters().map((p) => Float64Array.from(p.values));
}

describe('Network gradients', () => {
  const cases: [Activation, Normalization[]][] = [
    ['sigmoid', ['batchnorm', 'none', 'batchnorm']],
    ['tanh', ['none', 'batchnorm', 'none']],
    // ReLU with BN everywhere: without BN a unit can sit exactly at the kink (all its inputs dead,
    // its bias never moved), where finite differences see half the slope.
    ['relu', ['batchnorm', 'batchnorm', 'batchnorm']],
    ['sigmoid', ['layernorm', 'none', 'batchnorm']],
    // Not BN after a layer below a BN layer: the BN above cancels its beta, whose gradient is then 0.
    ['sigmoid', ['batchnorm-after', 'none', 'batchnorm-after']],
    ['relu', ['batchnorm', 'none', 'batchnorm-after']],
    ['tanh', ['none', 'batchnorm-after', 'none']],
    ['sigmoid', ['ghost-batchnorm', 'none', 'ghost-batchnorm']],
  ];
  // Pixels 0 and 4 of 6 blank in the whole mini-batch: the first layer's products leave them out.
  const blanks: [string, number[]][] = [
    ['every pixel', []],
    ['2 of 6 pixels blank', [0, 4]],
  ];
  for (const [[activation, normalization], [pixels, blank]] of cases.flatMap((c) => blanks.map((b) => [c, b] as const))) {
    it(`match central finite differences of a float64 forward pass (${activation}, ${normalization.join('/')}, ${pixels})`, () => {
      // Ghost BN over virtual batches of 4 of the 8 examples.
      const spec = smallSpec(activation, normalization, { ghostBatchSize: 4 });
      const net = new Network(spec, initialWeights(spec, 1, 7), `fd-${activation}`);
      // A few steps first, so that biases, gammas and betas are no longer 0 and 1.
      withTensors(randomBatch(spec, 8, 11, blank), (x, y) => {
        for (let step = 0; step < 3; step++) net.trainStep(x, y, 0.3, 0.5);
      });
      const batch = randomBatch(spec, 8, 12, blank);
      const analytic = withTensors(batch, (x, y) => net.gradients(x, y));
      const params = readParameters(net);
      expect(analytic.loss).toBeCloseTo(float64Forward(spec, params, batch.x, batch.y).loss, 5);

      // Float64 central differences with h = 1e-6 are exact to ~1e-9 (rounding 1e-16/h, truncation
      // h^2 x third derivative), so the difference measures the float32 rounding of the analytic
      // gradients: ~1e-7 relative per op, amplified by BN's 1/sigma and summed over 8 examples. It
      // was below 1e-6 of each tensor's largest gradient when written; 1e-4 of it leaves 100x room,
      // while a wrong or missing term is off by a sizeable fraction of the gradient.
      const h = 1e-6;
      params.forEach((values, k) => {
        const numeric = Array.from(values, (_, i) => {
          const perturbed = (delta: number) => params.map((p, j) => (j === k ? p.map((v, n) => (n === i ? v + delta : v)) : p));
          return (float64Forward(spec, perturbed(h), batch.x, batch.y).loss - float64Forward(spec, perturbed(-h), batch.x, batch.y).loss) / (2 * h);
        });
        const scale = Math.max(...numeric.map(Math.abs));
        // Every parameter tensor must have a non-negligible gradient, or the comparison proves nothing.
        expect(scale, `parameter ${net.parameters()[k].name}`).toBeGreaterThan(1e-3);
        const tolerance = 1e-4 * scale;
        numeric.forEach((g, i) => expect(Math.abs(analytic.gradients[k][i] - g), `${net.parameters()[k].name}[${i}]`).toBeLessThan(tolerance));
      });
      net.dispose();
    });
  }
});

describe('Network.trainStep', () => {
  it('with momentum 0 moves every parameter by -learningRate x its gradient (plain SGD)', () => {
    const spec = smallSpec('sigmoid', ['batchnorm', 'none']);
    const net = new Network(spec, initialWeights(spec, 1, 3), 'sgd');
    withTensors(randomBatch(spec, 8, 4), (x, y) => {
      const before = readParameters(net);
      const { loss, gradients } = net.gradients(x, y);
      expect(net.trainStep(x, y, 0.25, 0)).toBeCloseTo(loss, 6);
      readParameters(net).forEach((after, k) => after.forEach((v, i) => expect(v).toBeCloseTo(before[k][i] - 0.25 * gradients[k][i], 6)));
    });
    net.dispose();
  });

  it('returns a non-finite loss instead of throwing when training diverges', () => {
    const spec = smallSpec('relu', ['none', 'none']);
    const net = new Network(spec, initialWeights(spec, 1, 5), 'diverge');
    const losses = withTensors(randomBatch(spec, 8, 6), (x, y) => Array.from({ length: 10 }, () => net.trainStep(x, y, 1e30, 0.9)));
    expect(losses.some((loss) => !Number.isFinite(loss))).toBe(true);
    net.dispose();
  });

  it('leaks no tensors: the count after 1,000 steps equals the count after 10', () => {
    const spec = smallSpec('sigmoid', ['batchnorm', 'none', 'batchnorm'], { inferenceStatistics: 'moving' });
    const net = new Network(spec, initialWeights(spec, 1, 9), 'leak');
    const count = withTensors(randomBatch(spec, 8, 10), (x, y) => {
      // Alternating momentum exercises both update paths (plain SGD and with velocities).
      for (let step = 0; step < 10; step++) net.trainStep(x, y, 0.1, (step % 2) * 0.9);
      const afterTen = tf.memory().numTensors;
      for (let step = 10; step < 1000; step++) net.trainStep(x, y, 0.1, (step % 2) * 0.9);
      net.estimatePopulationStatistics([x, x]);
      net.gradients(x, y);
      const { logits, nonlinearityInputs } = net.forward(x, 'inference');
      tf.dispose([logits, ...nonlinearityInputs]);
      return { afterTen, afterThousand: tf.memory().numTensors };
    });
    expect(count.afterThousand).toBe(count.afterTen);
    net.dispose();
  });

  it('dispose frees every tensor the network made, velocities and statistics included', () => {
    const spec = smallSpec('sigmoid', ['batchnorm', 'none'], { inferenceStatistics: 'moving' });
    const before = tf.memory().numTensors;
    const net = new Network(spec, initialWeights(spec, 1, 23), 'disposed');
    withTensors(randomBatch(spec, 8, 24), (x, y) => net.trainStep(x, y, 0.1, 0.9));
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** The batch on its pixels in use, built here from the plain arrays, as the trainer's data would give it. */
function compactOf(x: number[][]): CompactInput {
  const m = x.length;
  const inputSize = x[0].length;
  const pixels = Int32Array.from(Array.from({ length: inputSize }, (_, p) => p).filter((p) => x.some((row) => row[p] !== 0)));
  return {
    m,
    inputSize,
    pixels,
    x: Float32Array.from(x.flatMap((row) => Array.from(pixels, (p) => row[p]))),
    xT: Float32Array.from(Array.from(pixels).flatMap((p) => x.map((row) => row[p]))),
  };
}

describe('Network.trainStep on a CompactInput', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`trains exactly as on the dense mini-batch on ${backend} (${backend === 'wasm' ? 'the blank pixels left out' : 'spread back to dense'})`, async () => {
      await useBackend(backend);
      try {
        for (const normalization of [
          ['none', 'none'],
          ['batchnorm', 'noisy'],
        ] as Normalization[][]) {
          const spec = smallSpec('sigmoid', normalization);
          const [dense, compact] = ['dense', 'compact'].map(
            (name) => new Network(spec, initialWeights(spec, 1, 3), `compact-${backend}-${normalization[0]}-${name}`),
          );
          const noise = drawNoise(normalization, spec.hiddenUnits, 0.5, 1, 0, 8);
          for (let step = 0; step < 4; step++) {
            // 2 of 6 pixels blank in the whole batch: more than the fifth that makes leaving them out pay.
            const batch = randomBatch(spec, 8, 30 + step, [1, 5]);
            const [denseLoss, compactLoss] = withTensors(batch, (x, y) => [
              dense.trainStep(x, y, 0.3, 0.5, noise),
              compact.trainStep(compactOf(batch.x), y, 0.3, 0.5, noise),
            ]);
            expect(compactLoss).toBe(denseLoss);
          }
          expect(readParameters(compact)).toEqual(readParameters(dense));
          withTensors(randomBatch(spec, 8, 40, [1, 5]), (x, y) =>
            expect(compact.gradients(compactOf(x.arraySync()), y, noise)).toEqual(dense.gradients(x, y, noise)),
          );
          dense.dispose();
          compact.dispose();
        }
      } finally {
        await useBackend('wasm');
      }
    });
  }
});

describe('Network.forward', () => {
  it('returns as nonlinearity inputs Wx + b without BN and gamma * xhat + beta with it', () => {
    const spec = smallSpec('tanh', ['none', 'batchnorm']);
    const net = new Network(spec, initialWeights(spec, 1, 13), 'forward');
    const batch = randomBatch(spec, 8, 14);
    withTensors(batch, (x, y) => {
      for (let step = 0; step < 3; step++) net.trainStep(x, y, 0.3, 0);
      const { logits, nonlinearityInputs } = net.forward(x, 'training');
      const [w1, b1, , gamma, beta] = readParameters(net);
      const first = nonlinearityInputs[0].arraySync() as number[][];
      batch.x.forEach((row, n) => {
        for (let j = 0; j < spec.hiddenUnits; j++) {
          expect(first[n][j]).toBeCloseTo(
            row.reduce((s, v, i) => s + v * w1[i * spec.hiddenUnits + j], b1[j]),
            5,
          );
        }
      });
      const second = nonlinearityInputs[1].arraySync() as number[][];
      for (let j = 0; j < spec.hiddenUnits; j++) {
        const values = second.map((row) => row[j]);
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
        expect(mean).toBeCloseTo(beta[j], 5);
        expect(std).toBeCloseTo(Math.abs(gamma[j]), 3);
      }
      expect(logits.shape).toEqual([8, spec.outputSize]);
      tf.dispose([logits, ...nonlinearityInputs]);
    });
    net.dispose();
  });
});

describe('noisy BN', () => {
  for (const kind of ['noisy', 'noisy-shared'] as const)
    it(`in training mode adds the step's noise to BN's output (${kind}: ${kind === 'noisy' ? 'per example' : 'y * scale + shift per unit'}); in inference mode it is plain BN`, () => {
      const noisySpec = smallSpec('sigmoid', [kind, kind]);
      const bnSpec = smallSpec('sigmoid', ['batchnorm', 'batchnorm']);
      const weights = initialWeights(noisySpec, 1, 21);
      const noisy = new Network(noisySpec, weights, 'noisy');
      const bn = new Network(bnSpec, weights, 'bn');
      const noise = drawNoise(noisySpec.normalization, noisySpec.hiddenUnits, 1, 4, 0, 8);
      withTensors(randomBatch(noisySpec, 8, 22), (x) => {
        noisy.estimatePopulationStatistics([x]);
        bn.estimatePopulationStatistics([x]);
        // The first layer's input does not depend on the layers above: BN's output, then the noise.
        const training = noisy.forward(x, 'training', noise);
        const clean = bn.forward(x, 'training');
        const expected = applyNoise(clean.nonlinearityInputs[0].dataSync() as Float32Array, noise[0]!, noisySpec.hiddenUnits);
        const actual = training.nonlinearityInputs[0].dataSync();
        expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 5));
        // Inference ignores the noise, given or not, and equals the BN network's inference.
        const inference = noisy.forward(x, 'inference', noise);
        const plain = bn.forward(x, 'inference');
        expect(inference.logits.arraySync()).toEqual(plain.logits.arraySync());
        expect(inference.nonlinearityInputs[1].arraySync()).toEqual(plain.nonlinearityInputs[1].arraySync());
        tf.dispose([training, clean, inference, plain].flatMap((f) => [f.logits, ...f.nonlinearityInputs]));
      });
      noisy.dispose();
      bn.dispose();
    });

  it('with noise of strength 0 trains exactly as plain BN', () => {
    const noisySpec = smallSpec('tanh', ['noisy', 'batchnorm']);
    const bnSpec = smallSpec('tanh', ['batchnorm', 'batchnorm']);
    const weights = initialWeights(noisySpec, 1, 23);
    const noisy = new Network(noisySpec, weights, 'noisy');
    const bn = new Network(bnSpec, weights, 'bn');
    withTensors(randomBatch(noisySpec, 8, 24), (x, y) => {
      for (let step = 0; step < 5; step++) {
        const identity = drawNoise(noisySpec.normalization, noisySpec.hiddenUnits, 0, 1, step, 8);
        expect(noisy.trainStep(x, y, 0.3, 0.5, identity)).toBe(bn.trainStep(x, y, 0.3, 0.5));
      }
    });
    expect(readParameters(noisy)).toEqual(readParameters(bn));
    noisy.dispose();
    bn.dispose();
  });
});

describe('inference statistics', () => {
  it('population statistics are the mean of batch means and m/(m-1) x the mean of biased batch variances (Algorithm 2)', () => {
    const spec = smallSpec('sigmoid', ['batchnorm', 'none', 'batchnorm']);
    const net = new Network(spec, initialWeights(spec, 1, 15), 'population');
    const m = 4;
    const batches = [16, 17, 18].map((seed) => randomBatch(spec, m, seed));
    const tensors = batches.map((b) => tf.tensor2d(b.x));
    net.estimatePopulationStatistics(tensors);
    tf.dispose(tensors);

    const params = readParameters(net);
    const wxByBatch = batches.map((b) => float64Forward(spec, params, b.x, b.y).wx);
    const statistics = net.populationStatistics();
    expect(statistics[1]).toBeNull();
    for (const layer of [0, 2]) {
      const { mean, variance } = statistics[layer]!;
      for (let j = 0; j < spec.hiddenUnits; j++) {
        const batchMeans = wxByBatch.map((wx) => wx[layer].reduce((s, row) => s + row[j], 0) / m);
        const batchVariances = wxByBatch.map((wx, b) => wx[layer].reduce((s, row) => s + (row[j] - batchMeans[b]) ** 2, 0) / m);
        expect(mean[j]).toBeCloseTo(batchMeans.reduce((s, v) => s + v, 0) / 3, 5);
        expect(variance[j]).toBeCloseTo(((m / (m - 1)) * batchVariances.reduce((s, v) => s + v, 0)) / 3, 5);
      }
    }
    net.dispose();
  });

  it('in inference mode an example gives the same output alone as inside a batch', () => {
    const spec = smallSpec('sigmoid', ['batchnorm', 'batchnorm']);
    const net = new Network(spec, initialWeights(spec, 1, 19), 'alone');
    const batch = randomBatch(spec, 8, 20);
    withTensors(batch, (x, y) => {
      for (let step = 0; step < 5; step++) net.trainStep(x, y, 0.3, 0);
      net.estimatePopulationStatistics([x]);
      const inBatch = net.forward(x, 'inference');
      const single = tf.tensor2d([batch.x[2]]);
      const alone = net.forward(single, 'inference');
      const batchLogits = inBatch.logits.arraySync() as number[][];
      alone.logits.dataSync().forEach((v, k) => expect(v).toBeCloseTo(batchLogits[2][k], 5));
      alone.nonlinearityInputs.forEach((layer, l) => {
        const rows = inBatch.nonlinearityInputs[l].arraySync() as number[][];
        layer.dataSync().forEach((v, j) => expect(v).toBeCloseTo(rows[2][j], 5));
      });
      // Training mode normalizes a batch of one to beta: the statistics of the batch matter there.
      const training = net.forward(single, 'training');
      expect(training.logits.dataSync()[0]).not.toBeCloseTo(batchLogits[2][0], 3);
      tf.dispose([single, inBatch.logits, ...inBatch.nonlinearityInputs, alone.logits, ...alone.nonlinearityInputs]);
      tf.dispose([training.logits, ...training.nonlinearityInputs]);
    });
    net.dispose();
  });

  it('moving averages move toward the batch mean and unbiased batch variance at every step', () => {
    const decay = 0.9;
    const spec = smallSpec('sigmoid', ['batchnorm', 'none'], { inferenceStatistics: 'moving', movingAverageDecay: decay });
    const net = new Network(spec, initialWeights(spec, 1, 21), 'moving');
    const m = 8;
    const batch = randomBatch(spec, m, 22);
    const wx = float64Forward(spec, readParameters(net), batch.x, batch.y).wx[0];
    const batchMean = Array.from({ length: spec.hiddenUnits }, (_, j) => wx.reduce((s, row) => s + row[j], 0) / m);
    const sampleVariance = batchMean.map((mu, j) => wx.reduce((s, row) => s + (row[j] - mu) ** 2, 0) / (m - 1));
    withTensors(batch, (x, y) => {
      // Learning rate 0 freezes W, so the batch statistics stay the same while the averages move.
      for (let step = 1; step <= 30; step++) {
        net.trainStep(x, y, 0, 0);
        const { mean, variance } = net.populationStatistics()[0]!;
        const remaining = decay ** step;
        for (let j = 0; j < spec.hiddenUnits; j++) {
          // Started at 0 and 1, after k steps: decay^k x start + (1 - decay^k) x batch statistic.
          expect(mean[j]).toBeCloseTo((1 - remaining) * batchMean[j], 4);
          expect(variance[j]).toBeCloseTo(remaining + (1 - remaining) * sampleVariance[j], 4);
        }
      }
      // The trainer calls Algorithm 2 for every network: it must not overwrite the moving averages.
      const before = net.populationStatistics()[0]!;
      net.estimatePopulationStatistics([x]);
      expect(net.populationStatistics()[0]).toEqual(before);
    });
    net.dispose();
  });
});

describe('logitsByMode', () => {
  it('gives in one pass what forward gives per mode: batch statistics per mini-batch, Algorithm 2, moving averages', () => {
    // Two networks trained alike, one inferring with Algorithm 2 and one with the moving averages.
    const [population, moving] = (['population', 'moving'] as const).map((inferenceStatistics) => {
      const spec = smallSpec('sigmoid', ['batchnorm', 'none', 'ghost-batchnorm'], { inferenceStatistics, ghostBatchSize: 4 });
      const net = new Network(spec, initialWeights(spec, 1, 41), `modes-${inferenceStatistics}`);
      withTensors(randomBatch(spec, 8, 42), (x, y) => {
        for (let step = 0; step < 5; step++) net.trainStep(x, y, 0.3, 0);
        net.estimatePopulationStatistics([x]);
      });
      return net;
    });
    const batch = randomBatch(population.spec, 16, 43);
    withTensors(batch, (x) => {
      const read = (t: tf.Tensor) => Array.from(t.dataSync());
      const [training, algorithm2, averages] = population.logitsByMode(x, [
        { training: true, batchSize: 8 },
        { training: false, statistics: 'population' },
        { training: false, statistics: 'moving' },
      ]);
      const halves = [0, 8].map((start) => tf.tidy(() => read(population.forward(x.slice([start, 0], [8, -1]), 'training').logits)));
      const inference = (net: Network) => tf.tidy(() => read(net.forward(x, 'inference').logits));
      const close = (actual: number[], expected: number[]) => actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
      close(read(training), halves.flat());
      close(read(algorithm2), inference(population));
      close(read(averages), inference(moving));
      // The moving averages have not caught up after 5 steps: the two inference modes differ.
      expect(read(averages)).not.toEqual(read(algorithm2));
      tf.dispose([training, algorithm2, averages]);
    });
    population.dispose();
    moving.dispose();
  });
});

describe('initialWeights', () => {
  it('are identical for both arms whatever their normalization, and differ for another seed', () => {
    const plain = smallSpec('sigmoid', ['none', 'none', 'none']);
    const normalized = smallSpec('sigmoid', ['batchnorm', 'batchnorm', 'batchnorm']);
    const a = initialWeights(plain, 0.5, 42);
    expect(initialWeights(normalized, 0.5, 42)).toEqual(a);
    const other = initialWeights(plain, 0.5, 43);
    a.forEach((w, layer) => expect(other[layer]).not.toEqual(w));
    expect(a.map((w) => w.length)).toEqual([6 * 5, 5 * 5, 5 * 5, 5 * 4]);
  });

  it('are Gaussian with mean 0 and standard deviation initSigma', () => {
    const spec: NetworkSpec = { ...smallSpec('sigmoid', ['none', 'none', 'none']), inputSize: 784, hiddenUnits: 100, outputSize: 10 };
    const values = initialWeights(spec, 0.3, 1).flatMap((w) => Array.from(w));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    // ~99k draws: the standard errors of the mean and the std are ~0.001 and ~0.0007.
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(std - 0.3)).toBeLessThan(0.005);
  });
});

describe('lossAndGradients', () => {
  it('changes nothing: parameters, velocities, running statistics and the noise are byte-identical after, and the same inputs give the same outputs twice', () => {
    const spec = smallSpec('sigmoid', ['noisy', 'none', 'batchnorm'], { inferenceStatistics: 'moving' });
    const net = new Network(spec, initialWeights(spec, 1, 31), 'pure');
    const noise = drawNoise(spec.normalization, spec.hiddenUnits, 0.5, 2, 0, 8);
    withTensors(randomBatch(spec, 8, 32), (x, y) => {
      // Momentum first, so that there are velocities and moved averages to disturb.
      for (let step = 0; step < 3; step++) net.trainStep(x, y, 0.2, 0.9, noise);
      const state = () => ({
        params: net.parameterValues().map((p) => p.slice()),
        velocities: net.optimizer.state()!.map((v) => v.slice()),
        statistics: net.populationStatistics(),
        noise: noise.map((n) => n && { scale: n.scale?.slice() ?? null, shift: n.shift.slice() }),
      });
      const before = state();
      const read = () => {
        const r = net.lossAndGradients(net.parameterValues(), x, y, { noise, taps: true });
        return { loss: r.loss, gradients: r.gradients.map((g) => g.slice()), taps: r.taps.map((t) => t.slice()) };
      };
      const first = read();
      const second = read();
      expect(state()).toEqual(before);
      expect(second).toEqual(first);
      expect(first.gradients.every((g) => g.some((v) => v !== 0))).toBe(true);
    });
    net.dispose();
  });

  it("evaluates at the parameters it is given, not the network's own, and matches a network that has them", () => {
    const spec = smallSpec('tanh', ['batchnorm', 'none']);
    const net = new Network(spec, initialWeights(spec, 1, 33), 'at-params');
    const moved = new Network(spec, initialWeights(spec, 1, 33), 'moved');
    withTensors(randomBatch(spec, 8, 34), (x, y) => {
      for (let step = 0; step < 3; step++) moved.trainStep(x, y, 0.5, 0);
      const own = net.parameterValues().map((p) => p.slice());
      const elsewhere = net.lossAndGradients(moved.parameterValues(), x, y, { noise: [] });
      const copied = { loss: elsewhere.loss, gradients: elsewhere.gradients.map((g) => g.slice()) };
      expect(copied).toEqual(moved.gradients(x, y));
      expect(net.parameterValues()).toEqual(own);
      expect(net.gradients(x, y).loss).not.toBe(copied.loss);
    });
    net.dispose();
    moved.dispose();
  });

  it('refuses parameters that do not match the network, with a message saying so', () => {
    const spec = smallSpec('sigmoid', ['batchnorm']);
    const net = new Network(spec, initialWeights(spec, 1, 37), 'mismatch');
    withTensors(randomBatch(spec, 4, 38), (x, y) => {
      const params = net.parameterValues();
      expect(() => net.lossAndGradients(params.slice(1), x, y, { noise: [] })).toThrow(/do not match the network/);
      expect(() =>
        net.lossAndGradients(
          params.map((p) => p.subarray(1)),
          x,
          y,
          { noise: [] },
        ),
      ).toThrow(/do not match the network/);
    });
    net.dispose();
  });

  it("returns as taps each hidden layer's input to the nonlinearity, as the training-mode forward pass computes it", () => {
    const spec = smallSpec('sigmoid', ['none', 'noisy']);
    const net = new Network(spec, initialWeights(spec, 1, 35), 'taps');
    const noise = drawNoise(spec.normalization, spec.hiddenUnits, 0.5, 3, 0, 8);
    withTensors(randomBatch(spec, 8, 36), (x, y) => {
      const { taps } = net.lossAndGradients(net.parameterValues(), x, y, { noise, taps: true });
      const { logits, nonlinearityInputs } = net.forward(x, 'training', noise);
      nonlinearityInputs.forEach((input, layer) => input.dataSync().forEach((v, i) => expect(taps[layer][i]).toBeCloseTo(v, 5)));
      tf.dispose([logits, ...nonlinearityInputs]);
    });
    net.dispose();
  });
});

/**
 * Losses of every 20th of 300 steps (784-100-100-100-10 sigmoid, batch 60, lr 0.5, init sigma 0.1,
 * seed 1, noise strength 0.5, on MNIST's 10,000 test digits in a fixed stride) recorded from the
 * network before it was composed of ops: the composition must train bit for bit as it did.
 */
const RECORDED: [Normalization[], number, InferenceStatistics, number[]][] = [
  [
    ['none', 'none', 'none'],
    0,
    'population',
    [
      2.4021211133755584, 2.296248588620373, 2.3411044509923964, 2.2896282904503185, 2.2765122957838946, 2.2765517306231877, 2.227915637115386,
      2.1359990616769133, 2.08091122119983, 1.8759946175286208, 1.4952354174050868, 1.3138940744442467, 1.1091046980901118, 1.1964884458301663,
      0.9761302657135276,
    ],
  ],
  [
    ['batchnorm', 'batchnorm', 'batchnorm'],
    0,
    'population',
    [
      1.1096935554221614, 0.6585368516540063, 0.5218156805521552, 0.4779684282847969, 0.4777457035060966, 0.6298762588008029, 0.45527017295387046,
      0.41803535219611454, 0.31187275846385415, 0.4757722788553418, 0.14603947204556256, 0.25590329231473546, 0.25018403013260326, 0.3335032036373072,
      0.32750714232543887,
    ],
  ],
  // Noisy BN as links before v4 drew it, one map per unit and step: those links replay bit for bit.
  [
    ['noisy-shared', 'batchnorm', 'none'],
    0.9,
    'moving',
    [
      1.7590894028183974, 0.7691855620710395, 0.5585522988618495, 0.6085661325551259, 0.5470938788925908, 0.7391246574621834, 0.5708727182212606,
      0.3974845830048112, 0.3958335997288581, 0.5405791891113423, 0.13068572359648692, 0.26195142076502104, 0.1951857553707234, 0.3896603591897139,
      0.3143004294426656,
    ],
  ],
];

describe('Network.trainStep on real MNIST', () => {
  it('trains bit for bit as the network did before it was composed of ops (plain, BN, noisy BN with momentum and moving averages)', async () => {
    const digits = readPackageMnist().test;
    const m = 60;
    for (const [normalization, momentum, inferenceStatistics, expected] of RECORDED) {
      const spec: NetworkSpec = {
        inputSize: 784,
        outputSize: 10,
        hiddenLayers: 3,
        hiddenUnits: 100,
        activation: 'sigmoid',
        normalization,
        epsilon: 1e-5,
        inferenceStatistics,
        movingAverageDecay: 0.99,
      };
      const net = new Network(spec, initialWeights(spec, 0.1, 1), `replay-${normalization.join('-')}`);
      const losses: number[] = [];
      for (let step = 0; step < 300; step++) {
        const x = new Float32Array(m * 784);
        const y = new Float32Array(m * 10);
        for (let i = 0; i < m; i++) {
          // A stride prime to the count: every batch mixes the classes.
          const digit = ((step * m + i) * 7919) % digits.count;
          for (let p = 0; p < 784; p++) x[i * 784 + p] = digits.pixels[digit * 784 + p] / 255;
          y[i * 10 + digits.labels[digit]] = 1;
        }
        const [xt, yt] = [tf.tensor2d(x, [m, 784]), tf.tensor2d(y, [m, 10])];
        losses.push(net.trainStep(xt, yt, 0.5, momentum, drawNoise(normalization, 100, 0.5, 1, step, m)));
        tf.dispose([xt, yt]);
      }
      expect(
        losses.filter((_, step) => step % 20 === 19),
        normalization.join('/'),
      ).toEqual(expected);
      net.dispose();
    }
  }, 60_000);
});
