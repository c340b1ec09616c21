/**
 * Summaries of the input to the nonlinearity: the percentiles the paper plots, moments, a
 * fixed-range histogram and the fraction of saturated inputs. Plain loops over typed arrays:
 * they run every k steps on up to 256 units x 2,000 probe digits per layer, inside the worker.
 */
import type { Activation } from '../config/schema';
import { HISTOGRAM, PERCENTILES, type Distribution } from './records';

/**
 * Puts the k-th smallest of values[left..right] at index k, smaller values before it and larger
 * after (Hoare partition around a median of three). Quickselect instead of a full sort: the
 * nine percentiles need nine selections on ever smaller ranges, about half the cost of sorting.
 */
function select(values: Float32Array, k: number, left: number, right: number): void {
  while (right > left) {
    const mid = (left + right) >>> 1;
    const a = values[left], b = values[mid], c = values[right];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i] = values[j];
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * Percentiles with d3.quantile's definition (R-7: linear interpolation between order statistics
 * at position p * (n - 1)). Reorders `values` in place; they must contain no NaN.
 */
export function percentilesInPlace(values: Float32Array, percentiles: readonly number[] = PERCENTILES): number[] {
  const n = values.length;
  if (n === 0) return percentiles.map(() => NaN);
  const result: number[] = [];
  // Ascending percentiles let each selection search only to the right of the previous one.
  let left = 0;
  for (const p of percentiles) {
    const position = (p / 100) * (n - 1);
    const below = Math.floor(position);
    select(values, below, left, n - 1);
    left = below;
    const low = values[below];
    if (position === below) {
      result.push(low);
      continue;
    }
    // The next order statistic is the minimum of everything right of `below`.
    let high = Infinity;
    for (let i = below + 1; i < n; i++) if (values[i] < high) high = values[i];
    result.push(low + (high - low) * (position - below));
  }
  return result;
}

/** Where an input saturates the nonlinearity, i.e. its derivative has all but vanished. */
export function isSaturated(activation: Activation): (x: number) => boolean {
  switch (activation) {
    // sigmoid'(4) = 0.018, 7% of its peak 0.25; tanh(x) = 2 sigmoid(2x) - 1, so |x| > 2 is the same point.
    case 'sigmoid':
      return (x) => x > 4 || x < -4;
    case 'tanh':
      return (x) => x > 2 || x < -2;
    // A ReLU passes no gradient at all for inputs below zero ("dead").
    case 'relu':
      return (x) => x <= 0;
  }
}

/** Counts per bin over HISTOGRAM's fixed range; values beyond it land in the end bins. */
export function histogram(values: ArrayLike<number>): number[] {
  const counts = new Array<number>(HISTOGRAM.bins).fill(0);
  const scale = HISTOGRAM.bins / (HISTOGRAM.max - HISTOGRAM.min);
  for (let i = 0; i < values.length; i++) {
    const bin = Math.floor((values[i] - HISTOGRAM.min) * scale);
    counts[bin < 0 ? 0 : bin >= HISTOGRAM.bins ? HISTOGRAM.bins - 1 : bin]++;
  }
  return counts;
}

/** Mean, standard deviation (population), percentiles and histogram. Reorders `values`. */
export function describeInPlace(values: Float32Array): Distribution {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return {
    mean,
    std: Math.sqrt(squares / values.length),
    histogram: histogram(values),
    percentiles: percentilesInPlace(values),
  };
}

/** Column `unit` of a row-major [rows, units] matrix. */
export function column(matrix: Float32Array, units: number, unit: number): Float32Array {
  const rows = matrix.length / units;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = matrix[r * units + unit];
  return out;
}

export function saturationFraction(values: ArrayLike<number>, activation: Activation): number {
  const saturated = isSaturated(activation);
  let count = 0;
  for (let i = 0; i < values.length; i++) if (saturated(values[i])) count++;
  return count / values.length;
}
