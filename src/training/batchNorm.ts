/**
 * Batch normalization of the input to a nonlinearity (Ioffe & Szegedy 2015), written as explicit
 * forward and backward passes so that a training step needs no autodiff tape. Every function works
 * on a mini-batch `[m, units]` and per-unit vectors `[units]`; the tfjs ones (for inference and
 * the statistics) must be called inside a tf.tidy, the array ones serve the training step.
 */
import * as tf from '@tensorflow/tfjs';

/** What Algorithm 1 computes on one mini-batch, kept for the backward pass and the statistics. */
export interface BatchNormTraining {
  /** BN(x) = gamma * xhat + beta: the input to the nonlinearity. */
  normalized: tf.Tensor2D;
  /** (x - mu_B) / sqrt(sigma2_B + epsilon). */
  xhat: tf.Tensor2D;
  /** 1 / sqrt(sigma2_B + epsilon), per unit. */
  inverseStd: tf.Tensor1D;
  batchMean: tf.Tensor1D;
  /** The biased (divide by m) mini-batch variance Algorithm 1 normalizes with. */
  batchVariance: tf.Tensor1D;
}

/** Algorithm 1: normalize each unit with the mini-batch's own mean and biased variance. */
export function batchNormTraining(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTraining {
  const batchMean = tf.mean(x, 0) as tf.Tensor1D;
  const centered = tf.sub<tf.Tensor2D>(x, batchMean);
  const batchVariance = tf.mean(tf.square(centered), 0) as tf.Tensor1D;
  const inverseStd = tf.rsqrt(tf.add<tf.Tensor1D>(batchVariance, epsilon));
  const xhat = tf.mul<tf.Tensor2D>(centered, inverseStd);
  const normalized = tf.add<tf.Tensor2D>(tf.mul(xhat, gamma), beta);
  return { normalized, xhat, inverseStd, batchMean, batchVariance };
}

/**
 * Algorithm 1 on `groups` consecutive mini-batches stacked in x ([groups * m, units]) at once:
 * each group normalized with its own statistics, as if each were run alone, in one set of kernels
 * instead of one per group (Algorithm 2 needs the statistics of many mini-batches).
 */
export function batchNormGroups(
  x: tf.Tensor2D,
  groups: number,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { normalized: tf.Tensor2D; batchMeans: tf.Tensor2D; batchVariances: tf.Tensor2D } {
  const [rows, units] = x.shape;
  const grouped = tf.reshape(x, [groups, rows / groups, units]) as tf.Tensor3D;
  const { mean, variance } = tf.moments(grouped, 1, true);
  const xhat = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon)));
  const normalized = tf.reshape(tf.add(tf.mul(xhat, gamma), beta), [rows, units]) as tf.Tensor2D;
  return { normalized, batchMeans: tf.reshape(mean, [groups, units]) as tf.Tensor2D, batchVariances: tf.reshape(variance, [groups, units]) as tf.Tensor2D };
}

/** BatchNormTraining's fields as row-major arrays ([m, units], per-unit vectors [units]). */
export interface BatchNormArrays {
  normalized: Float32Array;
  xhat: Float32Array;
  inverseStd: Float32Array;
  batchMean: Float32Array;
  batchVariance: Float32Array;
}

/**
 * Algorithm 1 on a mini-batch held in plain memory: x is row-major [m, units], gamma and beta
 * [units]. The training step normalizes here rather than in tfjs: on [60 x 100] the arithmetic is
 * tiny, and each of the ~10 tfjs kernels it would take costs more to launch than to run. Sums
 * accumulate in float64; the statistics are rounded to float32 before use, as tfjs would hold them.
 * The results go into `out` (batchNormArrays), which a training step reuses from step to step.
 */
export function batchNormTrainingArrays(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  epsilon: number,
  out: BatchNormArrays = batchNormArrays(x.length, gamma.length),
): BatchNormArrays {
  const units = gamma.length;
  const m = x.length / units;
  const { xhat, normalized, batchMean, batchVariance, inverseStd } = out;
  // Unit by unit, so that the sums stay in local variables.
  for (let j = 0; j < units; j++) {
    let sum = 0;
    for (let at = j; at < x.length; at += units) sum += x[at];
    const mean = Math.fround(sum / m);
    let squares = 0;
    for (let at = j; at < x.length; at += units) {
      const centered = x[at] - mean;
      squares += centered * centered;
    }
    const variance = Math.fround(squares / m);
    const scale = Math.fround(1 / Math.sqrt(variance + epsilon));
    const g = gamma[j];
    const b = beta[j];
    for (let at = j; at < x.length; at += units) {
      const value = Math.fround((x[at] - mean) * scale);
      xhat[at] = value;
      normalized[at] = g * value + b;
    }
    batchMean[j] = mean;
    batchVariance[j] = variance;
    inverseStd[j] = scale;
  }
  return out;
}

/** Room for batchNormTrainingArrays' results on `size` values of `units` units, to reuse from step to step. */
export function batchNormArrays(size: number, units: number): BatchNormArrays {
  return {
    normalized: new Float32Array(size),
    xhat: new Float32Array(size),
    inverseStd: new Float32Array(units),
    batchMean: new Float32Array(units),
    batchVariance: new Float32Array(units),
  };
}

/** What batchNormBackward computes: dLoss/dx [m, units] and the per-unit parameter gradients. */
export interface BatchNormGradients {
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
}

/**
 * Gradients of Algorithm 1 given dLoss/dBN(x) ([m, units], row-major), with the mini-batch mean
 * and variance treated as functions of x (the paper's backward pass). The paper's three sums
 * collapse because sum(dxhat) = gamma * dbeta and sum(dxhat * xhat) = gamma * dgamma:
 *   dx = gamma / sqrt(sigma2_B + eps) * (dy - dbeta / m - xhat * dgamma / m).
 * The results go into `out` when given (it must not share memory with dNormalized).
 */
export function batchNormBackward(
  dNormalized: Float32Array,
  forward: Pick<BatchNormArrays, 'xhat' | 'inverseStd'>,
  gamma: Float32Array,
  out: BatchNormGradients = { dx: new Float32Array(dNormalized.length), dGamma: new Float32Array(gamma.length), dBeta: new Float32Array(gamma.length) },
): BatchNormGradients {
  const units = gamma.length;
  const m = dNormalized.length / units;
  const { xhat, inverseStd } = forward;
  const { dx, dGamma, dBeta } = out;
  for (let j = 0; j < units; j++) {
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let at = j; at < dNormalized.length; at += units) {
      sumDy += dNormalized[at];
      sumDyXhat += dNormalized[at] * xhat[at];
    }
    dBeta[j] = sumDy;
    dGamma[j] = sumDyXhat;
    const meanDy = dBeta[j] / m;
    const meanDyXhat = dGamma[j] / m;
    const scale = gamma[j] * inverseStd[j];
    for (let at = j; at < dNormalized.length; at += units) dx[at] = scale * (dNormalized[at] - meanDy - xhat[at] * meanDyXhat);
  }
  return out;
}

/**
 * Inference mode (Algorithm 2, step 11): each unit becomes the fixed affine map
 * gamma * (x - mean) / sqrt(variance + eps) + beta, so an example's output does not depend on
 * the other examples of its batch.
 */
export function batchNormInference(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  populationMean: tf.Tensor1D,
  populationVariance: tf.Tensor1D,
  epsilon: number,
): tf.Tensor2D {
  const scale = tf.mul<tf.Tensor1D>(gamma, tf.rsqrt(tf.add(populationVariance, epsilon)));
  const shift = tf.sub<tf.Tensor1D>(beta, tf.mul(populationMean, scale));
  return tf.add<tf.Tensor2D>(tf.mul(x, scale), shift);
}

/** m/(m-1) x the biased variance: Algorithm 2's unbiased estimate from mini-batches of size m. */
export function unbiasedVariance(biasedVariance: tf.Tensor1D, m: number): tf.Tensor1D {
  return tf.mul(biasedVariance, m / (m - 1));
}
