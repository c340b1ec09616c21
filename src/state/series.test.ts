import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HISTOGRAM, PERCENTILES, type ArmRecord, type Distribution } from '../training/records';
import { ArmSeries, capacityWithin, SERIES_MEMORY_BOUND_BYTES, seriesBytesPerRecord } from './series';

const LAYERS = 3;

/** A distribution whose every number encodes its step, layer and view, to check alignment. */
function distribution(step: number, layer: number, view: number): Distribution {
  const base = step * 1000 + layer * 10 + view;
  const histogram = new Array<number>(HISTOGRAM.bins).fill(0);
  histogram[step % HISTOGRAM.bins] = 3;
  histogram[(step + 1) % HISTOGRAM.bins] += 1;
  return {
    percentiles: PERCENTILES.map((p) => base + p / 1000),
    mean: base + 0.5,
    std: layer + view + 1,
    histogram,
  };
}

function record(step: number, loss = 1 / (step + 1)): ArmRecord {
  return {
    step,
    loss,
    testAccuracy: (step % 100) / 100,
    // All test digits only at every 10th step, as the trainer scores them at every 10th record.
    fullTestAccuracy: step % 10 === 0 ? (step % 97) / 97 : NaN,
    layers: Array.from({ length: LAYERS }, (_, l) => ({
      unit: distribution(step, l, 0),
      pooled: distribution(step, l, 1),
      saturation: (step % 7) / 7,
    })),
  };
}

/** Pushes records of steps 0, interval, 2 x interval, ... */
function filled(count: number, capacity = capacityWithin(LAYERS), interval = 1): ArmSeries {
  const series = new ArmSeries(LAYERS, capacity);
  for (let r = 0; r < count; r++) series.push(record(r * interval));
  return series;
}

describe('ArmSeries', () => {
  it('keeps every record while it has room', () => {
    const series = filled(100, 128);
    expect(series.length).toBe(100);
    expect(Array.from(series.steps())).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(series.stride).toBe(1);
  });

  it("keeps a record taken off the metrics interval (a Step press) between the interval's records", () => {
    const series = new ArmSeries(LAYERS, 128);
    for (const step of [0, 1, 2, 100, 200]) series.push(record(step));
    expect(Array.from(series.steps())).toEqual([0, 1, 2, 100, 200]);
    expect(series.saturation(0)[1]).toBeCloseTo(1 / 7, 6);
  });

  it('keeps every record of a 200,000-step run at the default interval (100) within its memory bound', () => {
    const series = filled(2001, undefined, 100);
    expect(series.length).toBe(2001);
    expect(series.stride).toBe(1);
    expect(series.steps()[2000]).toBe(200_000);
    expect(series.bytes).toBeLessThanOrEqual(SERIES_MEMORY_BOUND_BYTES);
  });

  it('stays within its memory bound however many records a run produces, keeping every other one past it', () => {
    const capacity = capacityWithin(LAYERS);
    expect(capacity * seriesBytesPerRecord(LAYERS)).toBeLessThanOrEqual(SERIES_MEMORY_BOUND_BYTES);
    const series = filled(capacity + 3);
    expect(series.length).toBeLessThanOrEqual(capacity);
    expect(series.stride).toBe(2);
    expect(series.bytes).toBe(capacity * seriesBytesPerRecord(LAYERS));
    expect(series.bytes).toBeLessThanOrEqual(SERIES_MEMORY_BOUND_BYTES);
  });

  it('holds at most its capacity however many records a run produces', () => {
    const series = filled(100_000, 256);
    expect(series.length).toBeLessThanOrEqual(256);
    expect(series.length).toBeGreaterThan(128);
    expect(series.bytes).toBe(256 * seriesBytesPerRecord(LAYERS));
  });

  it('gives back the records it was given, as the trainer measured them', () => {
    const given = Array.from({ length: 300 }, (_, i) => record(i * 10));
    const series = new ArmSeries(LAYERS);
    series.pushMany(given);
    expect(series.records()).toEqual(given);
  });

  it('keeps the first and the latest record after halving', () => {
    for (const count of [129, 200, 257, 1000, 100_000]) {
      const series = filled(count, 128, 50);
      const steps = series.steps();
      expect(steps[0]).toBe(0);
      expect(steps[steps.length - 1]).toBe((count - 1) * 50);
    }
  });

  it('spaces the points evenly over the steps after halving, all but the latest', () => {
    const series = filled(100_000, 2048, 50);
    const steps = series.steps();
    const spacing = 50 * series.stride;
    expect(series.stride).toBeGreaterThan(1);
    for (let i = 1; i < steps.length - 1; i++) expect(steps[i] - steps[i - 1]).toBe(spacing);
    const lastGap = steps[steps.length - 1] - steps[steps.length - 2];
    expect(lastGap).toBeGreaterThan(0);
    expect(lastGap).toBeLessThanOrEqual(spacing);
  });

  it('keeps every column aligned with its step through halving', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), (count) => {
        const series = filled(count, 64);
        const steps = series.steps();
        const loss = series.loss();
        const accuracy = series.testAccuracy();
        const fullAccuracy = series.fullTestAccuracy();
        for (let i = 0; i < series.length; i++) {
          const step = steps[i];
          expect(loss[i]).toBeCloseTo(1 / (step + 1), 6);
          expect(accuracy[i]).toBeCloseTo((step % 100) / 100, 6);
          if (step % 10 === 0) expect(fullAccuracy[i]).toBeCloseTo((step % 97) / 97, 6);
          else expect(fullAccuracy[i]).toBeNaN();
          for (let l = 0; l < LAYERS; l++) {
            expect(series.saturation(l)[i]).toBeCloseTo((step % 7) / 7, 6);
            for (const [v, view] of (['unit', 'pooled'] as const).entries()) {
              const base = step * 1000 + l * 10 + v;
              expect(series.mean(l, view)[i]).toBe(base + 0.5);
              expect(series.std(l, view)[i]).toBe(l + v + 1);
              expect(series.percentile(l, view, 8)[i]).toBe(base + 0.1);
              const histogram = series.histogramAt(l, view, i);
              expect(histogram[step % HISTOGRAM.bins]).toBeCloseTo(0.75, 6);
              expect(histogram[(step + 1) % HISTOGRAM.bins]).toBeCloseTo(0.25, 6);
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('stores histograms as fractions of the values measured', () => {
    const series = filled(3);
    const row = series.histogramAt(1, 'pooled', 2);
    expect(row.length).toBe(HISTOGRAM.bins);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(series.histograms(1, 'pooled').length).toBe(3 * HISTOGRAM.bins);
  });

  it('returns one column per percentile in PERCENTILES order', () => {
    const series = filled(5);
    const columns = series.percentiles(2, 'unit');
    expect(columns.length).toBe(PERCENTILES.length);
    PERCENTILES.forEach((p, k) => expect(columns[k][4]).toBe(4 * 1000 + 20 + p / 1000));
  });

  it('changes its version on every push, batch, divergence and clear', () => {
    const series = new ArmSeries(LAYERS, 8);
    const seen = [series.version];
    series.push(record(0));
    seen.push(series.version);
    series.pushMany([record(1), record(2)]);
    seen.push(series.version);
    series.markDiverged(2);
    seen.push(series.version);
    series.clear();
    seen.push(series.version);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('marks the arm diverged at the first record with a non-finite loss', () => {
    const series = new ArmSeries(LAYERS, 8);
    series.pushMany([record(0), record(50), record(100, NaN), record(150, Infinity)]);
    expect(series.divergedStep).toBe(100);
  });

  it('keeps the first reported divergence', () => {
    const series = new ArmSeries(LAYERS, 8);
    series.markDiverged(300);
    series.markDiverged(400);
    expect(series.divergedStep).toBe(300);
  });

  it('starts over after clear, with the stride and divergence reset', () => {
    const series = filled(500, 16);
    series.markDiverged(10);
    series.clear();
    expect(series.length).toBe(0);
    expect(series.stride).toBe(1);
    expect(series.divergedStep).toBeNull();
    series.push(record(7));
    expect(Array.from(series.steps())).toEqual([7]);
  });

  it('rejects a record whose layer count differs from the series', () => {
    const series = new ArmSeries(2, 8);
    expect(() => series.push(record(0))).toThrow(/layers/);
  });

  it('rejects a capacity it cannot halve evenly', () => {
    expect(() => new ArmSeries(LAYERS, 7)).toThrow(RangeError);
    expect(() => new ArmSeries(LAYERS, 2)).toThrow(RangeError);
  });

  it('keeps the train vs inference gap of records that have one, NaN for those that do not, through halving', () => {
    const series = new ArmSeries(LAYERS, 4);
    for (let step = 0; step < 6; step++) {
      const gap = step % 2 === 0 ? { inferenceGap: { trainingMode: step / 10, population: step / 20, movingAverage: step / 30 } } : {};
      series.push({ ...record(step), ...gap });
    }
    // Halved once: steps 0, 2, 4 and the latest, 5.
    expect(Array.from(series.steps())).toEqual([0, 2, 4, 5]);
    expect(Array.from(series.inferenceGap('trainingMode'))).toEqual([0, 0.2, 0.4, NaN]);
    expect(Array.from(series.inferenceGap('population'))).toEqual([0, 0.1, 0.2, NaN]);
    expect(Array.from(series.inferenceGap('movingAverage'))).toEqual([0, 2 / 30, 4 / 30, NaN]);
  });
});
