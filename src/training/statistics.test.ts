import * as d3 from 'd3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM, PERCENTILES } from './records';
import { createGaussian, createRng } from './rng';
import { column, describeInPlace, histogram, percentilesInPlace, saturationFraction } from './statistics';
import { FINITE_SAMPLES, sigmoidInputs } from './statisticsTesting';

function sample(n: number, seed: number, spread = 3): Float32Array {
  const gaussian = createGaussian(createRng(seed));
  return Float32Array.from({ length: n }, () => gaussian() * spread + 0.5);
}

/** -0 and 0 compare equal, so which of them a selection returns is arbitrary; toEqual tells them apart. */
function withoutNegativeZero(values: number[]): number[] {
  return values.map((value) => value + 0);
}

/** R-7 percentiles from a full sort: an order statistic at a whole position, else linear interpolation. */
function sortedPercentiles(values: Float32Array): number[] {
  const sorted = values.slice().sort();
  return PERCENTILES.map((p) => {
    const position = (p / 100) * (sorted.length - 1);
    const below = Math.floor(position);
    return position === below ? sorted[below] : sorted[below] + (sorted[below + 1] - sorted[below]) * (position - below);
  });
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

  it.each(Object.keys(FINITE_SAMPLES))('equals d3.quantile exactly on 1 to 5,000 values: %s', (name) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer(), (n, seed) => {
        const values = FINITE_SAMPLES[name](n, seed);
        const expected = PERCENTILES.map((p) => d3.quantile(values, p / 100)!);
        expect(withoutNegativeZero(percentilesInPlace(values.slice()))).toEqual(withoutNegativeZero(expected));
      }),
      { numRuns: 60 },
    );
  });

  it('equals d3.quantile exactly on one and on two values', () => {
    for (const values of [[0.25], [-3], [1, 2], [2, 1], [-1e30, 3e38], [7, 7]].map((numbers) => Float32Array.from(numbers))) {
      const expected = PERCENTILES.map((p) => d3.quantile(values, p / 100)!);
      expect(percentilesInPlace(values.slice())).toEqual(expected);
    }
  });

  it('equals d3.quantile exactly on any finite float32 values', () => {
    fc.assert(
      fc.property(fc.float32Array({ noNaN: true, noDefaultInfinity: true, minLength: 1, maxLength: 5000, size: 'max' }), (values) => {
        const expected = PERCENTILES.map((p) => d3.quantile(values, p / 100)!);
        expect(withoutNegativeZero(percentilesInPlace(values.slice()))).toEqual(withoutNegativeZero(expected));
      }),
      { numRuns: 100 },
    );
  });

  it('stays exact when a diverging layer produces infinities', () => {
    // d3.quantile also interpolates at whole positions, (value1 - value0) * 0, which is NaN beside an
    // infinity; the order statistic itself is the R-7 percentile there, and what this returns.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (n, seed, infinite) => {
        const uniform = createRng(seed);
        const values = sigmoidInputs(n, seed).map((value) => (uniform() < infinite ? (uniform() < 0.5 ? -Infinity : Infinity) : value));
        expect(withoutNegativeZero(percentilesInPlace(values.slice()))).toEqual(withoutNegativeZero(sortedPercentiles(values)));
      }),
      { numRuns: 60 },
    );
  });
});

describe('histogram', () => {
  it('counts sum to the number of values, with out-of-range values in the end bins', () => {
    const values = Float32Array.from([...sample(999, 7, 8), -1e6, 1e6, HISTOGRAM.max]);
    const counts = histogram(values);
    expect(counts).toHaveLength(HISTOGRAM.bins);
    expect(d3.sum(counts)).toBe(values.length);
    const inside = d3
      .bin()
      .domain([HISTOGRAM.min, HISTOGRAM.max])
      .thresholds(d3.range(HISTOGRAM.min, HISTOGRAM.max, (HISTOGRAM.max - HISTOGRAM.min) / HISTOGRAM.bins))(
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
    expect(d.std).toBeCloseTo(Math.sqrt((d3.variance(copy)! * (copy.length - 1)) / copy.length), 4);
    expect(d3.sum(d.histogram)).toBe(copy.length);
  });

  it('gives the percentiles and histogram of percentilesInPlace and histogram, which it computes in fewer passes', () => {
    for (const [name, make] of Object.entries(FINITE_SAMPLES)) {
      // Either side of the size where percentiles switch from quickselect to buckets.
      for (const n of [1, 2, 1499, 1500, 100_000]) {
        const values = make(n, n);
        const expected = PERCENTILES.map((p) => d3.quantile(values, p / 100)!);
        const d = describeInPlace(values.slice());
        expect(withoutNegativeZero(d.percentiles), `${name}, ${n} values`).toEqual(withoutNegativeZero(expected));
        expect(d.histogram, `${name}, ${n} values`).toEqual(histogram(values));
        expect(d.mean, `${name}, ${n} values`).toBe(values.reduce((sum, value) => sum + value, 0) / n);
      }
    }
    const diverged = sigmoidInputs(20_000, 5).map((value, i) => (i % 97 === 0 ? Infinity : value));
    expect(withoutNegativeZero(describeInPlace(diverged.slice()).percentiles)).toEqual(withoutNegativeZero(sortedPercentiles(diverged)));
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
