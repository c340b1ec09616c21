/**
 * Per-pixel-column reduction of a series before it is drawn, as uPlot does: a long run has many
 * points per pixel column, and a line through all of them paints the same pixels as one through
 * each column's first, lowest, highest and last point. The series keep every record; only what is
 * drawn is reduced, so no spike between two kept points goes missing.
 */

/**
 * Indices of the points to draw, in order: for each pixel column (Math.floor of the x position)
 * its first, lowest, highest and last defined point; each run of undefined points keeps its first,
 * so the line still breaks there.
 */
export function reduceLine(steps: ArrayLike<number>, values: ArrayLike<number>, x: (step: number) => number, defined: (value: number) => boolean): Uint32Array {
  const n = Math.min(steps.length, values.length);
  const kept = new Uint32Array(n);
  let count = 0;
  let column = NaN;
  let first = -1;
  let low = -1;
  let high = -1;
  let last = -1;
  const flush = () => {
    if (first < 0) return;
    // Kept in index order so the line runs left to right through the column's extremes.
    const picks = [first, low, high, last].sort((a, b) => a - b);
    for (let k = 0; k < picks.length; k++) if (k === 0 || picks[k] !== picks[k - 1]) kept[count++] = picks[k];
    first = -1;
  };
  let inGap = false;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (!defined(value)) {
      flush();
      if (!inGap) kept[count++] = i;
      inGap = true;
      column = NaN;
      continue;
    }
    inGap = false;
    const c = Math.floor(x(steps[i]));
    if (c !== column) {
      flush();
      column = c;
      first = low = high = i;
    } else {
      if (value < values[low]) low = i;
      if (value > values[high]) high = i;
    }
    last = i;
  }
  flush();
  return kept.slice(0, count);
}

/** A band reduced to at most two points per pixel column: its column's envelope at the column's first and last step. */
export interface ReducedBand {
  steps: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

/**
 * Reduces the band between `lower` and `upper` per pixel column to its envelope (lowest lower,
 * highest upper), so the filled area covers every pixel the full band would. A point where either
 * bound is not finite is kept as NaN, so the area breaks there.
 */
export function reduceBand(steps: ArrayLike<number>, lower: ArrayLike<number>, upper: ArrayLike<number>, x: (step: number) => number): ReducedBand {
  const n = Math.min(steps.length, lower.length, upper.length);
  const outSteps: number[] = [];
  const outLower: number[] = [];
  const outUpper: number[] = [];
  let column = NaN;
  let firstStep = NaN;
  let lastStep = NaN;
  let low = Infinity;
  let high = -Infinity;
  const flush = () => {
    if (Number.isNaN(firstStep)) return;
    outSteps.push(firstStep);
    outLower.push(low);
    outUpper.push(high);
    if (lastStep !== firstStep) {
      outSteps.push(lastStep);
      outLower.push(low);
      outUpper.push(high);
    }
    firstStep = NaN;
  };
  for (let i = 0; i < n; i++) {
    if (!(Number.isFinite(lower[i]) && Number.isFinite(upper[i]))) {
      flush();
      outSteps.push(steps[i]);
      outLower.push(NaN);
      outUpper.push(NaN);
      column = NaN;
      continue;
    }
    const c = Math.floor(x(steps[i]));
    if (c !== column) {
      flush();
      column = c;
      firstStep = steps[i];
      low = lower[i];
      high = upper[i];
    } else {
      low = Math.min(low, lower[i]);
      high = Math.max(high, upper[i]);
    }
    lastStep = steps[i];
  }
  flush();
  return { steps: Float64Array.from(outSteps), lower: Float64Array.from(outLower), upper: Float64Array.from(outUpper) };
}
