/**
 * Layer normalization (Ba, Kiros & Hinton 2016): each example normalized over its own layer's
 * units, LN(x) = gamma * (x - mu) / sqrt(sigma2 + epsilon) + beta with mu and sigma2 the mean and
 * biased variance of that example's units, gamma and beta per unit. No statistic crosses the
 * mini-batch, so training and inference compute the same thing and an example's output does
 * not depend on the rest of its batch; there is nothing to estimate and no running statistics.
 */
import * as tf from '@tensorflow/tfjs';
import { arrayOf, parameter, rowMajor, sized, type Gradient, type Op, type Parameter, type Signal, type StepContext, type TensorMode } from './op';

export class LayerNorm implements Op {
  readonly parameters: Parameter[];
  firstParameter = 0;
  readonly replacesBias = true;
  private xhat: Float32Array | null = null;
  /** 1 / sqrt(sigma2 + epsilon), per example. */
  private inverseStd: Float32Array | null = null;
  private input: Float32Array | null = null;
  private output: Float32Array | null = null;
  private dOutput: Float32Array | null = null;
  private dInput: Float32Array | null = null;
  private dGamma: Float64Array | null = null;
  private dBeta: Float64Array | null = null;

  constructor(
    name: string,
    readonly units: number,
    private readonly epsilon: number,
  ) {
    this.parameters = [parameter(`${name}/gamma`, [units], new Float32Array(units).fill(1)), parameter(`${name}/beta`, [units], new Float32Array(units))];
  }

  forward(input: Signal, step: StepContext): Signal {
    const { m } = input;
    const units = this.units;
    const size = m * units;
    const x = arrayOf(input, (this.input = sized(this.input, size)));
    const xhat = (this.xhat = sized(this.xhat, size));
    const out = (this.output = sized(this.output, size));
    const inverseStd = (this.inverseStd = sized(this.inverseStd, m));
    const [gamma, beta] = [step.params[this.firstParameter], step.params[this.firstParameter + 1]];
    for (let i = 0, row = 0; i < m; i++, row += units) {
      // Sums in float64, the statistics rounded to float32 before use, as in batchNormTrainingArrays.
      let sum = 0;
      for (let j = 0; j < units; j++) sum += x[row + j];
      const mean = Math.fround(sum / units);
      let squares = 0;
      for (let j = 0; j < units; j++) squares += (x[row + j] - mean) ** 2;
      const scale = Math.fround(1 / Math.sqrt(Math.fround(squares / units) + this.epsilon));
      inverseStd[i] = scale;
      for (let j = 0; j < units; j++) {
        const value = Math.fround((x[row + j] - mean) * scale);
        xhat[row + j] = value;
        out[row + j] = gamma[j] * value + beta[j];
      }
    }
    return { m, units, tensor: null, array: out };
  }

  /**
   * With dxhat = gamma * dy, per example: dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) /
   * sqrt(sigma2 + eps), the means over the example's units (its mean and variance are functions of x).
   */
  backward(dOutput: Gradient, step: StepContext): Gradient {
    const xhat = this.xhat!;
    const units = this.units;
    const m = xhat.length / units;
    const dy = rowMajor(dOutput, m, (this.dOutput = sized(this.dOutput, xhat.length)));
    const gamma = step.params[this.firstParameter];
    // The parameter gradients sum over the examples: in float64, as the sums of many small terms.
    const dGamma = (this.dGamma = this.dGamma?.length === units ? this.dGamma.fill(0) : new Float64Array(units));
    const dBeta = (this.dBeta = this.dBeta?.length === units ? this.dBeta.fill(0) : new Float64Array(units));
    const dx = (this.dInput = sized(this.dInput, xhat.length));
    for (let i = 0, row = 0; i < m; i++, row += units) {
      let sumDxhat = 0;
      let sumDxhatXhat = 0;
      for (let j = 0; j < units; j++) {
        const dxhat = gamma[j] * dy[row + j];
        sumDxhat += dxhat;
        sumDxhatXhat += dxhat * xhat[row + j];
        dGamma[j] += dy[row + j] * xhat[row + j];
        dBeta[j] += dy[row + j];
      }
      const meanDxhat = sumDxhat / units;
      const meanDxhatXhat = sumDxhatXhat / units;
      const scale = this.inverseStd![i];
      for (let j = 0; j < units; j++) dx[row + j] = scale * (gamma[j] * dy[row + j] - meanDxhat - xhat[row + j] * meanDxhatXhat);
    }
    step.gradients[this.firstParameter].set(dGamma);
    step.gradients[this.firstParameter + 1].set(dBeta);
    return { values: dx, transposed: false };
  }

  forwardTensor(x: tf.Tensor2D, params: readonly tf.Tensor[], _mode: TensorMode): tf.Tensor2D {
    const [gamma, beta] = params;
    const { mean, variance } = tf.moments(x, 1, true);
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add<tf.Tensor2D>(tf.mul(xhat, gamma), beta);
  }
}
