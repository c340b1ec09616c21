import { describe, expect, it } from 'vitest';
import type { Normalization } from '../config/schema';
import { armKind, lastMeasuredIndex, measurementSpacing, measuredPoints, partOf, santurkarPrediction } from './santurkar';

describe('the Santurkar et al. series', () => {
  it('keeps only the points where every column was measured, so an unmeasured record is no zero', () => {
    const steps = [0, 100, 200, 300, 400];
    const lower = [NaN, 0.5, NaN, 0.25, NaN];
    const upper = [NaN, 0.75, NaN, Infinity, NaN];
    const { steps: kept, columns } = measuredPoints(steps, [lower, upper]);
    expect(Array.from(kept)).toEqual([100]);
    expect(columns.map((c) => Array.from(c))).toEqual([[0.5], [0.75]]);
    expect(Array.from(measuredPoints(steps, [lower]).steps)).toEqual([100, 300]);
    expect(measuredPoints([], [[]]).steps.length).toBe(0);
  });

  it('takes one named number out of a vector measure’s row-major column', () => {
    const column = [1, 0.5, 2, 0.25, NaN, NaN];
    expect(Array.from(partOf(column, ['l2', 'cosine'], 'l2'))).toEqual([1, 2, NaN]);
    expect(Array.from(partOf(column, ['l2', 'cosine'], 'cosine'))).toEqual([0.5, 0.25, NaN]);
    expect(() => partOf(column, ['l2', 'cosine'], 'angle')).toThrow(RangeError);
  });

  it('finds the last measurement at or before a step, and none before the first or past the series', () => {
    const steps = [0, 100, 200, 300];
    const values = [NaN, 0.5, NaN, 0.7];
    expect(lastMeasuredIndex(steps, [values], 250)).toBe(1);
    expect(lastMeasuredIndex(steps, [values], 300)).toBe(3);
    expect(lastMeasuredIndex(steps, [values, [NaN, 1, NaN, NaN]], 300)).toBe(1);
    expect(lastMeasuredIndex(steps, [values], 50)).toBe(-1);
    expect(lastMeasuredIndex(steps, [values], 301)).toBe(-1);
    expect(lastMeasuredIndex([], [[]], 0)).toBe(-1);
  });
});

describe('how often the measures come', () => {
  it('is the least common multiple of the record interval and the measures’, 0 when they are off', () => {
    expect(measurementSpacing(100, 100)).toBe(100);
    expect(measurementSpacing(10, 30)).toBe(30);
    expect(measurementSpacing(100, 30)).toBe(300);
    expect(measurementSpacing(100, 1)).toBe(100);
    expect(measurementSpacing(100, 0)).toBe(0);
  });
});

describe('what their claim predicts for the run', () => {
  const all = (layer: Normalization) => [layer, layer, layer];

  it('tells the plain net, BN, noisy BN and anything else apart', () => {
    expect(armKind(all('none'))).toBe('plain');
    expect(armKind(all('batchnorm'))).toBe('bn');
    expect(armKind(all('noisy'))).toBe('noisy');
    expect(armKind(['batchnorm', 'none', 'batchnorm'])).toBe('other');
    expect(armKind(all('layernorm'))).toBe('other');
  });

  it('predicts noisy BN, its distributions moved at every step, about as fast as BN, and either faster than the plain net, naming the arms', () => {
    expect(santurkarPrediction({ normalizationA: all('batchnorm'), normalizationB: all('noisy') })).toMatch(
      /^In this run the noise moves the input distributions of arm B \(noisy BN\) at every step, which arm A \(BN\) holds still .*: their claim predicts that this shift costs little, about the same test accuracy/,
    );
    expect(santurkarPrediction({ normalizationA: all('none'), normalizationB: all('noisy') })).toMatch(
      /^In this run their claim predicts arm B \(noisy BN\) faster training than arm A \(the plain net\) even though the noise moves its input distributions at every step, and a smoother landscape/,
    );
    expect(santurkarPrediction({ normalizationA: all('batchnorm'), normalizationB: all('none') })).toMatch(
      /predicts arm A \(BN\) faster training than arm B \(the plain net\), whatever its shift/,
    );
    expect(santurkarPrediction({ normalizationA: all('layernorm'), normalizationB: all('batchnorm') })).toMatch(
      /^Their claim's contrasts are between the plain net, BN and noisy BN on every hidden layer .*; in this run arm A is none of these and arm B BN\.$/,
    );
  });
});
