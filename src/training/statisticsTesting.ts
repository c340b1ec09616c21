/**
 * Samples of a record's values for the statistics' tests (statistics.test.ts, and the module's
 * port of them, simd/simdStatistics.test.ts): both hold their code to the same shapes.
 */
import { createGaussian, createRng } from './rng';

/** Inputs to a layer's sigmoids: each unit a normal of its own mean and a spread of 0.5 to 3. */
export function sigmoidInputs(n: number, seed: number): Float32Array {
  const uniform = createRng(seed);
  const gaussian = createGaussian(uniform);
  const units = Array.from({ length: 1 + Math.floor(uniform() * 100) }, () => ({ mean: 2 * gaussian(), spread: 0.5 + 2.5 * uniform() }));
  return Float32Array.from({ length: n }, (_, i) => units[i % units.length].mean + units[i % units.length].spread * gaussian());
}

/** Samples with no infinity, including the shapes that defeat equal-width buckets. */
export const FINITE_SAMPLES: Record<string, (n: number, seed: number) => Float32Array> = {
  'inputs to sigmoids': sigmoidInputs,
  'three distinct values': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, () => [-4, 0, 2.5][Math.floor(uniform() * 3)]);
  },
  'all equal': (n, seed) => new Float32Array(n).fill(createRng(seed)() * 10 - 5),
  // At 1e6 neighbouring float32 values are 0.0625 apart: a spread of 1e-7 around it is a few of them.
  'a spread of 1e-7 relative to 1e6': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, () => 1e6 + 0.0625 * Math.floor(uniform() * 4));
  },
  'a spread of 1e-7 around 1': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, () => 1 + 1e-7 * uniform());
  },
  'subnormal values': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, () => 1e-40 * uniform());
  },
  'huge and small magnitudes mixed': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, () => (uniform() < 0.5 ? -1 : 1) * 10 ** (76 * uniform() - 38));
  },
  'a few far outliers': (n, seed) => {
    const uniform = createRng(seed);
    return sigmoidInputs(n, seed).map((value) => (uniform() < 0.001 ? 1e30 : value));
  },
};
