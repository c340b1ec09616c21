import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/schema';
import { ArmSeries } from '../state/series';
import { initialState } from '../state/store';
import { HISTOGRAM, PERCENTILES, type ArmRecord } from '../training/measures';
import { runJson } from '../training/runJson';
import { pageRun } from './runExport';

const config = { ...DEFAULT_CONFIG, hiddenLayers: 1, normalizationA: ['none' as const], normalizationB: ['batchnorm' as const] };
const distribution = (v: number) => ({ percentiles: PERCENTILES.map((p) => v + p), mean: v, std: 1, histogram: new Array<number>(HISTOGRAM.bins).fill(v) });
const record = (step: number): ArmRecord => ({
  step,
  loss: 2 / (step + 1),
  testAccuracy: 0.1 + step / 1e4,
  fullTestAccuracy: step === 0 ? NaN : 0.5,
  layers: [{ unit: distribution(step), pooled: distribution(step + 1), saturation: 0.25 }],
});
const counts = { digitCounts: () => ({ train: 60_000, test: 10_000 }) };

describe('pageRun', () => {
  it("gives the run's JSON every record the page holds, with the arms' names, normalizations and divergence", () => {
    const state = initialState(config);
    const given = [0, 100, 200].map(record);
    state.series[0].pushMany(given);
    state.series[1].pushMany(given.slice(0, 2));
    state.arms[1] = { ...state.arms[1], diverged: 100, backend: 'wasm' };
    state.arms[0] = { ...state.arms[0], backend: 'wasm' };
    const json = runJson(pageRun(state, counts));
    expect(json.measuredOn).toMatchObject({ trainDigits: 60_000, testDigits: 10_000, liveTestDigits: 2000 });
    expect(json.arms.map((a) => [a.name, a.normalization, a.diverged, a.records.length])).toEqual([
      ['A', ['none'], null, 3],
      ['B', ['batchnorm'], 100, 2],
    ]);
    expect(json.arms[0].records[2]).toMatchObject({ step: 200, loss: 2 / 201, fullTestAccuracy: 0.5 });
    expect(json.arms[0].records[0]).toMatchObject({ fullTestAccuracy: null });
  });

  it('refuses, saying why, before the digits arrive, before any record, and once the series had to thin its records', () => {
    const state = initialState(config);
    expect(() => pageRun(state, { digitCounts: () => null })).toThrow(/digits have not arrived/);
    expect(() => pageRun(state, counts)).toThrow(/nothing measured yet/);
    state.series = [new ArmSeries(1, 4), new ArmSeries(1, 4)];
    for (let i = 0; i < 6; i++) state.series[0].push(record(i * 100));
    expect(() => pageRun(state, counts)).toThrow(/memory bound and keeps only one record in 2/);
  });
});
