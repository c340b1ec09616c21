/**
 * The experiment: two arms, A and B, that differ only in per-layer normalization. Both start
 * from the same initial W and see the same mini-batches in the same order, so a run is a pure
 * function of its config. An `ArmTrainer` is one arm with everything it needs; a worker runs one
 * (both cores work), and `Experiment` steps two of them in lockstep in one thread (Node, tests).
 */
import * as tf from '@tensorflow/tfjs';
import { usesBatchStatistics, type Config, type Normalization } from '../config/schema';
import { readInto } from './backend';
import { compactBuffers, fillBatch, fillCompactBatch, indexInk, type CompactBuffers, type InkIndex, type MnistData, type MnistSplits } from './data';
import { initialWeights, Network, type NetworkSpec } from './network';
import { drawNoise, type LayerNoise } from './noise';
import { FULL_TEST_EVERY, INFERENCE_GAP_DENSE_INTERVALS, LIVE_TEST_DIGITS, type ArmRecord, type InferenceGap, type LayerRecord } from './measures';
import { ReferenceNetwork } from './reference';
import { SimdRecord, type RecordDue, type RecordMeasures } from './simd/simdRecord';
import { SimdStatistics } from './simd/simdStatistics';
import { SimdStep, simdCoverage } from './simd/simdStep';
import type { Run } from './runJson';
import { createRng, deriveSeed, shuffle } from './rng';
import { copyAll, internalCovariateShift, landscape, walkInArrays, type GradientAt, type InternalCovariateShift, type Landscape } from './santurkar';
import { describeLayer } from './statistics';

export type ArmIndex = 0 | 1;
export const ARM_NAMES = ['A', 'B'] as const;

const INPUT_SIZE = 784;
const CLASSES = 10;
/** Independent random streams derived from the seed (stream 0, the weights, is the network's; 3, the noise, noise.ts's). */
const BATCH_STREAM = 1;
const POPULATION_STREAM = 2;
let nextInstance = 0;

/** The train digits, where their ink is, and the test digits with the fixed shuffled order in which they are scored. */
export interface ExperimentData {
  train: MnistData;
  trainInk: InkIndex;
  test: MnistData;
  /** A permutation of the test digits; its first `probeSize` are the probe set, its first LIVE_TEST_DIGITS the live test set. */
  testOrder: Uint32Array;
}

/**
 * Fixed for every run, unlike the seed: the order of the test digits, so that the probe set (its
 * first `probeSize`) and the live test set (its first LIVE_TEST_DIGITS) mix all ten classes and
 * are the same digits whatever the seed.
 */
const PROBE_ORDER_SEED = 0x5eed;

export { FULL_TEST_EVERY, LIVE_TEST_DIGITS } from './measures';
/** Test digits per forward pass when scoring all of them, so no tensor holds the whole test set. */
const TEST_CHUNK = 2_000;

/**
 * Indexes the training digits' ink and shuffles the order of the test set once, so any prefix of
 * it is a fair sample. An order rather than a shuffled copy: the digits stay where the page's
 * file put them (shared between workers where the page allows).
 */
export function experimentData({ train, test }: MnistSplits): ExperimentData {
  const testOrder = shuffle(
    Uint32Array.from({ length: test.count }, (_, i) => i),
    createRng(PROBE_ORDER_SEED),
  );
  return { train, trainInk: indexInk(train), test, testOrder };
}

function normalizationOf(config: Config, arm: ArmIndex): Normalization[] {
  return arm === 0 ? config.normalizationA : config.normalizationB;
}

export function networkSpec(config: Config, arm: ArmIndex): NetworkSpec {
  return {
    inputSize: INPUT_SIZE,
    outputSize: CLASSES,
    hiddenLayers: config.hiddenLayers,
    hiddenUnits: config.hiddenUnits,
    activation: config.activation,
    normalization: normalizationOf(config, arm),
    epsilon: config.epsilon,
    inferenceStatistics: config.inferenceStatistics,
    movingAverageDecay: config.movingAverageDecay,
    ghostBatchSize: config.ghostBatchSize,
  };
}

/** Mini-batch order: a fresh permutation of the training digits every epoch, drawn from the seed. */
export class BatchSequence {
  private readonly order: Uint32Array;
  private readonly uniform: () => number;
  private position: number;

  constructor(
    seed: number,
    count: number,
    private readonly batchSize: number,
  ) {
    this.order = Uint32Array.from({ length: count }, (_, i) => i);
    this.uniform = createRng(deriveSeed(seed, BATCH_STREAM));
    this.position = count; // forces the first shuffle
  }

  /** Start of the next batch within `order`; the tail of an epoch shorter than a batch is skipped. */
  next(): { order: Uint32Array; start: number } {
    if (this.position + this.batchSize > this.order.length) {
      shuffle(this.order, this.uniform);
      this.position = 0;
    }
    const start = this.position;
    this.position += this.batchSize;
    return { order: this.order, start };
  }
}

function tensorsOf(data: MnistData, indices: ArrayLike<number>, start: number, count: number): [tf.Tensor2D, tf.Tensor2D] {
  const x = new Float32Array(count * INPUT_SIZE);
  const y = new Float32Array(count * CLASSES);
  fillBatch(data, indices, start, count, x, y);
  return [tf.tensor2d(x, [count, INPUT_SIZE]), tf.tensor2d(y, [count, CLASSES])];
}

/** The pixels alone, for passes that need no labels as a tensor. */
function inputsOf(data: MnistData, indices: ArrayLike<number>, start: number, count: number): tf.Tensor2D {
  const x = new Float32Array(count * INPUT_SIZE);
  fillBatch(data, indices, start, count, x, new Float32Array(count * CLASSES));
  return tf.tensor2d(x, [count, INPUT_SIZE]);
}

export class ArmTrainer {
  /** Steps trained so far. */
  step = 0;
  /** The step at which the loss became NaN or infinite; the arm trains no further. */
  diverged: number | null = null;
  readonly normalization: Normalization[];
  private readonly network: Network;
  /** With `autodiff` gradients, trains the network's own variables; the network still measures. */
  private readonly reference: ReferenceNetwork | null;
  /** With `simd` gradients on a network the kernels cover, trains the network's parameters in WebAssembly SIMD. */
  private readonly simd: SimdStep | null;
  /** Why `simd` gradients train on the hand-written step here (a sentence for the page), or null. */
  readonly kernelNotice: string | null;
  private readonly batches: BatchSequence;
  /** The mini-batch as autodiff takes it, dense; hand-written gradients take it on its pixels in use. */
  private readonly x: Float32Array;
  private readonly compact: CompactBuffers;
  private readonly yOneHot: Float32Array;
  /** With `simd` gradients, the record's passes in the same module, on its parameters; the tensors below are then not made. */
  private readonly simdRecord: SimdRecord | null = null;
  /** With `simd` gradients, the record's distributions in the same module, on the taps the passes leave there. */
  private readonly simdStatistics: SimdStatistics | null = null;
  /** The live test digits (which include the probe digits), resident for every record. */
  private readonly testX: tf.Tensor2D | null = null;
  private readonly populationBatches: tf.Tensor2D[] = [];
  private lossSum = 0;
  private lossCount = 0;
  /** The noise of the last step (all null before the first, or without noisy layers), for the records. */
  private lastNoise: (LayerNoise | null)[];
  /** Each layer's probe rows, read every record by the tfjs passes. */
  private readonly probes: Float32Array[] = [];
  /** The probe digits in whole mini-batches, for the train vs inference gap; null for an arm without batch statistics. */
  private readonly gapX: tf.Tensor2D | null = null;
  /** Santurkar et al.'s measures of the last step that took them, for the record of that step. */
  private santurkar: { step: number; ics: InternalCovariateShift[]; landscape: Landscape } | null = null;
  /** Where the measures copy the gradient at W and the updated parameters, laid out at the first measured step (in the module for a SIMD arm). */
  private santurkarBuffers: { gradient: Float32Array[]; updated: Float32Array[] } | null = null;

  constructor(
    private readonly config: Config,
    readonly arm: ArmIndex,
    private readonly data: ExperimentData,
  ) {
    const spec = networkSpec(config, arm);
    this.normalization = spec.normalization;
    // tfjs variable names are global; a per-instance suffix keeps two runs in one process apart.
    this.network = new Network(spec, initialWeights(spec, config.initSigma, config.seed), `arm${ARM_NAMES[arm]}-${nextInstance++}`);
    this.reference = config.gradients === 'autodiff' ? ReferenceNetwork.sharing(this.network) : null;
    const uncovered = config.gradients === 'simd' ? simdCoverage(spec) : null;
    this.kernelNotice = uncovered && `Arm ${ARM_NAMES[arm]}: ${uncovered}.`;
    const resident = Math.min(data.test.count, Math.max(LIVE_TEST_DIGITS, config.probeSize));
    // The probe digits rather than every test digit: three more passes over all of them would cost a large share of a record.
    const wholeBatches = Math.floor(Math.min(config.probeSize, data.test.count) / config.batchSize) * config.batchSize;
    const gapDigits = spec.normalization.some(usesBatchStatistics) ? wholeBatches : 0;
    const population = this.populationBatchCount();
    let simdRecord: SimdRecord | null = null;
    let simdStatistics: SimdStatistics | null = null;
    this.simd =
      config.gradients === 'simd' && uncovered === null
        ? new SimdStep(spec, this.network.parameters(), config.batchSize, data.train, data.trainInk, (arena, layers) => {
            const recordData = {
              ...data,
              populationOrder: this.populationOrder(),
              populationBatches: population,
              liveDigits: LIVE_TEST_DIGITS,
              probeSize: config.probeSize,
              gapDigits,
            };
            simdRecord = new SimdRecord(arena, spec, layers, this.network.statisticsArrays(), config.batchSize, recordData);
            simdStatistics = new SimdStatistics(arena, config.probeSize, config.hiddenUnits, config.batchSize);
          })
        : null;
    this.simdRecord = simdRecord;
    this.simdStatistics = simdStatistics;
    this.batches = new BatchSequence(config.seed, data.train.count, config.batchSize);
    this.x = new Float32Array(this.reference ? config.batchSize * INPUT_SIZE : 0);
    // The SIMD step fills its own mini-batches, for its measures too.
    this.compact = compactBuffers(data.train, this.reference || this.simd ? 0 : config.batchSize);
    this.yOneHot = new Float32Array(this.simd ? 0 : config.batchSize * CLASSES);
    this.lastNoise = this.normalization.map(() => null);
    if (this.simdRecord === null) {
      this.probes = this.normalization.map(() => new Float32Array(config.probeSize * config.hiddenUnits));
      this.testX = inputsOf(data.test, data.testOrder, 0, resident);
      const order = this.populationOrder();
      this.populationBatches = Array.from({ length: population }, (_, b) => inputsOf(data.train, order, b * config.batchSize, config.batchSize));
      this.gapX = gapDigits > 0 ? this.testX.slice([0, 0], [gapDigits, INPUT_SIZE]) : null;
    }
  }

  /** Noisy BN's noise for training step `step` (from 0): the same whichever gradients train. */
  private noiseAt(step: number): (LayerNoise | null)[] {
    return drawNoise(this.normalization, this.config.hiddenUnits, this.config.noiseStrength, this.config.seed, step, this.config.batchSize);
  }

  /**
   * Algorithm 2 averages statistics over training mini-batches of size m. A fixed set of them,
   * drawn once from the seed, keeps records comparable from one step to the next: the first
   * populationBatchCount() runs of m in this order.
   */
  private populationOrder(): Uint32Array {
    return shuffle(
      Uint32Array.from({ length: this.data.train.count }, (_, i) => i),
      createRng(deriveSeed(this.config.seed, POPULATION_STREAM)),
    );
  }

  private populationBatchCount(): number {
    // Kept under moving averages too: the record compares the two.
    if (!this.normalization.some(usesBatchStatistics)) return 0;
    return Math.min(this.config.populationBatches, Math.floor(this.data.train.count / this.config.batchSize));
  }

  get done(): boolean {
    return this.diverged !== null || this.step >= this.config.steps;
  }

  /** One SGD step on the next mini-batch. Returns its loss; a non-finite loss stops the arm. */
  trainStep(learningRate = this.config.learningRate): number {
    const { order, start } = this.batches.next();
    const m = this.config.batchSize;
    const noise = this.noiseAt(this.step);
    const measured = this.santurkarDue(this.step + 1);
    let loss: number;
    if (this.reference) {
      fillBatch(this.data.train, order, start, m, this.x, this.yOneHot);
      const [x, y] = [tf.tensor2d(this.x, [m, INPUT_SIZE]), tf.tensor2d(this.yOneHot, [m, CLASSES])];
      if (measured) this.measureSanturkar((at) => this.network.lossAndGradients(at, x, y, { noise }), learningRate);
      this.network.observeBatchStatistics(x);
      loss = this.reference.trainStep(x, y, learningRate, this.config.momentum, noise);
      tf.dispose([x, y]);
    } else if (this.simd) {
      // The measures ask the module's gradient at chosen parameters on the step's own mini-batch, laid out once.
      this.simd.loadBatch(order, start, noise);
      if (measured) this.measureSanturkar(this.simd.gradientAt, learningRate);
      loss = this.simd.step(learningRate, this.config.momentum);
      this.network.updateRunningStatistics({ batchStatistics: this.simd.batchStatistics(), m });
    } else {
      const x = fillCompactBatch(this.data.train, this.data.trainInk, order, start, m, this.compact, this.yOneHot);
      const y = tf.tensor2d(this.yOneHot, [m, CLASSES]);
      if (measured) this.measureSanturkar((at) => this.network.lossAndGradients(at, x, y, { noise }), learningRate);
      loss = this.network.trainStep(x, y, learningRate, this.config.momentum, noise);
      y.dispose();
    }
    this.lastNoise = noise;
    this.step++;
    if (!Number.isFinite(loss)) {
      this.diverged = this.step;
    } else {
      this.lossSum += loss;
      this.lossCount++;
    }
    return loss;
  }

  /** Whether the metrics interval asks for a record now. */
  get recordDue(): boolean {
    return this.recordDueAt(this.step);
  }

  private recordDueAt(step: number): boolean {
    return step % this.config.metricsInterval === 0 || step === this.config.steps;
  }

  /** Whether the next trainStep takes Santurkar et al.'s measures, a block several steps long. */
  get measuresNextStep(): boolean {
    return this.santurkarDue(this.step + 1);
  }

  /** Whether the step that brings the arm to `step` steps takes Santurkar et al.'s measures: only where a record will carry them. */
  private santurkarDue(step: number): boolean {
    const every = this.config.santurkarInterval;
    return every > 0 && step % every === 0 && this.recordDueAt(step);
  }

  /**
   * Santurkar et al.'s measures (santurkar.ts) of the step about to be taken, at the parameters
   * before it, on its mini-batch with its noise, which `gradientAt` computes on: G from the step's
   * own gradient, G' after the update its optimizer would make (a copy of the optimizer, so the
   * velocities stay as they are), the landscape at step sizes around `learningRate`. gradientAt
   * changes nothing of the arm, and its buffers are copied before the next call reuses them.
   */
  private measureSanturkar(gradientAt: GradientAt, learningRate: number): void {
    // The measures read the parameters from the network's arrays.
    this.simd?.writeBack();
    const params = this.network.parameterValues();
    const buffers = (this.santurkarBuffers ??= this.simd?.santurkarArrays() ?? { gradient: copyAll(params), updated: copyAll(params) });
    const gradient = copyAll(gradientAt(params).gradients, buffers.gradient);
    const updated = buffers.updated;
    if (this.simd && this.config.momentum === 0) {
      // MomentumSgd's plain-SGD recipe, in the module where the arrays are.
      this.simd.plainSgdUpdate(learningRate);
    } else {
      copyAll(params, updated);
      // Where the SIMD module trains the arm, the velocities are its own.
      const optimizer = this.simd?.optimizer() ?? (this.reference?.optimizer ?? this.network.optimizer).clone();
      optimizer.update(updated, gradient, this.network.parameterShapes(), learningRate, this.config.momentum);
    }
    this.santurkar = {
      step: this.step + 1,
      ics: internalCovariateShift(gradientAt, params, gradient, updated, this.network.parameterLayout(), this.simd?.sums),
      // A SIMD arm walks in the module, where its parameters are.
      landscape: landscape(this.simd?.walkAlong(gradient) ?? walkInArrays(gradientAt, params, gradient), learningRate),
    };
  }

  /**
   * Measures the arm now: the mean training loss since the last record, test accuracy, and the
   * distribution of every hidden layer's input to the nonlinearity over the probe digits. All in
   * inference mode, so a BN layer is the fixed affine map the network would use on test digits;
   * except that a noisy BN layer's distribution gets the last step's noise (probe digit r that of
   * the step's example r mod m where it is drawn per example), since that shifted input is what its
   * nonlinearity saw in training and what the panel is there to show.
   * The layers above it are measured from its noise-free output, as inference computes them.
   */
  record(): ArmRecord {
    const loss = this.lossCount > 0 ? this.lossSum / this.lossCount : this.initialLoss();
    this.lossSum = 0;
    this.lossCount = 0;

    const santurkar = this.santurkar?.step === this.step ? this.santurkar : null;
    const { hiddenUnits, trackedUnit, activation } = this.config;
    const due = { fullTest: this.fullTestDue, inferenceGap: this.inferenceGapDue };
    const measures = this.simdRecord?.measure(due) ?? this.measureInTfjs(due);
    const layers: LayerRecord[] = measures.taps.map((probe, index) => {
      // Both reorder the probe rows: each layer's are read once.
      const noise = this.lastNoise[index];
      const layer: LayerRecord =
        this.simdStatistics?.describeLayer(probe, hiddenUnits, noise, activation, trackedUnit) ??
        describeLayer(probe, hiddenUnits, noise, activation, trackedUnit);
      if (santurkar) layer.ics = santurkar.ics[index];
      return layer;
    });
    const record: ArmRecord = { step: this.step, loss, testAccuracy: measures.liveAccuracy, fullTestAccuracy: measures.fullTestAccuracy, layers };
    if (santurkar) record.landscape = santurkar.landscape;
    if (measures.inferenceGap !== null) record.inferenceGap = measures.inferenceGap;
    return record;
  }

  /**
   * The record's passes in tfjs: Algorithm 2, the inference forward over the live test digits
   * (every test digit where due), the gap. Each layer's taps in an array of its own: only the
   * probe digits' rows cross from the backend.
   */
  private measureInTfjs(due: RecordDue): RecordMeasures {
    if (this.populationBatches.length > 0) this.network.estimatePopulationStatistics(this.populationBatches);
    const testX = this.testX!;
    const { logits, nonlinearityInputs } = this.network.forward(testX, 'inference');
    const live = Math.min(LIVE_TEST_DIGITS, this.data.test.count);
    const liveCorrect = this.countCorrect(logits, 0, live);
    const fullTestAccuracy = due.fullTest ? this.scoreRest(live, liveCorrect) : NaN;
    const { probeSize, hiddenUnits } = this.config;
    const taps = nonlinearityInputs.map((inputs, index) => {
      const probeRows = inputs.slice([0, 0], [probeSize, hiddenUnits]);
      const probe = readInto(probeRows, this.probes[index]);
      probeRows.dispose();
      return probe;
    });
    tf.dispose([logits, ...nonlinearityInputs]);
    const inferenceGap = this.gapX !== null && due.inferenceGap ? this.inferenceGap(this.gapX) : null;
    return { liveAccuracy: liveCorrect / live, fullTestAccuracy, taps, inferenceGap };
  }

  /**
   * Whether the next record scores every test digit, not only the live ones. Not at step 0: that
   * record comes before the first step, and an untrained network scores chance on any digits.
   */
  get fullTestDue(): boolean {
    return (this.step > 0 && this.step % (FULL_TEST_EVERY * this.config.metricsInterval) === 0) || this.step === this.config.steps;
  }

  /** Whether the next record measures the train vs inference gap (where the arm has batch statistics). */
  private get inferenceGapDue(): boolean {
    return this.step <= INFERENCE_GAP_DENSE_INTERVALS * this.config.metricsInterval || this.fullTestDue;
  }

  /** Correct predictions among the first `count` rows of `logits`, which are the test digits from position `from` of the test order. */
  private countCorrect(logits: tf.Tensor2D, from: number, count: number): number {
    const predicted = tf.tidy(() => logits.slice([0, 0], [count, CLASSES]).argMax(1));
    const classes = predicted.dataSync();
    predicted.dispose();
    const { labels } = this.data.test;
    const order = this.data.testOrder;
    let correct = 0;
    for (let i = 0; i < count; i++) if (classes[i] === labels[order[from + i]]) correct++;
    return correct;
  }

  /** Accuracy over every test digit, given the correct count of the first `scored`. */
  private scoreRest(scored: number, correct: number): number {
    const total = this.data.test.count;
    for (let from = scored; from < total; from += TEST_CHUNK) {
      const count = Math.min(TEST_CHUNK, total - from);
      const x = inputsOf(this.data.test, this.data.testOrder, from, count);
      const { logits, nonlinearityInputs } = this.network.forward(x, 'inference');
      correct += this.countCorrect(logits, from, count);
      tf.dispose([x, logits, ...nonlinearityInputs]);
    }
    return correct / total;
  }

  /**
   * The train vs inference gap: accuracy on the probe digits with batch statistics, in
   * mini-batches of the batch size (the whole ones: a last, smaller one would be another
   * experiment), then in inference mode with each of the two statistics inference can use.
   */
  private inferenceGap(x: tf.Tensor2D): InferenceGap {
    const modes = [
      { training: true, batchSize: this.config.batchSize },
      { training: false, statistics: 'population' as const },
      { training: false, statistics: 'moving' as const },
    ];
    const logits = this.network.logitsByMode(x, modes);
    const [trainingMode, population, movingAverage] = logits.map((l) => this.countCorrect(l, 0, l.shape[0]) / l.shape[0]);
    tf.dispose(logits);
    return { trainingMode, population, movingAverage };
  }

  /** Before any step there is no training loss yet: use the loss of the first mini-batch to come. */
  private initialLoss(): number {
    const m = this.config.batchSize;
    const peek = new BatchSequence(this.config.seed, this.data.train.count, m).next();
    const [x, y] = tensorsOf(this.data.train, peek.order, peek.start, m);
    const loss = tf.tidy(() => tf.losses.softmaxCrossEntropy(y, this.network.forward(x, 'training', this.noiseAt(0)).logits).dataSync()[0]);
    tf.dispose([x, y]);
    return loss;
  }

  dispose(): void {
    this.reference?.dispose();
    this.network.dispose();
    tf.dispose([...(this.testX ? [this.testX] : []), ...this.populationBatches, ...(this.gapX ? [this.gapX] : [])]);
  }
}

/** Both arms stepped in lockstep in one thread: the headless experiment and the tests. */
export class Experiment {
  readonly arms: [ArmTrainer, ArmTrainer];

  constructor(
    readonly config: Config,
    private readonly data: ExperimentData,
  ) {
    this.arms = [new ArmTrainer(config, 0, data), new ArmTrainer(config, 1, data)];
  }

  /** The run as runJson/runCsv take it: both arms with their records, on the digits trained and tested on. */
  run(records: readonly (readonly ArmRecord[])[], backend: string): Run {
    return {
      config: this.config,
      backend,
      trainDigits: this.data.train.count,
      testDigits: this.data.test.count,
      arms: this.arms.map((arm, i) => ({ name: ARM_NAMES[arm.arm], normalization: arm.normalization, diverged: arm.diverged, records: records[i] })),
    };
  }

  get done(): boolean {
    return this.arms.every((arm) => arm.done);
  }

  /** One step of every arm still training; then the records that fell due, per arm. */
  advance(): (ArmRecord | null)[] {
    return this.arms.map((arm) => {
      if (arm.done) return null;
      arm.trainStep();
      return arm.diverged === null && arm.recordDue ? arm.record() : null;
    });
  }

  dispose(): void {
    for (const arm of this.arms) arm.dispose();
  }
}
