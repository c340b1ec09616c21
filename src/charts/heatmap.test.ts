import { describe, expect, it } from 'vitest';
import { scaleLinear } from 'd3';
import { HISTOGRAM } from '../training/records';
import {
  bulkExtent,
  CLAMPED_LABEL,
  COLOR_BAR_TITLE,
  colorPosition,
  columnPeaks,
  drawHeatmap,
  fillHeatmapPixels,
  heatmapColumns,
  heatmapLayout,
  heatmapRows,
  MIN_EXTENT,
  type HeatmapSeries,
} from './heatmap';
import { ARM_COLORS, colorLookupTable, LUT_SIZE } from './colors';
import { interpolateViridis, rgb } from 'd3';

describe('heatmap', () => {
  it('maps each pixel column to the nearest recorded step, blank before the first and after the last cell', () => {
    const steps = new Float64Array([100, 200, 300]);
    const x = scaleLinear().domain([0, 400]).range([0, 40]);
    const columns = Array.from(heatmapColumns(steps, x, 0, 40, 1));
    // Pixel c shows step 10c + 5: cells span 50..150, 150..250, 250..350.
    expect(columns.slice(0, 5)).toEqual([-1, -1, -1, -1, -1]);
    expect(columns[5]).toBe(0);
    expect(columns[14]).toBe(0);
    expect(columns[15]).toBe(1);
    expect(columns[25]).toBe(2);
    expect(columns[34]).toBe(2);
    expect(columns[35]).toBe(-1);
  });

  it('counts columns in device pixels, so a 2x display fills twice as many', () => {
    const steps = new Float64Array([0, 400]);
    const x = scaleLinear().domain([0, 400]).range([10, 50]);
    const columns = heatmapColumns(steps, x, 10, 80, 2);
    expect(columns.length).toBe(80);
    expect(columns[0]).toBe(0);
    expect(columns[79]).toBe(1);
  });

  it('shows a single record as a column at least one pixel wide', () => {
    const x = scaleLinear().domain([0, 1000]).range([0, 100]);
    const columns = Array.from(heatmapColumns(new Float64Array([500]), x, 0, 100, 1));
    expect(columns.filter((c) => c === 0).length).toBeGreaterThanOrEqual(1);
    expect(columns.filter((c) => c === 0).length).toBeLessThanOrEqual(2);
  });

  it('maps pixel rows to bins with high values at the top', () => {
    const y = scaleLinear().domain([HISTOGRAM.min, HISTOGRAM.max]).range([HISTOGRAM.bins, 0]);
    const rows = Array.from(heatmapRows(HISTOGRAM, y, 0, HISTOGRAM.bins, 1));
    expect(rows[0]).toBe(HISTOGRAM.bins - 1);
    expect(rows[HISTOGRAM.bins - 1]).toBe(0);
    expect(rows).toEqual(Array.from({ length: HISTOGRAM.bins }, (_, r) => HISTOGRAM.bins - 1 - r));
  });

  it("colours by the square root of the fraction relative to its step's tallest bin", () => {
    expect(colorPosition(0, 0.5)).toBe(0);
    expect(colorPosition(0.5, 0.5)).toBe(1);
    expect(colorPosition(0.125, 0.5)).toBeCloseTo(0.5, 9);
    expect(colorPosition(0.9, 0.5)).toBe(1);
    expect(colorPosition(NaN, 0.5)).toBe(0);
  });

  it("finds each step's tallest bin between the end bins, which hold the clamped values", () => {
    const histograms = new Float32Array([
      0,
      0.2,
      0.7,
      0.1, // peak inside
      0.6,
      0.1,
      0.2,
      0.1, // a clamped pile does not set the scale
      0.5,
      0,
      0,
      0.5, // only clamped values: they do
      0,
      0,
      0,
      0,
    ]);
    expect(Array.from(columnPeaks(histograms, 4))).toEqual([0.7, 0.2, 0.5, 0].map(Math.fround));
  });

  /** One step's 40 fractions with the given share of values in the bins around the values given. */
  function histogramOf(values: Record<number, number>): Float32Array {
    const column = new Float32Array(HISTOGRAM.bins);
    for (const [value, share] of Object.entries(values)) column[Math.min(HISTOGRAM.bins - 1, Math.floor((Number(value) - HISTOGRAM.min) / 0.5))] += share;
    return column;
  }

  it('fits the y-axis to the bulk of all values, symmetric, in whole bins, never below ±2', () => {
    // Step 0: a spike at 0; later steps spread to about ±3.
    const arm = new Float32Array([...histogramOf({ 0: 1 }), ...histogramOf({ [-2.9]: 0.3, 0.1: 0.4, 2.9: 0.3 })]);
    expect(bulkExtent([arm])).toBe(3);
    expect(bulkExtent([histogramOf({ 0.2: 1 })])).toBe(MIN_EXTENT);
    // One arm's wide values widen the shared axis of both.
    expect(bulkExtent([arm, histogramOf({ [-6.2]: 0.5, 6.2: 0.5 })])).toBe(6.5);
    // Values clamped into the end bins keep the whole range, end rows included.
    expect(bulkExtent([histogramOf({ 0: 0.9, 50: 0.1 })])).toBe(10);
    expect(bulkExtent([new Float32Array(0)])).toBe(MIN_EXTENT);
  });

  it('paints each cell the colour of its fraction and leaves columns without data transparent', () => {
    const bins = 4;
    // Two points: point 0 all in bin 1, point 1 all in bin 2 (inner bins: no stripes).
    const histograms = new Float32Array([0, 1, 0, 0, 0, 0, 1, 0]);
    const columns = new Int32Array([-1, 0, 1]);
    const rows = new Int32Array([2, 1]); // top row shows bin 2
    const pixels = new Uint8ClampedArray(3 * 2 * 4).fill(9);
    const lut = colorLookupTable(interpolateViridis);
    fillHeatmapPixels(pixels, columns, rows, histograms, bins, lut);
    const pixel = (c: number, r: number) => Array.from(pixels.subarray((r * 3 + c) * 4, (r * 3 + c) * 4 + 4));
    const bright = rgb(interpolateViridis(1));
    const dark = rgb(interpolateViridis(0));
    expect(pixel(0, 0)[3]).toBe(0);
    expect(pixel(0, 1)[3]).toBe(0);
    expect(pixel(1, 0)).toEqual([dark.r, dark.g, dark.b, 255]);
    expect(pixel(1, 1)).toEqual([bright.r, bright.g, bright.b, 255]);
    expect(pixel(2, 0)).toEqual([bright.r, bright.g, bright.b, 255]);
    expect(lut.length).toBe(LUT_SIZE * 4);
  });

  it('scales each step to its own tallest bin, so a spread-out step is as bright as the step-0 spike', () => {
    const bins = 4;
    // Step 0: all values in one bin; a later step spread evenly over all four.
    const histograms = new Float32Array([0, 1, 0, 0, 0.25, 0.25, 0.25, 0.25]);
    const pixels = new Uint8ClampedArray(2 * 2 * 4);
    fillHeatmapPixels(pixels, new Int32Array([0, 1]), new Int32Array([1, 2]), histograms, bins);
    const bright = rgb(interpolateViridis(1));
    const dark = rgb(interpolateViridis(0));
    const pixel = (c: number, r: number) => Array.from(pixels.subarray((r * 2 + c) * 4, (r * 2 + c) * 4 + 3));
    expect(pixel(0, 0)).toEqual([bright.r, bright.g, bright.b]);
    expect(pixel(0, 1)).toEqual([dark.r, dark.g, dark.b]);
    expect(pixel(1, 0)).toEqual([bright.r, bright.g, bright.b]);
    expect(pixel(1, 1)).toEqual([bright.r, bright.g, bright.b]);
  });

  it('stripes the end rows, which hold the clamped values, and leaves inner rows unstriped', () => {
    const bins = 3;
    const histograms = new Float32Array([1 / 3, 1 / 3, 1 / 3]);
    const width = 12;
    const pixels = new Uint8ClampedArray(width * 3 * 4);
    fillHeatmapPixels(pixels, new Int32Array(width).fill(0), new Int32Array([2, 1, 0]), histograms, bins);
    const white = (r: number) =>
      Array.from({ length: width }, (_, c) => pixels[(r * width + c) * 4] === 255 && pixels[(r * width + c) * 4 + 1] === 255).filter(Boolean).length;
    expect(white(0)).toBeGreaterThan(0);
    expect(white(0)).toBeLessThan(width / 2);
    expect(white(1)).toBe(0);
    expect(white(2)).toBeGreaterThan(0);
  });

  it('gives a pixel row the colours of the row above when both show the same bin', () => {
    const histograms = new Float32Array([0, 0.2, 0.8, 0, 0, 0.5, 0.5, 0]);
    const columns = new Int32Array([0, 1, -1]);
    const rows = new Int32Array([2, 2, 1, 1]);
    const pixels = new Uint8ClampedArray(3 * 4 * 4);
    fillHeatmapPixels(pixels, columns, rows, histograms, 4);
    const row = (r: number) => Array.from(pixels.subarray(r * 12, r * 12 + 12));
    expect(row(1)).toEqual(row(0));
    expect(row(3)).toEqual(row(2));
    expect(row(0)).not.toEqual(row(2));
  });

  it('places the image in device pixels, since putImageData ignores the transform', () => {
    const calls: { name: string; args: unknown[] }[] = [];
    const state: Record<string | symbol, unknown> = {};
    const ctx = new Proxy(state, {
      get(target, prop) {
        if (prop in target) return target[prop];
        if (prop === 'measureText') return (text: string) => ({ width: text.length * 6 });
        if (prop === 'getTransform') return () => ({ a: 2, b: 0, c: 0, d: 2, e: 0, f: 0 });
        if (prop === 'createImageData') return (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) });
        if (prop === 'createLinearGradient') return () => ({ addColorStop() {} });
        return (...args: unknown[]) => void calls.push({ name: String(prop), args });
      },
      set(target, prop, value) {
        target[prop] = value;
        return true;
      },
    }) as unknown as CanvasRenderingContext2D;
    const series: HeatmapSeries = {
      label: 'A: no BN',
      color: ARM_COLORS[0],
      steps: new Float64Array([0, 100]),
      histograms: new Float32Array(2 * HISTOGRAM.bins).fill(1 / HISTOGRAM.bins),
      divergedStep: null,
    };
    const options = { width: 400, height: 200, title: 'layer 3, all units' };
    drawHeatmap(ctx, series, options);
    const { area } = heatmapLayout(series, options);
    const put = calls.find((c) => c.name === 'putImageData');
    expect(put?.args.slice(1)).toEqual([area.left * 2, area.top * 2]);
    const image = put?.args[0] as ImageData;
    expect([image.width, image.height]).toEqual([area.width * 2, area.height * 2]);
    const texts = calls.filter((c) => c.name === 'fillText').map((c) => c.args[0]);
    expect(texts).toContain('A: no BN, layer 3, all units');
    expect(texts).toContain(COLOR_BAR_TITLE);
    expect(texts).toContain('input to the nonlinearity');
    expect(texts).toContain(CLAMPED_LABEL);
    // Fitted to the bulk, the axis leaves out the end rows, and their legend entry goes with them.
    calls.length = 0;
    drawHeatmap(ctx, series, { ...options, extent: 3 });
    const fitted = calls.filter((c) => c.name === 'fillText').map((c) => c.args[0]);
    expect(fitted).not.toContain(CLAMPED_LABEL);
    expect(fitted).toContain('−2');
    expect(texts).not.toContain('−2');
  });
});
