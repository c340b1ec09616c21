/**
 * The distribution now: each arm's latest histogram of the input to the nonlinearity, overlaid as
 * translucent step outlines on the fixed histogram range, y = fraction of the values per bin.
 */
import { HISTOGRAM } from '../training/records';
import {
  clipToArea,
  DEFAULT_MARGINS,
  drawAxes,
  formatStepExact,
  FRACTION_AXIS,
  NONLINEARITY_INPUT_AXIS,
  plotArea,
  valueScale,
  type ChartSize,
  type Column,
  type Margins,
  type PlotArea,
  type ValueScale,
} from './axes';
import { ARM_DASHES, paintBackground, withAlpha } from './colors';
import { drawLegend, type LegendItem } from './legend';

export interface HistogramRange {
  min: number;
  max: number;
  bins: number;
}

export interface HistogramSeries {
  label: string;
  color: string;
  /** `range.bins` fractions (ArmSeries.histogramAt), or null before the first record. */
  histogram: Column | null;
  /** The step the histogram was measured at. */
  step: number | null;
}

export interface HistogramChartOptions extends ChartSize {
  range?: HistogramRange;
  /** Fixed top of the y axis (a fraction); by default the tallest bin, padded. */
  yMax?: number;
  /** What is plotted, e.g. "layer 3, all units"; shown first in the legend. */
  title?: string;
  margins?: Margins;
}

export interface HistogramChartLayout {
  area: PlotArea;
  x: ValueScale;
  y: ValueScale;
}

/** Top of the y axis: the tallest bin of any arm plus 10%, never below 1%. */
export function histogramYMax(series: readonly HistogramSeries[]): number {
  let max = 0;
  for (const s of series) {
    if (!s.histogram) continue;
    for (let b = 0; b < s.histogram.length; b++) if (s.histogram[b] > max) max = s.histogram[b];
  }
  return Math.min(1, Math.max(0.01, max * 1.1));
}

export function histogramChartLayout(series: readonly HistogramSeries[], options: HistogramChartOptions): HistogramChartLayout {
  const range = options.range ?? HISTOGRAM;
  const area = plotArea(options, options.margins ?? DEFAULT_MARGINS);
  return {
    area,
    x: valueScale(area, [range.min, range.max], false).range([area.left, area.right]),
    y: valueScale(area, [0, options.yMax ?? histogramYMax(series)], false),
  };
}

export function histogramLegend(series: readonly HistogramSeries[], title?: string): LegendItem[] {
  const items: LegendItem[] = series.map((s, arm) => ({
    label: s.step === null ? `${s.label} (no record yet)` : `${s.label} at step ${formatStepExact(s.step)}`,
    symbol: { kind: 'line', color: s.color, width: 1.5, dash: [...(ARM_DASHES[arm] ?? [])] },
  }));
  return title ? [{ label: title, symbol: { kind: 'none' } }, ...items] : items;
}

/** One arm's histogram as a closed step outline from the baseline, filled translucent and stroked. */
function drawHistogram(ctx: CanvasRenderingContext2D, s: HistogramSeries, dash: readonly number[], layout: HistogramChartLayout, range: HistogramRange): void {
  const histogram = s.histogram;
  if (!histogram) return;
  const { x, y } = layout;
  const width = (range.max - range.min) / range.bins;
  const base = y(0);
  ctx.beginPath();
  ctx.moveTo(x(range.min), base);
  for (let b = 0; b < range.bins; b++) {
    const top = y(Number.isFinite(histogram[b]) ? histogram[b] : 0);
    ctx.lineTo(x(range.min + b * width), top);
    ctx.lineTo(x(range.min + (b + 1) * width), top);
  }
  ctx.lineTo(x(range.max), base);
  ctx.closePath();
  ctx.fillStyle = withAlpha(s.color, 0.3);
  ctx.fill();
  ctx.strokeStyle = s.color;
  ctx.lineWidth = 1.5;
  ctx.setLineDash([...dash]);
  ctx.stroke();
  ctx.setLineDash([]);
}

/** Draws the whole chart in one pass. */
export function drawHistogramChart(ctx: CanvasRenderingContext2D, series: readonly HistogramSeries[], options: HistogramChartOptions): HistogramChartLayout {
  const range = options.range ?? HISTOGRAM;
  const layout = histogramChartLayout(series, options);
  const { area, x, y } = layout;
  paintBackground(ctx, options.width, options.height);
  drawAxes(ctx, area, { x, y, xAxis: NONLINEARITY_INPUT_AXIS, yAxis: FRACTION_AXIS });
  clipToArea(ctx, area);
  ctx.lineJoin = 'miter';
  series.forEach((s, arm) => drawHistogram(ctx, s, ARM_DASHES[arm] ?? [], layout, range));
  ctx.restore();
  drawLegend(ctx, histogramLegend(series, options.title), area);
  return layout;
}
