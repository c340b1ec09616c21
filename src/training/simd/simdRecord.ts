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
import { type LayerParameters, PIXEL_INTENSITY } from './simdStep';

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
  inferenceGap: InferenceGap | null;
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
  private readonly offsets: Block<Int32Array>;
  private readonly pixels: Block<Int32Array>;
  private readonly values: Block<Float32Array>;
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
    let mostInk = 0;
    for (const ink of [this.testInk, data.trainInk]) {
      for (let digit = 0; digit + 1 < ink.offsets.length; digit++) mostInk = Math.max(mostInk, ink.offsets[digit + 1] - ink.offsets[digit]);
    }
    this.offsets = arena.i32(rows + 1);
    this.pixels = arena.i32(Math.max(1, rows * mostInk));
    this.values = arena.f32(Math.max(1, rows * mostInk));
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
   * `fullTest`), then the gap: everything a record measures but the distributions.
   */
  measure(fullTest: boolean): RecordMeasures {
    const { data } = this;
    if (data.populationBatches > 0) this.estimatePopulationStatistics();
    for (const layer of this.layers) if (layer.affine) for (const kind of ['population', 'moving'] as const) this.inferenceMap(layer, kind);
    const configured = { training: false, statistics: this.inferenceStatistics } as const;
    const live = Math.min(data.liveDigits, data.test.count);
    let liveCorrect = 0;
    let gapCorrect = 0;
    // The probe digits in chunks of their own, so that a chunk either measures its taps or fuses them away.
    for (let from = 0; from < live; ) {
      const count = Math.min(this.rows, (from < data.probeSize ? data.probeSize : live) - from);
      this.fillInk(data.test, this.testInk, data.testOrder, from, count);
      const correct = this.correctIn(this.pass(null, from, count, configured, from < data.probeSize ? from : -1), data.testOrder, from, count);
      liveCorrect += correct.total;
      gapCorrect += correct.below(data.gapDigits - from);
      from += count;
    }
    let fullTestAccuracy = NaN;
    if (fullTest) {
      let correct = liveCorrect;
      for (let from = live; from < data.test.count; from += this.rows) {
        const count = Math.min(this.rows, data.test.count - from);
        this.fillInk(data.test, this.testInk, data.testOrder, from, count);
        correct += this.correctIn(this.pass(null, from, count, configured, -1), data.testOrder, from, count).total;
      }
      fullTestAccuracy = correct / data.test.count;
    }
    let inferenceGap: InferenceGap | null = null;
    if (data.gapDigits > 0) {
      const digits = data.gapDigits;
      const score = (mode: PassMode, rows: number) => {
        let correct = 0;
        for (let from = 0; from < digits; from += rows)
          correct += this.correctIn(this.pass(this.gapProduct, from, rows, mode, -1), data.testOrder, from, rows).total;
        return correct / digits;
      };
      const other = configured.statistics === 'population' ? 'moving' : 'population';
      const measured = { [configured.statistics]: gapCorrect / digits, [other]: score({ training: false, statistics: other }, this.m) } as Record<
        InferenceStatistics,
        number
      >;
      inferenceGap = { trainingMode: score({ training: true }, this.m), population: measured.population, movingAverage: measured.moving };
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
    const lastBatchNorm = this.layers.findLastIndex((layer) => layer.statistics !== null);
    for (let b = 0; b < data.populationBatches; b++) {
      this.fillInk(data.train, data.trainInk, data.populationOrder, b * m, m);
      this.pass(null, 0, m, { training: true }, -1, (l) => {
        const sum = sums[l];
        if (sum === null) return l === lastBatchNorm;
        const { units } = this.layers[l];
        const values = (m / this.layers[l].groupRows) * units;
        const [mean, variance] = [this.mean.view, this.variance.view];
        for (let at = 0; at < values; at++) {
          sum.mean[at % units] += mean[at];
          sum.variance[at % units] += variance[at];
        }
        return l === lastBatchNorm;
      });
    }
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
   * One forward pass over `count` examples: from the ink in the ink buffers, or from the first
   * layer's product at `product` (row `from` on); returns the logits, or nothing where `stopAfter`
   * (called after each hidden layer) says the layers above are not needed. `tapRow`, unless
   * negative, is the probe row of the first example: each layer's input to the nonlinearity goes
   * into its tap there.
   */
  private pass(
    product: Block<Float32Array> | null,
    from: number,
    count: number,
    mode: PassMode,
    tapRow: number,
    stopAfter?: (layer: number) => boolean,
  ): Float32Array {
    const k = this.kernels;
    let input = 0;
    for (const [l, layer] of this.layers.entries()) {
      const { units } = layer;
      const out = this.outputs[l % 2].ptr;
      const tap = tapRow >= 0 ? layer.tap.ptr + tapRow * units * 4 : 0;
      // Where the layer's product goes: the gap reads the first layer's from its own array.
      let wx = this.wx.ptr;
      if (l === 0 && product !== null) wx = product.ptr + from * units * 4;
      else if (l === 0) {
        k.sparseForward(
          this.offsets.ptr,
          this.pixels.ptr,
          this.values.ptr,
          layer.weights.ptr,
          layer.bias?.ptr ?? 0,
          wx,
          count,
          units,
          ACTIVATION_CODE.identity,
        );
        const gap = this.gapProduct;
        if (gap !== null && tapRow >= 0 && from < gap.length / units) {
          const rows = Math.min(count, gap.length / units - from);
          gap.view.set(this.wx.view.subarray(0, rows * units), from * units);
        }
      } else k.denseForward(input, layer.weights.ptr, layer.bias?.ptr ?? 0, wx, count, layer.fanIn, units, ACTIVATION_CODE.identity);
      // The layer's input has gone into its product: its buffer is free for the layer's scratch.
      this.normalize(layer, wx, out, this.outputs[(l + 1) % 2].ptr, count, mode, tap);
      input = out;
      if (stopAfter?.(l)) return this.logits.view;
    }
    const top = this.layers[this.layers.length - 1];
    const { output } = this;
    k.denseForward(input, output.weights.ptr, output.bias!.ptr, this.logits.ptr, count, top.units, output.units, ACTIVATION_CODE.identity);
    return this.logits.view.subarray(0, count * output.units);
  }

  /**
   * From the layer's product wx (Wx, + b where it has a bias) to what the next layer reads, at
   * `out`; the input to the nonlinearity into `tap` where it is not 0. `spare` is free room.
   */
  private normalize(layer: RecordLayer, wx: number, out: number, spare: number, count: number, mode: PassMode, tap: number): void {
    const { kernels: k, activation, epsilon } = this;
    const { units } = layer;
    const identity = ACTIVATION_CODE.identity;
    // The nonlinearity on its own pass where its input is measured, else fused into the kernel before it.
    const activate = (u: number) => {
      if (tap !== 0) k.activationForward(u, out, count * units, activation);
    };
    const target = tap !== 0 ? tap : out;
    const code = tap !== 0 ? identity : activation;
    switch (layer.placement) {
      case 'none':
        if (tap !== 0) this.copy(wx, tap, count * units);
        k.activationForward(wx, out, count * units, activation);
        return;
      case 'layerNorm':
        k.layerNormForward(wx, layer.gamma!.ptr, layer.beta!.ptr, this.xhat.ptr, target, this.inverseStd.ptr, count, units, epsilon, code);
        activate(target);
        return;
      case 'before':
        if (mode.training) this.batchNorm(layer, wx, out, count, activation);
        else {
          const { scale, shift } = layer.affine![mode.statistics];
          k.noiseForward(wx, scale.ptr, shift.ptr, target, count, units, code);
          activate(target);
        }
        return;
      case 'after': {
        if (tap !== 0) this.copy(wx, tap, count * units);
        // The nonlinearity's output, then BN of it.
        k.activationForward(wx, spare, count * units, activation);
        if (mode.training) this.batchNorm(layer, spare, out, count, identity);
        else {
          const { scale, shift } = layer.affine![mode.statistics];
          k.noiseForward(spare, scale.ptr, shift.ptr, out, count, units, identity);
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

  /** The ink of digits order[from .. from + count - 1] of `split` into the ink buffers, as the step fills its mini-batch. */
  private fillInk(split: MnistData, ink: InkIndex, order: ArrayLike<number>, from: number, count: number): void {
    const pixelsPerDigit = split.rows * split.cols;
    const [offsets, pixels, values] = [this.offsets.view, this.pixels.view, this.values.view];
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
}
