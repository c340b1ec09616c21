/**
 * Figure 1(b,c) of the paper: for one arm and one layer, the 15th, 50th and 85th percentiles of the
 * input to the nonlinearity over training, over shaded bands (0-100, 7-93, 31-69) that show the
 * rest of the distribution the paper's three lines summarize.
 */
import { area as d3Area, line, type ScaleLinear } from 'd3';
import { HISTOGRAM, PERCENTILES } from '../training/records';
import { reduceBand, reduceLine } from './reduce';
import {
  clipToArea,
  DEFAULT_MARGINS,
  drawAxes,
  finiteExtent,
  formatStepExact,
  NONLINEARITY_INPUT_AXIS,
  paddedDomain,
  plotArea,
  STEP_AXIS,
  stepDomain,
  stepScale,
  valueScale,
  type ChartSize,
  type Column,
  type Domain,
  type Margins,
  type PlotArea,
  type ValueScale,
  drawCrosshair,
} from './axes';
import { CHART_THEME, paintBackground, textColorFor, withAlpha } from './colors';
import { nearestIndex } from './hover';
import { armLegendLabel, divergedLabel, drawCross, drawLegend, type LegendItem } from './legend';
import { drawReadout } from './lineChart';

/** Outer to inner, so that inner bands paint over outer ones and read darker. */
const PERCENTILE_BANDS = [
  { lower: 0, upper: 100, opacity: 0.12 },
  { lower: 7, upper: 93, opacity: 0.2 },
  { lower: 31, upper: 69, opacity: 0.3 },
] as const;

/** The paper's three lines: the median solid, 15th and 85th thinner and dashed. */
export const PERCENTILE_LINES = [
  { percentile: 85, width: 1.25, dash: [4, 2] },
  { percentile: 50, width: 2, dash: [] },
  { percentile: 15, width: 1.25, dash: [4, 2] },
] as const;

export interface BandSeries {
  label: string;
  color: string;
  steps: Column;
  /** One column per entry of PERCENTILES, in that order (ArmSeries.percentiles). */
  percentiles: readonly Column[];
  divergedStep: number | null;
}

export interface BandChartOptions extends ChartSize {
  /** Shared by both arms' charts (sharedPercentileDomain) so that their spreads compare. */
  yDomain: Domain;
  xDomain?: Domain;
  hoverStep?: number | null;
  /** What is plotted, e.g. "layer 3, unit 0"; shown after the arm's label. */
  title?: string;
  margins?: Margins;
}

/** Two legend rows: the arm and what is plotted, then the bands. */
export const BAND_CHART_MARGINS: Margins = { ...DEFAULT_MARGINS, top: 40 };

export interface BandChartLayout {
  area: PlotArea;
  x: ScaleLinear<number, number>;
  y: ValueScale;
}

export function percentileIndex(percentile: number): number {
  const index = (PERCENTILES as readonly number[]).indexOf(percentile);
  if (index < 0) throw new RangeError(`${percentile} is not among the recorded percentiles ${PERCENTILES.join(', ')}`);
  return index;
}

/** "15th", "50th", "85th", "0th" ... */
export function ordinal(percentile: number): string {
  const tens = percentile % 100;
  if (tens >= 11 && tens <= 13) return `${percentile}th`;
  const suffix = ['th', 'st', 'nd', 'rd'][percentile % 10] ?? 'th';
  return `${percentile}${suffix}`;
}

/**
 * A y-domain both arms share: from the smallest `lower` to the largest `upper` percentile any arm
 * reached at any step, padded. The 7/93 default ignores the extreme tails, which would otherwise
 * let one outlier flatten the bands; the outer band is clipped instead. Within the histogram's
 * range when nothing is recorded.
 */
export function sharedPercentileDomain(arms: readonly { percentiles: readonly Column[] }[], lower = 7, upper = 93, pad = 0.08): Domain {
  const lo = percentileIndex(lower);
  const hi = percentileIndex(upper);
  const found = finiteExtent(arms.flatMap((arm) => [arm.percentiles[lo], arm.percentiles[hi]]));
  return found ? paddedDomain(found, pad) : [HISTOGRAM.min, HISTOGRAM.max];
}

export function bandChartLayout(series: BandSeries, options: BandChartOptions): BandChartLayout {
  const area = plotArea(options, options.margins ?? BAND_CHART_MARGINS);
  return {
    area,
    x: stepScale(area, options.xDomain ?? stepDomain([series.steps])),
    y: valueScale(area, options.yDomain, false),
  };
}

export function bandChartLegend(series: BandSeries, title?: string): LegendItem[] {
  const heading = armLegendLabel(title ? `${series.label}, ${title}` : series.label, series.divergedStep);
  return [
    { label: `${heading}: 50th`, symbol: { kind: 'line', color: series.color, width: 2 } },
    { label: '15th, 85th', symbol: { kind: 'line', color: series.color, width: 1.25, dash: [4, 2] } },
    ...[...PERCENTILE_BANDS].reverse().map(
      (band): LegendItem => ({
        label: `${band.lower}–${band.upper}`,
        symbol: { kind: 'band', color: series.color, opacity: band.opacity },
      }),
    ),
  ];
}

function drawHover(ctx: CanvasRenderingContext2D, series: BandSeries, layout: BandChartLayout, step: number): void {
  const { area, x, y } = layout;
  const n = series.steps.length;
  const px = x(step);
  if (n === 0 || !(px >= area.left && px <= area.right)) return;
  drawCrosshair(ctx, area, px, CHART_THEME.crosshair);
  const inRange = step >= series.steps[0] && step <= series.steps[n - 1];
  const i = nearestIndex(series.steps, step);
  const lines = PERCENTILE_LINES.map(({ percentile }) => {
    const value = inRange ? series.percentiles[percentileIndex(percentile)][i] : NaN;
    return `${ordinal(percentile)}  ${Number.isFinite(value) ? NONLINEARITY_INPUT_AXIS.format(+value.toPrecision(3)) : '–'}`;
  });
  if (inRange) {
    ctx.fillStyle = series.color;
    for (const { percentile } of PERCENTILE_LINES) {
      const value = series.percentiles[percentileIndex(percentile)][i];
      if (!Number.isFinite(value)) continue;
      ctx.beginPath();
      ctx.arc(x(series.steps[i]), y(value), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  const heading = `step ${formatStepExact(inRange ? series.steps[i] : step)}`;
  drawReadout(
    ctx,
    area,
    px,
    heading,
    lines,
    lines.map(() => CHART_THEME.text),
  );
}

/** Draws the whole chart in one pass and returns its layout (for mapping the pointer). */
export function drawBandChart(ctx: CanvasRenderingContext2D, series: BandSeries, options: BandChartOptions): BandChartLayout {
  const layout = bandChartLayout(series, options);
  const { area, x, y } = layout;
  const { steps, percentiles } = series;
  paintBackground(ctx, options.width, options.height);
  drawAxes(ctx, area, { x, y, xAxis: STEP_AXIS, yAxis: NONLINEARITY_INPUT_AXIS });

  clipToArea(ctx, area);
  for (const band of PERCENTILE_BANDS) {
    const lower = percentiles[percentileIndex(band.lower)];
    const upper = percentiles[percentileIndex(band.upper)];
    const reduced = reduceBand(steps, lower, upper, x);
    const shape = d3Area<number>()
      .context(ctx)
      .defined((_, i) => Number.isFinite(reduced.lower[i]))
      .x((_, i) => x(reduced.steps[i]))
      .y0((_, i) => y(reduced.lower[i]))
      .y1((_, i) => y(reduced.upper[i]));
    ctx.fillStyle = withAlpha(series.color, band.opacity);
    ctx.beginPath();
    shape(reduced.lower);
    ctx.fill();
  }
  ctx.strokeStyle = series.color;
  ctx.lineJoin = 'round';
  for (const spec of PERCENTILE_LINES) {
    const values = percentiles[percentileIndex(spec.percentile)];
    const path = line<number>()
      .context(ctx)
      .defined((i) => Number.isFinite(values[i]))
      .x((i) => x(steps[i]))
      .y((i) => y(values[i]));
    ctx.lineWidth = spec.width;
    ctx.setLineDash([...spec.dash]);
    ctx.beginPath();
    path(reduceLine(steps, values, x, Number.isFinite));
    ctx.stroke();
  }
  ctx.setLineDash([]);
  if (series.divergedStep !== null) {
    const px = Math.min(area.right - 6, Math.max(area.left + 6, x(series.divergedStep)));
    drawCross(ctx, px, area.top + 10, 5, series.color);
    ctx.font = CHART_THEME.font;
    ctx.fillStyle = textColorFor(series.color);
    ctx.textBaseline = 'middle';
    const onRight = px < area.left + area.width * 0.6;
    ctx.textAlign = onRight ? 'left' : 'right';
    ctx.fillText(divergedLabel(series.divergedStep), px + (onRight ? 9 : -9), area.top + 10);
  }
  if (options.hoverStep != null) drawHover(ctx, series, layout, options.hoverStep);
  ctx.restore();

  drawLegend(ctx, bandChartLegend(series, options.title), area);
  return layout;
}
