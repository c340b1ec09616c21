/**
 * Santurkar et al.'s noise after BN (../noise.ts): in training mode each value y becomes
 * y * scale + shift with the step's draw (per example, or one map per unit for the whole
 * mini-batch in the variant of older links); inference adds none.
 * The noise is an input of the step, not a state of the op, so a gradient stays a pure function
 * of what it is given.
 */
import * as tf from '@tensorflow/tfjs';
import { applyNoise, type LayerNoise } from '../noise';
import { arrayOf, rowMajor, sized, type Gradient, type Op, type Signal, type StepContext, type TensorMode } from './op';

function missing(layer: string): Error {
  return new Error(`${layer} is noisy BN: a training step needs its noise`);
}

/** Noise per example must be the mini-batch's: drawn for another size it would pair draws with the wrong examples. */
function checkRows(noise: LayerNoise, m: number, units: number, layer: string): void {
  for (const values of [noise.scale, noise.shift]) {
    if (values !== null && values.length !== units && values.length !== m * units) {
      throw new Error(`${layer}: noise for ${values.length / units} examples, the mini-batch has ${m}`);
    }
  }
}

export class Noise implements Op {
  readonly parameters = [];
  firstParameter = 0;
  /** The noise of the last forward pass (null: it passed the values through): d(y·s + b)/dy = s. */
  private noise: LayerNoise | null = null;
  private output: Float32Array | null = null;
  private input: Float32Array | null = null;
  private dInput: Float32Array | null = null;
  /** The gradient row-major, where it arrives transposed. */
  private dOutput: Float32Array | null = null;
  private cols = 0;

  /** `layer` names the layer in messages ("hidden layer 2"). */
  constructor(private readonly layer: string) {}

  forward(input: Signal, step: StepContext): Signal {
    const noise = this.noiseOf(step.noise, step.requireNoise);
    this.noise = noise;
    if (noise === null) return input;
    checkRows(noise, input.m, input.units, this.layer);
    const size = input.m * input.units;
    this.cols = input.units;
    const y = arrayOf(input, (this.input = sized(this.input, size)));
    return { m: input.m, units: input.units, tensor: null, array: applyNoise(y, noise, input.units, (this.output = sized(this.output, size))) };
  }

  backward(dOutput: Gradient, _step: StepContext): Gradient {
    const scale = this.noise?.scale ?? null;
    // An added noise passes the gradient through as it is.
    if (scale === null) return dOutput;
    const cols = this.cols;
    const d = rowMajor(dOutput, dOutput.values.length / cols, (this.dOutput = sized(this.dOutput, dOutput.values.length)));
    const dInput = (this.dInput = sized(this.dInput, d.length));
    for (let at = 0; at < d.length; at += cols) {
      const s = at % scale.length;
      for (let j = 0; j < cols; j++) dInput[at + j] = d[at + j] * scale[s + j];
    }
    return { values: dInput, transposed: false };
  }

  forwardTensor(x: tf.Tensor2D, _params: readonly tf.Tensor[], mode: TensorMode): tf.Tensor2D {
    if (!mode.training) return x;
    const noise = this.noiseOf(mode.noise, mode.requireNoise);
    if (noise === null) return x;
    const [m, units] = x.shape;
    checkRows(noise, m, units, this.layer);
    const asTensor = (values: Float32Array) => (values.length === units ? tf.tensor1d(values) : tf.tensor2d(values, [m, units]));
    return tf.add(noise.scale === null ? x : tf.mul(x, asTensor(noise.scale)), asTensor(noise.shift));
  }

  private noiseOf(noise: LayerNoise | null, required: boolean): LayerNoise | null {
    if (noise === null && required) throw missing(this.layer);
    return noise;
  }
}
