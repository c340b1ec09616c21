/**
 * Several series over training steps on shared axes (Figure 1(a): test accuracy; the training loss
 * on a log scale), with a crosshair readout at a hovered step and a mark where an arm diverged.
 */
import { line, type ScaleLinear } from 'd3';
import {
  clipToArea,
  DEFAULT_MARGINS,
  drawAxes,
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
  drawCrosshair,
} from './axes';
import { ARM_DASHES, CHART_THEME, paintBackground, textColorFor } from './colors';
import { hoverText, valuesAtStep } from './hover';
import { reduceLine } from './reduce';
import { armLegendLabel, divergedLabel, drawCross, drawLegend, type LegendItem } from './legend';

/** One arm's column over its steps; `values` has one entry per step. */
export interface LineSeries {
  label: string;
  color: string;
  steps: Column;
  values: Column;
  divergedStep: number | null;
}

export interface LineChartOptions extends ChartSize {
  yAxis: AxisSpec;
  /** Log y (for the loss); values that are not positive are left out of the line. */
  log?: boolean;
  /** Fixed y-domain; by default the finite (positive, on log) extent of the values, padded. */
  yDomain?: Domain;
  /** Fixed step domain; by default the steps recorded so far. */
  xDomain?: Domain;
  /** Step under the pointer, for the crosshair readout. */
  hoverStep?: number | null;
  margins?: Margins;
  /** A dot at each point while points are sparse: a measure taken every few records shows where it was taken. */
  markers?: boolean;
}

export interface LineChartLayout {
  area: PlotArea;
  x: ScaleLinear<number, number>;
  y: ValueScale;
  log: boolean;
}

export function lineChartYDomain(series: readonly LineSeries[], log: boolean): Domain {
  const found = finiteExtent(
    series.map((s) => s.values),
    log,
  );
  if (log) return logDomain(found);
  return found ? paddedDomain(found) : [0, 1];
}

/** The chart's scales; pass its `x` to stepAtPointer to map the pointer to a step. */
export function lineChartLayout(series: readonly LineSeries[], options: LineChartOptions): LineChartLayout {
  const log = options.log ?? false;
  const area = plotArea(options, options.margins ?? DEFAULT_MARGINS);
  const x = stepScale(area, options.xDomain ?? stepDomain(series.map((s) => s.steps)));
  const y = valueScale(area, options.yDomain ?? lineChartYDomain(series, log), log);
  return { area, x, y, log };
}

/** An entry per arm, its line as drawn (arm B dashed): also the legend of a range chart, whose arms are lines. */
export function lineChartLegend(series: readonly Pick<LineSeries, 'label' | 'color' | 'divergedStep'>[]): LegendItem[] {
  return series.map((s, arm) => ({
    label: armLegendLabel(s.label, s.divergedStep),
    symbol: { kind: 'line', color: s.color, dash: [...(ARM_DASHES[arm] ?? [])] },
  }));
}

/** The last value at or before `step` that the scale can place, or NaN. */
function lastPlottableBefore(s: LineSeries, step: number, log: boolean): number {
  for (let i = Math.min(s.values.length, s.steps.length) - 1; i >= 0; i--) {
    if (s.steps[i] <= step && isPlottable(s.values[i], log)) return s.values[i];
  }
  return NaN;
}

function drawDivergedMarks(ctx: CanvasRenderingContext2D, series: readonly LineSeries[], layout: LineChartLayout): void {
  const { area, x, y, log } = layout;
  ctx.font = CHART_THEME.font;
  ctx.textBaseline = 'middle';
  let row = 0;
  for (const s of series) {
    if (s.divergedStep === null) continue;
    const px = Math.min(area.right - 5, Math.max(area.left + 5, x(s.divergedStep)));
    const value = lastPlottableBefore(s, s.divergedStep, log);
    const py = Number.isNaN(value) ? area.top + 8 : y(value);
    drawCross(ctx, px, py, 5, s.color);
    const onRight = px < area.left + area.width * 0.6;
    ctx.textAlign = onRight ? 'left' : 'right';
    ctx.fillStyle = textColorFor(s.color);
    const ty = Math.min(area.bottom - 8, Math.max(area.top + 8, py - 12 - 14 * row));
    ctx.fillText(divergedLabel(s.divergedStep), px + (onRight ? 8 : -8), ty);
    row++;
  }
}

function drawHover(
  ctx: CanvasRenderingContext2D,
  series: readonly LineSeries[],
  layout: LineChartLayout,
  step: number,
  format: (value: number) => string,
): void {
  const { area, x, y, log } = layout;
  const px = x(step);
  if (!(px >= area.left && px <= area.right)) return;
  drawCrosshair(ctx, area, px, CHART_THEME.crosshair);

  const hovered = valuesAtStep(step, series);
  hovered.forEach((h, i) => {
    if (h.index < 0 || !isPlottable(h.value, log)) return;
    ctx.fillStyle = series[i].color;
    ctx.beginPath();
    ctx.arc(x(h.step), y(h.value), 3.5, 0, 2 * Math.PI);
    ctx.fill();
  });
  // Three significant digits: enough to compare the arms, short enough to read at a glance.
  const readout = (value: number) => format(+value.toPrecision(3));
  drawReadout(
    ctx,
    area,
    px,
    `step ${formatStepExact(step)}`,
    hovered.map((h) => hoverText(h, readout)),
    series.map((s) => s.color),
  );
}

/** Points closer than this (CSS pixels, on average) read as a line, and get no dots. */
const MARKER_SPACING = 6;

/**
 * A dot at each of the `kept` points (indices into steps/values) that can be placed, when they lie
 * on average at least MARKER_SPACING apart across the plot area.
 */
export function drawMarkers(
  ctx: CanvasRenderingContext2D,
  kept: ArrayLike<number>,
  steps: Column,
  values: Column,
  x: (step: number) => number,
  y: (value: number) => number,
  defined: (value: number) => boolean,
  color: string,
  area: PlotArea,
): void {
  let count = 0;
  for (let k = 0; k < kept.length; k++) if (defined(values[kept[k]])) count++;
  if (count === 0 || count * MARKER_SPACING > area.width) return;
  ctx.fillStyle = color;
  for (let k = 0; k < kept.length; k++) {
    const i = kept[k];
    if (!defined(values[i])) continue;
    ctx.beginPath();
    ctx.arc(x(steps[i]), y(values[i]), 2.25, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** A box of text lines beside the crosshair, on the side with more room. */
export function drawReadout(
  ctx: CanvasRenderingContext2D,
  area: PlotArea,
  px: number,
  heading: string,
  lines: readonly string[],
  colors: readonly string[],
): void {
  ctx.font = CHART_THEME.font;
  let width = ctx.measureText(heading).width;
  for (const text of lines) width = Math.max(width, ctx.measureText(text).width);
  const boxWidth = width + 12;
  const boxHeight = 8 + 14 * (lines.length + 1);
  const left = px + 8 + boxWidth <= area.right ? px + 8 : Math.max(area.left, px - 8 - boxWidth);
  const top = area.top + 4;
  ctx.fillStyle = CHART_THEME.readoutBackground;
  ctx.fillRect(left, top, boxWidth, boxHeight);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = CHART_THEME.text;
  ctx.fillText(heading, left + 6, top + 11);
  lines.forEach((text, i) => {
    ctx.fillStyle = colors[i] === undefined ? CHART_THEME.text : textColorFor(colors[i]);
    ctx.fillText(text, left + 6, top + 11 + 14 * (i + 1));
  });
}

/** Draws the whole chart in one pass and returns its layout (for mapping the pointer). */
export function drawLineChart(ctx: CanvasRenderingContext2D, series: readonly LineSeries[], options: LineChartOptions): LineChartLayout {
  const layout = lineChartLayout(series, options);
  const { area, x, y, log } = layout;
  paintBackground(ctx, options.width, options.height);
  drawAxes(ctx, area, { x, y, xAxis: STEP_AXIS, yAxis: options.yAxis, yLog: log });

  clipToArea(ctx, area);
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  series.forEach((s, arm) => {
    const { steps, values } = s;
    const path = line<number>()
      .context(ctx)
      .defined((i) => isPlottable(values[i], log))
      .x((i) => x(steps[i]))
      .y((i) => y(values[i]));
    ctx.strokeStyle = s.color;
    ctx.setLineDash([...(ARM_DASHES[arm] ?? [])]);
    const kept = reduceLine(steps, values, x, (value) => isPlottable(value, log));
    ctx.beginPath();
    path(kept);
    ctx.stroke();
    if (options.markers) drawMarkers(ctx, kept, steps, values, x, y, (value) => isPlottable(value, log), s.color, area);
  });
  ctx.setLineDash([]);
  drawDivergedMarks(ctx, series, layout);
  if (options.hoverStep != null) drawHover(ctx, series, layout, options.hoverStep, options.yAxis.format);
  ctx.restore();

  drawLegend(ctx, lineChartLegend(series), area);
  return layout;
}
