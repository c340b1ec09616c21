/**
 * What every op of a layer provides, and the values that flow between ops. A hidden layer is a
 * sequence of ops (dense, a normalization, noise, activation) built from the spec (layers.ts);
 * the network (network.ts) composes them and knows no op by name.
 *
 * An op has two forward passes. The training step's hand-written one works on the mini-batch in
 * plain arrays where that is cheap and in tfjs where a kernel pays (the products, the
 * nonlinearity), keeps what its backward pass needs in buffers it reuses from step to step, and
 * reads its parameters from the list it is given rather than from itself, so that a gradient can
 * be asked at any parameters. The tfjs one (`forwardTensor`) serves inference, the statistics and,
 * differentiated by tfjs, the autodiff reference (reference.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { readInto } from '../backend';
import type { InferenceStatistics } from '../../config/schema';
import type { LayerNoise } from '../noise';

/** A trainable parameter: a flat float32 array (row-major for a matrix) that another kernel could own. */
export interface Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export function parameter(name: string, shape: readonly number[], values: Float32Array): Parameter {
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`${name} has ${values.length} values, its shape ${shape.join(' x ')} needs ${size}`);
  return { name, shape, values };
}

/**
 * A mini-batch [m, units] between two ops of a training step: as a tensor, a row-major array, or
 * both. Tensors live until the step's tf.tidy ends; arrays are the ops' buffers, valid until the
 * next step.
 */
export interface Signal {
  m: number;
  units: number;
  tensor: tf.Tensor2D | null;
  array: Float32Array | null;
}

/** A gradient flowing back: dLoss/d(an op's output), [m, units] or, `transposed`, [units, m]. */
export interface Gradient {
  values: Float32Array;
  transposed: boolean;
}

/** What one training step hands every op of a layer. */
export interface StepContext {
  /** Every parameter's values, in the network's order; an op reads its own from `firstParameter`. */
  params: readonly Float32Array[];
  /** Where an op writes its parameters' gradients, same order. */
  gradients: readonly Float32Array[];
  /** This layer's noise for this step (noise.ts), or null. */
  noise: LayerNoise | null;
  /** Whether a noise op must have its noise (a training step) or may pass the values through (statistics only). */
  requireNoise: boolean;
}

/** How forwardTensor normalizes: with the batch's statistics (`training`, the step's noise added where given) or the population's. */
export interface TensorMode {
  training: boolean;
  noise: LayerNoise | null;
  requireNoise: boolean;
  /** In training mode, the rows form consecutive mini-batches of this many examples, each normalized with its own statistics (absent: all rows are one). */
  batchSize?: number;
  /** In inference mode, which statistics to normalize with (absent: the configured ones). */
  statistics?: InferenceStatistics;
}

/** The statistics of one mini-batch an op normalized with: what its running statistics move toward. */
export interface BatchStatistics {
  mean: Float32Array;
  /** Biased (divide by m). */
  variance: Float32Array;
}

/** Population statistics of one normalization op, as inference uses them. */
export interface PopulationStatistics {
  mean: Float32Array;
  variance: Float32Array;
}

export interface Op {
  /** The op's trainable parameters with their initial values, in the order the network lists them. */
  readonly parameters: readonly Parameter[];
  /** Index of this op's first parameter in the network's list, set when the network is composed. */
  firstParameter: number;
  /** Training-mode forward pass of the hand-written step. Runs inside a tf.tidy. */
  forward(input: Signal, step: StepContext): Signal;
  /** dLoss/d(input) from dLoss/d(output), writing the parameters' gradients; null where nobody needs it (the data). Runs inside a tf.tidy. */
  backward(dOutput: Gradient, step: StepContext): Gradient | null;
  /** The same map in tfjs ops, differentiable by tfjs; `params` are this op's parameters as tensors. */
  forwardTensor(x: tf.Tensor2D, params: readonly tf.Tensor[], mode: TensorMode): tf.Tensor2D;
  /** The only rows of parameter k whose gradient the last backward pass may have made non-zero, or null (all may be). */
  gradientRows?(k: number): Int32Array | null;
  /** Whether this op, a normalization with its own shift, makes the dense op before it drop its bias. */
  readonly replacesBias?: boolean;
  /** The batch statistics of the last hand-written forward pass, for ops with running statistics (whose training and inference passes differ). */
  batchStatistics?(): BatchStatistics;
  /** Moves the running statistics toward a mini-batch's (of m examples): the explicit call after a step. */
  observe?(statistics: BatchStatistics, m: number): void;
  /**
   * Algorithm 2 over `groups` stacked mini-batches of one size m in x: sets the population
   * statistics and returns the training-mode output. Ops without one use forwardTensor.
   */
  estimate?(x: tf.Tensor2D, params: readonly tf.Tensor[], groups: number, m: number): tf.Tensor2D;
  populationStatistics?(): PopulationStatistics;
  /** The op's own arrays (not copies) of either statistics inference can use: passes outside tfjs (the SIMD record) read them and write Algorithm 2's estimate. */
  statisticsArrays?(kind: InferenceStatistics): PopulationStatistics;
}

/** The signal's values as an array, read into `buffer` if they are only in a tensor. */
export function arrayOf(signal: Signal, buffer: Float32Array): Float32Array {
  if (signal.array) return signal.array;
  return readInto(signal.tensor!, buffer);
}

/** The signal's values as a tensor, made from its array if need be. Inside a tf.tidy. */
export function tensorOf(signal: Signal): tf.Tensor2D {
  return signal.tensor ?? tf.tensor2d(signal.array!, [signal.m, signal.units]);
}

/** A gradient as [m, units] row-major, transposed into `buffer` if it came transposed. */
export function rowMajor(gradient: Gradient, m: number, buffer: Float32Array): Float32Array {
  if (!gradient.transposed) return gradient.values;
  return transpose(gradient.values, buffer.length / m, m, buffer);
}

/** values [rows, cols] row-major, transposed to [cols, rows] into `transposed`. */
export function transpose(values: Float32Array, rows: number, cols: number, transposed: Float32Array): Float32Array {
  for (let j = 0; j < cols; j++) for (let i = 0, at = j * rows; i < rows; i++) transposed[at + i] = values[i * cols + j];
  return transposed;
}

/** `buffer` if it holds `size` floats, else a new one: an op's buffers are reallocated only for a new mini-batch size. */
export function sized(buffer: Float32Array | null, size: number): Float32Array {
  return buffer !== null && buffer.length === size ? buffer : new Float32Array(size);
}
