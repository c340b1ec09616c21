// A record's summaries of the input to the nonlinearity over values in the module's memory, as
// src/training/statistics.ts computes them in JS (describeInPlace, saturationFraction, column) and
// src/training/noise.ts applies noisy BN's noise (applyNoise): the same float64 sums in the same
// order, the same buckets, the same quickselect with the same pivots (so the same order statistic
// even where -0 and 0 tie), the same interpolation, the same histogram. A record then reads its
// taps where the record's passes wrote them, and no value crosses to JS.

import { high64, low64 } from './lanes';

/** As statistics.ts: below this many values a range is sorted by insertion. */
const SMALL_RANGE = 16;
/** As statistics.ts: equal-width buckets between the minimum and the maximum. */
const BUCKETS = 4096;
/** As statistics.ts: below this many values one quickselect over all of them. */
const BUCKETING_MIN_LENGTH = 1500;
/** As statistics.ts: the most values the wanted buckets may hold before quickselect over all. */
const GATHERED_MAX = 1 << 16;
/** Order statistics a distribution can want: two per percentile. */
const MAX_RANKS = 64;
/** Histogram bins a distribution can count. */
const MAX_BINS = 1024;

/** Activations, as the host numbers them (ACTIVATION_CODE); identity saturates nowhere. */
const SIGMOID = 0;
const TANH = 1;
const RELU = 2;

// The workspace's layout, in bytes from its start.
const COUNTS = 0;
const CURSORS = COUNTS + BUCKETS * 4;
const HISTOGRAM_COUNTS = CURSORS + BUCKETS * 4;
const RANKS = HISTOGRAM_COUNTS + MAX_BINS * 4;
const GATHERED_RANKS = RANKS + MAX_RANKS * 4;
const WANTED = GATHERED_RANKS + MAX_RANKS * 4;
const STATISTICS = WANTED + MAX_RANKS * 4;
const GATHERED = STATISTICS + MAX_RANKS * 8;
const WORKSPACE = GATHERED + GATHERED_MAX * 4;

/** Bytes of the scratch memory describeDistribution needs (16-byte aligned by the host). */
export function distributionWorkspaceBytes(): i32 {
  return WORKSPACE;
}

// @ts-ignore: decorator
@inline function f32At(ptr: usize, i: i32): f32 {
  return load<f32>(ptr + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function setF32(ptr: usize, i: i32, value: f32): void {
  store<f32>(ptr + (<usize>i << 2), value);
}

// @ts-ignore: decorator
@inline function i32At(ptr: usize, i: i32): i32 {
  return load<i32>(ptr + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function setI32(ptr: usize, i: i32, value: i32): void {
  store<i32>(ptr + (<usize>i << 2), value);
}

/** Four float64 positions (two vectors) truncated toward zero as `x | 0` truncates them in range, saturating beyond (NaN to 0). */
// @ts-ignore: decorator
@inline function truncate4(low: v128, high: v128): v128 {
  return v128.shuffle<i32>(i32x4.trunc_sat_f64x2_s_zero(low), i32x4.trunc_sat_f64x2_s_zero(high), 0, 1, 4, 5);
}

/** Adds 1 to the int32 counter of each lane's index. */
// @ts-ignore: decorator
@inline function count4(counters: usize, indices: v128): void {
  const a = counters + (<usize>i32x4.extract_lane(indices, 0) << 2);
  store<i32>(a, load<i32>(a) + 1);
  const b = counters + (<usize>i32x4.extract_lane(indices, 1) << 2);
  store<i32>(b, load<i32>(b) + 1);
  const c = counters + (<usize>i32x4.extract_lane(indices, 2) << 2);
  store<i32>(c, load<i32>(c) + 1);
  const d = counters + (<usize>i32x4.extract_lane(indices, 3) << 2);
  store<i32>(d, load<i32>(d) + 1);
}

/** The sum of the lanes of two float64 vectors added to `sum` one by one, in lane order: the order of the values. */
// @ts-ignore: decorator
@inline function addInOrder(sum: f64, low: v128, high: v128): f64 {
  sum += f64x2.extract_lane(low, 0);
  sum += f64x2.extract_lane(low, 1);
  sum += f64x2.extract_lane(high, 0);
  return sum + f64x2.extract_lane(high, 1);
}

/** bucketOf for four values (lanes 0-1, 2-3 as float64). */
// @ts-ignore: decorator
@inline function buckets4(low: v128, high: v128, min: v128, scale: v128): v128 {
  return i32x4.min_s(truncate4(f64x2.mul(f64x2.sub(low, min), scale), f64x2.mul(f64x2.sub(high, min), scale)), i32x4.splat(BUCKETS - 1));
}

// @ts-ignore: decorator
@inline function smallestLane(v: v128): f32 {
  return min<f32>(min<f32>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), min<f32>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline function largestLane(v: v128): f32 {
  return max<f32>(max<f32>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max<f32>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * The first of `values` that compares equal to `extreme`: which of -0 and 0 a sequential
 * `if (value < min) min = value` keeps where both occur. Lanes met out of order cannot tell.
 */
function firstEqual(values: usize, n: i32, extreme: f32): f32 {
  if (extreme != 0) return extreme;
  let i = 0;
  while (f32At(values, i) != extreme) i++;
  return f32At(values, i);
}

function insertionSort(values: usize, left: i32, right: i32): void {
  for (let i = left + 1; i <= right; i++) {
    const value = f32At(values, i);
    let j = i - 1;
    while (j >= left && f32At(values, j) > value) {
      setF32(values, j + 1, f32At(values, j));
      j--;
    }
    setF32(values, j + 1, value);
  }
}

/** statistics.ts's selectRanks: the ranks ranks[first..last) (ascending) at their sorted positions within values[left..right]. */
function selectRanks(values: usize, ranks: usize, first: i32, last: i32, left: i32, right: i32): void {
  while (first < last && right > left) {
    if (right - left < SMALL_RANGE) {
      insertionSort(values, left, right);
      return;
    }
    const mid = <i32>(<u32>(left + right) >>> 1);
    const a = f32At(values, left),
      b = f32At(values, mid),
      c = f32At(values, right);
    const pivot = a < b ? (b < c ? b : max<f32>(a, c)) : a < c ? a : max<f32>(b, c);
    let i = left;
    let j = right;
    while (i <= j) {
      while (f32At(values, i) < pivot) i++;
      while (f32At(values, j) > pivot) j--;
      if (i <= j) {
        const swap = f32At(values, i);
        setF32(values, i, f32At(values, j));
        setF32(values, j, swap);
        i++;
        j--;
      }
    }
    let leftEnd = first;
    while (leftEnd < last && i32At(ranks, leftEnd) <= j) leftEnd++;
    let rightStart = leftEnd;
    while (rightStart < last && i32At(ranks, rightStart) < i) rightStart++;
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

/** The order statistics at the workspace's ranks by quickselect over all n values. */
function selectAll(values: usize, n: i32, rankCount: i32, workspace: usize): void {
  const ranks = workspace + RANKS;
  selectRanks(values, ranks, 0, rankCount, 0, n - 1);
  for (let k = 0; k < rankCount; k++) store<f64>(workspace + STATISTICS + (<usize>k << 3), <f64>f32At(values, i32At(ranks, k)));
}

/** statistics.ts's bucketOf: monotone in the value, the maximum (and its neighbours after rounding) in the last bucket. */
// @ts-ignore: decorator
@inline function bucketOf(value: f64, min: f64, scale: f64): i32 {
  const bucket = <i32>((value - min) * scale);
  return bucket < BUCKETS ? bucket : BUCKETS - 1;
}

/**
 * statistics.ts's orderStatistics once the buckets are counted (in COUNTS at this min and max):
 * the wanted buckets' values gathered and selected among; quickselect over everything where
 * those buckets do not separate the data.
 */
function bucketedStatistics(values: usize, n: i32, rankCount: i32, min: f32, max: f32, workspace: usize): void {
  const counts = workspace + COUNTS;
  const cursors = workspace + CURSORS;
  const ranks = workspace + RANKS;
  const gatheredRanks = workspace + GATHERED_RANKS;
  const wanted = workspace + WANTED;
  const statistics = workspace + STATISTICS;
  const gathered = workspace + GATHERED;
  const low = <f64>min;
  const scale = <f64>BUCKETS / (<f64>max - low);
  memory.fill(cursors, 0xff, BUCKETS * 4);
  let wantedCount = 0;
  let gatheredCount = 0;
  let bucket = 0;
  let bucketStart = 0;
  let gatheredLength = 0;
  for (let k = 0; k < rankCount; k++) {
    const rank = i32At(ranks, k);
    if (rank == 0 || rank == n - 1) {
      store<f64>(statistics + (<usize>k << 3), rank == 0 ? <f64>min : <f64>max);
      continue;
    }
    while (bucketStart + i32At(counts, bucket) <= rank) bucketStart += i32At(counts, bucket++);
    if (wantedCount == 0 || i32At(wanted, wantedCount - 1) != bucket) {
      setI32(wanted, wantedCount++, bucket);
      setI32(cursors, bucket, gatheredLength);
      gatheredLength += i32At(counts, bucket);
    }
    setI32(gatheredRanks, gatheredCount++, i32At(cursors, bucket) + rank - bucketStart);
  }
  if (gatheredLength > GATHERED_MAX || gatheredLength > <i32>(<u32>n >>> 3)) {
    selectAll(values, n, rankCount, workspace);
    return;
  }
  const minLanes = f64x2.splat(low);
  const scaleLanes = f64x2.splat(scale);
  const whole = n & ~3;
  for (let i = 0; i < whole; i += 4) {
    const v = v128.load(values + (<usize>i << 2));
    const buckets = buckets4(low64(v), high64(v), minLanes, scaleLanes);
    gather(gathered, cursors, i32x4.extract_lane(buckets, 0), f32x4.extract_lane(v, 0));
    gather(gathered, cursors, i32x4.extract_lane(buckets, 1), f32x4.extract_lane(v, 1));
    gather(gathered, cursors, i32x4.extract_lane(buckets, 2), f32x4.extract_lane(v, 2));
    gather(gathered, cursors, i32x4.extract_lane(buckets, 3), f32x4.extract_lane(v, 3));
  }
  for (let i = whole; i < n; i++) {
    const value = f32At(values, i);
    gather(gathered, cursors, bucketOf(<f64>value, low, scale), value);
  }
  // Each wanted bucket's cursor now marks the end of its values in `gathered`; select within each.
  let first = 0;
  let segmentStart = 0;
  for (let w = 0; w < wantedCount; w++) {
    const segmentEnd = i32At(cursors, i32At(wanted, w));
    let last = first;
    while (last < gatheredCount && i32At(gatheredRanks, last) < segmentEnd) last++;
    selectRanks(gathered, gatheredRanks, first, last, segmentStart, segmentEnd - 1);
    first = last;
    segmentStart = segmentEnd;
  }
  for (let k = 0, g = 0; k < rankCount; k++) {
    const rank = i32At(ranks, k);
    if (rank != 0 && rank != n - 1) store<f64>(statistics + (<usize>k << 3), <f64>f32At(gathered, i32At(gatheredRanks, g++)));
  }
}

/** Puts `value` at its bucket's cursor in `gathered` where the bucket holds a wanted rank. */
// @ts-ignore: decorator
@inline function gather(gathered: usize, cursors: usize, bucket: i32, value: f32): void {
  const cursor = i32At(cursors, bucket);
  if (cursor >= 0) {
    setF32(gathered, cursor, value);
    setI32(cursors, bucket, cursor + 1);
  }
}

/** Inserts `rank` into the ascending, distinct ranks[0..count); returns the new count. */
function insertRank(ranks: usize, count: i32, rank: i32): i32 {
  let at = count;
  while (at > 0 && i32At(ranks, at - 1) > rank) at--;
  if (at > 0 && i32At(ranks, at - 1) == rank) return count;
  for (let k = count; k > at; k--) setI32(ranks, k, i32At(ranks, k - 1));
  setI32(ranks, at, rank);
  return count + 1;
}

/** The order statistic of `rank`, which the workspace's ranks hold. */
function statisticAt(workspace: usize, rankCount: i32, rank: i32): f64 {
  let k = 0;
  while (k < rankCount - 1 && i32At(workspace + RANKS, k) != rank) k++;
  return load<f64>(workspace + STATISTICS + (<usize>k << 3));
}

/**
 * describeInPlace of the n float32 values at `values` (which it may reorder, as describeInPlace
 * does), with saturationFraction's count of them in the same first pass. Writes to `out`, as
 * float64: the mean, the population standard deviation, one value per entry of `percentiles`
 * (percentileCount float64, R-7 as d3.quantile), then the counts of `bins` bins over
 * [histogramMin, histogramMax] (values beyond in the end bins). Returns how many values saturate
 * `activation` (isSaturated's bounds; 0 for the identity), or -1, writing nothing, where the
 * workspace cannot hold that many percentiles or bins. `workspace` holds
 * distributionWorkspaceBytes() of scratch.
 */
export function describeDistribution(
  values: usize, n: i32, percentiles: usize, percentileCount: i32, histogramMin: f64, histogramMax: f64, bins: i32, activation: i32,
  workspace: usize, out: usize,
): i32 {
  if (2 * percentileCount > MAX_RANKS || bins > MAX_BINS) return -1;
  const histogram = workspace + HISTOGRAM_COUNTS;
  const counts = workspace + COUNTS;
  memory.fill(histogram, 0, <usize>bins << 2);
  const histogramScale = <f64>bins / (histogramMax - histogramMin);
  const lastBin = <f64>bins;
  // isSaturated: sigmoid'(4) is 7% of its peak, tanh(x) = 2 sigmoid(2x) - 1, a ReLU passes nothing at or below 0.
  const bound: f32 = activation == SIGMOID ? 4 : activation == TANH ? 2 : Infinity;
  const relu = activation == RELU;
  const whole = n & ~3;
  const histogramMinLanes = f64x2.splat(histogramMin);
  const histogramScaleLanes = f64x2.splat(histogramScale);
  const lastBinLanes = i32x4.splat(bins - 1);
  const above = f32x4.splat(bound);
  const below = f32x4.splat(-bound);
  const reluLanes = i32x4.splat(relu ? -1 : 0);
  let saturatedLanes = i32x4.splat(0);
  let sum: f64 = 0;
  let minLanes = f32x4.splat(Infinity);
  let maxLanes = f32x4.splat(-Infinity);
  for (let i = 0; i < whole; i += 4) {
    const v = v128.load(values + (<usize>i << 2));
    const wideLow = low64(v), wideHigh = high64(v);
    sum = addInOrder(sum, wideLow, wideHigh);
    minLanes = f32x4.pmin(minLanes, v);
    maxLanes = f32x4.pmax(maxLanes, v);
    // binOf: beyond the range (and NaN, at 0) into the end bins.
    const positions = truncate4(
      f64x2.mul(f64x2.sub(wideLow, histogramMinLanes), histogramScaleLanes),
      f64x2.mul(f64x2.sub(wideHigh, histogramMinLanes), histogramScaleLanes),
    );
    count4(histogram, i32x4.min_s(i32x4.max_s(positions, i32x4.splat(0)), lastBinLanes));
    const beyond = v128.or(f32x4.gt(v, above), f32x4.lt(v, below));
    saturatedLanes = i32x4.sub(saturatedLanes, v128.or(beyond, v128.and(f32x4.le(v, f32x4.splat(0)), reluLanes)));
  }
  let saturated = i32x4.extract_lane(saturatedLanes, 0) + i32x4.extract_lane(saturatedLanes, 1) + i32x4.extract_lane(saturatedLanes, 2) + i32x4.extract_lane(saturatedLanes, 3);
  let min = smallestLane(minLanes);
  let max = largestLane(maxLanes);
  for (let i = whole; i < n; i++) {
    const value = f32At(values, i);
    const wide = <f64>value;
    sum += wide;
    if (value < min) min = value;
    if (value > max) max = value;
    const position = (wide - histogramMin) * histogramScale;
    const bin = position >= lastBin ? bins - 1 : position > 0 ? <i32>position : 0;
    setI32(histogram, bin, i32At(histogram, bin) + 1);
    saturated += <i32>select<bool>(value <= 0, value > bound || value < -bound, relu);
  }
  min = firstEqual(values, n, min);
  max = firstEqual(values, n, max);
  const mean = sum / <f64>n;
  const meanLanes = f64x2.splat(mean);
  let squares: f64 = 0;
  // statistics.ts's bucketable: a diverging arm's infinities leave no finite bucket width.
  const counted = n >= BUCKETING_MIN_LENGTH && min != max && min != -Infinity && max != Infinity;
  const low = <f64>min;
  const scale = <f64>BUCKETS / (<f64>max - low);
  const bucketMin = f64x2.splat(low);
  const bucketScale = f64x2.splat(scale);
  if (counted) memory.fill(counts, 0, BUCKETS * 4);
  for (let i = 0; i < whole; i += 4) {
    const v = v128.load(values + (<usize>i << 2));
    const wideLow = low64(v), wideHigh = high64(v);
    const deviationLow = f64x2.sub(wideLow, meanLanes), deviationHigh = f64x2.sub(wideHigh, meanLanes);
    squares = addInOrder(squares, f64x2.mul(deviationLow, deviationLow), f64x2.mul(deviationHigh, deviationHigh));
    if (counted) count4(counts, buckets4(wideLow, wideHigh, bucketMin, bucketScale));
  }
  for (let i = whole; i < n; i++) {
    const value = <f64>f32At(values, i);
    const deviation = value - mean;
    squares += deviation * deviation;
    if (counted) {
      const bucket = bucketOf(value, low, scale);
      setI32(counts, bucket, i32At(counts, bucket) + 1);
    }
  }
  store<f64>(out, mean);
  store<f64>(out, Math.sqrt(squares / <f64>n), 8);

  const results = out + 16;
  if (n == 0) {
    for (let q = 0; q < percentileCount; q++) store<f64>(results + (<usize>q << 3), NaN);
  } else {
    const ranks = workspace + RANKS;
    const last = <f64>(n - 1);
    let rankCount = 0;
    for (let q = 0; q < percentileCount; q++) {
      const position = (load<f64>(percentiles + (<usize>q << 3)) / 100) * last;
      rankCount = insertRank(ranks, rankCount, <i32>Math.floor(position));
      rankCount = insertRank(ranks, rankCount, <i32>Math.min(last, Math.ceil(position)));
    }
    if (n < BUCKETING_MIN_LENGTH || (min != max && !counted)) selectAll(values, n, rankCount, workspace);
    else if (min == max) for (let k = 0; k < rankCount; k++) store<f64>(workspace + STATISTICS + (<usize>k << 3), <f64>min);
    else bucketedStatistics(values, n, rankCount, min, max, workspace);
    for (let q = 0; q < percentileCount; q++) {
      const position = (load<f64>(percentiles + (<usize>q << 3)) / 100) * last;
      const below = Math.floor(position);
      const low = statisticAt(workspace, rankCount, <i32>below);
      store<f64>(
        results + (<usize>q << 3),
        position == below ? low : low + (statisticAt(workspace, rankCount, <i32>below + 1) - low) * (position - below),
      );
    }
  }
  const histogramOut = results + (<usize>percentileCount << 3);
  for (let b = 0; b < bins; b++) store<f64>(histogramOut + (<usize>b << 3), <f64>i32At(histogram, b));
  return saturated;
}

/** Column `unit` of the row-major [rows, units] matrix at `matrix`, into `out`. */
export function gatherColumn(matrix: usize, rows: i32, units: i32, unit: i32, out: usize): void {
  for (let r = 0; r < rows; r++) setF32(out, r, f32At(matrix, r * units + unit));
}

/**
 * noise.ts's applyNoise in place on y [rows, units]: y + shift, or where `scale` is not 0
 * y * scale + shift computed in float64 and rounded once more to float32, as JS computes it into
 * a Float32Array (the product of two float32 is exact in float64; float32 arithmetic would round
 * it first). Row r takes row r mod shiftRows of shift [shiftRows, units] and of scale [1, units].
 */
export function applyNoise(y: usize, rows: i32, units: i32, scale: usize, shift: usize, shiftRows: i32): void {
  const whole = units & ~3;
  for (let r = 0; r < rows; r++) {
    const row = y + (<usize>(r * units) << 2);
    const b = shift + (<usize>((r % shiftRows) * units) << 2);
    if (scale == 0) {
      // A float32 sum rounds as the float64 sum rounded to float32 does.
      for (let j = 0; j < whole; j += 4) {
        const at = <usize>j << 2;
        v128.store(row + at, f32x4.add(v128.load(row + at), v128.load(b + at)));
      }
      for (let j = whole; j < units; j++) setF32(row, j, f32At(row, j) + f32At(b, j));
    } else {
      for (let j = 0; j < whole; j += 4) {
        const at = <usize>j << 2;
        const v = v128.load(row + at), s = v128.load(scale + at), t = v128.load(b + at);
        const low = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(s)), f64x2.promote_low_f32x4(t));
        const high = f64x2.add(
          f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 0, 1))),
          f64x2.promote_low_f32x4(v128.shuffle<f32>(t, t, 2, 3, 0, 1)),
        );
        v128.store(row + at, v128.shuffle<f32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5));
      }
      for (let j = whole; j < units; j++) setF32(row, j, <f32>(<f64>f32At(row, j) * <f64>f32At(scale, j) + <f64>f32At(b, j)));
    }
  }
}
