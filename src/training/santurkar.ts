/**
 * Santurkar, Tsipras, Ilyas and Madry (2018, arXiv 1805.11604, "How Does Batch Normalization Help
 * Optimization?") measure what BN changes about a training step in two ways, both computed here
 * from one step t, its mini-batch and its noise, with nothing but gradients at chosen parameters:
 *
 * - Internal covariate shift, their Definition 2.1: G_i is the gradient of layer i's weights at the
 *   current parameters; G'_i the same gradient after layers 1..i-1 (only those) have taken step t's
 *   update. ICS is ||G_i - G'_i|| (`l2`), and they also plot cos(G_i, G'_i) (`cosine`). The first
 *   layer has no layer below it: G'_1 = G_1, so 0 and 1 by definition.
 * - The landscape along the gradient, their Figure 4: g is the gradient of every parameter at W,
 *   and W - eta g a step of size eta along it. Over a range of eta: the loss there (4a, its
 *   min and max), how far the gradient there is from g, ||g(W) - g(W - eta g)|| (4b,
 *   "predictiveness", min and max), and the "effective beta-smoothness", the largest
 *   ||g(W) - g(W - eta g)|| / ||eta g|| (4c).
 *
 * Everything is evaluated on copies: the caller's parameters, its optimizer's state and whatever
 * its gradient function reads stay as they were. The landscape's arithmetic over every parameter
 * runs behind GradientWalk: in JS over arrays for any gradient function (walkInArrays), or where
 * the SIMD step keeps its parameters (SimdStep.walkAlong), each sum in the same order.
 */

/**
 * Loss and the gradient of every parameter of step t's mini-batch at `params`; the arrays may be
 * reused by the next call. Where `only` is given, the caller reads no gradient but that of
 * parameter `only`, and the others may be left as they are (a backward pass may stop there).
 */
export type GradientAt = (params: readonly Float32Array[], only?: number) => { loss: number; gradients: readonly Float32Array[] };

/** Where each parameter sits: `layerOf[k]` the layer (0 = first hidden) of parameter k, `weightsOf[i]` the index of hidden layer i's W. */
export interface ParameterLayout {
  layerOf: readonly number[];
  weightsOf: readonly number[];
}

export interface InternalCovariateShift {
  /** ||G_i - G'_i||, in the gradient's units (nats per unit of weight). */
  l2: number;
  /** cos(G_i, G'_i). */
  cosine: number;
}

export interface Landscape {
  /** The smallest and largest loss on step t's mini-batch at W - eta g over LANDSCAPE_STEP_FACTORS (nats). */
  lossMin: number;
  lossMax: number;
  /** The smallest and largest ||g(W) - g(W - eta g)|| over the same etas. */
  gradientChangeMin: number;
  gradientChangeMax: number;
  /** The largest ||g(W) - g(W - eta g)|| / ||eta g|| over the same etas. */
  betaSmoothness: number;
}

/**
 * The step sizes of the landscape, as multiples of the learning rate: log-spaced from a quarter to
 * four times the step the optimizer takes, so the band shows what a smaller or a larger learning
 * rate would have met (Santurkar et al. move along the gradient over a range of step sizes around
 * the one they train with).
 */
export const LANDSCAPE_STEP_FACTORS = [0.25, 0.5, 1, 2, 4] as const;

/** The float64 sums the measures take over a parameter array, each in index order: in JS, or in the SIMD module over arrays in its memory. */
export interface ParameterSums {
  squaredNorm(a: Float32Array): number;
  dot(a: Float32Array, b: Float32Array): number;
  distance(a: Float32Array, b: Float32Array): number;
}

/**
 * ICS of every hidden layer (Definition 2.1) at `params`. `gradient` is g at `params` (every
 * parameter, as gradientAt gives it); `updated` are the parameters after step t's whole update, of
 * which each G'_i takes the layers below i. `sums` compares G_i with G'_i.
 */
export function internalCovariateShift(
  gradientAt: GradientAt,
  params: readonly Float32Array[],
  gradient: readonly Float32Array[],
  updated: readonly Float32Array[],
  layout: ParameterLayout,
  sums: ParameterSums = JS_SUMS,
): InternalCovariateShift[] {
  return layout.weightsOf.map((weights, layer) => {
    if (layer === 0) return { l2: 0, cosine: 1 };
    const mixed = params.map((p, k) => (layout.layerOf[k] < layer ? updated[k] : p));
    const shifted = gradientAt(mixed, weights).gradients[weights];
    return { l2: sums.distance(gradient[weights], shifted), cosine: cosine(gradient[weights], shifted, sums) };
  });
}

/**
 * A walk along -g from W, g the gradient at W, on step t's mini-batch: what the landscape asks of
 * every parameter array k (parameters() order), each a float64 sum in index order.
 */
export interface GradientWalk {
  /** ||g_k||^2 of each parameter array. */
  readonly gradientSquaredNorms: readonly number[];
  /** At each step size eta in turn: the loss at W - eta g, and ||g_k(W) - g_k(W - eta g)|| of each parameter array. */
  along(etas: readonly number[]): { loss: number; gradientChanges: readonly number[] }[];
}

/** The walk in JS: W - eta g written into arrays of its own, and `gradientAt` asked there. */
export function walkInArrays(gradientAt: GradientAt, params: readonly Float32Array[], gradient: readonly Float32Array[]): GradientWalk {
  const moved = params.map((p) => new Float32Array(p.length));
  return {
    gradientSquaredNorms: gradient.map(squaredNorm),
    along: (etas) =>
      etas.map((eta) => {
        params.forEach((p, k) => moveAlong(p, gradient[k], moved[k], eta));
        const there = gradientAt(moved);
        return { loss: there.loss, gradientChanges: there.gradients.map((g, k) => distance(gradient[k], g)) };
      }),
  };
}

/** The landscape of `walk` (Figure 4), at eta = each factor times the learning rate. */
export function landscape(walk: GradientWalk, learningRate: number): Landscape {
  const gradientNorm = Math.sqrt(walk.gradientSquaredNorms.reduce((sum, s) => sum + s, 0));
  const result = { lossMin: Infinity, lossMax: -Infinity, gradientChangeMin: Infinity, gradientChangeMax: -Infinity, betaSmoothness: -Infinity };
  const etas = LANDSCAPE_STEP_FACTORS.map((factor) => factor * learningRate);
  walk.along(etas).forEach((there, j) => {
    const eta = etas[j];
    const change = Math.sqrt(there.gradientChanges.reduce((sum, d) => sum + d * d, 0));
    result.lossMin = Math.min(result.lossMin, there.loss);
    result.lossMax = Math.max(result.lossMax, there.loss);
    result.gradientChangeMin = Math.min(result.gradientChangeMin, change);
    result.gradientChangeMax = Math.max(result.gradientChangeMax, change);
    const stepLength = eta * gradientNorm;
    // A step of length 0 (a zero gradient or learning rate) says nothing of smoothness.
    result.betaSmoothness = Math.max(result.betaSmoothness, stepLength > 0 ? change / stepLength : NaN);
  });
  return result;
}

/**
 * Copies of the arrays: what a gradient function's reused buffers are read into before its next
 * call. Into `into` (arrays of the same sizes) where given: a caller that measures every few
 * steps allocates them once, since a fresh 100k-parameter copy costs ~20 times the copy itself.
 */
export function copyAll(arrays: readonly Float32Array[], into?: readonly Float32Array[]): Float32Array[] {
  if (into === undefined) return arrays.map((a) => a.slice());
  return arrays.map((a, k) => {
    into[k].set(a);
    return into[k];
  });
}

/** out = w - eta g: a point along -g (float64 arithmetic, float32 on the store, as the module's moveAlong rounds it). */
export function moveAlong(w: Float32Array, g: Float32Array, out: Float32Array, eta: number): void {
  for (let i = 0; i < w.length; i++) out[i] = w[i] - eta * g[i];
}

/** The sum of a[i]^2 in float64, in index order (as the module's squaredNorm). */
export function squaredNorm(a: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * a[i];
  return sum;
}

/** ||a - b|| from a float64 sum in index order (as the module's squaredDistance, then its square root). */
export function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/** The sum of a[i] b[i] in float64, in index order (as the module's dot). */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** The sums in JS, over any arrays. */
export const JS_SUMS: ParameterSums = { squaredNorm, dot, distance };

function cosine(a: Float32Array, b: Float32Array, sums: ParameterSums): number {
  const norms = Math.sqrt(sums.squaredNorm(a) * sums.squaredNorm(b));
  return norms > 0 ? sums.dot(a, b) / norms : NaN;
}
