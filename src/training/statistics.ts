/**
 * Summaries of the input to the nonlinearity: the percentiles the paper plots, moments, a
 * fixed-range histogram and the fraction of saturated inputs. Plain loops over typed arrays:
 * they run every k steps on up to 256 units x 2,000 probe digits per layer, inside the worker.
 */
import type { Activation } from '../config/schema';
import type { LayerRecord } from './measures';
import { applyNoise, type LayerNoise } from './noise';
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
    const a = values[left],
      b = values[mid],
      c = values[right];
    const pivot = a < b ? (b < c ? b : Math.max(a, c)) : a < c ? a : Math.max(b, c);
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
 * Equal-width buckets between the minimum and the maximum. With 100,000 inputs to the nonlinearity
 * a bucket near the median holds some 25-100 of them, so the wanted order statistics are found
 * among a few hundred values rather than by partitioning all of them.
 */
const BUCKETS = 4096;
/**
 * Below this many values one quickselect over all of them costs less than counting into buckets
 * (measured crossover ~1,300 values): a tracked unit's 1,000 probe digits stay on quickselect.
 */
const BUCKETING_MIN_LENGTH = 1500;
/**
 * When the buckets that hold wanted ranks hold more than an eighth of the values, or more than
 * this, they do not separate the data (heavy ties, or a few outliers stretching the range) and
 * quickselect over everything costs about as much; the cap also bounds the scratch array.
 */
const GATHERED_MAX = 1 << 16;

const bucketCounts = new Int32Array(BUCKETS);
/** Next free slot in `gathered` of each bucket that holds a wanted rank, -1 for every other bucket. */
const bucketCursors = new Int32Array(BUCKETS).fill(-1);
let gathered = new Float32Array(1024);

/**
 * The one bucket computation, used both to count and to gather, so a value is always gathered
 * from the bucket it was counted in. Rounding of `value - min` and of the product is monotone, so
 * a larger value never lands in a lower bucket and the counts give each bucket's ranks exactly.
 */
function bucketOf(value: number, min: number, scale: number): number {
  const bucket = ((value - min) * scale) | 0;
  // The maximum, and values next to it after rounding, reach BUCKETS: they belong to the last bucket.
  return bucket < BUCKETS ? bucket : BUCKETS - 1;
}

/** The order statistics `ranks` (ascending, distinct) of `values`, by quickselect over all of them. */
function selectAll(values: Float32Array, ranks: number[]): number[] {
  selectRanks(values, ranks, 0, ranks.length, 0, values.length - 1);
  return ranks.map((rank) => values[rank]);
}

/** The range of values whose bucket counts are already in `bucketCounts`, counted with bucketOf at this min and max. */
interface Counted {
  min: number;
  max: number;
}

/** Whether order statistics of `n` values between `min` and `max` are found through the buckets. */
function bucketable(n: number, min: number, max: number): boolean {
  // A diverging arm can produce infinities, which leave no finite bucket width.
  return n >= BUCKETING_MIN_LENGTH && min !== max && min !== -Infinity && max !== Infinity;
}

/**
 * The order statistics `ranks` (ascending, distinct) of `values`: count values into buckets, keep
 * only the buckets that hold a wanted rank and select within those. Leaves `values` untouched
 * unless it falls back to quickselect over all of them. `counted`: the buckets are already
 * counted (describeInPlace counts them in a pass it makes anyway).
 */
function orderStatistics(values: Float32Array, ranks: number[], counted: Counted | null): number[] {
  const n = values.length;
  if (n < BUCKETING_MIN_LENGTH) return selectAll(values, ranks);
  let { min, max } = counted ?? { min: Infinity, max: -Infinity };
  if (counted === null) {
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  if (min === max) return ranks.map(() => min);
  if (!bucketable(n, min, max)) return selectAll(values, ranks);
  const scale = BUCKETS / (max - min);
  if (counted === null) {
    bucketCounts.fill(0);
    for (let i = 0; i < n; i++) bucketCounts[bucketOf(values[i], min, scale)]++;
  }

  // Ranks 0 and n - 1 are the minimum and maximum, already known; every other rank gets its bucket
  // and a slot in `gathered`, where the wanted buckets' values lie bucket after bucket.
  const statistics = new Array<number>(ranks.length);
  const wantedBuckets: number[] = [];
  const gatheredRanks: number[] = [];
  let bucket = 0;
  let bucketStart = 0;
  let gatheredLength = 0;
  for (let k = 0; k < ranks.length; k++) {
    const rank = ranks[k];
    if (rank === 0 || rank === n - 1) {
      statistics[k] = rank === 0 ? min : max;
      continue;
    }
    while (bucketStart + bucketCounts[bucket] <= rank) bucketStart += bucketCounts[bucket++];
    if (wantedBuckets[wantedBuckets.length - 1] !== bucket) {
      wantedBuckets.push(bucket);
      bucketCursors[bucket] = gatheredLength;
      gatheredLength += bucketCounts[bucket];
    }
    gatheredRanks.push(bucketCursors[bucket] + rank - bucketStart);
  }
  if (gatheredLength > GATHERED_MAX || gatheredLength > n >>> 3) {
    for (const wanted of wantedBuckets) bucketCursors[wanted] = -1;
    return selectAll(values, ranks);
  }
  if (gathered.length < gatheredLength) gathered = new Float32Array(Math.min(GATHERED_MAX, 2 ** Math.ceil(Math.log2(gatheredLength))));

  for (let i = 0; i < n; i++) {
    const value = values[i];
    const wanted = bucketOf(value, min, scale);
    const cursor = bucketCursors[wanted];
    if (cursor >= 0) {
      gathered[cursor] = value;
      bucketCursors[wanted] = cursor + 1;
    }
  }

  // Each wanted bucket's cursor now marks the end of its values in `gathered`; select within each.
  let first = 0;
  let segmentStart = 0;
  for (const wanted of wantedBuckets) {
    const segmentEnd = bucketCursors[wanted];
    bucketCursors[wanted] = -1;
    let last = first;
    while (last < gatheredRanks.length && gatheredRanks[last] < segmentEnd) last++;
    selectRanks(gathered, gatheredRanks, first, last, segmentStart, segmentEnd - 1);
    first = last;
    segmentStart = segmentEnd;
  }
  for (let k = 0, g = 0; k < ranks.length; k++) {
    if (ranks[k] !== 0 && ranks[k] !== n - 1) statistics[k] = gathered[gatheredRanks[g++]];
  }
  return statistics;
}

/**
 * Percentiles with d3.quantile's definition (R-7: linear interpolation between order statistics
 * at position p * (n - 1)). May reorder `values` (only when it holds fewer than 1,500
 * values, an infinity, or values the buckets cannot separate); they must contain no NaN.
 */
export function percentilesInPlace(values: Float32Array, percentiles: readonly number[] = PERCENTILES): number[] {
  return percentilesOf(values, percentiles, null);
}

function percentilesOf(values: Float32Array, percentiles: readonly number[], counted: Counted | null): number[] {
  const n = values.length;
  if (n === 0) return percentiles.map(() => NaN);
  const positions = percentiles.map((p) => (p / 100) * (n - 1));
  const ranks = [...new Set(positions.flatMap((position) => [Math.floor(position), Math.min(n - 1, Math.ceil(position))]))].sort((a, b) => a - b);
  const statistics = orderStatistics(values, ranks, counted);
  const statisticAt = (rank: number) => statistics[ranks.indexOf(rank)];
  return positions.map((position) => {
    const below = Math.floor(position);
    const low = statisticAt(below);
    return position === below ? low : low + (statisticAt(below + 1) - low) * (position - below);
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

/** The bin of `value` among `bins` over HISTOGRAM's range from `min`; values beyond it land in the end bins. */
function binOf(value: number, min: number, scale: number, bins: number): number {
  const position = (value - min) * scale;
  return position >= bins ? bins - 1 : position > 0 ? position | 0 : 0;
}

/** Counts per bin over HISTOGRAM's fixed range; values beyond it land in the end bins. */
export function histogram(values: ArrayLike<number>): number[] {
  // HISTOGRAM's fields read once, outside the loop: loaded inside it they made the loop several
  // times slower when reached through describeInPlace, as the trainer reaches it.
  const { min, bins } = HISTOGRAM;
  const counts = new Int32Array(bins);
  const scale = bins / (HISTOGRAM.max - min);
  for (let i = 0; i < values.length; i++) counts[binOf(values[i], min, scale, bins)]++;
  return Array.from(counts);
}

/**
 * Mean, standard deviation (population), percentiles and histogram. May reorder `values`, as
 * percentilesInPlace does. Two passes over the values where six would do it one summary at a time:
 * the sum, the range and the histogram in one, the squared deviations and the percentiles' bucket
 * counts (which need the mean and the range) in the next; each sum in the same order as alone.
 */
export function describeInPlace(values: Float32Array): Distribution {
  const n = values.length;
  const { min: histogramMin, bins } = HISTOGRAM;
  const histogramScale = bins / (HISTOGRAM.max - histogramMin);
  const counts = new Int32Array(bins);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
    counts[binOf(value, histogramMin, histogramScale, bins)]++;
  }
  const mean = sum / n;
  let squares = 0;
  const counted = bucketable(n, min, max);
  if (counted) {
    const scale = BUCKETS / (max - min);
    bucketCounts.fill(0);
    for (let i = 0; i < n; i++) {
      const value = values[i];
      const deviation = value - mean;
      squares += deviation * deviation;
      bucketCounts[bucketOf(value, min, scale)]++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const deviation = values[i] - mean;
      squares += deviation * deviation;
    }
  }
  return {
    mean,
    std: Math.sqrt(squares / n),
    histogram: Array.from(counts),
    percentiles: percentilesOf(values, PERCENTILES, counted ? { min, max } : null),
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

/** What a record tells of a hidden layer's inputs to the nonlinearity: the tracked unit's distribution, the saturated share, all units pooled. */
export type LayerDistributions = Pick<LayerRecord, 'unit' | 'saturation' | 'pooled'>;

/**
 * A layer's distributions from the probe digits' inputs to its nonlinearity [rows, units]: noisy
 * BN's last noise added first (what the nonlinearity saw in training), then the tracked unit,
 * the saturated share and the pooled units. Adds the noise to `probe` and may reorder it.
 */
export function describeLayer(probe: Float32Array, units: number, noise: LayerNoise | null, activation: Activation, trackedUnit: number): LayerDistributions {
  if (noise) applyNoise(probe, noise, units);
  const unit = describeInPlace(column(probe, units, trackedUnit));
  const saturation = saturationFraction(probe, activation);
  return { unit, saturation, pooled: describeInPlace(probe) };
}
