import { describe, expect, it } from 'vitest';
import {
  ARM_MEASURES,
  DISTRIBUTION_MEASURES,
  DISTRIBUTIONS,
  HISTOGRAM,
  holderOf,
  LAYER_MEASURES,
  packedRecordLength,
  PERCENTILES,
  recordLayout,
  type ArmRecord,
} from './measures';

describe('the table of measures', () => {
  it('names every measure once per place, in the JSON words: step first, then loss and the accuracies', () => {
    expect(ARM_MEASURES.map((m) => m.name)).toEqual(['step', 'loss', 'testAccuracy', 'fullTestAccuracy', 'inferenceGap', 'landscape']);
    expect(DISTRIBUTION_MEASURES.map((m) => m.name)).toEqual([...PERCENTILES.map((p) => `p${p}`), 'mean', 'std', 'histogram']);
    expect(LAYER_MEASURES.map((m) => m.name)).toEqual(['saturation', 'ics']);
    for (const m of [...ARM_MEASURES, ...DISTRIBUTION_MEASURES, ...LAYER_MEASURES]) expect(m.unit.length).toBeGreaterThan(0);
  });

  it('lays a record out without gaps or overlaps: each measure starts where the one before it ends', () => {
    for (const layers of [1, 3, 7]) {
      const layout = recordLayout(layers);
      expect(layout.length).toBe(ARM_MEASURES.length + layers * (DISTRIBUTIONS.length * DISTRIBUTION_MEASURES.length + LAYER_MEASURES.length));
      let end = 0;
      for (const { measure, offset } of layout) {
        expect(offset).toBe(end);
        end += measure.length;
      }
      expect(end).toBe(packedRecordLength(layers));
    }
    // step, loss, the two accuracies, the inference gap's three, the landscape's five; then per layer two distributions, saturation and ICS's two.
    expect(packedRecordLength(3)).toBe(12 + 3 * (2 * (PERCENTILES.length + 2 + HISTOGRAM.bins) + 3));
  });

  it("reads Santurkar et al.'s measures as NaN from a record without them, and writes them only where a number was measured", () => {
    const landscape = ARM_MEASURES.find((m) => m.name === 'landscape')!;
    const ics = LAYER_MEASURES.find((m) => m.name === 'ics')!;
    const record = { layers: [{ unit: {}, pooled: {} }] } as never as ArmRecord;
    expect(landscape.read(record)).toEqual([NaN, NaN, NaN, NaN, NaN]);
    expect(ics.read(record.layers[0])).toEqual([NaN, NaN]);
    landscape.write(record, Float64Array.of(NaN, NaN, NaN, NaN, NaN));
    expect(record.landscape).toBeUndefined();
    ics.write(record.layers[0], Float64Array.of(0.5, 0.9));
    expect(record.layers[0].ics).toEqual({ l2: 0.5, cosine: 0.9 });
    expect(ics.parts).toEqual(['l2', 'cosine']);
    expect(landscape.parts).toEqual(['lossMin', 'lossMax', 'gradientChangeMin', 'gradientChangeMax', 'betaSmoothness']);
  });

  it('places distribution measures in the named distribution of the named layer', () => {
    const layout = recordLayout(2);
    const p50 = layout.find((m) => m.measure.name === 'p50' && m.place.layer === 1 && m.place.distribution === 'pooled')!;
    const record = {
      layers: [
        { unit: {}, pooled: {} },
        { unit: { percentiles: [0, 0, 0, 0, 1] }, pooled: { percentiles: [0, 0, 0, 0, 2] } },
      ],
    };
    expect(p50.measure.read(holderOf(record as never, p50.place))).toBe(2);
  });
});
