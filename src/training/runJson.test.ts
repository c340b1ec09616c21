import { csvParseRows } from 'd3';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../config/schema';
import { readPackageMnist } from '../../scripts/build-mnist';
import { useBackend } from './backend';
import { HISTOGRAM, PERCENTILES, type ArmRecord, type Distribution } from './measures';
import { CSV_HEADER, runCsv, runJson, type Run } from './runJson';
import { Experiment, experimentData, FULL_TEST_EVERY, LIVE_TEST_DIGITS } from './trainer';

const config: Config = {
  ...DEFAULT_CONFIG,
  hiddenLayers: 2,
  hiddenUnits: 16,
  normalizationA: ['none', 'none'],
  normalizationB: ['batchnorm', 'batchnorm'],
  probeSize: 200,
  metricsInterval: 10,
  santurkarInterval: 10,
  steps: 30,
};

let run: Run;

beforeAll(async () => {
  await useBackend('wasm');
  const data = experimentData(readPackageMnist());
  const experiment = new Experiment(config, data);
  const records: ArmRecord[][] = experiment.arms.map((arm) => [arm.record()]);
  while (!experiment.done) experiment.advance().forEach((record, arm) => record && records[arm].push(record));
  run = experiment.run(records, 'wasm');
  experiment.dispose();
});

/** The JSON as scripts/experiment.ts wrote it field by field before the table of measures. */
function handWrittenJson(r: Run) {
  const distributionJson = (d: Distribution) => ({
    ...Object.fromEntries(PERCENTILES.map((p, i) => [`p${p}`, d.percentiles[i]])),
    mean: d.mean,
    std: d.std,
    histogram: d.histogram,
  });
  return {
    config: r.config,
    backend: r.backend,
    measuredOn: {
      probeDigits: r.config.probeSize,
      testDigits: r.testDigits,
      liveTestDigits: Math.min(LIVE_TEST_DIGITS, r.testDigits),
      fullTestEverySteps: FULL_TEST_EVERY * r.config.metricsInterval,
      trainDigits: r.trainDigits,
      bnMode: 'inference',
      inferenceStatistics: r.config.inferenceStatistics,
      histogramRange: [HISTOGRAM.min, HISTOGRAM.max],
      saturation: '|x| > 4',
    },
    arms: r.arms.map((arm) => ({
      name: arm.name,
      normalization: arm.normalization,
      diverged: arm.diverged,
      records: arm.records.map((rec) => ({
        step: rec.step,
        loss: rec.loss,
        testAccuracy: rec.testAccuracy,
        fullTestAccuracy: Number.isNaN(rec.fullTestAccuracy) ? null : rec.fullTestAccuracy,
        ...(rec.inferenceGap ? { inferenceGap: rec.inferenceGap } : {}),
        landscape: rec.landscape ?? { lossMin: null, lossMax: null, gradientChangeMin: null, gradientChangeMax: null, betaSmoothness: null },
        layers: rec.layers.map((l) => ({
          unit: distributionJson(l.unit),
          pooled: distributionJson(l.pooled),
          saturation: l.saturation,
          ics: l.ics ?? { l2: null, cosine: null },
        })),
      })),
    })),
  };
}

describe('runJson', () => {
  it('writes, from the table of measures, the same text as the hand-written JSON of a real 30-step run', () => {
    expect(run.arms[0].records.map((r) => r.step)).toEqual([0, 10, 20, 30]);
    expect(JSON.stringify(runJson(run))).toBe(JSON.stringify(handWrittenJson(run)));
  });

  it("writes Santurkar et al.'s measures of every measured record, and null parts where a record has none (step 0)", () => {
    const [first, second] = runJson(run).arms[1].records as { landscape: Record<string, number | null>; layers: { ics: Record<string, number | null> }[] }[];
    expect(first.landscape).toEqual({ lossMin: null, lossMax: null, gradientChangeMin: null, gradientChangeMax: null, betaSmoothness: null });
    expect(first.layers[1].ics).toEqual({ l2: null, cosine: null });
    expect(second.layers[0].ics).toEqual({ l2: 0, cosine: 1 });
    expect(second.layers[1].ics.l2).toBeGreaterThan(0);
    expect(second.landscape.lossMax).toBeGreaterThanOrEqual(second.landscape.lossMin!);
  });

  it('writes a diverged loss as null, as JSON.stringify would', () => {
    const first = run.arms[0].records[0];
    const diverged: Run = { ...run, arms: [{ ...run.arms[0], diverged: 10, records: [{ ...first, loss: Infinity }] }] };
    expect((runJson(diverged).arms[0].records[0] as Record<string, unknown>).loss).toBeNull();
  });
});

describe('runCsv', () => {
  it('writes a header and one row per number: arm, step, layer (empty for the arm), measure, value', () => {
    const rows = csvParseRows(runCsv(run));
    expect(rows[0]).toEqual([...CSV_HEADER]);
    // Every measure but the step: loss, the two accuracies, the inference gap's three, the landscape's five, then the layers.
    const perRecord = 11 + config.hiddenLayers * (2 * (PERCENTILES.length + 2 + HISTOGRAM.bins) + 3);
    expect(rows.length - 1).toBe(2 * 4 * perRecord);
    const b = run.arms[1].records[2];
    expect(rows).toContainEqual(['B', '20', '', 'loss', String(b.loss)]);
    expect(rows).toContainEqual(['B', '20', '2', 'unit.p85', String(b.layers[1].unit.percentiles[PERCENTILES.indexOf(85)])]);
    expect(rows).toContainEqual(['B', '20', '1', 'pooled.histogram[39]', String(b.layers[0].pooled.histogram[39])]);
    expect(rows).toContainEqual(['A', '0', '', 'fullTestAccuracy', 'NaN']);
    expect(rows).toContainEqual(['A', '20', '', 'inferenceGap.trainingMode', 'NaN']);
    expect(rows).toContainEqual(['B', '20', '', 'inferenceGap.population', String(b.inferenceGap!.population)]);
    expect(rows).toContainEqual(['A', '30', '', 'fullTestAccuracy', String(run.arms[0].records[3].fullTestAccuracy)]);
    expect(rows).toContainEqual(['B', '20', '2', 'ics.l2', String(b.layers[1].ics!.l2)]);
    expect(rows).toContainEqual(['B', '20', '', 'landscape.betaSmoothness', String(b.landscape!.betaSmoothness)]);
    expect(rows).toContainEqual(['B', '0', '', 'landscape.lossMin', 'NaN']);
  });

  it('quotes a field that holds a comma or a quote', () => {
    const named: Run = { ...run, arms: [{ ...run.arms[0], name: 'A, "plain"', records: run.arms[0].records.slice(0, 1) }] };
    expect(runCsv(named).split('\n')[1]).toMatch(/^"A, ""plain""",0,,loss,/);
  });
});
