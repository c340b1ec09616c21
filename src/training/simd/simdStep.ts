/**
 * The training step in WebAssembly SIMD: forward, backward and update of the network's layers run
 * in the kernels (kernels.ts) on arrays laid out once in the module's memory, which owns the
 * parameters, their gradients and the optimizer's velocities, and the training digits' ink. JS
 * only hands it the mini-batch's digit indices and calls one kernel after another.
 *
 * The Network (network.ts) keeps its own copy of the parameters, which every record and the tfjs
 * passes read: writeBack copies the module's into it whenever those are about to read it (not
 * every step: a copy of every parameter is a share of a step), and the batch statistics go to its
 * running-statistics update, so the network measures exactly what the steps trained.
 *
 * It covers every normalization of the schema (COVERED); simdCoverage names any it does not, and
 * the trainer then uses the tfjs path and says so.
 */
import type { Normalization } from '../../config/schema';
import type { InkIndex, MnistData } from '../data';
import { layerSizes, type NetworkSpec, type Parameter } from '../network';
import { groupSize } from '../ops/batchNorm';
import type { LayerNoise } from '../noise';
import { MomentumSgd } from '../optimizer';
import type { GradientAt, GradientWalk, ParameterSums } from '../santurkar';
import type { BatchStatistics } from '../ops/op';
import { ACTIVATION_CODE, Arena, type Block, type Kernels, kernelsUnavailable } from './kernels';

/**
 * Whether this step computes a normalization as its ops do. A new normalization gets an entry
 * (the compiler asks for it) that stays false until the kernels compute it: until then an arm
 * that uses it trains on the tfjs path and the page says so.
 */
const COVERED: Record<Normalization, boolean> = {
  none: true,
  batchnorm: true,
  noisy: true,
  layernorm: true,
  'batchnorm-after': true,
  'ghost-batchnorm': true,
  'noisy-shared': true,
};

const NORMALIZATION_NAMES: Record<Normalization, string> = {
  none: 'no normalization',
  batchnorm: 'BN',
  noisy: 'noisy BN',
  layernorm: 'LayerNorm',
  'batchnorm-after': 'BN after the nonlinearity',
  'ghost-batchnorm': 'ghost BN',
  'noisy-shared': 'noisy BN of one map per step',
};

/** Why the SIMD step cannot train this network (a sentence the page can show), or null where it can. */
export function simdCoverage(spec: NetworkSpec): string | null {
  const unavailable = kernelsUnavailable();
  if (unavailable !== null) return `${unavailable}: training with the hand-written tfjs step instead`;
  const missing = [...new Set(spec.normalization.filter((n) => COVERED[n] !== true))];
  if (missing.length > 0) {
    return `the WebAssembly SIMD step does not cover ${missing.map((n) => NORMALIZATION_NAMES[n] ?? n).join(' or ')} yet: training with the hand-written tfjs step instead`;
  }
  return null;
}

/** Where a parameter lies for one pass: the module's own block or its copy elsewhere. */
type Place = (block: Block<Float32Array>) => number;

/** byte / 255 as float32, as the data's mini-batches scale a pixel. */
export const PIXEL_INTENSITY = Float32Array.from({ length: 256 }, (_, byte) => byte / 255);

/** Where one layer's parameters lie in the module's memory (bias, gamma, beta null where the layer has none). */
export interface LayerParameters {
  fanIn: number;
  units: number;
  weights: Block<Float32Array>;
  bias: Block<Float32Array> | null;
  gamma: Block<Float32Array> | null;
  beta: Block<Float32Array> | null;
}

interface HiddenLayer extends LayerParameters {
  /** The nonlinearity's output g(u). */
  z: Block<Float32Array>;
  /** What the next layer reads: z, or BN's output after the nonlinearity. */
  out: Block<Float32Array>;
  /** Wx before the normalization (one before the nonlinearity). */
  wx: Block<Float32Array> | null;
  xhat: Block<Float32Array> | null;
  /** BN's statistics per group of examples (ghost BN: m / V groups, else 1), per unit. */
  mean: Block<Float32Array> | null;
  variance: Block<Float32Array> | null;
  /** Per group and unit for BN, per example for LayerNorm. */
  inverseStd: Block<Float32Array> | null;
  /** Noisy BN: BN's output before the noise, and this step's noise. */
  beforeNoise: Block<Float32Array> | null;
  noiseScale: Block<Float32Array> | null;
  noiseShift: Block<Float32Array> | null;
  /** Whether this step's noise has a shift per example (noisy) rather than per unit (noisy-shared). */
  noisePerExample: boolean;
  groups: number;
  /** dLoss/d(out), written by the layer above. */
  dOut: Block<Float32Array>;
  /** dLoss/dz (BN after the nonlinearity). */
  dz: Block<Float32Array> | null;
  /** The mean of the groups' statistics (ghost BN), as the op hands it to the moving averages. */
  meanStatistics: BatchStatistics | null;
}

export class SimdStep {
  private readonly kernels: Kernels;
  private readonly m: number;
  private readonly activation: number;
  private readonly layers: HiddenLayer[];
  private readonly output: { weights: Block<Float32Array>; bias: Block<Float32Array>; logits: Block<Float32Array>; dLogits: Block<Float32Array> };
  /** Parameter k of the network lives in params[k], its gradient in gradients[k], its velocity in velocities[k]; the three regions run parallel. */
  private readonly params: Block<Float32Array>[];
  private readonly gradients: Block<Float32Array>[];
  private readonly velocities: Block<Float32Array>[];
  /** Parameters at a point other than the module's own (what gradientAt is asked at), laid out as params; backpropagate reads a parameter from either. */
  private readonly elsewhere: Block<Float32Array>[];
  /** Where each parameter of the module's own point lies: what a step reads. */
  private readonly own: number[];
  /** The gradient at the module's parameters that walkAlong walks along, laid out as params. */
  private readonly walkGradient: Block<Float32Array>[];
  private readonly labels: Block<Int32Array>;
  /** The mini-batch's digit indices, which gatherBatch reads. */
  private readonly digits: Block<Int32Array>;
  /** Every training digit's ink (packInk), where it starts per digit, and its label. */
  private readonly digitOffsets: Block<Int32Array>;
  private readonly ink: Block<Int32Array>;
  private readonly digitLabels: Block<Int32Array>;
  private readonly intensity: Block<Float32Array>;
  /** The mini-batch's ink, per example: offsets [m + 1] into pixels and values. */
  private readonly offsets: Block<Int32Array>;
  private readonly pixels: Block<Int32Array>;
  private readonly values: Block<Float32Array>;
  /** The same regrouped by pixel: pixelList [pixels in use], pixelOffsets into exampleRows (each example's row offset in the first layer's gradient) and pixelValues. */
  private readonly pixelList: Block<Int32Array>;
  private readonly pixelOffsets: Block<Int32Array>;
  private readonly exampleRows: Block<Int32Array>;
  private readonly pixelValues: Block<Float32Array>;
  /** One zeroed counter per pixel, regroupByPixel's scratch. */
  private readonly pixelCounts: Block<Int32Array>;
  private pixelsInUse = 0;
  /** Whether loadBatch has laid out a mini-batch yet. */
  private batchLoaded = false;
  /** Whether the network's arrays hold the module's parameters (writeBack since the last step). */
  private writtenBack = true;
  /** The gradients' views, as gradientAt returns them. */
  private readonly gradientViews: Float32Array[];

  /**
   * Trains `parameters` (a Network's, in its parameters() order) of the network `spec` describes,
   * on mini-batches of `batchSize` digits of `train` located by `ink`. `reserve`, where given,
   * lays out more arrays in the module's memory (a record's), told where every layer's
   * parameters lie (hidden layers, then the output layer).
   */
  constructor(
    private readonly spec: NetworkSpec,
    private readonly parameters: readonly Parameter[],
    batchSize: number,
    private readonly train: MnistData,
    ink: InkIndex,
    reserve?: (arena: Arena, layers: LayerParameters[]) => void,
  ) {
    const reason = simdCoverage(spec);
    if (reason !== null) throw new Error(reason);
    const m = (this.m = batchSize);
    this.activation = ACTIVATION_CODE[spec.activation];
    const arena = new Arena();
    this.kernels = arena.kernels;
    this.params = parameters.map((p) => arena.f32(p.values.length));
    this.gradients = parameters.map((p) => arena.f32(p.values.length));
    this.velocities = parameters.map((p) => arena.f32(p.values.length));
    this.elsewhere = parameters.map((p) => arena.f32(p.values.length));
    this.own = this.params.map((p) => p.ptr);
    this.walkGradient = parameters.map((p) => arena.f32(p.values.length));

    const sizes = layerSizes(spec);
    let next = 0;
    const take = (suffix: string, shape: readonly number[]): Block<Float32Array> => {
      const p = parameters[next];
      if (!p?.name.endsWith(`/${suffix}`) || p.shape.join('x') !== shape.join('x')) {
        throw new Error(
          `SimdStep: expected parameter ${next} to be ${suffix} [${shape.join(' x ')}], found ${p ? `${p.name} [${p.shape.join(' x ')}]` : 'none'}`,
        );
      }
      return this.params[next++];
    };
    this.layers = spec.normalization.map((kind, l) => {
      const [fanIn, units] = [sizes[l], sizes[l + 1]];
      const noisy = kind === 'noisy' || kind === 'noisy-shared';
      const layerNorm = kind === 'layernorm';
      const before = kind === 'batchnorm' || kind === 'ghost-batchnorm' || noisy || layerNorm;
      const normalized = before || kind === 'batchnorm-after';
      const batchNorm = normalized && !layerNorm;
      const groups = kind === 'ghost-batchnorm' ? m / groupSize(m, spec.ghostBatchSize ?? 0) : 1;
      const weights = take('weights', [fanIn, units]);
      const bias = before ? null : take('bias', [units]);
      const gamma = normalized ? take('gamma', [units]) : null;
      const beta = normalized ? take('beta', [units]) : null;
      const z = arena.f32(m * units);
      const statistics = () => (batchNorm ? arena.f32(groups * units) : null);
      return {
        fanIn,
        units,
        weights,
        bias,
        gamma,
        beta,
        z,
        out: kind === 'batchnorm-after' ? arena.f32(m * units) : z,
        wx: before ? arena.f32(m * units) : null,
        xhat: normalized ? arena.f32(m * units) : null,
        mean: statistics(),
        variance: statistics(),
        inverseStd: layerNorm ? arena.f32(m) : statistics(),
        beforeNoise: noisy ? arena.f32(m * units) : null,
        noiseScale: noisy ? arena.f32(units) : null,
        // Per example and unit (noisy) or per unit (noisy-shared): room for the larger.
        noiseShift: noisy ? arena.f32(m * units) : null,
        noisePerExample: false,
        groups,
        dOut: arena.f32(m * units),
        dz: kind === 'batchnorm-after' ? arena.f32(m * units) : null,
        meanStatistics: groups > 1 ? { mean: new Float32Array(units), variance: new Float32Array(units) } : null,
      };
    });
    const last = sizes.length - 2;
    this.output = {
      weights: take('weights', [sizes[last], sizes[last + 1]]),
      bias: take('bias', [sizes[last + 1]]),
      logits: arena.f32(m * spec.outputSize),
      dLogits: arena.f32(m * spec.outputSize),
    };
    if (next !== parameters.length) throw new Error(`SimdStep: the network has ${parameters.length} parameters, the layers take ${next}`);

    const pixelsPerDigit = train.rows * train.cols;
    let mostInk = 0;
    for (let digit = 0; digit < train.count; digit++) mostInk = Math.max(mostInk, ink.offsets[digit + 1] - ink.offsets[digit]);
    const entries = Math.max(1, m * mostInk);
    const capacity = packedInkCapacity(train, ink);
    this.labels = arena.i32(m);
    this.digits = arena.i32(m);
    this.digitOffsets = arena.i32(train.count + 1);
    // Two uint16 entries to an int32.
    this.ink = arena.i32(Math.ceil(capacity / 2));
    this.digitLabels = arena.i32(train.count);
    this.intensity = arena.f32(256);
    this.offsets = arena.i32(m + 1);
    this.pixels = arena.i32(entries);
    this.values = arena.f32(entries);
    this.pixelList = arena.i32(pixelsPerDigit);
    this.pixelOffsets = arena.i32(pixelsPerDigit + 1);
    this.exampleRows = arena.i32(entries);
    this.pixelValues = arena.f32(entries);
    this.pixelCounts = arena.i32(pixelsPerDigit);
    const { weights, bias } = this.output;
    reserve?.(arena, [...this.layers, { fanIn: sizes[last], units: sizes[last + 1], weights, bias, gamma: null, beta: null }]);
    arena.commit();
    packInk(train, ink, this.digitOffsets.view, new Uint16Array(this.kernels.memory.buffer, this.ink.ptr, capacity));
    this.digitLabels.view.set(train.labels);
    this.intensity.view.set(PIXEL_INTENSITY);
    parameters.forEach((p, k) => this.params[k].view.set(p.values));
    this.gradientViews = this.gradients.map((g) => g.view);
  }

  /**
   * One step of SGD with classical momentum (0: plain SGD) on the mini-batch
   * order[start .. start + batchSize - 1], on the module's parameters (writeBack copies them out).
   * `noise` is this step's noise per hidden layer (drawNoise), required for noisy BN layers.
   * Returns the batch's mean cross-entropy before the update (NaN or Infinity once it diverges).
   */
  trainStep(order: ArrayLike<number>, start: number, learningRate: number, momentum: number, noise: readonly (LayerNoise | null)[] = []): number {
    this.loadBatch(order, start, noise);
    return this.step(learningRate, momentum);
  }

  /**
   * Lays the mini-batch order[start .. start + batchSize - 1] and this step's noise (as trainStep
   * takes them) out in the module, for `gradientAt` and `step`: once per step, however many
   * gradients the step's measures ask of it.
   */
  loadBatch(order: ArrayLike<number>, start: number, noise: readonly (LayerNoise | null)[] = []): void {
    const { m, layers } = this;
    layers.forEach((layer, l) => {
      if (layer.noiseScale === null) return;
      const drawn = noise[l];
      if (!drawn) throw new Error(`hidden layer ${l + 1} is noisy BN: a training step needs its noise`);
      // Noise per example shifts only (scale 1, which y * 1 + shift computes exactly as y + shift).
      if (drawn.scale === null) layer.noiseScale.view.fill(1);
      else layer.noiseScale.view.set(drawn.scale);
      layer.noiseShift!.view.set(drawn.shift);
      layer.noisePerExample = drawn.shift.length === m * layer.units;
    });
    this.fillBatch(order, start);
    this.batchLoaded = true;
  }

  /** trainStep's step on the mini-batch loadBatch laid out last. */
  step(learningRate: number, momentum: number): number {
    const k = this.kernels;
    // Plain SGD folds the learning rate into dLoss/dlogits, so every gradient is its own update.
    const plain = momentum === 0;
    const loss = this.backpropagate(plain ? learningRate : 1, plain);
    this.writtenBack = false;
    if (plain) {
      // The weight matrices were updated in their gradient kernels.
      this.params.forEach((p, i) => {
        if (this.parameters[i].shape.length === 1) k.subtract(p.ptr, this.gradients[i].ptr, p.length);
      });
    } else {
      const first = this.params[0];
      const total = (this.gradients[0].ptr - first.ptr) / 4;
      k.momentumUpdate(first.ptr, this.gradients[0].ptr, this.velocities[0].ptr, total, Math.fround(momentum), Math.fround(learningRate));
    }
    return loss;
  }

  /**
   * The loss and every parameter's gradient at `params` (parameters() order and sizes) on the
   * mini-batch and noise loadBatch laid out last, as the network's lossAndGradients computes them
   * (santurkar.ts's GradientAt). Nothing of the module changes: its parameters are not written, its
   * velocities are not read, and the batch statistics the trainer hands to the moving averages
   * are those of the step, which computes them again. The gradients are the module's own
   * buffers, valid until its next gradient or step; with `only`, the backward pass stops once
   * that parameter's gradient is written (ICS asks one layer's), leaving the others stale.
   */
  readonly gradientAt: GradientAt = (params, only) => {
    if (!this.batchLoaded) throw new Error('SimdStep: a gradient needs a mini-batch (loadBatch) first');
    if (params.length !== this.params.length || params.some((p, k) => p.length !== this.params[k].length)) {
      throw new Error('SimdStep: the parameters do not match the network (parameters() order and sizes)');
    }
    // The network's arrays, once written back, hold the module's parameters: those (ICS keeps most
    // of them) are read where the module has them, and only the others are copied, to a region of
    // their own, so that nothing has to be put back.
    this.writeBack();
    const at = params.map((p, k) => {
      if (p === this.parameters[k].values || p === this.params[k].view) return this.own[k];
      if (p !== this.elsewhere[k].view) this.elsewhere[k].view.set(p);
      return this.elsewhere[k].ptr;
    });
    const loss = this.backpropagate(1, false, at, only === undefined ? null : this.params[only]);
    return { loss, gradients: this.gradientViews };
  };

  /**
   * Santurkar et al.'s walk along -g from the module's parameters W (santurkar.ts's GradientWalk),
   * g = `gradient` (gradientAt's at W, parameters() order), on the mini-batch loadBatch laid out
   * last: each W - eta g is moved into the region of other points, its gradient computed there
   * and every sum taken in the kernels, so no parameter crosses to JS per step size; the next
   * point is moved in the loop that sums the distance from the last. Valid until the next step
   * moves W; like gradientAt it changes nothing of the module. The first layer's weights are
   * summed and moved only over the rows of the pixels in the mini-batch's ink: `gradient` being
   * gradientAt's on this mini-batch, every other row is exactly zero in it and in each gradient
   * the walk computes (no ink, no gradient), so adds nothing to any sum, and no pass reads it.
   */
  walkAlong(gradient: readonly Float32Array[]): GradientWalk {
    if (!this.batchLoaded) throw new Error('SimdStep: a walk needs a mini-batch (loadBatch) first');
    if (gradient.length !== this.params.length || gradient.some((g, k) => g.length !== this.params[k].length)) {
      throw new Error('SimdStep: the gradient does not match the network (parameters() order and sizes)');
    }
    const k = this.kernels;
    this.walkGradient.forEach((g, i) => {
      if (gradient[i] !== g.view) g.view.set(gradient[i]);
    });
    const at = this.elsewhere.map((p) => p.ptr);
    // Each array's spans [byte offset, floats], in index order: a sum goes on from one to the next.
    const spans = this.params.map((p): [number, number][] => (p === this.layers[0].weights ? this.inkRows() : [[0, p.length]]));
    const sum = (i: number, add: (offset: number, count: number, from: number) => number) => spans[i].reduce((s, [o, n]) => add(o, n, s), 0);
    return {
      gradientSquaredNorms: this.walkGradient.map((g, i) => sum(i, (o, n, from) => k.squaredNorm(g.ptr + o, n, from))),
      along: (etas) => {
        if (etas.length > 0) {
          this.params.forEach((p, i) => {
            for (const [o, n] of spans[i]) k.moveAlong(p.ptr + o, this.walkGradient[i].ptr + o, at[i] + o, n, etas[0]);
          });
        }
        return etas.map((_, j) => {
          const loss = this.backpropagate(1, false, at);
          const next = etas[j + 1];
          const gradientChanges = this.walkGradient.map((g, i) => {
            const [there, w] = [this.gradients[i].ptr, this.params[i].ptr];
            const squared = sum(i, (o, n, from) =>
              next === undefined
                ? k.squaredDistance(g.ptr + o, there + o, n, from)
                : k.squaredDistanceAndMove(g.ptr + o, there + o, n, w + o, at[i] + o, next, from),
            );
            return Math.sqrt(squared);
          });
          return { loss, gradientChanges };
        });
      },
    };
  }

  /**
   * Arrays in the module where Santurkar et al.'s measures keep g at W (`gradient`, the one
   * walkAlong walks along) and the parameters after the step's update (`updated`, which
   * gradientAt reads where they lie): so that the sums, the update and the walk need no copy.
   * The walk overwrites `updated`.
   */
  santurkarArrays(): { gradient: Float32Array[]; updated: Float32Array[] } {
    return { gradient: this.walkGradient.map((g) => g.view), updated: this.elsewhere.map((p) => p.view) };
  }

  /** The measures' float64 sums in the kernels, over arrays in the module's memory (santurkarArrays, gradientAt's gradients). */
  readonly sums: ParameterSums = {
    squaredNorm: (a) => this.kernels.squaredNorm(this.pointerTo(a), a.length, 0),
    dot: (a, b) => this.kernels.dot(this.pointerTo(a), this.pointerTo(b), a.length),
    distance: (a, b) => Math.sqrt(this.kernels.squaredDistance(this.pointerTo(a), this.pointerTo(b), a.length, 0)),
  };

  /** The first layer's weight rows of the pixels in the loaded mini-batch's ink, as runs of consecutive rows: [byte offset, floats]. */
  private inkRows(): [number, number][] {
    const units = this.layers[0].units;
    const pixels = this.pixelList.view;
    const runs: [number, number][] = [];
    for (let i = 0; i < this.pixelsInUse; ) {
      const first = pixels[i];
      let end = first + 1;
      for (i++; i < this.pixelsInUse && pixels[i] === end; i++) end++;
      runs.push([first * units * 4, (end - first) * units]);
    }
    return runs;
  }

  /**
   * Writes into santurkarArrays().updated the parameters plain SGD would step to from the
   * module's own along santurkarArrays().gradient: W - learningRate g, each product and
   * difference rounded as float32, MomentumSgd.update's recipe for momentum 0.
   */
  plainSgdUpdate(learningRate: number): void {
    this.params.forEach((p, i) => this.kernels.plainSgdMove(p.ptr, this.walkGradient[i].ptr, this.elsewhere[i].ptr, p.length, learningRate));
  }

  private pointerTo(a: Float32Array): number {
    if (a.buffer !== this.kernels.memory.buffer) throw new Error("SimdStep: the sums read arrays in the module's memory only");
    return a.byteOffset;
  }

  /**
   * Forward and backward over the loaded mini-batch at the parameters that lie at `at` (one
   * pointer per parameter, parameters() order; the module's own by default): the mean
   * cross-entropy, with every gradient times `scale` in the gradients' region; or, where
   * `updateWeights`, each weight matrix already moved by its gradient (plain SGD, `scale` the
   * learning rate) and only the per-unit vectors' gradients written. Where `last` is a hidden
   * layer's weights, the pass ends once their gradient is written.
   */
  private backpropagate(scale: number, updateWeights: boolean, at: readonly number[] = this.own, last: Block<Float32Array> | null = null): number {
    const { kernels: k, m, layers, output } = this;
    const place: Place = (block) => at[this.params.indexOf(block)];
    for (const [l, layer] of layers.entries()) this.forward(layer, l === 0 ? null : layers[l - 1], place);
    const top = layers[layers.length - 1];
    const classes = this.spec.outputSize;
    k.denseForward(top.out.ptr, place(output.weights), 0, place(output.bias), output.logits.ptr, 0, m, top.units, classes, ACTIVATION_CODE.identity);
    const loss = k.softmaxCrossEntropy(output.logits.ptr, this.labels.ptr, output.dLogits.ptr, m, classes, scale);

    const gradient = (block: Block<Float32Array>) => this.gradients[this.params.indexOf(block)];
    const inPlace = (block: Block<Float32Array>) => (updateWeights ? place(block) : 0);
    k.activationBackward(output.dLogits.ptr, output.dLogits.ptr, output.dLogits.ptr, m, classes, ACTIVATION_CODE.identity, gradient(output.bias).ptr);
    k.inputGradient(output.dLogits.ptr, place(output.weights), top.dOut.ptr, m, top.units, classes);
    k.weightGradient(top.out.ptr, output.dLogits.ptr, gradient(output.weights).ptr, inPlace(output.weights), m, top.units, classes);
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l];
      const dWx = this.backward(layer, gradient, place);
      const dWeights = gradient(layer.weights);
      const ends = layer.weights === last;
      if (l > 0) {
        const below = layers[l - 1];
        // What the layers below read, computed before weightGradient moves the weights (plain SGD).
        if (!ends) k.inputGradient(dWx, place(layer.weights), below.dOut.ptr, m, layer.fanIn, layer.units);
        k.weightGradient(below.out.ptr, dWx, dWeights.ptr, inPlace(layer.weights), m, layer.fanIn, layer.units);
        if (ends) break;
      } else {
        // A whole gradient (momentum moves every row) has zero rows for the pixels blank in this mini-batch.
        if (!updateWeights) dWeights.view.fill(0);
        k.sparseWeightGradient(
          this.pixelList.ptr,
          this.pixelOffsets.ptr,
          this.exampleRows.ptr,
          this.pixelValues.ptr,
          dWx,
          dWeights.ptr,
          inPlace(layer.weights),
          this.pixelsInUse,
          layer.units,
        );
      }
    }
    return loss;
  }

  /** Copies the parameters as this module trained them into the network's arrays: before anything reads the network (a record, Santurkar et al.'s measures). */
  writeBack(): void {
    if (this.writtenBack) return;
    this.parameters.forEach((p, i) => p.values.set(this.params[i].view));
    this.writtenBack = true;
  }

  /** The optimizer's state as this module holds it, in a MomentumSgd of copies: what a step would do next, asked without taking it. */
  optimizer(): MomentumSgd {
    return MomentumSgd.withVelocities(this.velocities.map((v) => v.view));
  }

  /** The statistics each BN layer normalized with in the last step, in layer order: what the network's moving averages move toward. */
  batchStatistics(): BatchStatistics[] {
    return this.layers.flatMap((layer): BatchStatistics[] => {
      if (layer.mean === null || layer.variance === null) return [];
      if (layer.meanStatistics === null) return [{ mean: layer.mean.view, variance: layer.variance.view }];
      const { mean, variance } = layer.meanStatistics;
      const units = layer.units;
      mean.fill(0);
      variance.fill(0);
      for (let g = 0; g < layer.groups; g++) {
        for (let j = 0; j < units; j++) {
          mean[j] += layer.mean.view[g * units + j] / layer.groups;
          variance[j] += layer.variance.view[g * units + j] / layer.groups;
        }
      }
      return [layer.meanStatistics];
    });
  }

  private forward(layer: HiddenLayer, below: HiddenLayer | null, place: Place): void {
    const { kernels: k, m, activation } = this;
    const { units } = layer;
    const bias = layer.bias === null ? 0 : place(layer.bias);
    const [weights, gamma, beta] = [place(layer.weights), layer.gamma && place(layer.gamma), layer.beta && place(layer.beta)];
    const before = layer.wx !== null;
    const target = before ? layer.wx!.ptr : layer.z.ptr;
    const g = before ? ACTIVATION_CODE.identity : activation;
    if (below === null) k.sparseForward(this.offsets.ptr, this.pixels.ptr, this.values.ptr, weights, 0, bias, target, 0, m, units, g);
    else k.denseForward(below.out.ptr, weights, 0, bias, target, 0, m, layer.fanIn, units, g);
    if (layer.xhat === null) return;
    if (layer.mean === null) {
      k.layerNormForward(target, gamma!, beta!, layer.xhat.ptr, layer.z.ptr, layer.inverseStd!.ptr, m, units, this.spec.epsilon, activation);
      return;
    }
    const rows = m / layer.groups;
    const noisy = layer.beforeNoise !== null;
    // BN before the nonlinearity applies it in the same kernel, unless the noise comes between them.
    const [input, out, code] = before
      ? [layer.wx!, noisy ? layer.beforeNoise! : layer.z, noisy ? ACTIVATION_CODE.identity : activation]
      : [layer.z, layer.out, ACTIVATION_CODE.identity];
    for (let group = 0; group < layer.groups; group++) {
      const at = group * rows * units * 4;
      const stat = group * units * 4;
      k.batchNormForward(
        input.ptr + at,
        gamma!,
        beta!,
        layer.xhat.ptr + at,
        out.ptr + at,
        layer.mean.ptr + stat,
        layer.variance!.ptr + stat,
        layer.inverseStd!.ptr + stat,
        rows,
        units,
        this.spec.epsilon,
        code,
      );
    }
    if (noisy && layer.noisePerExample) {
      // The kernel reads one shift per unit: each example is a one-row call with its own.
      for (let row = 0, at = 0; row < m; row++, at += units * 4) {
        k.noiseForward(layer.beforeNoise!.ptr + at, layer.noiseScale!.ptr, layer.noiseShift!.ptr + at, layer.z.ptr + at, 1, units, activation);
      }
    } else if (noisy) k.noiseForward(layer.beforeNoise!.ptr, layer.noiseScale!.ptr, layer.noiseShift!.ptr, layer.z.ptr, m, units, activation);
  }

  /** From dLoss/d(out) to dLoss/d(Wx (+ b)), writing the layer's bias, gamma and beta gradients; returns where dLoss/d(Wx) is. */
  private backward(layer: HiddenLayer, gradient: (block: Block<Float32Array>) => Block<Float32Array>, place: Place): number {
    const { kernels: k, m, activation } = this;
    const { units } = layer;
    const dOut = layer.dOut.ptr;
    if (layer.xhat === null) {
      k.activationBackward(dOut, layer.z.ptr, dOut, m, units, activation, gradient(layer.bias!).ptr);
      return dOut;
    }
    const [dGamma, dBeta] = [gradient(layer.gamma!).ptr, gradient(layer.beta!).ptr];
    if (layer.mean === null) {
      k.layerNormBackward(dOut, layer.z.ptr, layer.xhat.ptr, place(layer.gamma!), layer.inverseStd!.ptr, dOut, dGamma, dBeta, m, units, activation);
      return dOut;
    }
    const after = layer.dz !== null;
    const noisy = layer.noiseScale !== null;
    if (noisy) k.noiseBackward(dOut, layer.z.ptr, layer.noiseScale!.ptr, dOut, m, units, activation);
    const rows = m / layer.groups;
    // What BN's own backward pass reads its output from, and the derivative it applies.
    const [out, dx, code] = after || noisy ? [layer.out, after ? layer.dz!.ptr : dOut, ACTIVATION_CODE.identity] : [layer.z, dOut, activation];
    for (let group = 0; group < layer.groups; group++) {
      const at = group * rows * units * 4;
      k.batchNormBackward(
        dOut + at,
        out.ptr + at,
        layer.xhat.ptr + at,
        place(layer.gamma!),
        layer.inverseStd!.ptr + group * units * 4,
        dx + at,
        dGamma,
        dBeta,
        rows,
        units,
        code,
        group > 0 ? 1 : 0,
      );
    }
    if (!after) return dOut;
    k.activationBackward(dx, layer.z.ptr, dx, m, units, activation, gradient(layer.bias!).ptr);
    return dx;
  }

  /** Each example's ink and label, then the same ink regrouped by pixel, all in the kernels. */
  private fillBatch(order: ArrayLike<number>, start: number): void {
    const { m, train } = this;
    if (start < 0 || start + m > order.length) throw new RangeError(`SimdStep: examples ${start}..${start + m - 1} lie outside the ${order.length} indices`);
    const digits = this.digits.view;
    for (let i = 0; i < m; i++) {
      const digit = order[start + i];
      if (!(Number.isInteger(digit) && digit >= 0 && digit < train.count))
        throw new RangeError(`SimdStep: index ${digit} at position ${start + i} is not a training digit (${train.count})`);
      digits[i] = digit;
    }
    this.kernels.gatherBatch(
      this.digits.ptr,
      m,
      this.digitOffsets.ptr,
      this.ink.ptr,
      this.intensity.ptr,
      this.digitLabels.ptr,
      this.offsets.ptr,
      this.pixels.ptr,
      this.values.ptr,
      this.labels.ptr,
    );
    const pixelsPerDigit = train.rows * train.cols;
    this.pixelsInUse = this.kernels.regroupByPixel(
      this.offsets.ptr,
      this.pixels.ptr,
      this.values.ptr,
      m,
      this.layers[0].units,
      pixelsPerDigit,
      this.pixelCounts.ptr,
      this.pixelList.ptr,
      this.pixelOffsets.ptr,
      this.exampleRows.ptr,
      this.pixelValues.ptr,
    );
  }
}

/** The widest step from one ink pixel to the next that one entry of packInk holds. */
const WIDEST_STEP = 255;

/** The most entries packInk can write: each ink pixel, and the steps over the widest gaps a digit can have. */
export function packedInkCapacity(train: MnistData, ink: InkIndex): number {
  return ink.pixels.length + train.count * Math.floor((train.rows * train.cols - 1) / WIDEST_STEP);
}

/**
 * Every training digit's ink as gatherBatch reads it, written into `entries` (packedInkCapacity
 * long): per entry (uint16) the step from the previous ink pixel of the digit (from pixel 0) in
 * the high byte and the pixel's byte in the low one, two bytes an ink pixel where the index and
 * the pixels take three; a wider gap takes extra entries of byte 0 (no ink) that only step.
 * offsets[d] (count + 1) is where digit d's entries start. Returns how many entries it wrote.
 */
export function packInk(train: MnistData, ink: InkIndex, offsets: Uint32Array | Int32Array, entries: Uint16Array): number {
  const pixelsPerDigit = train.rows * train.cols;
  let e = 0;
  for (let digit = 0; digit < train.count; digit++) {
    offsets[digit] = e;
    const base = digit * pixelsPerDigit;
    let previous = 0;
    for (let at = ink.offsets[digit]; at < ink.offsets[digit + 1]; at++) {
      const pixel = ink.pixels[at];
      let step = pixel - previous;
      for (; step > WIDEST_STEP; step -= WIDEST_STEP) entries[e++] = WIDEST_STEP << 8;
      entries[e++] = (step << 8) | train.pixels[base + pixel];
      previous = pixel;
    }
  }
  offsets[train.count] = e;
  return e;
}
