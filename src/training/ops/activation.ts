/**
 * The nonlinearity g of a layer: z = g(u), u the input the paper measures. Its backward pass
 * reads the output z, from which each derivative here is cheapest. The nonlinearity itself runs
 * in tfjs: Math.exp over the batch costs more than the kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation as ActivationName } from '../../config/schema';
import { readInto } from '../backend';
import type { FusedActivation } from './dense';
import { arrayOf, sized, tensorOf, type Gradient, type Op, type Signal, type StepContext, type TensorMode } from './op';

/** The activations wasm can fuse into a matMul kernel; tanh is not among them. */
const FUSED_ACTIVATION: Record<ActivationName, FusedActivation> = {
  sigmoid: 'sigmoid',
  relu: 'relu',
  tanh: 'linear',
};

export function nonlinearity(activation: ActivationName, x: tf.Tensor2D): tf.Tensor2D {
  switch (activation) {
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
  }
}

export class Activation implements Op {
  readonly parameters = [];
  firstParameter = 0;
  /** The activation a preceding matMul kernel can apply, or null where none can. */
  readonly fusable: FusedActivation | null;
  private output: Float32Array | null = null;
  private input: Float32Array | null = null;
  private dInput: Float32Array | null = null;
  private m = 0;

  constructor(readonly activation: ActivationName) {
    const fused = FUSED_ACTIVATION[activation];
    this.fusable = fused === 'linear' ? null : fused;
  }

  forward(input: Signal, _step: StepContext): Signal {
    return this.keepOutput(nonlinearity(this.activation, tensorOf(input)), input.m, input.units);
  }

  /** The forward pass when the dense op before it already applied the nonlinearity in its kernel: only keep z. */
  forwardFused(activated: Signal): Signal {
    return this.keepOutput(activated.tensor!, activated.m, activated.units);
  }

  /** The input u of the last forward pass, [m, units]: the measured tap, read here when asked (a fused pass has none). */
  tap(input: Signal): Float32Array {
    this.input = sized(this.input, input.m * input.units);
    return arrayOf(input, this.input);
  }

  backward(dOutput: Gradient, _step: StepContext): Gradient {
    const z = this.output!;
    this.dInput = sized(this.dInput, z.length);
    const d = dOutput.values;
    const dInput = this.dInput;
    const units = z.length / this.m;
    // One loop per activation: a switch per value would cost as much as the arithmetic. A
    // transposed gradient ([units, m], as a backward matMul gives it) is read column by column.
    const step = dOutput.transposed ? 1 : units;
    for (let j = 0; j < units; j++) {
      let from = dOutput.transposed ? j * this.m : j;
      if (this.activation === 'sigmoid') {
        for (let at = j; at < z.length; at += units, from += step) dInput[at] = d[from] * z[at] * (1 - z[at]);
      } else if (this.activation === 'tanh') {
        for (let at = j; at < z.length; at += units, from += step) dInput[at] = d[from] * (1 - z[at] * z[at]);
      } else {
        for (let at = j; at < z.length; at += units, from += step) dInput[at] = z[at] > 0 ? d[from] : 0;
      }
    }
    return { values: dInput, transposed: false };
  }

  forwardTensor(x: tf.Tensor2D, _params: readonly tf.Tensor[], _mode: TensorMode): tf.Tensor2D {
    return nonlinearity(this.activation, x);
  }

  private keepOutput(z: tf.Tensor2D, m: number, units: number): Signal {
    this.m = m;
    this.output = readInto(z, sized(this.output, m * units));
    return { m, units, tensor: z, array: this.output };
  }
}
