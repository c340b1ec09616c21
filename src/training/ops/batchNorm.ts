/**
 * The batch normalization op (Ioffe & Szegedy 2015), BN(x) = gamma * xhat + beta per unit: in
 * training mode with the mini-batch's own statistics (Algorithm 1), in inference mode with the
 * population's (Algorithm 2) or moving averages. The math lives in ../batchNorm.ts; this op adds
 * gamma and beta, the population statistics it keeps, and the moving-average update the trainer
 * asks for after a step.
 *
 * With a ghost batch size V (Hoffer et al. 2017) the statistics come from each group of V
 * consecutive examples of the mini-batch instead of from all m, in training mode and in
 * Algorithm 2 alike; every group is then normalized exactly as a mini-batch of V would be. With
 * V = m (or 0) there is one group and the op computes what plain BN computes, in the same order.
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
import {
  arrayOf,
  parameter,
  rowMajor,
  sized,
  type BatchStatistics,
  type Gradient,
  type Op,
  type Parameter,
  type PopulationStatistics,
  type Signal,
  type StepContext,
  type TensorMode,
} from './op';

export interface BatchNormOptions {
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  movingAverageDecay: number;
  /** Examples per virtual batch; 0: the whole mini-batch. */
  ghostBatchSize: number;
}

/** The examples per group of a mini-batch of m under ghost batch size `ghost` (0: all m). */
export function groupSize(m: number, ghost: number): number {
  if (ghost <= 0 || ghost >= m) return m;
  if (m % ghost !== 0) throw new Error(`ghost batches of ${ghost} examples do not divide a mini-batch of ${m}`);
  return ghost;
}

export class BatchNorm implements Op {
  readonly parameters: Parameter[];
  firstParameter = 0;
  readonly replacesBias = true;
  /**
   * Both statistics inference can normalize with, kept whatever the config uses, so that a record
   * can compare them: Algorithm 2's estimate and the moving averages. Before any estimate or
   * step they are 0 and 1.
   */
  private readonly populationMean: Float32Array;
  private readonly populationVariance: Float32Array;
  private readonly movingMean: Float32Array;
  private readonly movingVariance: Float32Array;
  /** One per group of the mini-batch; their xhat and normalized are views of one [m, units] array each. */
  private groups: BatchNormArrays[] = [];
  /** The mean over groups of their statistics, where there are several groups. */
  private meanStatistics: BatchStatistics | null = null;
  private groupGradients: { dGamma: Float32Array; dBeta: Float32Array } | null = null;
  private wx: Float32Array | null = null;
  /** The output of every group: their `normalized` are views of it. */
  private output: Float32Array = new Float32Array(0);
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
    this.movingMean = new Float32Array(units);
    this.movingVariance = new Float32Array(units).fill(1);
  }

  forward(input: Signal, step: StepContext): Signal {
    const size = input.m * this.units;
    const perGroup = groupSize(input.m, this.options.ghostBatchSize) * this.units;
    if (this.groups.length !== size / perGroup || this.groups[0].xhat.length !== perGroup) this.groups = this.groupArrays(size, perGroup);
    const wx = arrayOf(input, (this.wx = sized(this.wx, size)));
    const [gamma, beta] = [step.params[this.firstParameter], step.params[this.firstParameter + 1]];
    this.groups.forEach((group, k) => batchNormTrainingArrays(wx.subarray(k * perGroup, (k + 1) * perGroup), gamma, beta, this.options.epsilon, group));
    return { m: input.m, units: this.units, tensor: null, array: this.output };
  }

  backward(dOutput: Gradient, step: StepContext): Gradient {
    const size = this.groups.length * this.groups[0].xhat.length;
    const m = size / this.units;
    const dNormalized = rowMajor(dOutput, m, (this.dNormalized = sized(this.dNormalized, size)));
    const dx = (this.dx = sized(this.dx, size));
    const [dGamma, dBeta] = [step.gradients[this.firstParameter], step.gradients[this.firstParameter + 1]];
    const gamma = step.params[this.firstParameter];
    const perGroup = this.groups[0].xhat.length;
    // The first group writes the parameter gradients, the others add theirs (one group: plain BN's backward pass).
    const extra = this.groups.length > 1 ? (this.groupGradients ??= { dGamma: new Float32Array(this.units), dBeta: new Float32Array(this.units) }) : null;
    this.groups.forEach((group, k) => {
      const at = k * perGroup;
      const out: BatchNormGradients = { dx: dx.subarray(at, at + perGroup), dGamma: k === 0 ? dGamma : extra!.dGamma, dBeta: k === 0 ? dBeta : extra!.dBeta };
      batchNormBackward(dNormalized.subarray(at, at + perGroup), group, gamma, out);
      if (k > 0) {
        for (let j = 0; j < this.units; j++) {
          dGamma[j] += extra!.dGamma[j];
          dBeta[j] += extra!.dBeta[j];
        }
      }
    });
    return { values: dx, transposed: false };
  }

  forwardTensor(x: tf.Tensor2D, params: readonly tf.Tensor[], mode: TensorMode): tf.Tensor2D {
    const [gamma, beta] = params as tf.Tensor1D[];
    if (mode.training) {
      const rows = x.shape[0];
      const m = mode.batchSize ?? rows;
      if (rows % m !== 0) throw new Error(`${rows} examples are not mini-batches of ${m}`);
      const perGroup = groupSize(m, this.options.ghostBatchSize);
      if (perGroup === rows) return batchNormTraining(x, gamma, beta, this.options.epsilon).normalized;
      return batchNormGroups(x, rows / perGroup, gamma, beta, this.options.epsilon).normalized;
    }
    const moving = (mode.statistics ?? this.options.inferenceStatistics) === 'moving';
    const [mean, variance] = moving ? [this.movingMean, this.movingVariance] : [this.populationMean, this.populationVariance];
    return batchNormInference(x, gamma, beta, tf.tensor1d(mean), tf.tensor1d(variance), this.options.epsilon);
  }

  /** The statistics of the last forward pass; with several groups, the mean of the groups' means and of their biased variances. */
  batchStatistics(): BatchStatistics {
    if (this.groups.length === 1) return { mean: this.groups[0].batchMean, variance: this.groups[0].batchVariance };
    const mean = (this.meanStatistics ??= { mean: new Float32Array(this.units), variance: new Float32Array(this.units) });
    mean.mean.fill(0);
    mean.variance.fill(0);
    for (const group of this.groups) {
      for (let j = 0; j < this.units; j++) {
        mean.mean[j] += group.batchMean[j] / this.groups.length;
        mean.variance[j] += group.batchVariance[j] / this.groups.length;
      }
    }
    return mean;
  }

  /**
   * Moves the moving averages toward the batch mean and the unbiased batch variance (each group's
   * variance unbiased by its own size, as Algorithm 2 does), whichever statistics inference uses.
   */
  observe(statistics: BatchStatistics, m: number): void {
    const decay = this.options.movingAverageDecay;
    const perGroup = groupSize(m, this.options.ghostBatchSize);
    const unbiased = perGroup / (perGroup - 1);
    const { movingMean: mean, movingVariance: variance } = this;
    for (let j = 0; j < mean.length; j++) {
      mean[j] = decay * mean[j] + (1 - decay) * statistics.mean[j];
      variance[j] = decay * variance[j] + (1 - decay) * unbiased * statistics.variance[j];
    }
  }

  /**
   * Algorithm 2, steps 9-10: the population mean is the mean of the batch means, the population
   * variance m/(m-1) x the mean of the biased batch variances (with ghost batches, of the virtual
   * batches and V/(V-1)); kept beside the moving averages, whichever inference uses.
   */
  estimate(x: tf.Tensor2D, params: readonly tf.Tensor[], groups: number, m: number): tf.Tensor2D {
    const [gamma, beta] = params as tf.Tensor1D[];
    const perGroup = groupSize(m, this.options.ghostBatchSize);
    const bn = batchNormGroups(x, (groups * m) / perGroup, gamma, beta, this.options.epsilon);
    readInto(tf.mean(bn.batchMeans, 0), this.populationMean);
    readInto(unbiasedVariance(tf.mean(bn.batchVariances, 0) as tf.Tensor1D, perGroup), this.populationVariance);
    return bn.normalized;
  }

  /** Room for `size / perGroup` groups whose xhat and normalized are views of one array each. */
  private groupArrays(size: number, perGroup: number): BatchNormArrays[] {
    if (size === perGroup) {
      const whole = batchNormArrays(size, this.units);
      this.output = whole.normalized;
      return [whole];
    }
    const xhat = new Float32Array(size);
    const output = (this.output = new Float32Array(size));
    return Array.from({ length: size / perGroup }, (_, k) => ({
      ...batchNormArrays(0, this.units),
      xhat: xhat.subarray(k * perGroup, (k + 1) * perGroup),
      normalized: output.subarray(k * perGroup, (k + 1) * perGroup),
    }));
  }

  statisticsArrays(kind: InferenceStatistics): PopulationStatistics {
    return kind === 'moving' ? { mean: this.movingMean, variance: this.movingVariance } : { mean: this.populationMean, variance: this.populationVariance };
  }

  /** The statistics inference normalizes with, as the config chooses them. */
  populationStatistics(): PopulationStatistics {
    if (this.options.inferenceStatistics === 'moving') return { mean: this.movingMean.slice(), variance: this.movingVariance.slice() };
    return { mean: this.populationMean.slice(), variance: this.populationVariance.slice() };
  }
}
