import { describe, expect, it } from 'vitest';
import { HISTOGRAM, PERCENTILES } from '../training/records';
import { ARM_COLORS } from './colors';
import { bandChartLayout, bandChartLegend, ordinal, percentileIndex, sharedPercentileDomain, type BandSeries } from './bandChart';

/** Percentile columns whose value at each step is centre + spread x (percentile - 50) / 50. */
function arm(centre: number, spread: number, n = 4): Float32Array[] {
  return PERCENTILES.map((p) => new Float32Array(n).fill(centre + (spread * (p - 50)) / 50));
}

describe('bandChart', () => {
  it('finds the recorded percentiles by value and rejects others', () => {
    expect(PERCENTILES[percentileIndex(15)]).toBe(15);
    expect(PERCENTILES[percentileIndex(85)]).toBe(85);
    expect(() => percentileIndex(16)).toThrow(RangeError);
  });

  it('names percentiles as ordinals', () => {
    expect([0, 1, 2, 3, 7, 11, 12, 15, 50, 85, 93, 100].map(ordinal)).toEqual([
      '0th',
      '1st',
      '2nd',
      '3rd',
      '7th',
      '11th',
      '12th',
      '15th',
      '50th',
      '85th',
      '93rd',
      '100th',
    ]);
  });

  it('gives both arms one domain that spans both arms’ 7th to 93rd percentiles, padded', () => {
    const narrow = arm(0, 1);
    const wide = arm(2, 4);
    const [lo, hi] = sharedPercentileDomain([{ percentiles: narrow }, { percentiles: wide }]);
    const p7 = percentileIndex(7);
    const p93 = percentileIndex(93);
    expect(lo).toBeLessThan(Math.min(narrow[p7][0], wide[p7][0]));
    expect(hi).toBeGreaterThan(Math.max(narrow[p93][0], wide[p93][0]));
    // The extreme tails do not stretch it: the 0th and 100th percentiles lie outside.
    expect(wide[percentileIndex(0)][0]).toBeLessThan(lo);
    expect(wide[percentileIndex(100)][0]).toBeGreaterThan(hi);
  });

  it('ignores NaN percentiles of a diverged arm and falls back to the histogram range with no data', () => {
    const diverged = arm(0, 1).map((column) => Float32Array.from([column[0], NaN]));
    const [lo, hi] = sharedPercentileDomain([{ percentiles: diverged }]);
    expect(Number.isFinite(lo) && Number.isFinite(hi)).toBe(true);
    expect(sharedPercentileDomain([{ percentiles: PERCENTILES.map(() => new Float32Array(0)) }])).toEqual([HISTOGRAM.min, HISTOGRAM.max]);
  });

  it('uses the y-domain the caller passes, so both arms’ panels share it', () => {
    const series: BandSeries = {
      label: 'A: no BN',
      color: ARM_COLORS[0],
      steps: new Float64Array([0, 50, 100, 150]),
      percentiles: arm(0, 1),
      divergedStep: null,
    };
    const layout = bandChartLayout(series, { width: 400, height: 240, yDomain: [-3, 5] });
    expect(layout.y.domain()).toEqual([-3, 5]);
    expect(layout.x.domain()).toEqual([0, 150]);
  });

  it('names the arm, what is plotted, the paper’s three lines and the three bands in the legend', () => {
    const series: BandSeries = { label: 'B: BN on all', color: ARM_COLORS[1], steps: new Float64Array(0), percentiles: arm(0, 1, 0), divergedStep: 4_000 };
    expect(bandChartLegend(series, 'layer 3, unit 0').map((item) => item.label)).toEqual([
      'B: BN on all, layer 3, unit 0 (diverged at step 4,000): 50th',
      '15th, 85th',
      '31–69',
      '7–93',
      '0–100',
    ]);
  });
});
