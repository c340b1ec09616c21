/**
 * The metric series the UI keeps for one arm: columnar typed arrays of bounded size, filled from
 * the trainer's ArmRecords. Runs go to 50,000+ steps with a record as often as every step, so the
 * series decimates itself (uPlot-style): when full it keeps every other point and from then on
 * accepts every other record, which keeps memory fixed and the points evenly spread over the run.
 */
import type { DistributionView } from '../config/schema';
import { HISTOGRAM, PERCENTILES, type ArmRecord, type Distribution, type InferenceGap } from '../training/records';


/** Points kept per arm: about one per pixel column of a wide chart, with room to spare. */
export const DEFAULT_CAPACITY = 2048;

interface DistributionColumns {
  /** One column per entry of PERCENTILES. */
  percentiles: Float32Array[];
  mean: Float32Array;
  std: Float32Array;
  /** Row-major [capacity x HISTOGRAM.bins]: each row holds fractions of the measured values. */
  histograms: Float32Array;
}

interface LayerColumns {
  unit: DistributionColumns;
  pooled: DistributionColumns;
  saturation: Float32Array;
}

function distributionColumns(capacity: number): DistributionColumns {
  return {
    percentiles: PERCENTILES.map(() => new Float32Array(capacity)),
    mean: new Float32Array(capacity),
    std: new Float32Array(capacity),
    histograms: new Float32Array(capacity * HISTOGRAM.bins),
  };
}

/** Moves point `from` to `to` (to <= from) in every column of one distribution. */
function moveDistribution(d: DistributionColumns, from: number, to: number): void {
  for (const column of d.percentiles) column[to] = column[from];
  d.mean[to] = d.mean[from];
  d.std[to] = d.std[from];
  const bins = HISTOGRAM.bins;
  d.histograms.copyWithin(to * bins, from * bins, (from + 1) * bins);
}

function writeDistribution(d: DistributionColumns, at: number, source: Distribution): void {
  for (let p = 0; p < d.percentiles.length; p++) d.percentiles[p][at] = source.percentiles[p];
  d.mean[at] = source.mean;
  d.std[at] = source.std;
  // Counts become fractions here, once, so that arms and steps with different probe sizes compare.
  const bins = HISTOGRAM.bins;
  let total = 0;
  for (let b = 0; b < bins; b++) total += source.histogram[b];
  const row = at * bins;
  for (let b = 0; b < bins; b++) d.histograms[row + b] = total > 0 ? source.histogram[b] / total : 0;
}

export class ArmSeries {
  readonly layers: number;
  readonly capacity: number;

  private readonly stepColumn: Float64Array;
  private readonly lossColumn: Float32Array;
  private readonly testAccuracyColumn: Float32Array;
  private readonly fullTestAccuracyColumn: Float32Array;
  /** The train vs inference gap's accuracies (NaN for an arm without batch statistics). */
  private readonly gapColumns: Record<keyof InferenceGap, Float32Array>;
  private readonly layerColumns: LayerColumns[];

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

  constructor(layers: number, capacity: number = DEFAULT_CAPACITY) {
    if (!Number.isInteger(layers) || layers < 1) throw new RangeError(`layers must be a positive integer, got ${layers}`);
    if (!Number.isInteger(capacity) || capacity < 4 || capacity % 2 !== 0) {
      throw new RangeError(`capacity must be an even integer >= 4, got ${capacity}`);
    }
    this.layers = layers;
    this.capacity = capacity;
    this.stepColumn = new Float64Array(capacity);
    this.lossColumn = new Float32Array(capacity);
    this.testAccuracyColumn = new Float32Array(capacity);
    this.fullTestAccuracyColumn = new Float32Array(capacity);
    this.gapColumns = { trainingMode: new Float32Array(capacity), population: new Float32Array(capacity), movingAverage: new Float32Array(capacity) };
    this.layerColumns = Array.from({ length: layers }, () => ({
      unit: distributionColumns(capacity),
      pooled: distributionColumns(capacity),
      saturation: new Float32Array(capacity),
    }));
  }

  /** Points currently held. */
  get length(): number {
    return this.count;
  }

  /** Increments on every change; a panel repaints when the version it last drew differs. */
  get version(): number {
    return this.changes;
  }

  /** Records between two kept points (1 until the first halving, then 2, 4, ...). */
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

  steps(): Float64Array {
    return this.stepColumn.subarray(0, this.count);
  }

  loss(): Float32Array {
    return this.lossColumn.subarray(0, this.count);
  }

  /** Fraction of the live test digits (a fixed 2,000 of the 10,000) classified correctly, in [0, 1]. */
  testAccuracy(): Float32Array {
    return this.testAccuracyColumn.subarray(0, this.count);
  }

  /** Fraction of all test digits classified correctly; NaN at points whose record did not score them all. */
  fullTestAccuracy(): Float32Array {
    return this.fullTestAccuracyColumn.subarray(0, this.count);
  }

  /** Test accuracy with batch statistics, Algorithm 2 or the moving averages (records.ts, InferenceGap); NaN where the arm has none. */
  inferenceGap(which: keyof InferenceGap): Float32Array {
    return this.gapColumns[which].subarray(0, this.count);
  }

  /** The column of PERCENTILES[percentileIndex] of the input to the nonlinearity of `layer`. */
  percentile(layer: number, view: DistributionView, percentileIndex: number): Float32Array {
    const column = this.distribution(layer, view).percentiles[percentileIndex];
    if (!column) throw new RangeError(`no percentile at index ${percentileIndex}`);
    return column.subarray(0, this.count);
  }

  /** All PERCENTILES columns of one layer and view, in PERCENTILES order. */
  percentiles(layer: number, view: DistributionView): Float32Array[] {
    return this.distribution(layer, view).percentiles.map((column) => column.subarray(0, this.count));
  }

  mean(layer: number, view: DistributionView): Float32Array {
    return this.distribution(layer, view).mean.subarray(0, this.count);
  }

  std(layer: number, view: DistributionView): Float32Array {
    return this.distribution(layer, view).std.subarray(0, this.count);
  }

  saturation(layer: number): Float32Array {
    return this.layer(layer).saturation.subarray(0, this.count);
  }

  /** Row-major [length x HISTOGRAM.bins] fractions of the values per bin. */
  histograms(layer: number, view: DistributionView): Float32Array {
    return this.distribution(layer, view).histograms.subarray(0, this.count * HISTOGRAM.bins);
  }

  /** The HISTOGRAM.bins fractions of point `index`. */
  histogramAt(layer: number, view: DistributionView, index: number): Float32Array {
    if (!(index >= 0 && index < this.count)) throw new RangeError(`no point at index ${index} (length ${this.count})`);
    const bins = HISTOGRAM.bins;
    return this.distribution(layer, view).histograms.subarray(index * bins, (index + 1) * bins);
  }

  private layer(layer: number): LayerColumns {
    const columns = this.layerColumns[layer];
    if (!columns) throw new RangeError(`no hidden layer ${layer} (the series has ${this.layers})`);
    return columns;
  }

  private distribution(layer: number, view: DistributionView): DistributionColumns {
    return this.layer(layer)[view];
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
      at = this.count++;
    }
    this.lastOnGrid = this.recordsSeen % this.acceptStride === 0;
    this.recordsSeen++;

    this.stepColumn[at] = record.step;
    this.lossColumn[at] = record.loss;
    this.testAccuracyColumn[at] = record.testAccuracy;
    this.fullTestAccuracyColumn[at] = record.fullTestAccuracy;
    for (const [which, column] of Object.entries(this.gapColumns)) column[at] = record.inferenceGap?.[which as keyof InferenceGap] ?? NaN;
    for (let l = 0; l < this.layers; l++) {
      const source = record.layers[l];
      const columns = this.layerColumns[l];
      writeDistribution(columns.unit, at, source.unit);
      writeDistribution(columns.pooled, at, source.pooled);
      columns.saturation[at] = source.saturation;
    }
    if (!Number.isFinite(record.loss) && this.diverged === null) this.diverged = record.step;
  }

  /**
   * Keeps points 0, 2, 4, ... and doubles the stride. Only called when the series is full and its
   * last point is on the grid, so every kept point is on the new grid and the first point stays.
   */
  private halve(): void {
    const kept = this.count >>> 1;
    for (let to = 1; to < kept; to++) {
      const from = 2 * to;
      this.stepColumn[to] = this.stepColumn[from];
      this.lossColumn[to] = this.lossColumn[from];
      this.testAccuracyColumn[to] = this.testAccuracyColumn[from];
      this.fullTestAccuracyColumn[to] = this.fullTestAccuracyColumn[from];
      for (const column of Object.values(this.gapColumns)) column[to] = column[from];
      for (const columns of this.layerColumns) {
        moveDistribution(columns.unit, from, to);
        moveDistribution(columns.pooled, from, to);
        columns.saturation[to] = columns.saturation[from];
      }
    }
    this.count = kept;
    this.acceptStride *= 2;
  }
}
