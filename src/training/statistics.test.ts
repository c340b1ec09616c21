import * as d3 from 'd3';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM, PERCENTILES } from './records';
import { createGaussian, createRng } from './rng';
import { column, describeInPlace, histogram, percentilesInPlace, saturationFraction } from './statistics';

function sample(n: number, seed: number, spread = 3): Float32Array {
  const gaussian = createGaussian(createRng(seed));
  return Float32Array.from({ length: n }, () => gaussian() * spread + 0.5);
}

describe('percentilesInPlace', () => {
  it.each([1, 2, 3, 10, 61, 1000, 100_000])('agrees with d3.quantile on %i values', (n) => {
    const values = sample(n, n);
    const sorted = Array.from(values).sort((a, b) => a - b);
    const expected = PERCENTILES.map((p) => d3.quantile(sorted, p / 100)!);
    const actual = percentilesInPlace(values.slice());
    actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 5));
  });

  it('agrees with d3.quantile when many values are tied', () => {
    // Saturated layers produce many identical inputs; partitioning must still be right.
    const values = Float32Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? 3 : i % 3));
    const expected = PERCENTILES.map((p) => d3.quantile(Array.from(values), p / 100)!);
    expect(percentilesInPlace(values.slice())).toEqual(expected.map((v) => Math.fround(v)));
  });

  it('returns NaN for every percentile of an empty sample', () => {
    expect(percentilesInPlace(new Float32Array(0)).every(Number.isNaN)).toBe(true);
  });
});

describe('histogram', () => {
  it('counts sum to the number of values, with out-of-range values in the end bins', () => {
    const values = Float32Array.from([...sample(999, 7, 8), -1e6, 1e6, HISTOGRAM.max]);
    const counts = histogram(values);
    expect(counts).toHaveLength(HISTOGRAM.bins);
    expect(d3.sum(counts)).toBe(values.length);
    const inside = d3.bin().domain([HISTOGRAM.min, HISTOGRAM.max]).thresholds(d3.range(HISTOGRAM.min, HISTOGRAM.max, (HISTOGRAM.max - HISTOGRAM.min) / HISTOGRAM.bins))(
      Array.from(values).filter((v) => v > HISTOGRAM.min && v < HISTOGRAM.max),
    );
    // Interior bins agree with d3.bin (the end bins also collect the out-of-range values).
    for (let b = 1; b < HISTOGRAM.bins - 1; b++) expect(counts[b]).toBe(inside[b].length);
  });
});

describe('describeInPlace', () => {
  it('gives the mean and population standard deviation', () => {
    const values = sample(10_000, 3);
    const copy = Array.from(values);
    const d = describeInPlace(values);
    expect(d.mean).toBeCloseTo(d3.mean(copy)!, 4);
    expect(d.std).toBeCloseTo(Math.sqrt(d3.variance(copy)! * (copy.length - 1) / copy.length), 4);
    expect(d3.sum(d.histogram)).toBe(copy.length);
  });
});

describe('column', () => {
  it('takes one unit of a row-major [examples, units] matrix', () => {
    const matrix = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(Array.from(column(matrix, 3, 1))).toEqual([2, 5]);
  });
});

describe('saturationFraction', () => {
  it('counts sigmoid inputs beyond +-4, tanh beyond +-2 and ReLU inputs at or below 0', () => {
    const values = [-5, -3, -1, 0, 1, 3, 5];
    expect(saturationFraction(values, 'sigmoid')).toBeCloseTo(2 / 7);
    expect(saturationFraction(values, 'tanh')).toBeCloseTo(4 / 7);
    expect(saturationFraction(values, 'relu')).toBeCloseTo(4 / 7);
  });
});
