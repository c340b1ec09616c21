/**
 * A quantity's range at each step, for several arms on shared axes: a shaded band between each
 * arm's lower and upper line (Santurkar et al.'s Figure 4(a, b): the loss, and the change of the
 * gradient, over a range of step sizes along the gradient). Arm B's lines are dashed, as on every
 * line chart; measures taken every few records get a dot at each point, so sparse data still shows.
 */
import { area as d3Area, line, type ScaleLinear } from 'd3';
import {
  clipToArea,
  DEFAULT_MARGINS,
  drawAxes,
  drawCrosshair,
  finiteExtent,
  formatStepExact,
  isPlottable,
  logDomain,
  paddedDomain,
  plotArea,
  STEP_AXIS,
  stepDomain,
  stepScale,
  valueScale,
  type AxisSpec,
  type ChartSize,
  type Column,
  type Domain,
  type Margins,
  type PlotArea,
  type ValueScale,
} from './axes';
import { ARM_DASHES, CHART_THEME, paintBackground, withAlpha } from './colors';
import { nearestIndex } from './hover';
import { drawLegend } from './legend';
import { drawMarkers, drawReadout, lineChartLegend } from './lineChart';
import { reduceBand, reduceLine } from './reduce';

/** One arm's range over its steps: `lower` and `upper` have one entry per step. */
export interface RangeSeries {
  label: string;
  color: string;
  steps: Column;
  lower: Column;
  upper: Column;
  divergedStep: number | null;
}

export interface RangeChartOptions extends ChartSize {
  yAxis: AxisSpec;
  /** Log y; bounds that are not positive are left out. */
  log?: boolean;
  yDomain?: Domain;
  xDomain?: Domain;
  hoverStep?: number | null;
  margins?: Margins;
}

export interface RangeChartLayout {
  area: PlotArea;
  x: ScaleLinear<number, number>;
  y: ValueScale;
  log: boolean;
}

const BAND_OPACITY = 0.22;

export function rangeChartYDomain(series: readonly RangeSeries[], log: boolean): Domain {
  const found = finiteExtent(
    series.flatMap((s) => [s.lower, s.upper]),
    log,
  );
  if (log) return logDomain(found);
  return found ? paddedDomain(found) : [0, 1];
}

export function rangeChartLayout(series: readonly RangeSeries[], options: RangeChartOptions): RangeChartLayout {
  const log = options.log ?? false;
  const area = plotArea(options, options.margins ?? DEFAULT_MARGINS);
  const x = stepScale(area, options.xDomain ?? stepDomain(series.map((s) => s.steps)));
  const y = valueScale(area, options.yDomain ?? rangeChartYDomain(series, log), log);
  return { area, x, y, log };
}

/** "0.123–0.456" at three significant digits, or a dash where either bound is missing. */
export function rangeText(lower: number, upper: number, format: (value: number) => string): string {
  if (!(Number.isFinite(lower) && Number.isFinite(upper))) return '–';
  return `${format(+lower.toPrecision(3))}–${format(+upper.toPrecision(3))}`;
}

function drawHover(ctx: CanvasRenderingContext2D, series: readonly RangeSeries[], layout: RangeChartLayout, step: number, format: (value: number) => string) {
  const { area, x, y, log } = layout;
  const px = x(step);
  if (!(px >= area.left && px <= area.right)) return;
  drawCrosshair(ctx, area, px, CHART_THEME.crosshair);
  const lines = series.map((s) => {
    const n = s.steps.length;
    if (n === 0 || !(step >= s.steps[0] && step <= s.steps[n - 1])) return `${s.label}  –`;
    const i = nearestIndex(s.steps, step);
    ctx.fillStyle = s.color;
    for (const value of [s.lower[i], s.upper[i]]) {
      if (!isPlottable(value, log)) continue;
      ctx.beginPath();
      ctx.arc(x(s.steps[i]), y(value), 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    return `${s.label}  ${rangeText(s.lower[i], s.upper[i], format)}`;
  });
  drawReadout(
    ctx,
    area,
    px,
    `step ${formatStepExact(step)}`,
    lines,
    series.map((s) => s.color),
  );
}

/** Draws the whole chart in one pass and returns its layout (for mapping the pointer). */
export function drawRangeChart(ctx: CanvasRenderingContext2D, series: readonly RangeSeries[], options: RangeChartOptions): RangeChartLayout {
  const layout = rangeChartLayout(series, options);
  const { area, x, y, log } = layout;
  paintBackground(ctx, options.width, options.height);
  drawAxes(ctx, area, { x, y, xAxis: STEP_AXIS, yAxis: options.yAxis, yLog: log });

  clipToArea(ctx, area);
  const plottable = (value: number) => isPlottable(value, log);
  for (const s of series) {
    const reduced = reduceBand(s.steps, s.lower, s.upper, x);
    const shape = d3Area<number>()
      .context(ctx)
      .defined((_, i) => plottable(reduced.lower[i]) && plottable(reduced.upper[i]))
      .x((_, i) => x(reduced.steps[i]))
      .y0((_, i) => y(reduced.lower[i]))
      .y1((_, i) => y(reduced.upper[i]));
    ctx.fillStyle = withAlpha(s.color, BAND_OPACITY);
    ctx.beginPath();
    shape(reduced.lower);
    ctx.fill();
  }
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  series.forEach((s, arm) => {
    ctx.strokeStyle = s.color;
    ctx.setLineDash([...(ARM_DASHES[arm] ?? [])]);
    for (const values of [s.lower, s.upper]) {
      const kept = reduceLine(s.steps, values, x, plottable);
      const path = line<number>()
        .context(ctx)
        .defined((i) => plottable(values[i]))
        .x((i) => x(s.steps[i]))
        .y((i) => y(values[i]));
      ctx.beginPath();
      path(kept);
      ctx.stroke();
      drawMarkers(ctx, kept, s.steps, values, x, y, plottable, s.color, area);
    }
  });
  ctx.setLineDash([]);
  if (options.hoverStep != null) drawHover(ctx, series, layout, options.hoverStep, options.yAxis.format);
  ctx.restore();

  // One row, as a line chart's, so it stays clear of the bands.
  drawLegend(ctx, lineChartLegend(series), area);
  return layout;
}
