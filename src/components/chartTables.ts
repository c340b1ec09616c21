/**
 * A chart's data as a table ("show as table"): the same columns the chart plots, one row per record,
 * for readers who cannot see the canvas or want the numbers. Long runs are thinned evenly to at
 * most TABLE_ROWS rows (the first and the latest record always kept) and the caption says so.
 */
import { formatStepExact } from '../charts/axes';
import { ordinal } from '../charts/bandChart';
import { nearestIndex } from '../charts/hover';
import { HISTOGRAM, PERCENTILES } from '../training/records';

export interface ChartTable {
  caption: string;
  /** Header cells; the first column is what each row is (a step, a bin). */
  columns: string[];
  rows: string[][];
}

/** Rows kept in a table: enough to follow a curve, few enough to render every second. */
export const TABLE_ROWS = 200;

/** At most `max` of `n` indices, evenly spread, the first and the last always among them. */
export function thinnedIndices(n: number, max: number = TABLE_ROWS): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)));
}

function thinnedCaption(caption: string, shown: number, total: number): string {
  return shown < total ? `${caption} (${shown} of ${total} records, evenly spaced)` : caption;
}

export interface ArmColumn {
  label: string;
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

/** Line charts: one row per step any arm recorded, one column per arm; a dash where an arm has no record. */
export function stepsTable(caption: string, arms: readonly ArmColumn[], format: (value: number) => string): ChartTable {
  const steps = [...new Set(arms.flatMap((arm) => Array.from(arm.steps)))].sort((a, b) => a - b);
  const kept = thinnedIndices(steps.length);
  const rows = kept.map((k) => {
    const step = steps[k];
    const cells = arms.map((arm) => {
      if (arm.steps.length === 0) return '–';
      const i = nearestIndex(arm.steps, step);
      return arm.steps[i] === step ? format(arm.values[i]) : '–';
    });
    return [formatStepExact(step), ...cells];
  });
  return { caption: thinnedCaption(caption, kept.length, steps.length), columns: ['Step', ...arms.map((arm) => arm.label)], rows };
}

/** Band charts: one row per record, one column per recorded percentile (PERCENTILES, in order). */
export function percentilesTable(
  caption: string,
  steps: ArrayLike<number>,
  percentiles: readonly ArrayLike<number>[],
  format: (value: number) => string,
): ChartTable {
  const kept = thinnedIndices(steps.length);
  return {
    caption: thinnedCaption(caption, kept.length, steps.length),
    columns: ['Step', ...PERCENTILES.map((p) => `${ordinal(p)} percentile`)],
    rows: kept.map((i) => [formatStepExact(steps[i]), ...percentiles.map((column) => format(column[i]))]),
  };
}

/** The range of histogram bin `b`; the end bins also hold the values beyond the range. */
export function binLabel(b: number, format: (value: number) => string): string {
  const width = (HISTOGRAM.max - HISTOGRAM.min) / HISTOGRAM.bins;
  const low = HISTOGRAM.min + b * width;
  if (b === 0) return `below ${format(low + width)}`;
  if (b === HISTOGRAM.bins - 1) return `${format(low)} and above`;
  return `${format(low)} to ${format(low + width)}`;
}

/** Histograms: one row per bin, one column per arm (with the step it shows). */
export function histogramTable(
  caption: string,
  arms: readonly { label: string; histogram: ArrayLike<number> | null; step: number | null }[],
  format: (fraction: number) => string,
  formatBin: (value: number) => string,
): ChartTable {
  return {
    caption,
    columns: ['Bin of the input', ...arms.map((arm) => (arm.step === null ? arm.label : `${arm.label}, step ${formatStepExact(arm.step)}`))],
    rows: Array.from({ length: HISTOGRAM.bins }, (_, b) => [binLabel(b, formatBin), ...arms.map((arm) => (arm.histogram ? format(arm.histogram[b]) : '–'))]),
  };
}

/** A heatmap: one row per record, one column per bin (`histograms` holds HISTOGRAM.bins values per record). */
export function heatmapTable(
  caption: string,
  steps: ArrayLike<number>,
  histograms: ArrayLike<number>,
  format: (fraction: number) => string,
  formatBin: (value: number) => string,
): ChartTable {
  const kept = thinnedIndices(steps.length);
  const bins = HISTOGRAM.bins;
  return {
    caption: thinnedCaption(caption, kept.length, steps.length),
    columns: ['Step', ...Array.from({ length: bins }, (_, b) => binLabel(b, formatBin))],
    rows: kept.map((i) => [formatStepExact(steps[i]), ...Array.from({ length: bins }, (_, b) => format(histograms[i * bins + b]))]),
  };
}
