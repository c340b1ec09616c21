import { describe, expect, it } from 'vitest';
import { recordLayout } from './measures';
import { HISTOGRAM, packedRecordLength, packRecords, PERCENTILES, unpackRecords, type ArmRecord, type Distribution } from './records';

/** A record whose every number differs from every other, so a swapped offset shows. */
function distinctRecord(layers: number, seed: number): ArmRecord {
  let next = seed * 10_000;
  const n = () => (next += 1) + 0.25;
  const distribution = (): Distribution => ({
    percentiles: PERCENTILES.map(n),
    mean: n(),
    std: n(),
    histogram: Array.from({ length: HISTOGRAM.bins }, n),
  });
  return {
    step: n(),
    loss: n(),
    testAccuracy: n(),
    fullTestAccuracy: seed % 2 === 0 ? NaN : n(),
    layers: Array.from({ length: layers }, () => ({ unit: distribution(), pooled: distribution(), saturation: n() })),
  };
}

describe('packRecords / unpackRecords', () => {
  it('round-trips every measure of every layer exactly, NaN included', () => {
    for (const layers of [1, 3, 5]) {
      const records = [0, 1, 2].map((seed) => distinctRecord(layers, seed));
      const packed = packRecords(records, layers);
      expect(packed.length).toBe(3 * packedRecordLength(layers));
      const finite = packed.filter(Number.isFinite);
      expect(new Set(finite).size).toBe(finite.length);
      expect(unpackRecords(packed, layers)).toEqual(records);
    }
  });

  it('packs each measure at its offset in the table', () => {
    const record = distinctRecord(2, 1);
    const packed = packRecords([record], 2);
    const at = (name: string, layer: number | null, distribution: string | null) =>
      recordLayout(2).find((m) => m.measure.name === name && m.place.layer === layer && m.place.distribution === distribution)!.offset;
    expect(packed[at('loss', null, null)]).toBe(record.loss);
    expect(packed[at('p85', 1, 'unit')]).toBe(record.layers[1].unit.percentiles[PERCENTILES.indexOf(85)]);
    expect(packed[at('histogram', 0, 'pooled') + 7]).toBe(record.layers[0].pooled.histogram[7]);
    expect(packed[at('saturation', 1, null)]).toBe(record.layers[1].saturation);
  });

  it('ignores a trailing partial record', () => {
    const packed = packRecords([distinctRecord(1, 1)], 1);
    const cut = new Float64Array(packed.length + 5);
    cut.set(packed);
    expect(unpackRecords(cut, 1)).toHaveLength(1);
  });
});
