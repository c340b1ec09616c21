import { describe, expect, it } from 'vitest';
import {
  ACCURACY_AXIS,
  finiteExtent,
  formatStep,
  formatStepExact,
  FRACTION_AXIS,
  isPlottable,
  logDomain,
  paddedDomain,
  plotArea,
  stepDomain,
  tickLabels,
  valueScale,
  LOSS_AXIS,
} from './axes';

describe('axes', () => {
  it('reads steps compactly on ticks and in full in readouts', () => {
    expect(formatStep(0)).toBe('0');
    expect(formatStep(500)).toBe('500');
    expect(formatStep(1500)).toBe('1.5k');
    expect(formatStep(50_000)).toBe('50k');
    expect(formatStepExact(12_345)).toBe('12,345');
  });

  it('shows test accuracy and bin fractions as percent without float noise', () => {
    expect(ACCURACY_AXIS.format(0.9)).toBe('90');
    expect(ACCURACY_AXIS.format(0.92)).toBe('92');
    expect(ACCURACY_AXIS.format(0.975)).toBe('97.5');
    expect(FRACTION_AXIS.format(0.05)).toBe('5');
    expect(ACCURACY_AXIS.title).toBe('test accuracy (%)');
    expect(LOSS_AXIS.title).toBe('cross-entropy (nats)');
  });

  it('places the plot area inside the margins and never gives it a zero size', () => {
    const area = plotArea({ width: 400, height: 200 }, { top: 10, right: 20, bottom: 30, left: 40 });
    expect(area).toEqual({ left: 40, top: 10, width: 340, height: 160, right: 380, bottom: 170 });
    expect(plotArea({ width: 10, height: 10 }).width).toBe(1);
  });

  it('spans the steps of all series, and opens a unit around a single step', () => {
    expect(stepDomain([new Float64Array([100, 200, 300]), new Float64Array([0, 100])])).toEqual([0, 300]);
    expect(stepDomain([new Float64Array([50])])).toEqual([50, 51]);
    expect(stepDomain([new Float64Array(0)])).toEqual([0, 1]);
  });

  it('finds the extent of finite values, ignoring NaN and Inf, and only positives for log scales', () => {
    const values = new Float32Array([NaN, -2, 0, 3, Infinity, 0.5, -Infinity]);
    expect(finiteExtent([values])).toEqual([-2, 3]);
    expect(finiteExtent([values], true)).toEqual([0.5, 3]);
    expect(finiteExtent([new Float32Array([NaN, -1])], true)).toBeNull();
  });

  it('pads a domain by a share of its span, and opens a zero span around the value', () => {
    expect(paddedDomain([0, 10], 0.1)).toEqual([-1, 11]);
    expect(paddedDomain([5, 5])).toEqual([4.5, 5.5]);
    expect(paddedDomain([0, 0])).toEqual([-1, 1]);
  });

  it('always gives a log scale a positive domain', () => {
    expect(logDomain(null)).toEqual([0.1, 10]);
    expect(logDomain([-1, 2])).toEqual([0.1, 10]);
    const [lo, hi] = logDomain([0.01, 2.3]);
    expect(lo).toBeGreaterThan(0);
    expect(lo).toBeLessThan(0.01);
    expect(hi).toBeGreaterThan(2.3);
    const [single0, single1] = logDomain([0.5, 0.5]);
    expect(single1 / single0).toBeCloseTo(10, 6);
  });

  it('lets only finite values, and on log scales only positive ones, onto the chart', () => {
    expect(isPlottable(0, false)).toBe(true);
    expect(isPlottable(0, true)).toBe(false);
    expect(isPlottable(-1, true)).toBe(false);
    expect(isPlottable(NaN, false)).toBe(false);
    expect(isPlottable(Infinity, false)).toBe(false);
    expect(isPlottable(1e-6, true)).toBe(true);
  });

  it('puts larger values higher and clamps values outside the domain to the edge', () => {
    const area = plotArea({ width: 300, height: 200 });
    const y = valueScale(area, [0, 1], false);
    expect(y(1)).toBeLessThan(y(0));
    expect(y(5)).toBe(area.top);
    const log = valueScale(area, [0.01, 10], true);
    expect(log(0.1)).toBeGreaterThan(log(1));
    expect(log(1000)).toBe(area.top);
  });

  it('thins log tick labels so dense decades do not overprint, and labels every linear tick', () => {
    const area = plotArea({ width: 300, height: 200 });
    const log = valueScale(area, [0.01, 10], true);
    const ticks = log.ticks(4);
    const labels = tickLabels(log, ticks, 4, LOSS_AXIS, true);
    expect(labels.length).toBe(ticks.length);
    expect(labels.filter((l) => l !== '').length).toBeLessThan(ticks.length);
    expect(labels[ticks.indexOf(1)]).toBe('1');
    const linear = valueScale(area, [0, 1], false);
    expect(tickLabels(linear, linear.ticks(5), 5, ACCURACY_AXIS, false)).toEqual(['0', '20', '40', '60', '80', '100']);
  });
});
