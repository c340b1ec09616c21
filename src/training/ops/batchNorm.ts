/**
 * The batch normalization op (Ioffe & Szegedy 2015), BN(x) = gamma * xhat + beta per unit: in
 * training mode with the mini-batch's own statistics (Algorithm 1), in inference mode with the
 * population's (Algorithm 2) or moving averages. The math lives in ../batchNorm.ts; this op adds
 * gamma and beta, the population statistics it keeps, and the moving-average update the trainer
 * asks for after a step.
 */
import * as tf from '@tensorflow/tfjs';
import type { InferenceStatistics } from '../../config/schema';
import {
  batchNormArrays,
  batchNormBackward,
  batchNormGroups,
  batchNormInference,
  batchNormTraining,
  batchNormTrainingArrays,
  unbiasedVariance,
  type BatchNormArrays,
  type BatchNormGradients,
} from '../batchNorm';
import { readInto } from '../backend';
import { arrayOf, parameter, rowMajor, sized, type BatchStatistics, type Gradient, type Op, type Parameter, type PopulationStatistics, type Signal, type StepContext, type TensorMode } from './op';

export interface BatchNormOptions {
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  movingAverageDecay: number;
}

export class BatchNorm implements Op {
  readonly parameters: Parameter[];
  firstParameter = 0;
  readonly replacesBias = true;
  /**
   * What inference normalizes with: Algorithm 2's estimate under `population`, the moving
   * averages under `moving`. Before any estimate they are 0 and 1.
   */
  private readonly populationMean: Float32Array;
  private readonly populationVariance: Float32Array;
  private arrays: BatchNormArrays | null = null;
  private wx: Float32Array | null = null;
  private dNormalized: Float32Array | null = null;
  private dx: Float32Array | null = null;

  constructor(
    name: string,
    readonly units: number,
    private readonly options: BatchNormOptions,
  ) {
    this.parameters = [parameter(`${name}/gamma`, [units], new Float32Array(units).fill(1)), parameter(`${name}/beta`, [units], new Float32Array(units))];
    this.populationMean = new Float32Array(units);
    this.populationVariance = new Float32Array(units).fill(1);
  }

  forward(input: Signal, step: StepContext): Signal {
    const size = input.m * this.units;
    if (this.arrays?.xhat.length !== size) this.arrays = batchNormArrays(size, this.units);
    const wx = arrayOf(input, (this.wx = sized(this.wx, size)));
    const [gamma, beta] = [step.params[this.firstParameter], step.params[this.firstParameter + 1]];
    const bn = batchNormTrainingArrays(wx, gamma, beta, this.options.epsilon, this.arrays);
    return { m: input.m, units: this.units, tensor: null, array: bn.normalized };
  }

  backward(dOutput: Gradient, step: StepContext): Gradient {
    const arrays = this.arrays!;
    const m = arrays.xhat.length / this.units;
    const dNormalized = rowMajor(dOutput, m, (this.dNormalized = sized(this.dNormalized, arrays.xhat.length)));
    const out: BatchNormGradients = {
      dx: (this.dx = sized(this.dx, arrays.xhat.length)),
      dGamma: step.gradients[this.firstParameter],
      dBeta: step.gradients[this.firstParameter + 1],
    };
    batchNormBackward(dNormalized, arrays, step.params[this.firstParameter], out);
    return { values: out.dx, transposed: false };
  }

  forwardTensor(x: tf.Tensor2D, params: readonly tf.Tensor[], mode: TensorMode): tf.Tensor2D {
    const [gamma, beta] = params as tf.Tensor1D[];
    if (mode.training) return batchNormTraining(x, gamma, beta, this.options.epsilon).normalized;
    return batchNormInference(x, gamma, beta, tf.tensor1d(this.populationMean), tf.tensor1d(this.populationVariance), this.options.epsilon);
  }

  batchStatistics(): BatchStatistics {
    return { mean: this.arrays!.batchMean, variance: this.arrays!.batchVariance };
  }

  /** Moves the moving averages toward the batch mean and the unbiased batch variance; only under `moving`. */
  observe(statistics: BatchStatistics, m: number): void {
    if (this.options.inferenceStatistics !== 'moving') return;
    const decay = this.options.movingAverageDecay;
    const unbiased = m / (m - 1);
    const { populationMean: mean, populationVariance: variance } = this;
    for (let j = 0; j < mean.length; j++) {
      mean[j] = decay * mean[j] + (1 - decay) * statistics.mean[j];
      variance[j] = decay * variance[j] + (1 - decay) * unbiased * statistics.variance[j];
    }
  }

  /**
   * Algorithm 2, steps 9-10: the population mean is the mean of the batch means, the population
   * variance m/(m-1) x the mean of the biased batch variances. Under `moving` the moving averages
   * stay what inference uses, and only the output is computed.
   */
  estimate(x: tf.Tensor2D, params: readonly tf.Tensor[], groups: number, m: number): tf.Tensor2D {
    const [gamma, beta] = params as tf.Tensor1D[];
    const bn = batchNormGroups(x, groups, gamma, beta, this.options.epsilon);
    if (this.options.inferenceStatistics === 'population') {
      readInto(tf.mean(bn.batchMeans, 0), this.populationMean);
      readInto(unbiasedVariance(tf.mean(bn.batchVariances, 0) as tf.Tensor1D, m), this.populationVariance);
    }
    return bn.normalized;
  }

  populationStatistics(): PopulationStatistics {
    return { mean: this.populationMean.slice(), variance: this.populationVariance.slice() };
  }
}
