/**
 * Santurkar et al.'s noise after BN (../noise.ts): in training mode each unit's value y becomes
 * y * scale + shift with the step's draw, the same for the whole mini-batch; inference adds none.
 * The noise is an input of the step, not a state of the op, so a gradient stays a pure function
 * of what it is given.
 */
import * as tf from '@tensorflow/tfjs';
import { applyNoise, type LayerNoise } from '../noise';
import { arrayOf, rowMajor, sized, type Gradient, type Op, type Signal, type StepContext, type TensorMode } from './op';

function missing(layer: string): Error {
  return new Error(`${layer} is noisy BN: a training step needs its noise`);
}

export class Noise implements Op {
  readonly parameters = [];
  firstParameter = 0;
  /** The scale of the last forward pass (null: it passed the values through): d(y·s + b)/dy = s. */
  private scale: Float32Array | null = null;
  private output: Float32Array | null = null;
  private input: Float32Array | null = null;
  private dInput: Float32Array | null = null;
  /** The gradient row-major, where it arrives transposed. */
  private dOutput: Float32Array | null = null;

  /** `layer` names the layer in messages ("hidden layer 2"). */
  constructor(private readonly layer: string) {}

  forward(input: Signal, step: StepContext): Signal {
    const noise = this.noiseOf(step.noise, step.requireNoise);
    this.scale = noise?.scale ?? null;
    if (noise === null) return input;
    const size = input.m * input.units;
    const y = arrayOf(input, (this.input = sized(this.input, size)));
    return { m: input.m, units: input.units, tensor: null, array: applyNoise(y, noise, (this.output = sized(this.output, size))) };
  }

  backward(dOutput: Gradient, _step: StepContext): Gradient {
    if (this.scale === null) return dOutput;
    const scale = this.scale;
    const cols = scale.length;
    const d = rowMajor(dOutput, dOutput.values.length / cols, (this.dOutput = sized(this.dOutput, dOutput.values.length)));
    const dInput = (this.dInput = sized(this.dInput, d.length));
    for (let at = 0; at < d.length; at += cols) for (let j = 0; j < cols; j++) dInput[at + j] = d[at + j] * scale[j];
    return { values: dInput, transposed: false };
  }

  forwardTensor(x: tf.Tensor2D, _params: readonly tf.Tensor[], mode: TensorMode): tf.Tensor2D {
    if (!mode.training) return x;
    const noise = this.noiseOf(mode.noise, mode.requireNoise);
    return noise ? tf.add(tf.mul(x, tf.tensor1d(noise.scale)), tf.tensor1d(noise.shift)) : x;
  }

  private noiseOf(noise: LayerNoise | null, required: boolean): LayerNoise | null {
    if (noise === null && required) throw missing(this.layer);
    return noise;
  }
}
