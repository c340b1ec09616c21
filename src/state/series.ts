/**
 * The metric series the UI keeps for one arm: columnar typed arrays, one per measure of the table
 * of measures (training/measures.ts) and place (arm, layer, distribution), filled from the
 * trainer's ArmRecords. Every record is kept, in float64 as the trainer measured it, up to a
 * memory bound: the charts reduce per pixel column when they draw, and the exports write what was
 * measured. Past the bound the series keeps every other point and from then on accepts every other
 * record, so memory stays fixed and the points evenly spread over the run.
 */
import type { DistributionView } from '../config/schema';
import {
  emptyRecord,
  HISTOGRAM,
  holderOf,
  INFERENCE_GAP,
  packedRecordLength,
  PERCENTILES,
  recordLayout,
  type ArmRecord,
  type InferenceGap,
  type MeasureAt,
} from '../training/measures';

/** Memory one arm's series may take before it starts keeping every other record. */
export const SERIES_MEMORY_BOUND_BYTES = 48 * 1024 * 1024;

/** Bytes one record takes in a series: every measure in float64, plus its histograms as float32 fractions. */
export function seriesBytesPerRecord(layers: number): number {
  return 8 * packedRecordLength(layers) + 4 * 2 * layers * HISTOGRAM.bins;
}

/** Records a series of `layers` layers keeps within `bytes` (even, so that it halves evenly). */
export function capacityWithin(layers: number, bytes: number = SERIES_MEMORY_BOUND_BYTES): number {
  return Math.max(4, 2 * Math.floor(bytes / seriesBytesPerRecord(layers) / 2));
}

/** Points allocated at first; the columns double as records come, up to the capacity. */
const INITIAL_ALLOCATION = 256;

const key = (name: string, layer: number | null, distribution: string | null) => `${name}|${layer ?? ''}|${distribution ?? ''}`;

export class ArmSeries {
  readonly layers: number;
  /** Most points held; past it the series halves. */
  readonly capacity: number;

  private readonly layout: MeasureAt[];
  private readonly columnIndex = new Map<string, number>();
  private columns: Float64Array[];
  /** Per layer and view, row-major [points x HISTOGRAM.bins] fractions of the values measured. */
  private fractions: Float32Array[];
  private allocated: number;

  private count = 0;
  /** Records pushed since the last clear; record r lies on the grid when r % stride === 0. */
  private recordsSeen = 0;
  private acceptStride = 1;
  /**
   * Whether the last point lies on the stride grid. The newest record is always shown as the last
   * point; if it is off the grid, the next record replaces it instead of being appended, so all
   * points but the last stay evenly spaced.
   */
  private lastOnGrid = true;
  private changes = 0;
  private diverged: number | null = null;

  constructor(layers: number, capacity: number = capacityWithin(layers)) {
    if (!Number.isInteger(layers) || layers < 1) throw new RangeError(`layers must be a positive integer, got ${layers}`);
    if (!Number.isInteger(capacity) || capacity < 4 || capacity % 2 !== 0) {
      throw new RangeError(`capacity must be an even integer >= 4, got ${capacity}`);
    }
    this.layers = layers;
    this.capacity = capacity;
    this.layout = recordLayout(layers);
    this.layout.forEach(({ measure, place }, i) => this.columnIndex.set(key(measure.name, place.layer, place.distribution), i));
    this.allocated = Math.min(capacity, INITIAL_ALLOCATION);
    this.columns = this.layout.map(({ measure }) => new Float64Array(this.allocated * measure.length));
    this.fractions = Array.from({ length: 2 * layers }, () => new Float32Array(this.allocated * HISTOGRAM.bins));
  }

  /** Points currently held. */
  get length(): number {
    return this.count;
  }

  /** Increments on every change; a panel repaints when the version it last drew differs. */
  get version(): number {
    return this.changes;
  }

  /** Records between two kept points: 1 (every record) until the memory bound is reached, then 2, 4, ... */
  get stride(): number {
    return this.acceptStride;
  }

  /** The step at which this arm's loss turned NaN/Inf, or null while it trains normally. */
  get divergedStep(): number | null {
    return this.diverged;
  }

  push(record: ArmRecord): void {
    this.write(record);
    this.changes++;
  }

  pushMany(records: readonly ArmRecord[]): void {
    if (records.length === 0) return;
    for (const record of records) this.write(record);
    this.changes++;
  }

  /**
   * Marks the arm diverged at `step` (the trainer reports it; a pushed record with a non-finite loss
   * marks it too). The first divergence stands: later reports do not move it.
   */
  markDiverged(step: number): void {
    if (this.diverged !== null) return;
    this.diverged = step;
    this.changes++;
  }

  clear(): void {
    this.count = 0;
    this.recordsSeen = 0;
    this.acceptStride = 1;
    this.lastOnGrid = true;
    this.diverged = null;
    this.changes++;
  }

  // Accessors return views of the first `length` points. They share memory with the series and are
  // valid until the next change: read them while drawing, do not keep them.

  /**
   * The column of one measure of the table (its JSON name) at one place: the arm's own (no layer),
   * a layer's, or one distribution of a layer. A measure of n numbers gives n per point, row-major.
   */
  column(name: string, layer: number | null = null, view: DistributionView | null = null): Float64Array {
    if (layer !== null && !(layer >= 0 && layer < this.layers)) throw new RangeError(`no hidden layer ${layer} (the series has ${this.layers})`);
    const i = this.columnIndex.get(key(name, layer, view));
    if (i === undefined) throw new RangeError(`no measure ${name}${layer === null ? '' : ` of hidden layer ${layer + 1}`}${view === null ? '' : ` (${view})`}`);
    return this.columns[i].subarray(0, this.count * this.layout[i].measure.length);
  }

  steps(): Float64Array {
    return this.column('step');
  }

  loss(): Float64Array {
    return this.column('loss');
  }

  /** Fraction of the live test digits (a fixed 2,000 of the 10,000) classified correctly, in [0, 1]. */
  testAccuracy(): Float64Array {
    return this.column('testAccuracy');
  }

  /** Fraction of all test digits classified correctly; NaN at points whose record did not score them all. */
  fullTestAccuracy(): Float64Array {
    return this.column('fullTestAccuracy');
  }

  /** Test accuracy with batch statistics, Algorithm 2 or the moving averages (measures.ts, InferenceGap); NaN where the arm has none. */
  inferenceGap(which: keyof InferenceGap): Float64Array {
    const all = this.column('inferenceGap');
    const part = INFERENCE_GAP.indexOf(which);
    const parts = INFERENCE_GAP.length;
    const out = new Float64Array(this.count);
    for (let i = 0; i < out.length; i++) out[i] = all[i * parts + part];
    return out;
  }

  /** The column of PERCENTILES[percentileIndex] of the input to the nonlinearity of `layer`. */
  percentile(layer: number, view: DistributionView, percentileIndex: number): Float64Array {
    const p = PERCENTILES[percentileIndex];
    if (p === undefined) throw new RangeError(`no percentile at index ${percentileIndex}`);
    return this.column(`p${p}`, layer, view);
  }

  /** All PERCENTILES columns of one layer and view, in PERCENTILES order. */
  percentiles(layer: number, view: DistributionView): Float64Array[] {
    return PERCENTILES.map((_, i) => this.percentile(layer, view, i));
  }

  mean(layer: number, view: DistributionView): Float64Array {
    return this.column('mean', layer, view);
  }

  std(layer: number, view: DistributionView): Float64Array {
    return this.column('std', layer, view);
  }

  saturation(layer: number): Float64Array {
    return this.column('saturation', layer);
  }

  /** Row-major [length x HISTOGRAM.bins] fractions of the values per bin. */
  histograms(layer: number, view: DistributionView): Float32Array {
    return this.fractionsOf(layer, view).subarray(0, this.count * HISTOGRAM.bins);
  }

  /** The HISTOGRAM.bins fractions of point `index`. */
  histogramAt(layer: number, view: DistributionView, index: number): Float32Array {
    if (!(index >= 0 && index < this.count)) throw new RangeError(`no point at index ${index} (length ${this.count})`);
    const bins = HISTOGRAM.bins;
    return this.fractionsOf(layer, view).subarray(index * bins, (index + 1) * bins);
  }

  /** The records held, as the trainer sent them (every record unless `stride` > 1). */
  records(): ArmRecord[] {
    return Array.from({ length: this.count }, (_, at) => {
      const record = emptyRecord(this.layers);
      this.layout.forEach(({ measure, place }, i) => {
        measure.write(holderOf(record, place), this.columns[i].subarray(at * measure.length, (at + 1) * measure.length));
      });
      return record;
    });
  }

  /** Bytes the series' columns take now. */
  get bytes(): number {
    return [...this.columns, ...this.fractions].reduce((sum, column) => sum + column.byteLength, 0);
  }

  private fractionsOf(layer: number, view: DistributionView): Float32Array {
    if (!(layer >= 0 && layer < this.layers)) throw new RangeError(`no hidden layer ${layer} (the series has ${this.layers})`);
    return this.fractions[2 * layer + (view === 'unit' ? 0 : 1)];
  }

  private write(record: ArmRecord): void {
    if (record.layers.length !== this.layers) {
      throw new RangeError(`record of step ${record.step} has ${record.layers.length} layers, the series ${this.layers}`);
    }
    let at: number;
    if (this.count > 0 && !this.lastOnGrid) {
      at = this.count - 1;
    } else {
      if (this.count === this.capacity) this.halve();
      else if (this.count === this.allocated) this.grow();
      at = this.count++;
    }
    this.lastOnGrid = this.recordsSeen % this.acceptStride === 0;
    this.recordsSeen++;

    this.layout.forEach(({ measure, place }, i) => {
      const value = measure.read(holderOf(record, place));
      if (typeof value === 'number') this.columns[i][at] = value;
      else this.columns[i].set(value, at * measure.length);
    });
    const bins = HISTOGRAM.bins;
    record.layers.forEach((layer, l) => {
      (['unit', 'pooled'] as const).forEach((view, v) => {
        // Counts become fractions here, once, so that arms and steps with different probe sizes compare.
        const counts = layer[view].histogram;
        let total = 0;
        for (let b = 0; b < bins; b++) total += counts[b];
        const row = this.fractions[2 * l + v];
        for (let b = 0; b < bins; b++) row[at * bins + b] = total > 0 ? counts[b] / total : 0;
      });
    });
    if (!Number.isFinite(record.loss) && this.diverged === null) this.diverged = record.step;
  }

  /** Doubles the allocated points, up to the capacity. */
  private grow(): void {
    this.allocated = Math.min(this.capacity, 2 * this.allocated);
    const widen = <T extends Float64Array | Float32Array>(column: T, length: number): T => {
      const wider = new (column.constructor as new (n: number) => T)(this.allocated * length);
      wider.set(column);
      return wider;
    };
    this.columns = this.columns.map((column, i) => widen(column, this.layout[i].measure.length));
    this.fractions = this.fractions.map((column) => widen(column, HISTOGRAM.bins));
  }

  /**
   * Keeps points 0, 2, 4, ... and doubles the stride. Only called when the series is full and its
   * last point is on the grid, so every kept point is on the new grid and the first point stays.
   */
  private halve(): void {
    const kept = this.count >>> 1;
    const move = (column: Float64Array | Float32Array, length: number) => {
      for (let to = 1; to < kept; to++) column.copyWithin(to * length, 2 * to * length, (2 * to + 1) * length);
    };
    this.columns.forEach((column, i) => move(column, this.layout[i].measure.length));
    for (const column of this.fractions) move(column, HISTOGRAM.bins);
    this.count = kept;
    this.acceptStride *= 2;
  }
}
