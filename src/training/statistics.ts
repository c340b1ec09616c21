/**
 * Summaries of the input to the nonlinearity: the percentiles the paper plots, moments, a
 * fixed-range histogram and the fraction of saturated inputs. Plain loops over typed arrays:
 * they run every k steps on up to 256 units x 2,000 probe digits per layer, inside the worker.
 */
import type { Activation } from '../config/schema';
import { HISTOGRAM, PERCENTILES, type Distribution } from './records';

/** Below this many values a range is sorted by insertion: fewer moves than partitioning. */
const SMALL_RANGE = 16;

function insertionSort(values: Float32Array, left: number, right: number): void {
  for (let i = left + 1; i <= right; i++) {
    const value = values[i];
    let j = i - 1;
    while (j >= left && values[j] > value) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = value;
  }
}

/**
 * Puts the order statistics `ranks[first..last)` (ascending indices) at their sorted positions.
 * One quickselect for many ranks: each partition step sends every wanted rank to the side that
 * holds it, so the nine percentiles (and their interpolation partners) cost a few passes over
 * the data rather than nine selections, and far less than a full sort.
 */
function selectRanks(values: Float32Array, ranks: number[], first: number, last: number, left: number, right: number): void {
  while (first < last && right > left) {
    if (right - left < SMALL_RANGE) {
      insertionSort(values, left, right);
      return;
    }
    const mid = (left + right) >>> 1;
    const a = values[left], b = values[mid], c = values[right];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = left;
    let j = right;
    // Hoare partition: afterwards [left..j] <= pivot <= [i..right], and (j, i) holds the pivot value.
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
    let leftEnd = first;
    while (leftEnd < last && ranks[leftEnd] <= j) leftEnd++;
    let rightStart = leftEnd;
    while (rightStart < last && ranks[rightStart] < i) rightStart++;
    // Ranks between j and i are already in place. Recurse into the side with fewer ranks, loop on the other.
    if (leftEnd - first < last - rightStart) {
      selectRanks(values, ranks, first, leftEnd, left, j);
      first = rightStart;
      left = i;
    } else {
      selectRanks(values, ranks, rightStart, last, i, right);
      last = leftEnd;
      right = j;
    }
  }
}

/**
 * Percentiles with d3.quantile's definition (R-7: linear interpolation between order statistics
 * at position p * (n - 1)). Reorders `values` in place; they must contain no NaN.
 */
export function percentilesInPlace(values: Float32Array, percentiles: readonly number[] = PERCENTILES): number[] {
  const n = values.length;
  if (n === 0) return percentiles.map(() => NaN);
  const positions = percentiles.map((p) => (p / 100) * (n - 1));
  const ranks = [...new Set(positions.flatMap((position) => [Math.floor(position), Math.min(n - 1, Math.ceil(position))]))].sort((a, b) => a - b);
  selectRanks(values, ranks, 0, ranks.length, 0, n - 1);
  return positions.map((position) => {
    const below = Math.floor(position);
    const low = values[below];
    return position === below ? low : low + (values[below + 1] - low) * (position - below);
  });
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
  for (let i = 0; i < values.length; i++) {
    const deviation = values[i] - mean;
    squares += deviation * deviation;
  }
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
