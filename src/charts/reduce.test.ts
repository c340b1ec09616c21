import { scaleLinear } from 'd3';
import { describe, expect, it } from 'vitest';
import { createRng } from '../training/rng';
import { reduceBand, reduceLine } from './reduce';

const N = 100_000;
const WIDTH = 600;
const steps = Float64Array.from({ length: N }, (_, i) => i * 10);
const x = scaleLinear()
  .domain([0, steps[N - 1]])
  .range([40, 40 + WIDTH]);

/** A noisy walk with a few one-point spikes, the kind of detail dropping every other point loses. */
function noisy(seed: number): Float64Array {
  const rng = createRng(seed);
  const values = new Float64Array(N);
  let v = 0;
  for (let i = 0; i < N; i++) values[i] = v += rng() - 0.5;
  for (const spike of [12_345, 54_321, 99_998]) values[spike] += 1000;
  return values;
}

/** Per pixel column, the lowest and highest value among `indices`. */
function columnExtremes(values: ArrayLike<number>, stepsOf: ArrayLike<number>, indices: Iterable<number>): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const i of indices) {
    const c = Math.floor(x(stepsOf[i]));
    const [lo, hi] = out.get(c) ?? [Infinity, -Infinity];
    out.set(c, [Math.min(lo, values[i]), Math.max(hi, values[i])]);
  }
  return out;
}

describe('reduceLine', () => {
  it('draws a 100,000-point series through the same extremes per pixel column as the raw data, with at most 4 points a column', () => {
    const values = noisy(1);
    const kept = reduceLine(steps, values, x, Number.isFinite);
    const all = Array.from({ length: N }, (_, i) => i);
    expect(columnExtremes(values, steps, kept)).toEqual(columnExtremes(values, steps, all));
    expect(kept.length).toBeLessThanOrEqual(4 * (WIDTH + 1));
    expect(kept[0]).toBe(0);
    expect(kept[kept.length - 1]).toBe(N - 1);
    for (let k = 1; k < kept.length; k++) expect(kept[k]).toBeGreaterThan(kept[k - 1]);
    expect(Array.from(kept)).toEqual(expect.arrayContaining([12_345, 54_321, 99_998]));
  });

  it('keeps every point when there are fewer points than columns', () => {
    const few = Float64Array.from({ length: 50 }, (_, i) => i * 20_000);
    const kept = reduceLine(few, few.map(Math.sin), x, Number.isFinite);
    expect(Array.from(kept)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('keeps a gap (values the chart cannot place) so the line still breaks there', () => {
    const values = noisy(2);
    values.fill(NaN, 40_000, 40_500);
    const kept = reduceLine(steps, values, x, Number.isFinite);
    const gaps = Array.from(kept).filter((i) => Number.isNaN(values[i]));
    expect(gaps).toEqual([40_000]);
  });
});

describe('reduceBand', () => {
  it("covers every column's envelope of a 100,000-point band: its lowest lower and highest upper bound", () => {
    const lower = noisy(3);
    const upper = lower.map((v, i) => v + 1 + (i % 7));
    const reduced = reduceBand(steps, lower, upper, x);
    const all = Array.from({ length: N }, (_, i) => i);
    const rawLow = columnExtremes(lower, steps, all);
    const rawHigh = columnExtremes(upper, steps, all);
    const idx = Array.from(reduced.steps, (_, i) => i);
    const lowOf = columnExtremes(reduced.lower, reduced.steps, idx);
    const highOf = columnExtremes(reduced.upper, reduced.steps, idx);
    for (const [c, [lo]] of rawLow) expect(lowOf.get(c)![0]).toBe(lo);
    for (const [c, [, hi]] of rawHigh) expect(highOf.get(c)![1]).toBe(hi);
    expect(reduced.steps.length).toBeLessThanOrEqual(2 * (WIDTH + 1));
    expect(reduced.steps[0]).toBe(0);
    expect(reduced.steps[reduced.steps.length - 1]).toBe(steps[N - 1]);
  });
});
