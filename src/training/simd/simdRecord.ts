/**
 * A record's passes in WebAssembly SIMD, on the parameters the SIMD step (simdStep.ts) owns, in
 * the same module memory: Algorithm 2 over the arm's fixed population mini-batches, the inference
 * forward over the test digits (the first layer over each digit's own ink), the inputs to the
 * nonlinearity of the probe digits, and the train vs inference gap. They compute what the
 * network's tfjs passes compute (Network.estimatePopulationStatistics, forward in inference mode,
 * logitsByMode), each op as its tfjs pass does, with the kernels the training step uses.
 *
 * The statistics live where the network keeps them: the population estimate is written into each
 * BN op's own arrays, the moving averages are read from them as the trainer updates them.
 */
import type { InferenceStatistics, Normalization } from '../../config/schema';
import { indexInk, type InkIndex, type MnistData } from '../data';
import type { InferenceGap } from '../measures';
import type { NetworkSpec, PopulationStatistics } from '../network';
import { groupSize } from '../ops/batchNorm';
import { ACTIVATION_CODE, type Arena, type Block, type Kernels } from './kernels';
import { type LayerParameters, PIXEL_INTENSITY, packedInkCapacity, packInk } from './simdStep';

/** Test digits per inference pass: a pass's buffers stay in cache, and no buffer holds every test digit. */
const CHUNK = 256;

/** How a hidden layer's ops run in the kernels: what comes between its product and the next layer. */
type Placement = 'none' | 'before' | 'after' | 'layerNorm';

function placementOf(kind: Normalization): Placement {
  switch (kind) {
    case 'none':
      return 'none';
    case 'layernorm':
      return 'layerNorm';
    case 'batchnorm-after':
      return 'after';
    // Noise is a training step's only: Algorithm 2, inference and the gap's batch statistics pass values through it.
    case 'batchnorm':
    case 'ghost-batchnorm':
    case 'noisy':
    case 'noisy-shared':
      return 'before';
  }
}

interface RecordLayer extends LayerParameters {
  placement: Placement;
  /** Examples per group of a mini-batch whose statistics BN normalizes with (ghost BN: V, else m). */
  groupRows: number;
  /** The BN op's own arrays of each kind of statistics (null without BN). */
  statistics: Record<InferenceStatistics, PopulationStatistics> | null;
  /** The inference map gamma (x - mean) / sqrt(variance + epsilon) + beta as x scale + shift, per kind of statistics. */
  affine: Record<InferenceStatistics, { scale: Block<Float32Array>; shift: Block<Float32Array> }> | null;
  /** The input to the nonlinearity of the probe digits [probeSize, units]. */
  tap: Block<Float32Array>;
}

/** Digits' ink as sparseForward reads it: offsets [digits + 1] into pixels and values. */
interface Ink {
  offsets: Block<Int32Array>;
  pixels: Block<Int32Array>;
  values: Block<Float32Array>;
}

/** Where a record's inputs come from. */
export interface RecordData {
  test: MnistData;
  /** The fixed shuffled order in which the test digits are scored. */
  testOrder: ArrayLike<number>;
  train: MnistData;
  trainInk: InkIndex;
  /** A permutation of the training digits whose consecutive runs of m are Algorithm 2's mini-batches. */
  populationOrder: ArrayLike<number>;
  /** How many of those mini-batches Algorithm 2 averages (0 for a network without batch statistics). */
  populationBatches: number;
  /** Test digits resident for every record (the live ones, which include the probe digits). */
  liveDigits: number;
  probeSize: number;
  /** The probe digits in whole mini-batches, for the gap; 0 for no gap. */
  gapDigits: number;
}

/** What the record's passes measure; the taps are views into the module's memory, valid until the next measure. */
export interface RecordMeasures {
  liveAccuracy: number;
  /** NaN unless every test digit was scored. */
  fullTestAccuracy: number;
  /** Per hidden layer, the probe digits' inputs to the nonlinearity [probeSize, units], row-major. */
  taps: Float32Array[];
  /** Null where the network has no batch statistics or the record does not measure the gap. */
  inferenceGap: InferenceGap | null;
}

/** Which of a record's costlier measures it takes (ArmTrainer's fullTestDue and inferenceGapDue). */
export interface RecordDue {
  fullTest: boolean;
  inferenceGap: boolean;
}

/** The passes' mode: training normalizes with each group's statistics, inference with these. */
type PassMode = { training: true } | { training: false; statistics: InferenceStatistics };

export class SimdRecord {
  private readonly kernels: Kernels;
  private readonly layers: RecordLayer[];
  private readonly output: LayerParameters;
  private readonly m: number;
  private readonly activation: number;
  private readonly epsilon: number;
  private readonly inferenceStatistics: InferenceStatistics;
  private readonly testInk: InkIndex;
  /** Rows a pass buffer holds: a mini-batch (training mode) or a chunk of test digits. */
  private readonly rows: number;
  /** The digits every record reads, their ink laid out once: the live test digits and Algorithm 2's mini-batches. */
  private readonly liveInk: Ink;
  private readonly populationInk: Ink;
  private inkFilled = false;
  /** One chunk of the other test digits, gathered by the module from packedTest when a record scores them all. */
  private readonly chunkInk: Ink;
  /**
   * Every test digit's ink packed as gatherBatch reads it (packInk, two bytes an ink pixel), and
   * one chunk's digit indices and labels: a chunk's ink gathered in JS cost about as much as its
   * pass.
   */
  private readonly packedTest: {
    digitOffsets: Block<Int32Array>;
    ink: Block<Int32Array>;
    entries: number;
    labels: Block<Int32Array>;
    intensity: Block<Float32Array>;
    digits: Block<Int32Array>;
    chunkLabels: Block<Int32Array>;
  };
  /** A layer's output and the next one's, in turn. */
  private readonly outputs: [Block<Float32Array>, Block<Float32Array>];
  private readonly wx: Block<Float32Array>;
  private readonly xhat: Block<Float32Array>;
  /** BN's statistics per group of one mini-batch and unit; LayerNorm's 1 / sqrt(variance + epsilon) per example. */
  private readonly mean: Block<Float32Array>;
  private readonly variance: Block<Float32Array>;
  private readonly inverseStd: Block<Float32Array>;
  private readonly logits: Block<Float32Array>;
  /** The first layer's product over the gap's digits, shared by the gap's modes as logitsByMode shares it. */
  private readonly gapProduct: Block<Float32Array> | null;
  /** Whether this record's live pass keeps that product: only where it measures the gap. */
  private keepsGapProduct = false;

  /**
   * Lays out the record's arrays in the step's arena (before it commits) for the network `spec`
   * whose parameters lie at `parameters` (hidden layers, then the output layer); `statistics`
   * holds each hidden layer's BN arrays of each kind (Network.statisticsArrays), null without BN.
   */
  constructor(
    arena: Arena,
    spec: NetworkSpec,
    parameters: readonly LayerParameters[],
    statistics: readonly (Record<InferenceStatistics, PopulationStatistics> | null)[],
    batchSize: number,
    private readonly data: RecordData,
  ) {
    this.kernels = arena.kernels;
    const m = (this.m = batchSize);
    this.activation = ACTIVATION_CODE[spec.activation];
    this.epsilon = spec.epsilon;
    this.inferenceStatistics = spec.inferenceStatistics;
    if (data.probeSize > Math.min(data.liveDigits, data.test.count)) {
      throw new Error(
        `SimdRecord: ${data.probeSize} probe digits are more than the ${Math.min(data.liveDigits, data.test.count)} live test digits they are taken from`,
      );
    }
    this.testInk = indexInk(data.test);
    const rows = (this.rows = Math.max(m, CHUNK));
    const widest = Math.max(...parameters.map((p) => p.units));
    this.layers = spec.normalization.map((kind, l) => {
      const placement = placementOf(kind);
      const batchNorm = placement === 'before' || placement === 'after';
      const units = parameters[l].units;
      const stats = statistics[l];
      if (batchNorm !== (stats !== null)) throw new Error(`SimdRecord: hidden layer ${l + 1} (${kind}) ${batchNorm ? 'needs' : 'has no'} BN statistics`);
      const affine = () => ({ scale: arena.f32(units), shift: arena.f32(units) });
      const { fanIn, weights, bias, gamma, beta } = parameters[l];
      return {
        fanIn,
        units,
        weights,
        bias,
        gamma,
        beta,
        placement,
        groupRows: batchNorm && kind === 'ghost-batchnorm' ? groupSize(m, spec.ghostBatchSize ?? 0) : m,
        statistics: stats,
        affine: batchNorm ? { population: affine(), moving: affine() } : null,
        tap: arena.f32(data.probeSize * units),
      };
    });
    this.output = parameters[parameters.length - 1];
    const inkOf = (ink: InkIndex, order: ArrayLike<number>, from: number, count: number) => {
      let entries = 0;
      for (let i = from; i < from + count; i++) entries += ink.offsets[order[i] + 1] - ink.offsets[order[i]];
      return entries;
    };
    const reserveInk = (digits: number, entries: number): Ink => ({
      offsets: arena.i32(digits + 1),
      pixels: arena.i32(Math.max(1, entries)),
      values: arena.f32(Math.max(1, entries)),
    });
    const live = Math.min(data.liveDigits, data.test.count);
    this.liveInk = reserveInk(live, inkOf(this.testInk, data.testOrder, 0, live));
    const population = data.populationBatches * m;
    this.populationInk = reserveInk(population, inkOf(data.trainInk, data.populationOrder, 0, population));
    let mostInk = 0;
    for (let digit = 0; digit < data.test.count; digit++) mostInk = Math.max(mostInk, this.testInk.offsets[digit + 1] - this.testInk.offsets[digit]);
    this.chunkInk = reserveInk(rows, rows * mostInk);
    const entries = packedInkCapacity(data.test, this.testInk);
    this.packedTest = {
      digitOffsets: arena.i32(data.test.count + 1),
      // Two uint16 entries to an int32.
      ink: arena.i32(Math.ceil(entries / 2)),
      entries,
      labels: arena.i32(data.test.count),
      intensity: arena.f32(256),
      digits: arena.i32(rows),
      chunkLabels: arena.i32(rows),
    };
    this.outputs = [arena.f32(rows * widest), arena.f32(rows * widest)];
    this.wx = arena.f32(rows * widest);
    this.xhat = arena.f32(rows * widest);
    const groups = Math.max(1, ...this.layers.map((layer) => m / layer.groupRows));
    this.mean = arena.f32(groups * widest);
    this.variance = arena.f32(groups * widest);
    this.inverseStd = arena.f32(Math.max(rows, groups * widest));
    this.logits = arena.f32(rows * this.output.units);
    this.gapProduct = data.gapDigits > 0 ? arena.f32(data.gapDigits * parameters[0].units) : null;
  }

  /**
   * Algorithm 2, then the live test digits in inference mode (and every test digit where
   * `due.fullTest`), then the gap where due: everything a record measures but the distributions.
   */
  measure(due: RecordDue): RecordMeasures {
    const { data } = this;
    const gapDigits = due.inferenceGap ? data.gapDigits : 0;
    this.keepsGapProduct = gapDigits > 0;
    if (!this.inkFilled) {
      const live = Math.min(data.liveDigits, data.test.count);
      fillInk(this.liveInk, data.test, this.testInk, data.testOrder, 0, live);
      fillInk(this.populationInk, data.train, data.trainInk, data.populationOrder, 0, data.populationBatches * this.m);
      const packed = this.packedTest;
      packInk(data.test, this.testInk, packed.digitOffsets.view, new Uint16Array(this.kernels.memory.buffer, packed.ink.ptr, packed.entries));
      packed.labels.view.set(data.test.labels);
      packed.intensity.view.set(PIXEL_INTENSITY);
      this.inkFilled = true;
    }
    if (data.populationBatches > 0) this.estimatePopulationStatistics();
    for (const layer of this.layers) if (layer.affine) for (const kind of ['population', 'moving'] as const) this.inferenceMap(layer, kind);
    const configured = { training: false, statistics: this.inferenceStatistics } as const;
    const live = Math.min(data.liveDigits, data.test.count);
    let liveCorrect = 0;
    let gapCorrect = 0;
    // The probe digits in chunks of their own, so that a chunk either measures its taps or fuses them away.
    for (let from = 0; from < live; ) {
      const count = Math.min(this.rows, (from < data.probeSize ? data.probeSize : live) - from);
      const correct = this.correctIn(this.pass(this.liveInk, from, count, configured, from < data.probeSize ? from : -1), data.testOrder, from, count);
      liveCorrect += correct.total;
      gapCorrect += correct.below(gapDigits - from);
      from += count;
    }
    let fullTestAccuracy = NaN;
    if (due.fullTest) {
      let correct = liveCorrect;
      for (let from = live; from < data.test.count; from += this.rows) {
        const count = Math.min(this.rows, data.test.count - from);
        this.gatherChunk(from, count);
        correct += this.correctIn(this.pass(this.chunkInk, 0, count, configured, -1), data.testOrder, from, count).total;
      }
      fullTestAccuracy = correct / data.test.count;
    }
    let inferenceGap: InferenceGap | null = null;
    if (gapDigits > 0) {
      const digits = gapDigits;
      const score = (mode: PassMode, rows: number) => {
        let correct = 0;
        for (let from = 0; from < digits; from += rows)
          correct += this.correctIn(this.pass(this.gapProduct!, from, rows, mode, -1), data.testOrder, from, rows).total;
        return correct / digits;
      };
      // The configured statistics scored these digits in the live pass; the other ones need a pass of their own.
      const population = configured.statistics === 'population';
      const [measured, other] = [gapCorrect / digits, score({ training: false, statistics: population ? 'moving' : 'population' }, this.m)];
      inferenceGap = {
        trainingMode: score({ training: true }, this.m),
        population: population ? measured : other,
        movingAverage: population ? other : measured,
      };
    }
    return { liveAccuracy: liveCorrect / live, fullTestAccuracy, taps: this.layers.map((layer) => layer.tap.view), inferenceGap };
  }

  /**
   * Algorithm 2, steps 9-10, as each BN op's estimate computes it: every population mini-batch in
   * training mode, each group normalized with its own statistics; the population mean is the mean
   * of the groups' means, the variance V/(V-1) x the mean of their biased variances.
   */
  private estimatePopulationStatistics(): void {
    const { m, data } = this;
    const sums = this.layers.map((layer) => (layer.statistics ? { mean: new Float64Array(layer.units), variance: new Float64Array(layer.units) } : null));
    const through = this.layers.findLastIndex((layer) => layer.statistics !== null);
    const collect = (l: number) => {
      const sum = sums[l];
      if (sum === null) return;
      const { units } = this.layers[l];
      const values = (m / this.layers[l].groupRows) * units;
      const [mean, variance] = [this.mean.view, this.variance.view];
      for (let at = 0; at < values; at++) {
        sum.mean[at % units] += mean[at];
        sum.variance[at % units] += variance[at];
      }
    };
    for (let b = 0; b < data.populationBatches; b++) this.pass(this.populationInk, b * m, m, { training: true }, -1, { through, collect });
    this.layers.forEach((layer, l) => {
      const sum = sums[l];
      if (sum === null || layer.statistics === null) return;
      const groups = data.populationBatches * (m / layer.groupRows);
      const unbiased = Math.fround(layer.groupRows / (layer.groupRows - 1));
      const { mean, variance } = layer.statistics.population;
      for (let j = 0; j < layer.units; j++) {
        mean[j] = sum.mean[j] / groups;
        variance[j] = Math.fround(sum.variance[j] / groups) * unbiased;
      }
    });
  }

  /** BN in inference mode as batchNormInference computes it: scale = gamma / sqrt(variance + epsilon), shift = beta - mean scale, in float32. */
  private inferenceMap(layer: RecordLayer, kind: InferenceStatistics): void {
    const { mean, variance } = layer.statistics![kind];
    const { scale, shift } = layer.affine![kind];
    const [gamma, beta] = [layer.gamma!.view, layer.beta!.view];
    for (let j = 0; j < layer.units; j++) {
      const s = Math.fround(gamma[j] * Math.fround(1 / Math.sqrt(Math.fround(variance[j] + this.epsilon))));
      scale.view[j] = s;
      shift.view[j] = beta[j] - Math.fround(mean[j] * s);
    }
  }

  /**
   * One forward pass over `count` examples from example `from` of `source`: digits' ink, or the
   * first layer's product over them; returns the logits. `tapRow`, unless negative, is the probe
   * row of the first example: each layer's input to the nonlinearity goes into its tap there.
   * Where `statistics` is given (Algorithm 2), `collect` reads each hidden layer's batch
   * statistics and the pass ends at layer `through`, whose output nothing reads: its BN skips the
   * nonlinearity.
   */
  private pass(
    source: Ink | Block<Float32Array>,
    from: number,
    count: number,
    mode: PassMode,
    tapRow: number,
    statistics?: { through: number; collect: (layer: number) => void },
  ): Float32Array {
    const k = this.kernels;
    const ink = 'offsets' in source ? source : null;
    let input = 0;
    for (const [l, layer] of this.layers.entries()) {
      const { units, placement } = layer;
      const out = this.outputs[l % 2].ptr;
      const tap = tapRow >= 0 ? layer.tap.ptr + tapRow * units * 4 : 0;
      // The product Wx (+ b), or 0 where its kernel went on to the nonlinearity (and wrote the tap).
      let product: number;
      if (l === 0 && ink === null) product = (source as Block<Float32Array>).ptr + from * units * 4;
      else {
        const gap = this.gapProduct;
        const keepsProduct = l === 0 && this.keepsGapProduct && gap !== null && tap !== 0 && from < gap.length / units;
        // BN's inference map folds into the product's epilogue, unless the gap needs the bare Wx of these digits.
        const map = placement === 'before' && !mode.training && !keepsProduct ? layer.affine![mode.statistics] : null;
        const fused = placement === 'none' || placement === 'after' || map !== null;
        const [scale, shift] = map !== null ? [map.scale.ptr, map.shift.ptr] : [0, layer.bias?.ptr ?? 0];
        // BN after the nonlinearity normalizes g(Wx + b) from wx.
        const to = fused && placement !== 'after' ? out : this.wx.ptr;
        const [code, tapAt] = fused ? [this.activation, tap] : [ACTIVATION_CODE.identity, 0];
        if (l > 0) k.denseForward(input, layer.weights.ptr, scale, shift, to, tapAt, count, layer.fanIn, units, code);
        else k.sparseForward(ink!.offsets.ptr + from * 4, ink!.pixels.ptr, ink!.values.ptr, layer.weights.ptr, scale, shift, to, tapAt, count, units, code);
        product = fused ? 0 : to;
        // Wx + b is in the tap where the kernel went on to the nonlinearity.
        if (keepsProduct) this.copy(fused ? tap : to, gap.ptr + from * units * 4, Math.min(count, gap.length / units - from) * units);
      }
      const last = l === statistics?.through;
      this.normalize(layer, product, out, count, mode, tap, last);
      statistics?.collect(l);
      if (last) return this.logits.view;
      input = out;
    }
    const top = this.layers[this.layers.length - 1];
    const { output } = this;
    k.denseForward(input, output.weights.ptr, 0, output.bias!.ptr, this.logits.ptr, 0, count, top.units, output.units, ACTIVATION_CODE.identity);
    return this.logits.view.subarray(0, count * output.units);
  }

  /**
   * From the layer's product (Wx, + b where it has a bias; 0 where the product's kernel went on to
   * the nonlinearity, into `out`, or into wx before BN after it, and wrote the tap) to what the
   * next layer reads, at `out`; the input to the nonlinearity into `tap` where it is not 0. Where
   * `unread`, nothing reads `out`: BN before the nonlinearity leaves it out.
   */
  private normalize(layer: RecordLayer, product: number, out: number, count: number, mode: PassMode, tap: number, unread: boolean): void {
    const { kernels: k, activation, epsilon } = this;
    const { units } = layer;
    const identity = ACTIVATION_CODE.identity;
    // The nonlinearity on its own pass where its input is measured, else fused into the kernel before it.
    const target = tap !== 0 ? tap : out;
    const code = tap !== 0 ? identity : activation;
    switch (layer.placement) {
      case 'none':
        if (product !== 0) k.activationForward(product, out, count * units, activation);
        return;
      case 'layerNorm':
        k.layerNormForward(product, layer.gamma!.ptr, layer.beta!.ptr, this.xhat.ptr, target, this.inverseStd.ptr, count, units, epsilon, code);
        if (tap !== 0) k.activationForward(tap, out, count * units, activation);
        return;
      case 'before':
        if (mode.training) this.batchNorm(layer, product, out, count, unread ? identity : activation);
        else if (product !== 0) {
          const { scale, shift } = layer.affine![mode.statistics];
          k.noiseForward(product, scale.ptr, shift.ptr, target, count, units, code);
          if (tap !== 0) k.activationForward(tap, out, count * units, activation);
        }
        return;
      case 'after': {
        // The nonlinearity's output, then BN of it.
        const z = this.wx.ptr;
        if (product !== 0) k.activationForward(product, z, count * units, activation);
        if (mode.training) this.batchNorm(layer, z, out, count, identity);
        else {
          const { scale, shift } = layer.affine![mode.statistics];
          k.noiseForward(z, scale.ptr, shift.ptr, out, count, units, identity);
        }
        return;
      }
    }
  }

  /** Algorithm 1 on each group of the mini-batch at x, then g; the groups' statistics into mean and variance. */
  private batchNorm(layer: RecordLayer, x: number, out: number, count: number, activation: number): void {
    const { units, groupRows } = layer;
    for (let group = 0; group * groupRows < count; group++) {
      const at = group * groupRows * units * 4;
      const stat = group * units * 4;
      this.kernels.batchNormForward(
        x + at,
        layer.gamma!.ptr,
        layer.beta!.ptr,
        this.xhat.ptr + at,
        out + at,
        this.mean.ptr + stat,
        this.variance.ptr + stat,
        this.inverseStd.ptr + stat,
        groupRows,
        units,
        this.epsilon,
        activation,
      );
    }
  }

  /** The ink of test digits testOrder[from .. from + count - 1] into chunkInk, gathered in the module as the step gathers its mini-batch. */
  private gatherChunk(from: number, count: number): void {
    const { packedTest: packed, chunkInk: ink } = this;
    const digits = packed.digits.view;
    for (let i = 0; i < count; i++) digits[i] = this.data.testOrder[from + i];
    this.kernels.gatherBatch(
      packed.digits.ptr,
      count,
      packed.digitOffsets.ptr,
      packed.ink.ptr,
      packed.intensity.ptr,
      packed.labels.ptr,
      ink.offsets.ptr,
      ink.pixels.ptr,
      ink.values.ptr,
      packed.chunkLabels.ptr,
    );
  }

  private copy(from: number, to: number, count: number): void {
    const memory = new Float32Array(this.kernels.memory.buffer);
    memory.copyWithin(to / 4, from / 4, from / 4 + count);
  }

  /** Correct predictions of the logits of the digits order[from ..], in all and among the first n. */
  private correctIn(logits: Float32Array, order: ArrayLike<number>, from: number, count: number): { total: number; below: (n: number) => number } {
    const classes = this.output.units;
    const { labels } = this.data.test;
    const hits = new Uint8Array(count);
    let total = 0;
    for (let i = 0; i < count; i++) {
      // The first largest, as argMax picks it.
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      if (best === labels[order[from + i]]) {
        hits[i] = 1;
        total++;
      }
    }
    return {
      total,
      below: (n) => {
        let correct = 0;
        for (let i = 0; i < Math.min(n, count); i++) correct += hits[i];
        return correct;
      },
    };
  }
}

/** The ink of digits order[from .. from + count - 1] of `split` into `to`, as the step fills its mini-batch. */
function fillInk(to: Ink, split: MnistData, ink: InkIndex, order: ArrayLike<number>, from: number, count: number): void {
  const pixelsPerDigit = split.rows * split.cols;
  const [offsets, pixels, values] = [to.offsets.view, to.pixels.view, to.values.view];
  let e = 0;
  for (let i = 0; i < count; i++) {
    const digit = order[from + i];
    offsets[i] = e;
    const base = digit * pixelsPerDigit;
    for (let at = ink.offsets[digit]; at < ink.offsets[digit + 1]; at++) {
      const pixel = ink.pixels[at];
      pixels[e] = pixel;
      values[e++] = PIXEL_INTENSITY[split.pixels[base + pixel]];
    }
  }
  offsets[count] = e;
}
