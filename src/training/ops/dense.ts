/**
 * The dense op: x W (+ b), W row-major [fanIn, fanOut]. A layer whose normalization brings its
 * own shift (BN's beta) has no bias.
 *
 * The products and the packing of their right operand, which XNNPACK redoes for every new tensor,
 * dominate a step; each product is therefore ordered so that the packed operand is the small one:
 * h^T dWx rather than dWx^T h, W dWx^T rather than dWx W^T. The first layer, whose input is the
 * data, needs no input gradient, and multiplies over only the mini-batch's pixels in use.
 */
import * as tf from '@tensorflow/tfjs';
import { peek, peeksInPlace, readInto } from '../backend';
import { parameter, sized, tensorOf, transpose, rowMajor, type Gradient, type Op, type Parameter, type Signal, type StepContext, type TensorMode } from './op';

/**
 * A mini-batch's input on only the pixels that are non-zero in some example. A pixel that is 0
 * throughout adds nothing to Wx and gets a zero gradient, and in an MNIST mini-batch a good share
 * of the 784 pixels are (the borders), so leaving them out spares that share of the step's
 * largest products (x W and x^T dWx) and of the weights XNNPACK packs for them. The trainer
 * builds it from where each digit's ink is (data.ts, fillCompactBatch); from a dense x, the dense
 * op finds the pixels itself.
 */
export interface CompactInput {
  /** Examples in the mini-batch. */
  m: number;
  /** The width of the full input (784). */
  inputSize: number;
  /** The pixels in use, ascending; x and xT have a column (row) for each. */
  pixels: Int32Array;
  /** [m, pixels.length] and its transpose [pixels.length, m], row-major. */
  x: Float32Array;
  xT: Float32Array;
}

/** A training mini-batch's input: dense [m, inputSize], or on the pixels in use. */
export type TrainingInput = tf.Tensor2D | CompactInput;

export const examplesIn = (x: TrainingInput): number => (x instanceof tf.Tensor ? x.shape[0] : x.m);

/** The data as the first dense op's training forward pass takes it: a Signal with the mini-batch attached. */
export interface DataSignal extends Signal {
  data: TrainingInput;
}

/**
 * Leave out the always-zero pixels only when at least this share of them is: gathering costs a
 * fixed time per step, which smaller savings would not pay for.
 */
const MIN_LEFT_OUT = 0.2;

/** The activations a wasm matMul kernel can apply to its output in the same kernel. */
export type FusedActivation = 'sigmoid' | 'relu' | 'linear';

export class Dense implements Op {
  readonly parameters: Parameter[];
  firstParameter = 0;
  /** What the backward pass reads from the last forward pass (tensors live until the step's tidy ends). */
  private input: Float32Array | null = null;
  private inputT: tf.Tensor2D | null = null;
  private weights: tf.Tensor2D | null = null;
  /** The first layer's kept pixels ([kept, 1], int32), or null when every pixel is kept. */
  private kept: Int32Array | null = null;
  private m = 0;
  // Buffers reused from step to step: allocating a step's arrays costs more in a browser worker than filling them.
  private inputTBuffer: Float32Array | null = null;
  private dWxTBuffer: Float32Array | null = null;
  /** dLoss/dWx row-major, where the gradient arrives transposed. */
  private dWxBuffer: Float32Array | null = null;
  private dInputTBuffer: Float32Array | null = null;
  private inputBuffer: Float32Array | null = null;
  private keptBuffers: { pixels: Int32Array; x: Float32Array; xT: Float32Array; weights: Float32Array; dense: Float32Array } | null = null;

  constructor(
    name: string,
    readonly fanIn: number,
    readonly fanOut: number,
    initialWeights: Float32Array,
    readonly hasBias: boolean,
    /** Whether the input is the data (the first layer): no input gradient, only the pixels in use. */
    readonly readsData: boolean,
  ) {
    this.parameters = [parameter(`${name}/weights`, [fanIn, fanOut], Float32Array.from(initialWeights))];
    if (hasBias) this.parameters.push(parameter(`${name}/bias`, [fanOut], new Float32Array(fanOut)));
  }

  forward(input: Signal, step: StepContext, fused: FusedActivation = 'linear'): Signal {
    const w = step.params[this.firstParameter];
    const m = input.m;
    this.m = m;
    let x: tf.Tensor2D;
    if (this.readsData) {
      const first = this.firstLayerInput((input as DataSignal).data, w);
      x = first.x;
      this.inputT = first.xT;
      this.weights = first.weights;
    } else {
      x = tensorOf(input);
      this.weights = tf.tensor2d(w, [this.fanIn, this.fanOut]);
      this.inputBuffer = sized(this.inputBuffer, m * this.fanIn);
      this.input = input.array ?? readInto(x, this.inputBuffer);
    }
    const out = this.hasBias
      ? (tf.fused.matMul({ a: x, b: this.weights, bias: tf.tensor1d(step.params[this.firstParameter + 1]), activation: fused }) as tf.Tensor2D)
      : tf.matMul<tf.Tensor2D>(x, this.weights);
    return { m, units: this.fanOut, tensor: out, array: null };
  }

  backward(dOutput: Gradient, step: StepContext): Gradient | null {
    const { m, fanIn, fanOut } = this;
    this.dWxTBuffer = sized(this.dWxTBuffer, fanOut * m);
    const dWx = rowMajor(dOutput, m, (this.dWxBuffer = sized(this.dWxBuffer, m * fanOut)));
    if (this.hasBias) columnSums(dWx, step.gradients[this.firstParameter + 1]);
    const inputT = this.readsData
      ? this.inputT!
      : tf.tensor2d(transpose(this.input!, m, fanIn, (this.inputTBuffer = sized(this.inputTBuffer, fanIn * m))), [fanIn, m]);
    const weightGradient = tf.matMul<tf.Tensor2D>(inputT, tf.tensor2d(dWx, [m, fanOut]));
    const dWeights = step.gradients[this.firstParameter];
    if (this.kept !== null) {
      // The left-out pixels' rows of the gradient are 0.
      const rows = peek(weightGradient);
      dWeights.fill(0);
      for (let k = 0; k < this.kept.length; k++) dWeights.set(rows.subarray(k * fanOut, (k + 1) * fanOut), this.kept[k] * fanOut);
    } else {
      readInto(weightGradient, dWeights);
    }
    if (this.readsData) return null;
    // dLoss/dh transposed ([fanIn, m]) as W dWx^T, which packs dWx^T where dWx W^T would pack W^T.
    const dWxT = tf.tensor2d(transpose(dWx, m, fanOut, this.dWxTBuffer), [fanOut, m]);
    this.dInputTBuffer = sized(this.dInputTBuffer, fanIn * m);
    return { values: readInto(tf.matMul(this.weights!, dWxT), this.dInputTBuffer), transposed: true };
  }

  /** The first layer's weight gradient is 0 on the pixels the mini-batch leaves blank. */
  gradientRows(k: number): Int32Array | null {
    return k === 0 ? this.kept : null;
  }

  forwardTensor(x: tf.Tensor2D, params: readonly tf.Tensor[], _mode: TensorMode): tf.Tensor2D {
    const [weights, bias] = params as tf.Tensor2D[];
    return this.hasBias
      ? (tf.fused.matMul({ a: x, b: weights, bias: bias as unknown as tf.Tensor1D, activation: 'linear' }) as tf.Tensor2D)
      : tf.matMul<tf.Tensor2D>(x, weights);
  }

  /** The first layer's input as its two large products see it, and W's rows for the same pixels. Inside a tf.tidy. */
  private firstLayerInput(data: TrainingInput, w: Float32Array): { x: tf.Tensor2D; xT: tf.Tensor2D; weights: tf.Tensor2D } {
    const { fanIn, fanOut } = this;
    const m = data instanceof tf.Tensor ? data.shape[0] : data.m;
    const buffers = this.keptBuffersFor(m);
    this.kept = null;
    const full = () => {
      const dense = data instanceof tf.Tensor ? data : tf.tensor2d(spread(data, buffers.dense), [data.m, data.inputSize]);
      return { x: dense, xT: tf.transpose(dense), weights: tf.tensor2d(w, [fanIn, fanOut]) };
    };
    // Elsewhere than on wasm, reading x back each step costs far more than the products spared.
    if (!peeksInPlace()) return full();
    const compact = data instanceof tf.Tensor ? compactInput(data, buffers) : data;
    const { pixels } = compact;
    const count = pixels.length;
    // An all-zero batch keeps everything too: a product over no pixels is not a matMul.
    if (count === 0 || count > fanIn * (1 - MIN_LEFT_OUT)) return full();
    const weightsKept = buffers.weights.subarray(0, count * fanOut);
    for (let k = 0; k < count; k++) weightsKept.set(w.subarray(pixels[k] * fanOut, (pixels[k] + 1) * fanOut), k * fanOut);
    this.kept = pixels;
    return {
      x: tf.tensor2d(compact.x, [m, count]),
      xT: tf.tensor2d(compact.xT, [count, m]),
      weights: tf.tensor2d(weightsKept, [count, fanOut]),
    };
  }

  private keptBuffersFor(m: number) {
    const { fanIn, fanOut } = this;
    if (this.keptBuffers?.dense.length !== m * fanIn) {
      this.keptBuffers = {
        pixels: new Int32Array(fanIn),
        x: new Float32Array(m * fanIn),
        xT: new Float32Array(m * fanIn),
        weights: new Float32Array(fanIn * fanOut),
        dense: new Float32Array(m * fanIn),
      };
    }
    return this.keptBuffers;
  }
}

/** Sums over the rows of values [rows, sums.length] into `sums`: a bias gradient from the gradient of Wx + b. */
function columnSums(values: Float32Array, sums: Float32Array): Float32Array {
  const cols = sums.length;
  for (let j = 0; j < cols; j++) {
    // Accumulated in float64, as the sum of many small gradients.
    let sum = 0;
    for (let at = j; at < values.length; at += cols) sum += values[at];
    sums[j] = sum;
  }
  return sums;
}

/** Dense mini-batch x on its pixels in use, found by reading x where it lies, into `buffers`. */
function compactInput(x: tf.Tensor2D, buffers: { pixels: Int32Array; x: Float32Array; xT: Float32Array }): CompactInput {
  const [m, inputSize] = x.shape;
  // Every read of this view comes before the next tfjs call (peek).
  const values = peek(x);
  const kept = buffers.pixels;
  let count = 0;
  for (let pixel = 0; pixel < inputSize; pixel++) {
    for (let at = pixel; at < values.length; at += inputSize) {
      if (values[at] !== 0) {
        kept[count++] = pixel;
        break;
      }
    }
  }
  const xKept = buffers.x.subarray(0, m * count);
  const xKeptT = buffers.xT.subarray(0, m * count);
  for (let k = 0; k < count; k++) {
    for (let i = 0, from = kept[k], to = k * m; i < m; i++, from += inputSize) {
      const value = values[from];
      xKept[i * count + k] = value;
      xKeptT[to + i] = value;
    }
  }
  return { m, inputSize, pixels: kept.subarray(0, count), x: xKept, xT: xKeptT };
}

/** A CompactInput back to dense [m, inputSize], into `dense`. */
function spread(input: CompactInput, dense: Float32Array): Float32Array {
  const { m, inputSize, pixels, x } = input;
  const count = pixels.length;
  dense.fill(0);
  for (let i = 0; i < m; i++) for (let k = 0; k < count; k++) dense[i * inputSize + pixels[k]] = x[i * count + k];
  return dense;
}
