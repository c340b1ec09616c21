/**
 * The fully connected network of the paper's MNIST experiment, each hidden layer a sequence of ops
 * built from the spec (ops/layers.ts): dense, its normalization, the nonlinearity. This file
 * composes them and knows none by name.
 *
 * `lossAndGradients(params, x, y, mode)` is pure: given parameters and a mini-batch it returns the
 * loss, a gradient per parameter and the measured taps, and changes nothing (not the parameters,
 * the optimizer's velocities, the running statistics, nor any random stream: noisy BN's noise is
 * an input). The SGD update (optimizer.ts) and the running-statistics update are separate calls,
 * which trainStep makes in turn. Parameters are flat Float32Arrays that another kernel could own;
 * tfjs tensors are made from them where a product runs in tfjs.
 *
 * The backward pass is written by hand rather than taken from tfjs's tape: on the wasm backend the
 * default gradients multiply with transposeA/transposeB flags, which run far slower than plain
 * matMuls, and they compute an input gradient for the first layer that nobody needs. See
 * ReferenceNetwork (reference.ts) for the same network through autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation, InferenceStatistics, Normalization } from '../config/schema';
import { readInto } from './backend';
import type { LayerNoise } from './noise';
import { Activation as ActivationOp } from './ops/activation';
import { Dense, examplesIn, type DataSignal, type TrainingInput } from './ops/dense';
import { buildLayers } from './ops/layers';
import type { BatchStatistics, Gradient, Op, Parameter, PopulationStatistics, Signal, StepContext, TensorMode } from './ops/op';
import { MomentumSgd, ParameterMemory } from './optimizer';
import { createGaussian, createRng, deriveSeed } from './rng';
import type { ParameterLayout } from './santurkar';

export type { CompactInput, TrainingInput } from './ops/dense';
export type { Parameter, PopulationStatistics } from './ops/op';
export { nonlinearity } from './ops/activation';

export interface NetworkSpec {
  inputSize: number;
  outputSize: number;
  hiddenLayers: number;
  hiddenUnits: number;
  activation: Activation;
  /** One entry per hidden layer. */
  normalization: Normalization[];
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  movingAverageDecay: number;
  /** Ghost BN layers' virtual batch size (0 or absent: the whole mini-batch). */
  ghostBatchSize?: number;
}

/** Units of each layer, input first: [inputSize, hiddenUnits x hiddenLayers, outputSize]. */
export function layerSizes(spec: NetworkSpec): number[] {
  return [spec.inputSize, ...Array.from({ length: spec.hiddenLayers }, () => spec.hiddenUnits), spec.outputSize];
}

/**
 * Initial W of every layer (hidden..., output), row-major [fanIn, fanOut], drawn in a fixed order
 * from one seeded Gaussian stream times initSigma. It ignores the normalization so that both arms
 * of an experiment start from identical weights.
 */
export function initialWeights(spec: NetworkSpec, initSigma: number, seed: number): Float32Array[] {
  const gaussian = createGaussian(createRng(deriveSeed(seed, 0)));
  const sizes = layerSizes(spec);
  return sizes.slice(1).map((fanOut, layer) => {
    const weights = new Float32Array(sizes[layer] * fanOut);
    for (let i = 0; i < weights.length; i++) weights[i] = initSigma * gaussian();
    return weights;
  });
}

/** How lossAndGradients runs the forward pass: training mode, with this step's noise per hidden layer (drawNoise). */
export interface GradientMode {
  noise: readonly (LayerNoise | null)[];
  /** Whether to return the taps; measuring them keeps the nonlinearity out of the matMul kernel, so a training step does not ask. */
  taps?: boolean;
}

/** What lossAndGradients returns. Its arrays are the network's buffers: valid until its next training-mode pass. */
export interface LossAndGradients {
  /** Mean softmax cross-entropy of the mini-batch; NaN or Infinity once training diverges. */
  loss: number;
  /** dLoss/d(parameter) times the gradient scale, in parameters() order. */
  gradients: Float32Array[];
  /** Per hidden layer, the input to the nonlinearity [m, units] (empty unless mode.taps). */
  taps: Float32Array[];
  /** Per parameter, the only rows whose gradient may be non-zero (the first layer's pixels in use), or null: the optimizer's hint. */
  rowsInUse: (Int32Array | null)[];
  /** The batch statistics each op with running statistics normalized with, in layer order: what updateRunningStatistics moves them toward. */
  batchStatistics: BatchStatistics[];
  m: number;
}

export class Network {
  readonly spec: NetworkSpec;
  /** Hidden layers, then the output layer (one dense op). */
  private readonly layers: Op[][];
  /** Every op, in order. */
  private readonly ops: Op[];
  private readonly trainable: Parameter[];
  private readonly values: Float32Array[];
  private readonly shapes: (readonly number[])[];
  readonly optimizer = new MomentumSgd();
  /** Gradient buffers, one per parameter, reused from step to step (allocation costs more than filling in a browser worker). */
  private readonly gradientBuffers: Float32Array[];
  private logits: Float32Array | null = null;
  private dLogits: Float32Array | null = null;
  private yOneHot: Float32Array | null = null;

  constructor(spec: NetworkSpec, weights: Float32Array[], name: string) {
    const sizes = layerSizes(spec);
    if (spec.normalization.length !== spec.hiddenLayers) {
      throw new Error(`normalization lists ${spec.normalization.length} layers, the network has ${spec.hiddenLayers}`);
    }
    if (weights.length !== sizes.length - 1) {
      throw new Error(`expected ${sizes.length - 1} weight matrices, got ${weights.length}`);
    }
    weights.forEach((w, layer) => {
      if (w.length !== sizes[layer] * sizes[layer + 1]) {
        throw new Error(`weights of layer ${layer} have ${w.length} values, expected ${sizes[layer]} x ${sizes[layer + 1]}`);
      }
    });
    this.spec = spec;
    this.layers = buildLayers(name, sizes, spec.normalization, weights, spec);
    this.ops = this.layers.flat();
    const initial: Parameter[] = [];
    for (const op of this.ops) {
      op.firstParameter = initial.length;
      initial.push(...op.parameters);
    }
    // Parameters and gradients side by side in one memory a kernel can work in (optimizer.ts).
    const memory = new ParameterMemory([...initial, ...initial].map((p) => p.values.length));
    this.trainable = initial.map((p) => {
      const values = memory.allocate(p.values.length);
      values.set(p.values);
      return { ...p, values };
    });
    this.values = this.trainable.map((p) => p.values);
    this.shapes = this.trainable.map((p) => p.shape);
    this.gradientBuffers = this.trainable.map((p) => memory.allocate(p.values.length));
  }

  /** Trainable parameters: per hidden layer W then b (or W, gamma, beta where a normalization replaces the bias; W, b, gamma, beta with BN after the nonlinearity), then the output W, b. Their values are the network's own: the trainer's update writes them. */
  parameters(): readonly Parameter[] {
    return this.trainable;
  }

  /** Which layer each parameter belongs to (hidden layers from 0, the output layer last) and where each hidden layer's W is: what Santurkar et al.'s ICS needs to move the layers below one. */
  parameterLayout(): ParameterLayout {
    const layerOf: number[] = [];
    this.layers.forEach((ops, layer) => ops.forEach((op) => op.parameters.forEach(() => layerOf.push(layer))));
    return { layerOf, weightsOf: this.layers.slice(0, -1).map((ops) => ops[0].firstParameter) };
  }

  /** The parameters' shapes, in parameters() order, as the optimizer takes them. */
  parameterShapes(): readonly (readonly number[])[] {
    return this.shapes;
  }

  /** The parameters' values, in parameters() order, as lossAndGradients and the optimizer take them. */
  parameterValues(): readonly Float32Array[] {
    return this.values;
  }

  /**
   * Loss, gradients (times `gradientScale`) and taps at `params` (parameters() order and sizes) on
   * mini-batch (x, yOneHot [m, outputSize]), in training mode; changes no state of the network.
   */
  lossAndGradients(params: readonly Float32Array[], x: TrainingInput, yOneHot: tf.Tensor2D, mode: GradientMode, gradientScale = 1): LossAndGradients {
    if (params.length !== this.values.length || params.some((p, i) => p.length !== this.values[i].length)) {
      throw new Error('lossAndGradients: the parameters do not match the network (parameters() order and sizes)');
    }
    let result: LossAndGradients | undefined;
    // Read inside the tidy but not returned from it: tidy walks every element of a returned array.
    tf.tidy(() => {
      const m = examplesIn(x);
      const steps = this.stepContexts(params, mode.noise, true);
      const taps: Float32Array[] = [];
      const logitsSignal = this.trainingForward(x, steps, mode.taps === true ? taps : null);
      const classes = this.spec.outputSize;
      this.logits = readInto(logitsSignal.tensor!, sizedBuffer(this.logits, m * classes));
      this.dLogits = sizedBuffer(this.dLogits, m * classes);
      this.yOneHot = readInto(yOneHot, sizedBuffer(this.yOneHot, m * classes));
      // d(mean cross-entropy)/d(logits) = (softmax - y) / m; every later gradient is linear in it.
      const loss = softmaxCrossEntropy(this.logits, this.yOneHot, classes, gradientScale, this.dLogits);
      let gradient: Gradient | null = { values: this.dLogits, transposed: false };
      for (let layer = this.layers.length - 1; layer >= 0 && gradient !== null; layer--) {
        const ops = this.layers[layer];
        for (let k = ops.length - 1; k >= 0 && gradient !== null; k--) gradient = ops[k].backward(gradient, steps[layer]);
      }
      const rowsInUse = this.trainable.map(() => null as Int32Array | null);
      for (const op of this.ops) if (op.gradientRows) op.parameters.forEach((_, k) => (rowsInUse[op.firstParameter + k] = op.gradientRows!(k)));
      result = { loss, gradients: this.gradientBuffers, taps, rowsInUse, batchStatistics: this.batchStatistics(), m };
    });
    return result!;
  }

  /**
   * One SGD step on a mini-batch (x [m, inputSize], yOneHot [m, outputSize]): the gradients, the
   * optimizer's update, then the running statistics. Returns the batch's mean cross-entropy before
   * the update; it may be NaN or Infinity once training diverges. `noise` is this step's noise per
   * hidden layer (drawNoise), required for noisy layers.
   */
  trainStep(x: TrainingInput, yOneHot: tf.Tensor2D, learningRate: number, momentum: number, noise: readonly (LayerNoise | null)[] = []): number {
    const scale = this.optimizer.gradientScale(learningRate, momentum);
    const result = this.lossAndGradients(this.values, x, yOneHot, { noise }, scale);
    this.optimizer.update(this.values, result.gradients, this.shapes, learningRate, momentum, scale, result.rowsInUse);
    this.updateRunningStatistics(result);
    return result.loss;
  }

  /** Moves each op's running statistics (the moving averages) toward the batch statistics of a lossAndGradients result. */
  updateRunningStatistics(result: Pick<LossAndGradients, 'batchStatistics' | 'm'>): void {
    const observing = this.ops.filter((op) => op.observe);
    observing.forEach((op, k) => op.observe!(result.batchStatistics[k], result.m));
  }

  /**
   * Moves the running statistics toward x's batch statistics, as trainStep does after its update:
   * for training paths that update the parameters by other means (the autodiff reference).
   */
  observeBatchStatistics(x: tf.Tensor2D): void {
    if (!this.ops.some((op) => op.observe)) return;
    // The batch statistics come before the noise: any noise gives the same ones.
    tf.tidy(() => {
      this.trainingForward(x, this.stepContexts(this.values, [], false), null);
    });
    this.updateRunningStatistics({ batchStatistics: this.batchStatistics(), m: x.shape[0] });
  }

  /** Loss and per-parameter gradients (ordered as parameters()) at the network's parameters, copied; `noise` as in trainStep. */
  gradients(x: TrainingInput, yOneHot: tf.Tensor2D, noise: readonly (LayerNoise | null)[] = []): { loss: number; gradients: Float32Array[] } {
    const { loss, gradients } = this.lossAndGradients(this.values, x, yOneHot, { noise });
    return { loss, gradients: gradients.map((g) => g.slice()) };
  }

  /**
   * Forward pass in tfjs. `training` normalizes with the batch's own statistics, `inference` with
   * the population (or moving) statistics. Returns the logits and, per hidden layer, the input to
   * the nonlinearity: Wx + b without BN (and with BN after the nonlinearity), BN(Wx) = gamma * xhat + beta with it. In training mode a
   * noisy layer adds its entry of `noise` where one is given; inference mode never adds noise. The
   * caller disposes the tensors.
   */
  forward(
    x: tf.Tensor2D,
    mode: 'training' | 'inference',
    noise: readonly (LayerNoise | null)[] = [],
  ): { logits: tf.Tensor2D; nonlinearityInputs: tf.Tensor2D[] } {
    return tf.tidy(() => {
      const nonlinearityInputs: tf.Tensor2D[] = [];
      let h = x;
      this.layers.forEach((ops, layer) => {
        const tensorMode = { training: mode === 'training', noise: noise[layer] ?? null, requireNoise: false };
        for (const op of ops) {
          if (op instanceof ActivationOp) nonlinearityInputs.push(h);
          h = op.forwardTensor(h, this.tensorsOf(op), tensorMode);
        }
      });
      return { logits: h, nonlinearityInputs };
    });
  }

  /**
   * Algorithm 2, steps 9-10, with the network frozen: each normalization op's population
   * statistics from these training mini-batches, all of one size m, kept beside the moving
   * averages (which trainStep keeps) whichever of them inference uses. Does nothing without such
   * ops, so a caller may call it for every network.
   */
  estimatePopulationStatistics(batches: tf.Tensor2D[]): void {
    if (batches.length === 0) throw new Error('population statistics need at least one mini-batch');
    const m = batches[0].shape[0];
    if (m < 2) throw new Error('population variance needs mini-batches of at least 2 examples');
    if (batches.some((b) => b.shape[0] !== m)) throw new Error('population statistics need mini-batches of one size m');
    if (!this.ops.some((op) => op.estimate)) return;
    tf.tidy(() => {
      // All mini-batches in one forward pass, each normalized with its own statistics.
      let h = tf.concat2d(batches, 0);
      const mode = { training: true, noise: null, requireNoise: false };
      for (const op of this.ops) h = op.estimate ? op.estimate(h, this.tensorsOf(op), batches.length, m) : op.forwardTensor(h, this.tensorsOf(op), mode);
    });
  }

  /**
   * The logits of x under each of `modes`, in one pass: an op whose training and inference passes
   * differ (one with batch statistics) runs once per mode, any other once per distinct input, so
   * the first layer's product, the largest, is computed once. The caller disposes the tensors.
   */
  logitsByMode(x: tf.Tensor2D, modes: readonly Omit<TensorMode, 'noise' | 'requireNoise'>[]): tf.Tensor2D[] {
    return tf.tidy(() => {
      let outputs: tf.Tensor2D[] = modes.map(() => x);
      for (const op of this.ops) {
        const params = this.tensorsOf(op);
        const once = new Map<tf.Tensor2D, tf.Tensor2D>();
        outputs = outputs.map((h, k) => {
          const mode = { ...modes[k], noise: null, requireNoise: false };
          if (op.batchStatistics) return op.forwardTensor(h, params, mode);
          if (!once.has(h)) once.set(h, op.forwardTensor(h, params, mode));
          return once.get(h)!;
        });
      }
      return outputs;
    });
  }

  /** Per hidden layer, the statistics inference normalizes with (null for layers without them). */
  populationStatistics(): (PopulationStatistics | null)[] {
    return this.layers.slice(0, -1).map((ops) => ops.find((op) => op.populationStatistics)?.populationStatistics?.() ?? null);
  }

  /** Per hidden layer, its BN op's own arrays of each kind of statistics (null for layers without): what the SIMD record reads, and where it writes Algorithm 2's estimate. */
  statisticsArrays(): (Record<InferenceStatistics, PopulationStatistics> | null)[] {
    return this.layers.slice(0, -1).map((ops) => {
      const op = ops.find((o) => o.statisticsArrays);
      return op ? { population: op.statisticsArrays!('population'), moving: op.statisticsArrays!('moving') } : null;
    });
  }

  /** Nothing of the network lives in tfjs between calls: every tensor is made and freed within one. */
  dispose(): void {}

  /** Hand-written training-mode forward pass, the taps pushed where given; returns the logits. Inside a tf.tidy. */
  private trainingForward(x: TrainingInput, steps: StepContext[], taps: Float32Array[] | null): Signal {
    const m = examplesIn(x);
    let signal: Signal = { m, units: this.spec.inputSize, tensor: null, array: null, data: x } as DataSignal;
    for (const [layer, ops] of this.layers.entries()) {
      for (let k = 0; k < ops.length; k++) {
        const op = ops[k];
        const next = ops[k + 1];
        if (next instanceof ActivationOp) {
          // Bias and (where wasm can) the nonlinearity in one matMul kernel, unless the tap between them is measured.
          if (op instanceof Dense && op.hasBias && next.fusable !== null && taps === null) {
            signal = next.forwardFused(op.forward(signal, steps[layer], next.fusable));
            k++;
            continue;
          }
        }
        if (op instanceof ActivationOp && taps !== null) taps.push(op.tap(signal));
        signal = op.forward(signal, steps[layer]);
      }
    }
    return signal;
  }

  private stepContexts(params: readonly Float32Array[], noise: readonly (LayerNoise | null)[], requireNoise: boolean): StepContext[] {
    return this.layers.map((_, layer) => ({ params, gradients: this.gradientBuffers, noise: noise[layer] ?? null, requireNoise }));
  }

  private batchStatistics(): BatchStatistics[] {
    return this.ops.flatMap((op) => (op.observe && op.batchStatistics ? [op.batchStatistics()] : []));
  }

  /** An op's parameters as tensors made from their values. Inside a tf.tidy. */
  private tensorsOf(op: Op): tf.Tensor[] {
    return op.parameters.map((p, k) => tf.tensor(this.values[op.firstParameter + k], p.shape as number[]));
  }
}

function sizedBuffer(buffer: Float32Array | null, size: number): Float32Array {
  return buffer !== null && buffer.length === size ? buffer : new Float32Array(size);
}

/**
 * Mean softmax cross-entropy of logits [m, classes] against one-hot labels; its gradient
 * (softmax - y) / m times `gradientScale` goes into dLogits.
 */
function softmaxCrossEntropy(logits: Float32Array, yOneHot: Float32Array, classes: number, gradientScale: number, dLogits: Float32Array): number {
  const m = logits.length / classes;
  const scale = gradientScale / m;
  let total = 0;
  for (let i = 0, row = 0; i < m; i++, row += classes) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[row + k]);
    let sumExp = 0;
    for (let k = 0; k < classes; k++) sumExp += Math.exp(logits[row + k] - max);
    const logSumExp = Math.log(sumExp);
    for (let k = 0; k < classes; k++) {
      const logSoftmax = logits[row + k] - max - logSumExp;
      total -= yOneHot[row + k] * logSoftmax;
      dLogits[row + k] = (Math.exp(logSoftmax) - yOneHot[row + k]) * scale;
    }
  }
  return total / m;
}
