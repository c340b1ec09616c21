import { describe, expect, it } from 'vitest';
import { HISTOGRAM, PERCENTILES } from '../training/records';
import { binLabel, heatmapTable, histogramTable, percentilesTable, stepsTable, TABLE_ROWS, thinnedIndices } from './chartTables';

const plain = (value: number) => String(value);

describe('chartTables', () => {
  it('thinnedIndices keeps every row up to the limit, then an even spread with the first and the last', () => {
    expect(thinnedIndices(3, 5)).toEqual([0, 1, 2]);
    expect(thinnedIndices(11, 3)).toEqual([0, 5, 10]);
    const many = thinnedIndices(2048);
    expect(many).toHaveLength(TABLE_ROWS);
    expect([many[0], many[many.length - 1]]).toEqual([0, 2047]);
    expect(new Set(many).size).toBe(TABLE_ROWS);
  });

  it('stepsTable gives a row per step any arm recorded and a dash where an arm has none', () => {
    const table = stepsTable(
      'Loss',
      [
        { label: 'A: no BN', steps: [0, 10, 20], values: [2.3, 1.5, 1.1] },
        { label: 'B: BN on all', steps: [0, 10], values: [2.2, 0.9] },
      ],
      plain,
    );
    expect(table.columns).toEqual(['Step', 'A: no BN', 'B: BN on all']);
    expect(table.rows).toEqual([
      ['0', '2.3', '2.2'],
      ['10', '1.5', '0.9'],
      ['20', '1.1', '–'],
    ]);
    expect(table.caption).toBe('Loss');
  });

  it('says in the caption when a long run was thinned', () => {
    const steps = Array.from({ length: 500 }, (_, i) => i * 100);
    const table = stepsTable('Accuracy', [{ label: 'A', steps, values: steps }], plain);
    expect(table.rows).toHaveLength(TABLE_ROWS);
    expect(table.rows[table.rows.length - 1][0]).toBe('49,900');
    expect(table.caption).toBe(`Accuracy (${TABLE_ROWS} of 500 records, evenly spaced)`);
  });

  it('percentilesTable has a column per recorded percentile, in order', () => {
    const percentiles = PERCENTILES.map((p) => [p / 100, p / 50]);
    const table = percentilesTable('Bands', [0, 100], percentiles, plain);
    expect(table.columns).toEqual(['Step', ...PERCENTILES.map((p) => expect.stringMatching(new RegExp(`^${p}(st|nd|rd|th) percentile$`)))]);
    expect(table.rows[1]).toEqual(['100', ...PERCENTILES.map((p) => String(p / 50))]);
  });

  it('histogram and heatmap tables have a row or a column per bin, the end bins open-ended', () => {
    expect(binLabel(0, plain)).toBe('below -9.5');
    expect(binLabel(1, plain)).toBe('-9.5 to -9');
    expect(binLabel(HISTOGRAM.bins - 1, plain)).toBe('9.5 and above');
    const histogram = Array.from({ length: HISTOGRAM.bins }, (_, b) => b / 100);
    const table = histogramTable(
      'Now',
      [
        { label: 'A', histogram, step: 300 },
        { label: 'B', histogram: null, step: null },
      ],
      plain,
      plain,
    );
    expect(table.columns).toEqual(['Bin of the input', 'A, step 300', 'B']);
    expect(table.rows).toHaveLength(HISTOGRAM.bins);
    expect(table.rows[3]).toEqual([binLabel(3, plain), '0.03', '–']);
    const heat = heatmapTable('Heat', [0, 10], [...histogram, ...histogram.map((v) => v * 2)], plain, plain);
    expect(heat.columns).toHaveLength(HISTOGRAM.bins + 1);
    expect(heat.rows[1][4]).toBe(String(0.03 * 2));
  });
});
