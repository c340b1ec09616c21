/**
 * An arm's records packed for crossing the worker boundary as one transferable Float64Array per
 * batch of records, in the order of the table of measures (measures.ts).
 */
import { emptyRecord, holderOf, packedRecordLength, recordLayout, type ArmRecord } from './measures';

export {
  HISTOGRAM,
  P15,
  P50,
  P85,
  PERCENTILES,
  packedRecordLength,
  type ArmRecord,
  type Distribution,
  type LayerRecord,
} from './measures';

export function packRecords(records: ArmRecord[], layers: number): Float64Array {
  const stride = packedRecordLength(layers);
  const layout = recordLayout(layers);
  const out = new Float64Array(records.length * stride);
  records.forEach((record, i) => {
    for (const { measure, place, offset } of layout) {
      const value = measure.read(holderOf(record, place));
      if (typeof value === 'number') out[i * stride + offset] = value;
      else out.set(value, i * stride + offset);
    }
  });
  return out;
}

export function unpackRecords(packed: Float64Array, layers: number): ArmRecord[] {
  const stride = packedRecordLength(layers);
  const layout = recordLayout(layers);
  const records: ArmRecord[] = [];
  for (let start = 0; start + stride <= packed.length; start += stride) {
    const record = emptyRecord(layers);
    for (const { measure, place, offset } of layout) {
      measure.write(holderOf(record, place), packed.subarray(start + offset, start + offset + measure.length));
    }
    records.push(record);
  }
  return records;
}
