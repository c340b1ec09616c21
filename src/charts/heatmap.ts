/**
 * Histograms over time as a heatmap, like TensorBoard's histogram panel: x = training step,
 * y = the input to the nonlinearity in the histogram's fixed bins, colour = each bin's share of
 * its own step's tallest bin. Per step, as TensorBoard scales each step's histogram to its own
 * peak: one scale for the whole run would be set by the step-0 spike (every unit starts near 0)
 * and leave the spread-out distributions of later steps dark.
 * Painted as one ImageData at device resolution: a table lookup per pixel, whatever the number of
 * cells (2,048 x 40 fillRects would cost tens of ms).
 */
import { interpolateViridis, scaleSqrt, type ScaleLinear } from 'd3';
import { HISTOGRAM } from '../training/records';
import {
  DEFAULT_MARGINS,
  drawAxes,
  formatStepExact,
  FRACTION_AXIS,
  NONLINEARITY_INPUT_AXIS,
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
import { CHART_THEME, colorLookupTable, lookupIndex, paintBackground } from './colors';
import { nearestIndex } from './hover';
import { armLegendLabel, divergedLabel, drawCross, drawLegend } from './legend';
import type { HistogramRange } from './histogramChart';

export interface HeatmapSeries {
  label: string;
  color: string;
  steps: Column;
  /** Row-major [steps.length x range.bins] fractions (ArmSeries.histograms). */
  histograms: ArrayLike<number>;
  divergedStep: number | null;
}

export interface HeatmapOptions extends ChartSize {
  /** The histograms' bins. */
  range?: HistogramRange;
  /** The y-axis shows [-extent, extent] (bulkExtent); by default the bins' whole range. */
  extent?: number;
  xDomain?: Domain;
  hoverStep?: number | null;
  /** What is plotted, e.g. "layer 3, all units"; shown after the arm's label. */
  title?: string;
  margins?: Margins;
}

export interface HeatmapLayout {
  area: PlotArea;
  x: ScaleLinear<number, number>;
  y: ValueScale;
}

/** Room on the right for the colour bar, its tick labels and its title; above, for two legend rows. */
export const HEATMAP_MARGINS: Margins = { ...DEFAULT_MARGINS, top: 40, right: 62 };

const VIRIDIS = colorLookupTable(interpolateViridis);

/** The share of all recorded values the y-axis keeps in view. */
const BULK_SHARE = 0.99;
/** The y-axis never shows less than [-2, 2], so a narrow BN distribution still reads as narrow. */
export const MIN_EXTENT = 2;

/** Legend entry of the end rows, which hold every value beyond the bins' range. */
export const CLAMPED_LABEL = 'end rows: clamped |x| > 10';

/**
 * The half-height of a y-axis symmetric about 0 that shows BULK_SHARE of all values of all the
 * columns (each a row-major run of `range.bins` fractions summing to 1 per step), in whole bins,
 * never below MIN_EXTENT: a ±2 distribution fills the chart rather than a stripe of ±10.
 */
export function bulkExtent(histogramColumns: readonly ArrayLike<number>[], range: HistogramRange = HISTOGRAM): number {
  const { bins, min, max } = range;
  const width = (max - min) / bins;
  const perBin = new Float64Array(bins);
  let total = 0;
  for (const column of histogramColumns) {
    for (let i = 0; i < column.length; i++) {
      perBin[i % bins] += column[i];
      total += column[i];
    }
  }
  const centre = (min + max) / 2;
  for (let extent = Math.max(MIN_EXTENT, width); extent < max - centre; extent += width) {
    const first = Math.max(0, Math.round((centre - extent - min) / width));
    const last = Math.min(bins, Math.round((centre + extent - min) / width));
    let inside = 0;
    for (let b = first; b < last; b++) inside += perBin[b];
    if (inside >= BULK_SHARE * total) return extent;
  }
  return max - centre;
}

/**
 * Each point's tallest bin, the brightest colour of its column. The end bins are left out unless
 * they hold everything: in a saturated layer they pile up the clamped values and would otherwise
 * dim the distribution in between (they are drawn at full brightness, striped).
 */
export function columnPeaks(histograms: ArrayLike<number>, bins: number): Float32Array {
  const peaks = new Float32Array(Math.floor(histograms.length / bins));
  for (let p = 0; p < peaks.length; p++) {
    let inner = 0;
    for (let b = 1; b < bins - 1; b++) inner = Math.max(inner, histograms[p * bins + b]);
    peaks[p] = inner > 0 ? inner : Math.max(histograms[p * bins], histograms[p * bins + bins - 1]);
  }
  return peaks;
}

/**
 * Position of a fraction on the colour ramp, relative to its step's peak. Square root, because a
 * saturated layer piles most values into an end bin: on a linear ramp that one bin would leave
 * every other cell of its step dark.
 */
export function colorPosition(fraction: number, peak: number): number {
  if (!(fraction > 0) || !(peak > 0)) return 0;
  return Math.min(1, Math.sqrt(fraction / peak));
}

/** Light stripes across the end rows, so a clamped pile of values is not read as values at ±10. */
function isHatched(column: number, row: number): boolean {
  return (column + row) % 6 < 2;
}

const HATCH = (() => {
  const bytes = new Uint8ClampedArray([255, 255, 255, 200]);
  return new Uint32Array(bytes.buffer)[0];
})();

/**
 * For each of `deviceWidth` pixel columns starting at CSS x `left`, the index of the point whose
 * cell covers it, or -1. A cell spans halfway to its neighbours (at least one device pixel), so each
 * pixel shows its nearest recorded step, as the hover readout does.
 */
export function heatmapColumns(steps: ArrayLike<number>, x: ScaleLinear<number, number>, left: number, deviceWidth: number, pixelRatio: number): Int32Array {
  const columns = new Int32Array(deviceWidth).fill(-1);
  const n = steps.length;
  if (n === 0) return columns;
  const halfPixel = Math.abs(x.invert(left + 0.5 / pixelRatio) - x.invert(left));
  const firstEdge = steps[0] - Math.max(halfPixel, n > 1 ? (steps[1] - steps[0]) / 2 : 0);
  const lastEdge = steps[n - 1] + Math.max(halfPixel, n > 1 ? (steps[n - 1] - steps[n - 2]) / 2 : 0);
  for (let c = 0; c < deviceWidth; c++) {
    const step = x.invert(left + (c + 0.5) / pixelRatio);
    if (step >= firstEdge && step <= lastEdge) columns[c] = nearestIndex(steps, step);
  }
  return columns;
}

/** For each of `deviceHeight` pixel rows starting at CSS y `top`, the histogram bin it shows. */
export function heatmapRows(range: HistogramRange, y: ValueScale, top: number, deviceHeight: number, pixelRatio: number): Int32Array {
  const rows = new Int32Array(deviceHeight);
  const width = (range.max - range.min) / range.bins;
  for (let r = 0; r < deviceHeight; r++) {
    const value = y.invert(top + (r + 0.5) / pixelRatio);
    rows[r] = Math.min(range.bins - 1, Math.max(0, Math.floor((value - range.min) / width)));
  }
  return rows;
}

/**
 * Writes the RGBA pixels of a `columns.length` x `rows.length` image: cell (column, row) gets the
 * colour of its bin's fraction of its step's peak; columns with no point stay transparent; the
 * end bins (which hold the clamped values) are striped. Whole pixels are copied through 32-bit
 * views (byte order is the same in both views), and a row showing the same inner bin as the row
 * above is copied from it: about ten pixel rows share each of the 40 bins.
 */
export function fillHeatmapPixels(
  pixels: Uint8ClampedArray,
  columns: Int32Array,
  rows: Int32Array,
  histograms: ArrayLike<number>,
  bins: number,
  lut: Uint8ClampedArray = VIRIDIS,
): void {
  const width = columns.length;
  const out = new Uint32Array(pixels.buffer, pixels.byteOffset, width * rows.length);
  const colors = new Uint32Array(lut.buffer, lut.byteOffset, lut.length >>> 2);
  const peaks = columnPeaks(histograms, bins);
  for (let r = 0; r < rows.length; r++) {
    const bin = rows[r];
    const start = r * width;
    const clamped = bin === 0 || bin === bins - 1;
    if (r > 0 && bin === rows[r - 1] && !clamped) {
      out.copyWithin(start, start - width, start);
      continue;
    }
    for (let c = 0; c < width; c++) {
      const index = columns[c];
      if (index < 0) out[start + c] = 0;
      else if (clamped && isHatched(c, r)) out[start + c] = HATCH;
      else out[start + c] = colors[lookupIndex(colorPosition(histograms[index * bins + bin], peaks[index]))];
    }
  }
}

export function heatmapLayout(series: HeatmapSeries, options: HeatmapOptions): HeatmapLayout {
  const range = options.range ?? HISTOGRAM;
  const area = plotArea(options, options.margins ?? HEATMAP_MARGINS);
  return {
    area,
    x: stepScale(area, options.xDomain ?? stepDomain([series.steps])),
    y: valueScale(area, options.extent === undefined ? [range.min, range.max] : [-options.extent, options.extent], false),
  };
}

/** What the colour bar measures, on its square-root scale. */
export const COLOR_BAR_TITLE = "% of the step's tallest bin (√)";

/** One ImageData per canvas, reused while the plot area keeps its size. */
const imageCache = new WeakMap<CanvasRenderingContext2D, ImageData>();

function imageFor(ctx: CanvasRenderingContext2D, width: number, height: number): ImageData {
  const cached = imageCache.get(ctx);
  if (cached && cached.width === width && cached.height === height) return cached;
  const image = ctx.createImageData(width, height);
  imageCache.set(ctx, image);
  return image;
}

function drawColorBar(ctx: CanvasRenderingContext2D, area: PlotArea): void {
  const left = area.right + 10;
  const width = 10;
  const gradient = ctx.createLinearGradient(0, area.bottom, 0, area.top);
  // The bar's axis is a square-root scale too, so evenly spaced ramp stops match colorPosition.
  for (let i = 0; i <= 10; i++) {
    const k = 4 * lookupIndex(i / 10);
    gradient.addColorStop(i / 10, `rgb(${VIRIDIS[k]}, ${VIRIDIS[k + 1]}, ${VIRIDIS[k + 2]})`);
  }
  ctx.fillStyle = gradient;
  ctx.fillRect(left, area.top, width, area.height);
  const scale = scaleSqrt().domain([0, 1]).range([area.bottom, area.top]);
  ctx.font = CHART_THEME.font;
  ctx.fillStyle = CHART_THEME.mutedText;
  ctx.strokeStyle = CHART_THEME.axis;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.beginPath();
  for (const t of scale.ticks(Math.max(2, Math.floor(area.height / 40)))) {
    const py = Math.round(scale(t)) + 0.5;
    ctx.moveTo(left + width, py);
    ctx.lineTo(left + width + 3, py);
    ctx.fillText(FRACTION_AXIS.format(t), left + width + 5, py);
  }
  ctx.stroke();
  ctx.save();
  ctx.translate(area.right + 58, area.top + area.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillStyle = CHART_THEME.text;
  ctx.fillText(COLOR_BAR_TITLE, 0, 0);
  ctx.restore();
}

/** White text outlined in near-black: readable over every colour of viridis, from its purple to its yellow. */
function haloText(ctx: CanvasRenderingContext2D, text: string, x: number, y: number): void {
  ctx.lineJoin = 'round';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.85)';
  ctx.strokeText(text, x, y);
  ctx.fillStyle = '#ffffff';
  ctx.fillText(text, x, y);
}

/** Draws the whole heatmap in one pass and returns its layout (for mapping the pointer). */
export function drawHeatmap(ctx: CanvasRenderingContext2D, series: HeatmapSeries, options: HeatmapOptions): HeatmapLayout {
  const range = options.range ?? HISTOGRAM;
  const layout = heatmapLayout(series, options);
  const { area, x, y } = layout;
  paintBackground(ctx, options.width, options.height);

  // putImageData ignores the transform: place the image in device pixels.
  const m = ctx.getTransform();
  const ratio = m.a;
  const deviceLeft = Math.round(area.left * ratio + m.e);
  const deviceTop = Math.round(area.top * m.d + m.f);
  const deviceWidth = Math.max(1, Math.round(area.width * ratio));
  const deviceHeight = Math.max(1, Math.round(area.height * m.d));
  const image = imageFor(ctx, deviceWidth, deviceHeight);
  fillHeatmapPixels(
    image.data,
    heatmapColumns(series.steps, x, area.left, deviceWidth, ratio),
    heatmapRows(range, y, area.top, deviceHeight, m.d),
    series.histograms,
    range.bins,
  );
  ctx.putImageData(image, deviceLeft, deviceTop);

  drawAxes(ctx, area, { x, y, xAxis: STEP_AXIS, yAxis: NONLINEARITY_INPUT_AXIS });
  drawColorBar(ctx, area);

  ctx.save();
  ctx.font = CHART_THEME.font;
  ctx.textBaseline = 'middle';
  if (series.divergedStep !== null) {
    const px = Math.min(area.right - 6, Math.max(area.left + 6, x(series.divergedStep)));
    drawCross(ctx, px, area.top + 10, 5, '#ffffff');
    const onRight = px < area.left + area.width * 0.6;
    ctx.textAlign = onRight ? 'left' : 'right';
    haloText(ctx, divergedLabel(series.divergedStep), px + (onRight ? 9 : -9), area.top + 10);
  }
  const hover = options.hoverStep;
  if (hover != null && series.steps.length > 0) {
    const shown = series.steps[nearestIndex(series.steps, hover)];
    const px = x(hover);
    if (px >= area.left && px <= area.right) {
      drawCrosshair(ctx, area, px, '#ffffff');
      const onRight = px < area.left + area.width * 0.6;
      ctx.textAlign = onRight ? 'left' : 'right';
      haloText(ctx, `step ${formatStepExact(shown)}`, px + (onRight ? 6 : -6), area.bottom - 10);
    }
  }
  ctx.restore();

  const label = armLegendLabel(options.title ? `${series.label}, ${options.title}` : series.label, series.divergedStep);
  const [low, high] = y.domain();
  const binWidth = (range.max - range.min) / range.bins;
  const endRowsShown = low < range.min + binWidth || high > range.max - binWidth;
  drawLegend(
    ctx,
    [
      { label, symbol: { kind: 'band', color: series.color, opacity: 1 } },
      ...(endRowsShown ? [{ label: CLAMPED_LABEL, symbol: { kind: 'hatch' } as const }] : []),
    ],
    area,
  );
  return layout;
}
