/**
 * What every chart shares: its plot area inside the margins, the step axis, value domains that
 * survive NaN, Inf and (on log scales) non-positive values, and axes drawn with tick labels and
 * titles that name the quantity and its unit.
 *
 * Charts draw in CSS pixels: the caller sizes the canvas for devicePixelRatio and sets the
 * context's transform so that one unit is one CSS pixel.
 */
import { extent, format, scaleLinear, scaleLog, type ScaleContinuousNumeric, type ScaleLinear } from 'd3';
import { CHART_THEME } from './colors';

export interface ChartSize {
  /** CSS pixels. */
  width: number;
  height: number;
}

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
  right: number;
  bottom: number;
}

/** Room for one legend row above, tick labels and a title below and to the left. */
export const DEFAULT_MARGINS: Margins = { top: 26, right: 16, bottom: 38, left: 58 };

/** A series column: a typed-array view from ArmSeries, or a plain array. */
export type Column = ArrayLike<number> & Iterable<number>;

export type ValueScale = ScaleContinuousNumeric<number, number>;
export type Domain = [number, number];

/** How a value axis is titled and how its ticks read. */
export interface AxisSpec {
  title: string;
  format: (value: number) => string;
}

const compact = format('~s');
const general = format('~g');
const grouped = format(',');

/** Steps read as 0, 500, 1.5k, 50k on ticks, and in full (12,345) in readouts. */
export function formatStep(step: number): string {
  return Math.abs(step) >= 1000 ? compact(step) : grouped(step);
}

export function formatStepExact(step: number): string {
  return grouped(step);
}

/** Fractions in [0, 1] read as percent on axes titled "(%)". */
function percentOf(fraction: number): string {
  return general(Math.round(fraction * 1e6) / 1e4);
}

export const STEP_AXIS: AxisSpec = { title: 'training step', format: formatStep };
export const LOSS_AXIS: AxisSpec = { title: 'cross-entropy (nats)', format: general };
/** The trainer records test accuracy as a fraction; the axis shows percent. */
export const ACCURACY_AXIS: AxisSpec = { title: 'test accuracy (%)', format: percentOf };
export const NONLINEARITY_INPUT_AXIS: AxisSpec = { title: 'input to the nonlinearity', format: general };
export const FRACTION_AXIS: AxisSpec = { title: 'fraction of values (%)', format: percentOf };

export function plotArea(size: ChartSize, margins: Margins = DEFAULT_MARGINS): PlotArea {
  const width = Math.max(1, size.width - margins.left - margins.right);
  const height = Math.max(1, size.height - margins.top - margins.bottom);
  return { left: margins.left, top: margins.top, width, height, right: margins.left + width, bottom: margins.top + height };
}

/** Tick counts that keep labels about 80 px apart across and 40 px apart up. */
function tickCounts(area: PlotArea): { x: number; y: number } {
  return { x: Math.max(2, Math.floor(area.width / 80)), y: Math.max(2, Math.floor(area.height / 40)) };
}

/**
 * The steps covered by any of the series: from the earliest first step to the latest last step.
 * Steps are ascending within each series.
 */
export function stepDomain(stepColumns: readonly ArrayLike<number>[]): Domain {
  let lo = Infinity;
  let hi = -Infinity;
  for (const steps of stepColumns) {
    if (steps.length === 0) continue;
    lo = Math.min(lo, steps[0]);
    hi = Math.max(hi, steps[steps.length - 1]);
  }
  if (!(lo <= hi)) return [0, 1];
  return lo === hi ? [lo, lo + 1] : [lo, hi];
}

export function stepScale(area: PlotArea, domain: Domain): ScaleLinear<number, number> {
  return scaleLinear().domain(domain).range([area.left, area.right]);
}

/** Smallest and largest finite values (positive only, for log scales) over all columns, or null. */
export function finiteExtent(columns: readonly Column[], positiveOnly = false): Domain | null {
  let lo = Infinity;
  let hi = -Infinity;
  const usable = positiveOnly ? (v: number) => (Number.isFinite(v) && v > 0 ? v : undefined) : (v: number) => (Number.isFinite(v) ? v : undefined);
  for (const column of columns) {
    const [min, max] = extent(column, usable);
    if (min !== undefined && max !== undefined) {
      lo = Math.min(lo, min);
      hi = Math.max(hi, max);
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** The extent widened by `pad` of its span on each side; a zero span opens around the value. */
export function paddedDomain(domain: Domain, pad = 0.05): Domain {
  const [lo, hi] = domain;
  const span = hi - lo;
  if (span > 0) return [lo - span * pad, hi + span * pad];
  const half = Math.abs(lo) * 0.1 || 1;
  return [lo - half, hi + half];
}

/** A log-scale domain: both ends positive, widened by `factor`, a decade around a single value. */
export function logDomain(domain: Domain | null, factor = 1.25): Domain {
  if (!domain || !(domain[0] > 0) || !(domain[1] > 0)) return [0.1, 10];
  const [lo, hi] = domain;
  if (hi / lo < 1.0001) return [lo / Math.sqrt(10), hi * Math.sqrt(10)];
  return [lo / factor, hi * factor];
}

/** Whether a value can be placed on the scale: finite, and positive on a log scale. */
export function isPlottable(value: number, log: boolean): boolean {
  return Number.isFinite(value) && (!log || value > 0);
}

export function valueScale(area: PlotArea, domain: Domain, log: boolean): ValueScale {
  const scale: ValueScale = log ? scaleLog() : scaleLinear();
  // Clamped so that a point far outside a caller's fixed domain still draws at the edge, not off canvas.
  return scale.domain(domain).range([area.bottom, area.top]).clamp(true);
}

/**
 * Tick labels of a log scale thinned to those d3 would label (1, 2, 5 per decade or fewer), so
 * dense decades do not overprint; linear scales label every tick.
 */
export function tickLabels(scale: ValueScale, ticks: number[], count: number, spec: AxisSpec, log: boolean): string[] {
  if (!log) return ticks.map(spec.format);
  const thin = scale.tickFormat(count, '~g');
  return ticks.map((t) => (thin(t) === '' ? '' : spec.format(t)));
}

export interface AxesOptions {
  x: ValueScale;
  y: ValueScale;
  xAxis: AxisSpec;
  yAxis: AxisSpec;
  yLog?: boolean;
}

/** Grid, axis lines, ticks with labels and both titles, in one pass. */
export function drawAxes(ctx: CanvasRenderingContext2D, area: PlotArea, options: AxesOptions): void {
  const { x, y, xAxis, yAxis } = options;
  const log = options.yLog ?? false;
  const counts = tickCounts(area);
  const xTicks = x.ticks(counts.x);
  const yTicks = y.ticks(counts.y);
  const yLabels = tickLabels(y, yTicks, counts.y, yAxis, log);

  ctx.save();
  ctx.lineWidth = 1;
  ctx.strokeStyle = CHART_THEME.grid;
  ctx.beginPath();
  for (const t of xTicks) {
    const px = Math.round(x(t)) + 0.5;
    ctx.moveTo(px, area.top);
    ctx.lineTo(px, area.bottom);
  }
  for (const t of yTicks) {
    const py = Math.round(y(t)) + 0.5;
    ctx.moveTo(area.left, py);
    ctx.lineTo(area.right, py);
  }
  ctx.stroke();

  ctx.strokeStyle = CHART_THEME.axis;
  ctx.beginPath();
  ctx.moveTo(area.left - 0.5, area.top);
  ctx.lineTo(area.left - 0.5, area.bottom + 0.5);
  ctx.lineTo(area.right, area.bottom + 0.5);
  for (const t of xTicks) {
    const px = Math.round(x(t)) + 0.5;
    ctx.moveTo(px, area.bottom);
    ctx.lineTo(px, area.bottom + 4);
  }
  for (const t of yTicks) {
    const py = Math.round(y(t)) + 0.5;
    ctx.moveTo(area.left - 4, py);
    ctx.lineTo(area.left, py);
  }
  ctx.stroke();

  ctx.font = CHART_THEME.font;
  ctx.fillStyle = CHART_THEME.mutedText;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of xTicks) ctx.fillText(xAxis.format(t), x(t), area.bottom + 6);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  yTicks.forEach((t, i) => ctx.fillText(yLabels[i], area.left - 6, y(t)));

  ctx.font = CHART_THEME.titleFont;
  ctx.fillStyle = CHART_THEME.text;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(xAxis.title, area.left + area.width / 2, area.bottom + 36);
  ctx.translate(area.left - 44, area.top + area.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'bottom';
  ctx.fillText(yAxis.title, 0, 0);
  ctx.restore();
}

/** The hover crosshair: a dashed vertical line through the plot area at x = px (CSS pixels). */
export function drawCrosshair(ctx: CanvasRenderingContext2D, area: PlotArea, px: number, color: string): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(Math.round(px) + 0.5, area.top);
  ctx.lineTo(Math.round(px) + 0.5, area.bottom);
  ctx.stroke();
  ctx.setLineDash([]);
}

/** Restricts drawing to the plot area until the matching ctx.restore(). */
export function clipToArea(ctx: CanvasRenderingContext2D, area: PlotArea): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.width, area.height);
  ctx.clip();
}
