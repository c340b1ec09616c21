/**
 * The noise of Santurkar et al. 2018 ("How Does Batch Normalization Help Optimization?", section
 * 2.1): after each BN layer, random noise with a non-zero mean and a non-unit variance that
 * changes at every training step, so that the next layer's input distribution keeps shifting
 * although BN is there. If BN helped by removing that shift, the noisy-BN network would train
 * like the plain one; they found it trains about as fast as the BN network.
 *
 * The form chosen here: at every step, each unit j of a noisy layer draws a scale s_j ~ U(1, 1+n)
 * and a shift b_j ~ U(-n, n), and its BN output y becomes y·s_j + b_j for every example of the
 * mini-batch. Santurkar et al. perturb each activation of each example with i.i.d. draws from
 * a distribution that changes per step; one affine map per unit and step is the same kind of
 * shift with nothing else in it: within a step the whole batch sees one distribution, and from one
 * step to the next that distribution moves, which is exactly what "covariate shift" names (the
 * per-example part of their noise adds a regularizing jitter the question does not need).
 * s >= 1 so that no unit is silenced or flipped, which would test something else.
 *
 * The draws are a pure function of (seed, step, layer, unit), so a run stays a pure function of
 * its config, both gradient paths (hand-written and autodiff) see the same noise, and an arm's
 * noise does not depend on how many layers of the other arm are noisy.
 */
import { hasOp, type Normalization } from '../config/schema';
import { createRng, deriveSeed } from './rng';

/** The seed's stream for the noise (0: weights, 1: batch order, 2: population batches). */
const NOISE_STREAM = 3;

/** One noisy layer's noise for one step: y' = y * scale + shift, per unit. */
export interface LayerNoise {
  scale: Float32Array;
  shift: Float32Array;
}

/**
 * The noise of training step `step` (counted from 0) for every hidden layer: null for layers that
 * are not noisy. Layer l always draws from its own stream, noisy or not its neighbours.
 */
export function drawNoise(normalization: readonly Normalization[], units: number, strength: number, seed: number, step: number): (LayerNoise | null)[] {
  const stepSeed = deriveSeed(deriveSeed(seed, NOISE_STREAM), step);
  return normalization.map((layer, index) => {
    if (!hasOp(layer, 'noise')) return null;
    const uniform = createRng(deriveSeed(stepSeed, index));
    const scale = new Float32Array(units);
    const shift = new Float32Array(units);
    for (let j = 0; j < units; j++) {
      scale[j] = 1 + strength * uniform();
      shift[j] = strength * (2 * uniform() - 1);
    }
    return { scale, shift };
  });
}

/** y [m x units] row-major to y * scale + shift per unit, into `out` (in place unless given); returns it. */
export function applyNoise(y: Float32Array, noise: LayerNoise, out: Float32Array = y): Float32Array {
  const units = noise.scale.length;
  for (let at = 0; at < y.length; at += units) {
    for (let j = 0; j < units; j++) out[at + j] = y[at + j] * noise.scale[j] + noise.shift[j];
  }
  return out;
}
