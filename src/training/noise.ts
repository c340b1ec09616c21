/**
 * The noise of Santurkar et al. 2018 ("How Does Batch Normalization Help Optimization?", arXiv
 * 1805.11604, section 2.1): BN layers whose output is perturbed, in training, so that the next
 * layer's input distribution keeps shifting although BN is there. In their words, "we perturb each
 * activation for each sample in the batch using i.i.d. noise sampled from a non-zero mean and
 * non-unit variance distribution", and that distribution changes at every step. If BN helped by
 * removing that shift, the noisy-BN network would train like the plain one; they found it trains
 * about as fast as the BN network.
 *
 * `noisy`, their scheme: at every step t, each unit j of a noisy layer draws a noise distribution,
 * N(mu_tj, sigma_tj^2) with mean mu_tj ~ U(-n, n) and standard deviation sigma_tj ~ U(0, n) (n the
 * strength); then every example i of the mini-batch gets its own draw from it, e_ij, and its BN
 * output y_ij becomes y_ij + e_ij. So within a step each unit's input to the nonlinearity has its
 * mean moved by mu_tj and its variance grown by sigma_tj^2, a different move at every step, and on
 * top of that each example is jittered on its own. The ranges are ours (the paper's section 2.1
 * states none): at n = 1 a BN unit's output, about N(0, 1) at the start, gets a mean anywhere in
 * -1..1 and a standard deviation anywhere in 1..1.41; at n = 0 the noise is 0.
 *
 * `noisy-shared`, the scheme of links before v4, kept so they replay: one affine map per unit and
 * step, shared by the whole mini-batch, y' = y * s_tj + b_tj with s_tj ~ U(1, 1 + n) and b_tj ~
 * U(-n, n). It is the shift without the per-example jitter: the distribution moves from step to
 * step, every example alike, which is exactly what "covariate shift" names.
 *
 * The draws are a pure function of (seed, step, layer, unit, example), so a run stays a pure
 * function of its config, both gradient paths (hand-written and autodiff) see the same noise, and
 * an arm's noise does not depend on how many layers of the other arm are noisy.
 */
import type { Normalization } from '../config/schema';
import { createGaussian, createRng, deriveSeed } from './rng';

/** The seed's stream for the noise (0: weights, 1: batch order, 2: population batches). */
const NOISE_STREAM = 3;

/**
 * One noisy layer's noise for one step: y' = y * scale + shift. Each of the two holds either one
 * value per unit (the same for every example) or one per example and unit ([m, units] row-major);
 * scale null is 1.
 */
export interface LayerNoise {
  scale: Float32Array | null;
  shift: Float32Array;
}

/** Whether a layer of this normalization gets noise. */
function isNoisy(layer: Normalization): boolean {
  return layer === 'noisy' || layer === 'noisy-shared';
}

/**
 * The noise of training step `step` (counted from 0) for every hidden layer, for a mini-batch of
 * `m` examples: null for layers that are not noisy. Layer l always draws from its own stream,
 * noisy or not its neighbours.
 */
export function drawNoise(
  normalization: readonly Normalization[],
  units: number,
  strength: number,
  seed: number,
  step: number,
  m: number,
): (LayerNoise | null)[] {
  const stepSeed = deriveSeed(deriveSeed(seed, NOISE_STREAM), step);
  return normalization.map((layer, index) => {
    if (!isNoisy(layer)) return null;
    const uniform = createRng(deriveSeed(stepSeed, index));
    return layer === 'noisy' ? perExample(uniform, units, strength, m) : sharedAffine(uniform, units, strength);
  });
}

/** Santurkar et al.'s: a distribution per unit, a draw from it per example. */
function perExample(uniform: () => number, units: number, strength: number, m: number): LayerNoise {
  const mean = new Float64Array(units);
  const deviation = new Float64Array(units);
  for (let j = 0; j < units; j++) {
    mean[j] = strength * (2 * uniform() - 1);
    deviation[j] = strength * uniform();
  }
  const gaussian = createGaussian(uniform);
  const shift = new Float32Array(m * units);
  for (let at = 0; at < shift.length; at += units) for (let j = 0; j < units; j++) shift[at + j] = mean[j] + deviation[j] * gaussian();
  return { scale: null, shift };
}

/** Before v4: one affine map per unit for the whole mini-batch. */
function sharedAffine(uniform: () => number, units: number, strength: number): LayerNoise {
  const scale = new Float32Array(units);
  const shift = new Float32Array(units);
  for (let j = 0; j < units; j++) {
    scale[j] = 1 + strength * uniform();
    shift[j] = strength * (2 * uniform() - 1);
  }
  return { scale, shift };
}

/**
 * y [rows x units] row-major to y * scale + shift, into `out` (in place unless given); returns it.
 * Noise per example is drawn for the mini-batch: row r of more rows (the probe digits of a
 * record) gets example r mod m's.
 */
export function applyNoise(y: Float32Array, noise: LayerNoise, units: number, out: Float32Array = y): Float32Array {
  const { scale, shift } = noise;
  for (let at = 0; at < y.length; at += units) {
    const b = at % shift.length;
    if (scale === null) {
      for (let j = 0; j < units; j++) out[at + j] = y[at + j] + shift[b + j];
    } else {
      const s = at % scale.length;
      for (let j = 0; j < units; j++) out[at + j] = y[at + j] * scale[s + j] + shift[b + j];
    }
  }
  return out;
}
