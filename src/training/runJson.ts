/**
 * A run as JSON (README, "The JSON") and as CSV, written from the table of measures: one module
 * for `npm run experiment` and the page's export, so the same config gives the same file.
 */
import { csvFormatRows } from 'd3';
import type { Config, Normalization } from '../config/schema';
import {
  ARM_MEASURES,
  DISTRIBUTION_MEASURES,
  DISTRIBUTIONS,
  FULL_TEST_EVERY,
  HISTOGRAM,
  holderOf,
  LAYER_MEASURES,
  LIVE_TEST_DIGITS,
  recordLayout,
  type ArmRecord,
  type Measure,
} from './measures';

export interface RunArm {
  name: string;
  normalization: readonly Normalization[];
  /** The step at which its loss turned NaN/Inf, or null. */
  diverged: number | null;
  records: readonly ArmRecord[];
}

export interface Run {
  config: Config;
  /** The tfjs backend the arms trained on. */
  backend: string;
  trainDigits: number;
  testDigits: number;
  arms: readonly RunArm[];
}

const SATURATION = { sigmoid: '|x| > 4', tanh: '|x| > 2', relu: 'x <= 0' } as const;

/**
 * A measure's JSON value: a number (NaN and infinities as null, as JSON.stringify writes them), an
 * array, or an object of its named parts; for named parts that are all NaN, undefined (left out: the
 * arm never has them), unless the measure is taken at some records only (then its parts are null).
 */
function jsonValue(measure: Measure<never>, value: number | readonly number[]): number | null | number[] | Record<string, number | null> | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const { parts } = measure;
  if (parts === undefined) return Array.from(value);
  if (measure.sometimes) return Object.fromEntries(parts.map((part, i) => [part, Number.isFinite(value[i]) ? value[i] : null]));
  return value.some(Number.isFinite) ? Object.fromEntries(parts.map((part, i) => [part, value[i]])) : undefined;
}

function measuresJson<Of>(measures: readonly Measure<Of>[], from: Of): Record<string, unknown> {
  return Object.fromEntries(
    measures.flatMap((m) => {
      const value = jsonValue(m as Measure<never>, m.read(from));
      return value === undefined ? [] : [[m.name, value]];
    }),
  );
}

function recordJson(record: ArmRecord) {
  return {
    ...measuresJson(ARM_MEASURES, record),
    layers: record.layers.map((layer) => ({
      ...Object.fromEntries(DISTRIBUTIONS.map((d) => [d, measuresJson(DISTRIBUTION_MEASURES, layer[d])])),
      ...measuresJson(LAYER_MEASURES, layer),
    })),
  };
}

/** The run in the format of `npm run experiment --out` (README, "The JSON"). */
export function runJson(run: Run) {
  const { config } = run;
  return {
    config,
    backend: run.backend,
    measuredOn: {
      probeDigits: config.probeSize,
      testDigits: run.testDigits,
      liveTestDigits: Math.min(LIVE_TEST_DIGITS, run.testDigits),
      fullTestEverySteps: FULL_TEST_EVERY * config.metricsInterval,
      trainDigits: run.trainDigits,
      bnMode: 'inference',
      inferenceStatistics: config.inferenceStatistics,
      histogramRange: [HISTOGRAM.min, HISTOGRAM.max],
      saturation: SATURATION[config.activation],
    },
    arms: run.arms.map((arm) => ({
      name: arm.name,
      normalization: arm.normalization,
      diverged: arm.diverged,
      records: arm.records.map(recordJson),
    })),
  };
}

export const CSV_HEADER = ['arm', 'step', 'layer', 'measure', 'value'] as const;

/**
 * The run in long form, one row per number: `arm,step,layer,measure,value`. `layer` counts hidden
 * layers from 1 and is empty for the arm's own measures; a distribution's measures are named
 * `unit.p15`, `pooled.histogram[3]` and so on; NaN is written `NaN`.
 */
export function runCsv(run: Run): string {
  const rows: string[][] = [];
  for (const arm of run.arms) {
    const layers = arm.records[0]?.layers.length ?? 0;
    const layout = recordLayout(layers).filter(({ measure }) => measure.name !== 'step');
    for (const record of arm.records) {
      const step = String(record.step);
      for (const { measure, place } of layout) {
        const layer = place.layer === null ? '' : String(place.layer + 1);
        const name = place.distribution === null ? measure.name : `${place.distribution}.${measure.name}`;
        const value = measure.read(holderOf(record, place));
        if (typeof value === 'number') rows.push([arm.name, step, layer, name, String(value)]);
        else
          Array.from(value).forEach((v, i) => rows.push([arm.name, step, layer, measure.parts ? `${name}.${measure.parts[i]}` : `${name}[${i}]`, String(v)]));
      }
    }
  }
  return csvFormatRows([[...CSV_HEADER], ...rows]);
}
