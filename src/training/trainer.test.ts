import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../config/schema';
import { useBackend } from './backend';
import { readPackageMnist } from '../../scripts/build-mnist';
import { FULL_TEST_EVERY, HISTOGRAM, INFERENCE_GAP_DENSE_INTERVALS, LIVE_TEST_DIGITS, P15, P50, P85, type ArmRecord } from './measures';
import { ArmTrainer, BatchSequence, Experiment, experimentData, type ExperimentData } from './trainer';

let data: ExperimentData;

beforeAll(async () => {
  await useBackend('wasm');
  // Once per file: reading and indexing the 70,000 digits takes about a second.
  data = experimentData(readPackageMnist());
});

/** A small network so that the tests stay quick; the defaults are exercised in the learning test. */
const small: Config = {
  ...DEFAULT_CONFIG,
  hiddenLayers: 2,
  hiddenUnits: 16,
  normalizationA: ['none', 'none'],
  normalizationB: ['batchnorm', 'batchnorm'],
  probeSize: 200,
  metricsInterval: 10,
  steps: 40,
};

function losses(config: Config, steps: number): number[][] {
  const experiment = new Experiment(config, data);
  const result: number[][] = [[], []];
  for (let s = 0; s < steps; s++) experiment.arms.forEach((arm, i) => result[i].push(arm.trainStep()));
  experiment.dispose();
  return result;
}

describe('experimentData', () => {
  it("keeps MNIST's 60,000 training digits and its 10,000 test digits, scored in a fixed shuffled order whose first 200 (a probe set) cover all ten classes", () => {
    expect(data.train.count).toBe(60_000);
    expect(data.test.count).toBe(10_000);
    const labelsInOrder = Uint8Array.from(data.testOrder, (i) => data.test.labels[i]);
    expect(new Set(labelsInOrder.subarray(0, 200)).size).toBe(10);
    // A permutation: every test digit once; the live 2,000 hold every class near its share of all 10,000.
    expect([...data.testOrder].sort((a, b) => a - b)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(data.testOrder.subarray(0, 5)).not.toEqual(Uint32Array.from([0, 1, 2, 3, 4]));
    const counts = (labels: Uint8Array) => Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    const all = counts(data.test.labels);
    const live = counts(labelsInOrder.subarray(0, LIVE_TEST_DIGITS));
    live.forEach((n, d) => expect(Math.abs(n / LIVE_TEST_DIGITS - all[d] / 10_000)).toBeLessThan(0.015));
  });
});

describe('BatchSequence', () => {
  it('visits every training digit once per epoch, in an order fixed by the seed', () => {
    const seen = (seed: number) => {
      const batches = new BatchSequence(seed, 100, 10);
      const visited: number[] = [];
      for (let b = 0; b < 10; b++) {
        const { order, start } = batches.next();
        visited.push(...order.subarray(start, start + 10));
      }
      return visited;
    };
    expect([...seen(1)].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(seen(1)).toEqual(seen(1));
    expect(seen(2)).not.toEqual(seen(1));
  });
});

describe('Experiment', () => {
  it('gives bit-identical losses for the same config, and different ones for another seed', () => {
    const first = losses(small, 15);
    expect(losses(small, 15)).toEqual(first);
    expect(losses({ ...small, seed: 2 }, 15)[0]).not.toEqual(first[0]);
  });

  it('starts both arms from the same weights on the same batches: with equal normalization they agree exactly', () => {
    const [a, b] = losses({ ...small, normalizationA: ['none', 'batchnorm'], normalizationB: ['none', 'batchnorm'] }, 10);
    expect(b).toEqual(a);
  });

  it('trains the same curves with tfjs autodiff gradients as with the hand-written ones', () => {
    // Float32 rounding differs between the two formulations; 20 steps stay within 1e-4 relative.
    const config: Config = { ...small, momentum: 0.9, inferenceStatistics: 'moving' };
    const handwritten = losses(config, 20);
    const autodiff = losses({ ...config, gradients: 'autodiff' }, 20);
    autodiff.forEach((arm, i) => arm.forEach((loss, step) => expect(loss).toBeCloseTo(handwritten[i][step], 4)));
  });

  it('trains the same curves through noisy BN with tfjs autodiff gradients as with the hand-written ones', () => {
    // Both paths draw the step's noise from the seed: the same noise, so the same curves to rounding.
    const config: Config = { ...small, normalizationA: ['noisy', 'none'], normalizationB: ['noisy', 'noisy'] };
    const handwritten = losses(config, 20);
    const autodiff = losses({ ...config, gradients: 'autodiff' }, 20);
    autodiff.forEach((arm, i) => arm.forEach((loss, step) => expect(loss).toBeCloseTo(handwritten[i][step], 4)));
    // And the noise is there: the same arms with plain BN follow another curve.
    const plainBn = losses({ ...config, normalizationA: ['batchnorm', 'none'], normalizationB: ['batchnorm', 'batchnorm'] }, 20);
    expect(Math.abs(plainBn[1][19] - handwritten[1][19])).toBeGreaterThan(1e-3);
  });

  it("takes Santurkar et al.'s measures without changing the run: the same losses, accuracies and distributions with them on and off (momentum, noisy BN, every gradient path)", () => {
    for (const gradients of ['handwritten', 'autodiff', 'simd'] as const) {
      const config: Config = { ...small, gradients, momentum: 0.9, steps: 30, normalizationA: ['none', 'noisy'], normalizationB: ['batchnorm', 'noisy'] };
      const run = (santurkarInterval: number) => {
        const experiment = new Experiment({ ...config, santurkarInterval }, data);
        const records = Array.from({ length: config.steps }, () => experiment.advance()).flatMap((pair) => (pair[0] === null ? [] : [pair]));
        experiment.dispose();
        return records;
      };
      const on = run(10);
      const off = run(0);
      expect(on.length).toBe(3);
      on.forEach((pair, k) =>
        pair.forEach((record, arm) => {
          expect(record!.landscape!.lossMax).toBeGreaterThanOrEqual(record!.landscape!.lossMin);
          expect(record!.layers.map((layer) => layer.ics!.l2)[0]).toBe(0);
          const { landscape, ...rest } = record!;
          expect({ ...rest, layers: rest.layers.map(({ ics, ...layer }) => layer) }, `${gradients}, arm ${arm}, record ${k}`).toEqual(off[k][arm]);
        }),
      );
      expect(off[0][0]!.landscape).toBeUndefined();
    }
  });

  it('trains the same curves with WebAssembly SIMD gradients as with the hand-written ones, and records them bit for bit alike run after run', () => {
    const config: Config = { ...small, momentum: 0.9, gradients: 'simd', steps: 30 };
    const handwritten = losses({ ...config, gradients: 'handwritten' }, 20);
    const simd = losses(config, 20);
    simd.forEach((arm, i) => arm.forEach((loss, step) => expect(loss).toBeCloseTo(handwritten[i][step], 4)));
    // One link, two runs: every record of both arms the same, moving averages and Algorithm 2 included.
    const run = () => {
      const experiment = new Experiment({ ...config, inferenceStatistics: 'moving' }, data);
      const records: (ArmRecord | null)[][] = [experiment.arms.map((arm) => arm.record())];
      while (!experiment.done) records.push(experiment.advance());
      const notices = experiment.arms.map((arm) => arm.kernelNotice);
      experiment.dispose();
      return { records: JSON.stringify(records), notices };
    };
    const first = run();
    expect(run().records).toBe(first.records);
    expect(first.notices).toEqual([null, null]);
  });

  it("records a SIMD arm, its record's passes in the module, as the tfjs passes record the hand-written arm: every normalization, the last step's noise in the taps, the gap, the full test", () => {
    const config: Config = {
      ...small,
      hiddenLayers: 3,
      ghostBatchSize: 10,
      steps: 20,
      normalizationA: ['noisy', 'layernorm', 'ghost-batchnorm'],
      normalizationB: ['batchnorm-after', 'noisy-shared', 'batchnorm'],
    };
    const recordsOf = (gradients: Config['gradients']) => {
      const experiment = new Experiment({ ...config, gradients }, data);
      const records: (ArmRecord | null)[][] = [experiment.arms.map((arm) => arm.record())];
      while (!experiment.done) records.push(experiment.advance());
      experiment.dispose();
      return records.filter((pair) => pair[0] !== null).map((pair) => pair as ArmRecord[]);
    };
    const [simd, handwritten] = [recordsOf('simd'), recordsOf('handwritten')];
    expect(simd.map((pair) => pair[0].step)).toEqual([0, 10, 20]);
    // The two paths train apart by float rounding only, so their records agree to a digit or two and a small fraction of a percentile.
    const close = (a: number, b: number, tolerance: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(b)));
    simd.forEach((pair, k) =>
      pair.forEach((record, arm) => {
        const reference = handwritten[k][arm];
        close(record.testAccuracy, reference.testAccuracy, 2 / LIVE_TEST_DIGITS);
        if (record.step === config.steps) close(record.fullTestAccuracy, reference.fullTestAccuracy, 2 / 10_000);
        else expect(record.fullTestAccuracy).toBeNaN();
        for (const part of ['trainingMode', 'population', 'movingAverage'] as const) close(record.inferenceGap![part], reference.inferenceGap![part], 2 / 180);
        record.layers.forEach((layer, l) => {
          for (const which of ['unit', 'pooled'] as const) {
            const [ours, theirs] = [layer[which], reference.layers[l][which]];
            ours.percentiles.forEach((p, i) => close(p, theirs.percentiles[i], 1e-3));
            close(ours.mean, theirs.mean, 1e-3);
            close(ours.std, theirs.std, 1e-3);
          }
          close(layer.saturation, reference.layers[l].saturation, 1e-3);
        });
      }),
    );
  });

  it("measures Santurkar et al.'s ICS and landscape of a SIMD arm in the module, as the hand-written arm measures them with tfjs (momentum, every normalization)", () => {
    const config: Config = {
      ...small,
      hiddenLayers: 3,
      normalizationA: ['none', 'noisy', 'layernorm'],
      normalizationB: ['batchnorm', 'ghost-batchnorm', 'batchnorm-after'],
      ghostBatchSize: 10,
      momentum: 0.9,
      steps: 20,
      santurkarInterval: 10,
    };
    const measured = (gradients: Config['gradients']) => {
      const experiment = new Experiment({ ...config, gradients }, data);
      const records = Array.from({ length: config.steps }, () => experiment.advance()).filter((pair) => pair[0] !== null);
      experiment.dispose();
      return records.flatMap((pair) => pair.map((record) => ({ ics: record!.layers.map((layer) => layer.ics!), landscape: record!.landscape! })));
    };
    const handwritten = measured('handwritten');
    const simd = measured('simd');
    expect(simd.length).toBe(4);
    // The two paths sum the same float32 products in other orders: their parameters after the
    // same steps, and their gradients at them, agree to a few parts per million, which a
    // difference of two gradients or a ratio of norms can lift by an order. A measure on other
    // parameters, another batch or other velocities is off by far more.
    const tolerance = 1e-4;
    const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    simd.forEach(({ ics, landscape }, k) => {
      const expected = handwritten[k];
      expect(ics[0]).toEqual({ l2: 0, cosine: 1 });
      ics.slice(1).forEach(({ l2, cosine }, i) => {
        expect(l2).toBeGreaterThan(0);
        expect(relative(l2, expected.ics[i + 1].l2), `record ${k}, layer ${i + 2}`).toBeLessThan(tolerance);
        expect(Math.abs(cosine - expected.ics[i + 1].cosine), `record ${k}, layer ${i + 2}`).toBeLessThan(tolerance);
      });
      for (const key of Object.keys(expected.landscape) as (keyof typeof landscape)[]) {
        expect(relative(landscape[key], expected.landscape[key]), `record ${k}, ${key}`).toBeLessThan(tolerance);
      }
    });
  });

  it('with WebAssembly SIMD gradients noisy BN, LayerNorm, BN after the nonlinearity and ghost BN train in the kernels, on the hand-written curves', () => {
    const config: Config = {
      ...small,
      gradients: 'simd',
      ghostBatchSize: 10,
      normalizationA: ['noisy', 'layernorm'],
      normalizationB: ['batchnorm-after', 'ghost-batchnorm'],
    };
    const experiment = new Experiment(config, data);
    expect(experiment.arms.map((arm) => arm.kernelNotice)).toEqual([null, null]);
    experiment.dispose();
    // The noisy BN of older links too: one map per unit and step.
    const shared: Config = { ...config, normalizationA: ['noisy-shared', 'noisy-shared'] };
    const sharedHandwritten = losses({ ...shared, gradients: 'handwritten' }, 20);
    losses(shared, 20)[0].forEach((loss, step) => expect(loss).toBeCloseTo(sharedHandwritten[0][step], 4));
    experiment.dispose();
    const handwritten = losses({ ...config, gradients: 'handwritten' }, 20);
    losses(config, 20).forEach((arm, i) => arm.forEach((loss, step) => expect(loss).toBeCloseTo(handwritten[i][step], 4)));
  });

  it('with noise of strength 0 a noisy-BN arm trains and records exactly as the BN arm', () => {
    const experiment = new Experiment({ ...small, noiseStrength: 0, normalizationA: ['batchnorm', 'batchnorm'], normalizationB: ['noisy', 'noisy'] }, data);
    const records = Array.from({ length: 20 }, () => experiment.advance()).filter((pair) => pair[0] !== null);
    expect(records.length).toBe(2);
    for (const [bn, noisy] of records) expect(noisy).toEqual(bn);
    experiment.dispose();
  });

  it('ghost BN with virtual batches as large as the mini-batch trains and records exactly as BN, bit for bit', () => {
    for (const inferenceStatistics of ['population', 'moving'] as const) {
      const config: Config = {
        ...small,
        inferenceStatistics,
        ghostBatchSize: small.batchSize,
        normalizationA: ['batchnorm', 'batchnorm'],
        normalizationB: ['ghost-batchnorm', 'ghost-batchnorm'],
      };
      const experiment = new Experiment(config, data);
      const records = Array.from({ length: 20 }, () => experiment.advance()).filter((pair) => pair[0] !== null);
      expect(records.length).toBe(2);
      for (const [bn, ghost] of records) expect(ghost).toEqual(bn);
      experiment.dispose();
    }
    // Smaller virtual batches are another run.
    const [bn, ghost] = losses(
      { ...small, ghostBatchSize: 4, normalizationA: ['batchnorm', 'batchnorm'], normalizationB: ['ghost-batchnorm', 'ghost-batchnorm'] },
      5,
    );
    expect(ghost[4]).not.toBe(bn[4]);
  });

  it('trains BN and ghost BN on mini-batches of 2, the smallest with a variance', () => {
    const config: Config = {
      ...small,
      batchSize: 2,
      ghostBatchSize: 2,
      normalizationA: ['batchnorm', 'batchnorm-after'],
      normalizationB: ['ghost-batchnorm', 'noisy'],
    };
    const experiment = new Experiment(config, data);
    const records = Array.from({ length: 20 }, () => experiment.advance()).filter((pair) => pair[0] !== null);
    for (const record of records.flat()) {
      expect(Number.isFinite(record!.loss)).toBe(true);
      expect(record!.testAccuracy).toBeGreaterThan(0);
    }
    expect(experiment.arms.map((arm) => arm.diverged)).toEqual([null, null]);
    experiment.dispose();
  });

  it('records the train vs inference gap of an arm with batch statistics: batch statistics, Algorithm 2 and moving averages, whichever inference uses', () => {
    const run = (inferenceStatistics: Config['inferenceStatistics']) => {
      // Every test digit a probe digit, so the gap and testAccuracy count nearly the same digits.
      const experiment = new Experiment(
        { ...small, probeSize: 2000, inferenceStatistics, normalizationA: ['none', 'layernorm'], normalizationB: ['batchnorm', 'batchnorm-after'] },
        data,
      );
      const records = Array.from({ length: 30 }, () => experiment.advance()).filter((pair) => pair[0] !== null);
      experiment.dispose();
      return records;
    };
    const [population, moving] = [run('population'), run('moving')];
    expect(population).toHaveLength(3);
    expect(population.map(([a]) => a!.inferenceGap)).toEqual([undefined, undefined, undefined]);
    for (const [k, [, b]] of population.entries()) {
      const gap = b!.inferenceGap!;
      // The gap counts the probe digits in whole mini-batches, 1,980 of the 2,000 testAccuracy counts.
      expect(Math.abs(gap.population - b!.testAccuracy)).toBeLessThanOrEqual(20 / 1980);
      // The same training either way: only what testAccuracy reports differs.
      expect(moving[k][1]!.inferenceGap).toEqual(gap);
      expect(Math.abs(moving[k][1]!.testAccuracy - gap.movingAverage)).toBeLessThanOrEqual(20 / 1980);
      for (const accuracy of Object.values(gap)) expect(accuracy).toBeGreaterThan(0);
    }
    // At step 30 the moving averages (decay 0.99) still hold mostly their start, 0 and 1, where Algorithm 2 is current.
    const late = population[population.length - 1][1]!.inferenceGap!;
    expect(late.population).toBeGreaterThan(late.movingAverage);
    expect(Math.abs(late.trainingMode - late.population)).toBeLessThan(0.1);
  });

  it('records at step 0 and every metricsInterval steps, each layer measured over the probe digits', () => {
    const experiment = new Experiment(small, data);
    // The BN arm: in 40 steps at the default rate the plain arm is still near chance on the full data.
    const records = [experiment.arms[1].record()];
    while (!experiment.done) {
      const due = experiment.advance()[1];
      if (due) records.push(due);
    }
    expect(records.map((r) => r.step)).toEqual([0, 10, 20, 30, 40]);
    for (const record of records) {
      expect(record.layers).toHaveLength(2);
      expect(record.loss).toBeGreaterThan(0);
      for (const layer of record.layers) {
        expect(layer.unit.histogram.reduce((s, c) => s + c, 0)).toBe(small.probeSize);
        expect(layer.pooled.histogram.reduce((s, c) => s + c, 0)).toBe(small.probeSize * small.hiddenUnits);
        expect(layer.unit.percentiles[P15]).toBeLessThanOrEqual(layer.unit.percentiles[P50]);
        expect(layer.unit.percentiles[P50]).toBeLessThanOrEqual(layer.unit.percentiles[P85]);
        expect(layer.unit.histogram).toHaveLength(HISTOGRAM.bins);
      }
    }
    expect(records.at(-1)!.testAccuracy).toBeGreaterThan(records[0].testAccuracy);
    experiment.dispose();
  });

  it('scores all 10,000 test digits every FULL_TEST_EVERY records and at the last step, the live 2,000 at every record', () => {
    const config = { ...small, steps: 2 * FULL_TEST_EVERY * small.metricsInterval + 5 };
    const arm = new ArmTrainer(config, 0, data);
    const records = [arm.record()];
    while (!arm.done) {
      arm.trainStep();
      if (arm.recordDue) records.push(arm.record());
    }
    const full = records.filter((r) => !Number.isNaN(r.fullTestAccuracy)).map((r) => r.step);
    expect(full).toEqual([100, 200, 205]);
    for (const r of records) expect(r.testAccuracy).toBeGreaterThan(0);
    // The live digits are a fifth of the full set, so the two agree to a few points, not exactly.
    const last = records.at(-1)!;
    expect(Math.abs(last.fullTestAccuracy - last.testAccuracy)).toBeLessThan(0.04);
    expect(last.fullTestAccuracy).not.toBe(last.testAccuracy);
    arm.dispose();
  });

  it.each(['simd', 'handwritten'] as const)(
    'on the %s path, measures the gap at every record of the first INFERENCE_GAP_DENSE_INTERVALS intervals, then with each full test',
    (gradients) => {
      const config = { ...small, gradients, steps: 2 * FULL_TEST_EVERY * small.metricsInterval + 5 };
      const arm = new ArmTrainer(config, 1, data);
      const records = [arm.record()];
      while (!arm.done) {
        arm.trainStep();
        if (arm.recordDue) records.push(arm.record());
      }
      const dense = Array.from({ length: INFERENCE_GAP_DENSE_INTERVALS + 1 }, (_, k) => k * small.metricsInterval);
      expect(records.filter((r) => r.inferenceGap !== undefined).map((r) => r.step)).toEqual([...dense, 200, 205]);
      arm.dispose();
    },
  );

  it('on the hand-written step, stops an arm whose loss turns non-finite at that step while the other goes on', () => {
    // ReLUs at a rate of 100 overflow float32 within a few steps without BN; BN keeps its layer inputs bounded.
    const experiment = new Experiment(
      { ...DEFAULT_CONFIG, gradients: 'handwritten', activation: 'relu', learningRate: 100, initSigma: 1, steps: 20, metricsInterval: 20, probeSize: 100 },
      data,
    );
    while (!experiment.done) experiment.advance();
    const [plain, normalized] = experiment.arms;
    expect(plain.diverged).not.toBeNull();
    expect(plain.step).toBe(plain.diverged);
    expect(normalized.step).toBe(20);
    experiment.dispose();
  });

  it('with WebAssembly SIMD gradients too, an arm whose loss turns non-finite stops at that step while the other goes on', () => {
    // The same run, 10 steps: the BN arm's weights grow freely (BN undoes their scale) and overflow by step 13.
    const experiment = new Experiment(
      { ...DEFAULT_CONFIG, gradients: 'simd', activation: 'relu', learningRate: 100, initSigma: 1, steps: 10, metricsInterval: 10, probeSize: 100 },
      data,
    );
    while (!experiment.done) experiment.advance();
    const [plain, normalized] = experiment.arms;
    expect(plain.diverged).not.toBeNull();
    expect(plain.step).toBe(plain.diverged);
    expect(normalized.step).toBe(10);
    expect(normalized.diverged).toBeNull();
    experiment.dispose();
  });

  it('leaks no tensors: the count after many steps and records equals the count after a few', () => {
    const arm = new ArmTrainer({ ...small, steps: 1000 }, 1, data);
    const run = (steps: number) => {
      for (let s = 0; s < steps; s++) {
        arm.trainStep();
        if (arm.recordDue) arm.record();
      }
    };
    run(10);
    const after10 = tf.memory().numTensors;
    run(300);
    expect(tf.memory().numTensors).toBe(after10);
    arm.dispose();
  });
});

describe("the paper's finding at the default config", () => {
  it('puts the BN arm at least 10 points ahead on test accuracy after 300 steps', () => {
    // Measured on the full data (seed 1, step 300, live 2,000 test digits): 89.7% with BN against 60.9% without.
    const experiment = new Experiment({ ...DEFAULT_CONFIG, steps: 300, metricsInterval: 300 }, data);
    let last: ReturnType<Experiment['advance']> = [null, null];
    while (!experiment.done) last = experiment.advance();
    const [plain, normalized] = last.map((record) => record!.testAccuracy);
    expect(normalized - plain).toBeGreaterThan(0.1);
    experiment.dispose();
  });
});

describe("Santurkar et al.'s finding at the default config", () => {
  it('keeps the noisy-BN arm, its layer inputs shifted at every step, at least 10 points ahead of the plain arm after 300 steps', () => {
    // Measured on the full data (seed 1, step 300, live 2,000 test digits): 89.5% with noisy BN on all layers against 60.9% without BN.
    const experiment = new Experiment({ ...DEFAULT_CONFIG, normalizationB: ['noisy', 'noisy', 'noisy'], steps: 300, metricsInterval: 300 }, data);
    let last: ReturnType<Experiment['advance']> = [null, null];
    while (!experiment.done) last = experiment.advance();
    const [plain, noisy] = last.map((record) => record!.testAccuracy);
    expect(noisy - plain).toBeGreaterThan(0.1);
    experiment.dispose();
  });
});
