/**
 * Batch normalization of the input to a nonlinearity (Ioffe & Szegedy 2015), written as explicit
 * forward and backward passes so that a training step needs no autodiff tape. Every function works
 * on a mini-batch `[m, units]` and per-unit vectors `[units]`, and must be called inside a tf.tidy.
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
export function batchNormTraining(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): BatchNormTraining {
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

/**
 * Gradients of Algorithm 1 given dLoss/dBN(x), with the mini-batch mean and variance treated as
 * functions of x (the paper's backward pass). The paper's three sums collapse because
 * sum(dxhat) = gamma * dbeta and sum(dxhat * xhat) = gamma * dgamma:
 *   dx = gamma / sqrt(sigma2_B + eps) * (dy - dbeta / m - xhat * dgamma / m).
 */
export function batchNormBackward(
  dNormalized: tf.Tensor2D,
  forward: Pick<BatchNormTraining, 'xhat' | 'inverseStd'>,
  gamma: tf.Tensor1D,
): { dx: tf.Tensor2D; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  const m = dNormalized.shape[0];
  const dGamma = tf.sum(tf.mul(dNormalized, forward.xhat), 0) as tf.Tensor1D;
  const dBeta = tf.sum(dNormalized, 0) as tf.Tensor1D;
  const scale = tf.mul(gamma, forward.inverseStd);
  const dx = tf.mul<tf.Tensor2D>(
    tf.sub(tf.sub(dNormalized, tf.div(dBeta, m)), tf.mul(forward.xhat, tf.div(dGamma, m))),
    scale,
  );
  return { dx, dGamma, dBeta };
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
