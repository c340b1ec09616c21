/**
 * What the trainer measures every k steps, and its packed form for crossing the worker boundary
 * as one transferable Float64Array per batch of records.
 */

/**
 * Percentiles of each distribution: TensorBoard's distribution bands (0/7/16/31/50/69/84/93/100)
 * with 16/84 replaced by the paper's 15/85, so Figure 1's three lines are among them.
 */
export const PERCENTILES = [0, 7, 15, 31, 50, 69, 85, 93, 100] as const;
export const P15 = PERCENTILES.indexOf(15);
export const P50 = PERCENTILES.indexOf(50);
export const P85 = PERCENTILES.indexOf(85);

/**
 * Fixed histogram range for the input to the nonlinearity, the same for every layer, arm and step
 * so that histograms stack into a heatmap over time. Values outside fall into the end bins.
 */
export const HISTOGRAM = { min: -10, max: 10, bins: 40 } as const;

/**
 * Test digits scored at every record: the first of the fixed shuffled test order. Scoring all
 * 10,000 at every record would cost about a quarter of the training time at the default interval.
 */
export const LIVE_TEST_DIGITS = 2_000;
/** Every this many metrics intervals (from the first, not at step 0), and at the last step, a record also scores every test digit. */
export const FULL_TEST_EVERY = 10;

export interface Distribution {
  /** One value per entry of PERCENTILES. */
  percentiles: number[];
  mean: number;
  std: number;
  /** HISTOGRAM.bins counts; they sum to the number of values measured. */
  histogram: number[];
}

export interface LayerRecord {
  /** The tracked unit's input to the nonlinearity over the probe set. */
  unit: Distribution;
  /** All units of the layer pooled, over the probe set. */
  pooled: Distribution;
  /** Fraction of (unit, example) pairs whose input lies where the nonlinearity saturates. */
  saturation: number;
}

export interface ArmRecord {
  step: number;
  /** Mean training cross-entropy over the steps since the previous record. */
  loss: number;
  /**
   * Accuracy on the live test digits (the first LIVE_TEST_DIGITS of the fixed shuffled test
   * order, trainer.ts), BN layers in inference mode.
   */
  testAccuracy: number;
  /** Accuracy on all test digits, as the paper reports it; NaN in records that do not score them all. */
  fullTestAccuracy: number;
  layers: LayerRecord[];
}

const DISTRIBUTION_LENGTH = PERCENTILES.length + 2 + HISTOGRAM.bins;
/** step, loss, testAccuracy, fullTestAccuracy. */
const RECORD_HEADER = 4;

/** Numbers one record of an arm with `layers` hidden layers takes when packed. */
export function packedRecordLength(layers: number): number {
  return RECORD_HEADER + layers * (2 * DISTRIBUTION_LENGTH + 1);
}

function packDistribution(d: Distribution, out: Float64Array, at: number): number {
  out.set(d.percentiles, at);
  at += PERCENTILES.length;
  out[at++] = d.mean;
  out[at++] = d.std;
  out.set(d.histogram, at);
  return at + HISTOGRAM.bins;
}

function unpackDistribution(from: Float64Array, at: number): Distribution {
  const percentiles = Array.from(from.subarray(at, at + PERCENTILES.length));
  at += PERCENTILES.length;
  const mean = from[at++];
  const std = from[at++];
  const histogram = Array.from(from.subarray(at, at + HISTOGRAM.bins));
  return { percentiles, mean, std, histogram };
}

export function packRecords(records: ArmRecord[], layers: number): Float64Array {
  const stride = packedRecordLength(layers);
  const out = new Float64Array(records.length * stride);
  records.forEach((r, i) => {
    let at = i * stride;
    out[at++] = r.step;
    out[at++] = r.loss;
    out[at++] = r.testAccuracy;
    out[at++] = r.fullTestAccuracy;
    for (const layer of r.layers) {
      at = packDistribution(layer.unit, out, at);
      at = packDistribution(layer.pooled, out, at);
      out[at++] = layer.saturation;
    }
  });
  return out;
}

export function unpackRecords(packed: Float64Array, layers: number): ArmRecord[] {
  const stride = packedRecordLength(layers);
  const records: ArmRecord[] = [];
  for (let start = 0; start + stride <= packed.length; start += stride) {
    let at = start + RECORD_HEADER;
    const layerRecords: LayerRecord[] = [];
    for (let l = 0; l < layers; l++) {
      const unit = unpackDistribution(packed, at);
      at += DISTRIBUTION_LENGTH;
      const pooled = unpackDistribution(packed, at);
      at += DISTRIBUTION_LENGTH;
      layerRecords.push({ unit, pooled, saturation: packed[at++] });
    }
    records.push({ step: packed[start], loss: packed[start + 1], testAccuracy: packed[start + 2], fullTestAccuracy: packed[start + 3], layers: layerRecords });
  }
  return records;
}
