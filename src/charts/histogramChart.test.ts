import { describe, expect, it } from 'vitest';
import { HISTOGRAM } from '../training/records';
import { ARM_COLORS } from './colors';
import { histogramChartLayout, histogramLegend, histogramYMax, type HistogramSeries } from './histogramChart';

function series(label: string, tallest: number, step: number | null): HistogramSeries {
  const histogram = new Float32Array(HISTOGRAM.bins);
  histogram[20] = tallest;
  histogram[21] = tallest / 2;
  return { label, color: ARM_COLORS[0], histogram, step };
}

describe('histogramChart', () => {
  it('tops the y axis just above the tallest bin of either arm', () => {
    expect(histogramYMax([series('A', 0.6, 10), series('B', 0.3, 10)])).toBeCloseTo(0.66, 6);
  });

  it('keeps a visible y range with no data and never exceeds 100%', () => {
    expect(histogramYMax([{ label: 'A', color: ARM_COLORS[0], histogram: null, step: null }])).toBe(0.01);
    expect(histogramYMax([series('A', 1, 10)])).toBe(1);
  });

  it('spans the fixed histogram range across', () => {
    const layout = histogramChartLayout([series('A', 0.5, 10)], { width: 400, height: 200 });
    expect(layout.x.domain()).toEqual([HISTOGRAM.min, HISTOGRAM.max]);
    expect(layout.x(HISTOGRAM.min)).toBe(layout.area.left);
    expect(layout.x(HISTOGRAM.max)).toBe(layout.area.right);
  });

  it('says in the legend which step each arm’s histogram is from', () => {
    const labels = histogramLegend(
      [series('A: no BN', 0.5, 12_000), { label: 'B: BN on all', color: ARM_COLORS[1], histogram: null, step: null }],
      'layer 3, all units',
    ).map((item) => item.label);
    expect(labels).toEqual(['layer 3, all units', 'A: no BN at step 12,000', 'B: BN on all (no record yet)']);
  });
});
