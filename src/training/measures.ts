/**
 * The one table of measures: what an arm's record holds, in the JSON's names. Each row says its
 * unit, how many numbers it takes and how to read it from (and write it to) a record; the packing
 * for the worker boundary, the page's series, the JSON of `npm run experiment` and the CSV are all
 * walks over these rows. A new measure is one row here plus its compute in trainer.ts.
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
 * Test digits scored at every record: the first of the fixed shuffled test order. All 10,000 are
 * scored less often because a record's forward pass over them costs several times the live one's.
 */
export const LIVE_TEST_DIGITS = 2_000;
import type { InternalCovariateShift, Landscape } from './santurkar';

/** Every this many metrics intervals (from the first, not at step 0), and at the last step, a record also scores every test digit. */
export const FULL_TEST_EVERY = 10;

/**
 * Records through this many metrics intervals measure the train vs inference gap, as do those
 * that score every test digit: the gap moves while the moving averages catch up with the weights,
 * in the first few hundred steps, and little after. Its two extra passes over the probe digits
 * were a third of a BN arm's record.
 */
export const INFERENCE_GAP_DENSE_INTERVALS = FULL_TEST_EVERY;

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
  /** Santurkar et al.'s internal covariate shift of the layer's weight gradient at the record's step (santurkar.ts); absent where not measured. */
  ics?: InternalCovariateShift;
}

export interface ArmRecord {
  step: number;
  /** Mean training cross-entropy over the steps since the previous record. */
  loss: number;
  /**
   * Accuracy on the live test digits (the first LIVE_TEST_DIGITS of the fixed shuffled test
   * order), BN layers in inference mode.
   */
  testAccuracy: number;
  /** Accuracy on all test digits, as the paper reports it; NaN in records that do not score them all. */
  fullTestAccuracy: number;
  /** Only for an arm with batch statistics, at the records that measure it (INFERENCE_GAP_DENSE_INTERVALS). */
  inferenceGap?: InferenceGap;
  /** Santurkar et al.'s landscape along the gradient at the record's step (santurkar.ts); absent where not measured. */
  landscape?: Landscape;
  layers: LayerRecord[];
}

/**
 * The train vs inference gap: accuracy on the probe digits in mini-batches of the batch size, each
 * normalized with its own statistics as in training, and in inference mode with Algorithm 2's
 * population statistics and with the moving averages, whichever of the two testAccuracy uses.
 */
export const INFERENCE_GAP = ['trainingMode', 'population', 'movingAverage'] as const;
export type InferenceGap = Record<(typeof INFERENCE_GAP)[number], number>;

/** Which distribution of a layer: the tracked unit's or all units pooled. */
export const DISTRIBUTIONS = ['unit', 'pooled'] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

export interface Measure<Of> {
  /** The measure's key in the JSON (and the CSV's `measure` column). */
  name: string;
  unit: string;
  /** Numbers it takes: 1 for a scalar, more for a vector (written as an array in the JSON). */
  length: number;
  /**
   * Names of a vector's numbers, where they are not a sequence: the JSON writes it as an object of
   * them, left out when all are NaN (a measure an arm does not have), and the CSV names each.
   */
  parts?: readonly string[];
  /**
   * Whether it is measured at some records only (the others hold NaN): the JSON then writes its
   * parts as null there rather than leaving it out, which says an arm never has it.
   */
  sometimes?: boolean;
  read(from: Of): number | readonly number[];
  write(to: Of, values: Float64Array): void;
}

const scalar = <Of>(name: string, unit: string, get: (from: Of) => number, set: (to: Of, value: number) => void): Measure<Of> => ({
  name,
  unit,
  length: 1,
  read: get,
  write: (to, values) => set(to, values[0]),
});

export const LANDSCAPE = ['lossMin', 'lossMax', 'gradientChangeMin', 'gradientChangeMax', 'betaSmoothness'] as const satisfies readonly (keyof Landscape)[];
export const ICS = ['l2', 'cosine'] as const satisfies readonly (keyof InternalCovariateShift)[];

/** A measure of named parts taken at some records only: absent from the others' objects, NaN when packed. */
function sometimes<Of, Value extends { [part in keyof Value]: number }>(
  name: string,
  unit: string,
  parts: readonly (keyof Value & string)[],
  get: (from: Of) => Value | undefined,
  set: (to: Of, value: Value) => void,
): Measure<Of> {
  return {
    name,
    unit,
    length: parts.length,
    parts,
    sometimes: true,
    read: (from) => parts.map((part) => get(from)?.[part] ?? NaN),
    write: (to, values) => {
      if (values.some(Number.isFinite)) set(to, Object.fromEntries(parts.map((part, i) => [part, values[i]])) as Value);
    },
  };
}

/** Measures of the arm as a whole, once per record. `step` comes first: every row is keyed by it. */
export const ARM_MEASURES: readonly Measure<ArmRecord>[] = [
  scalar(
    'step',
    'steps',
    (r) => r.step,
    (r, v) => (r.step = v),
  ),
  scalar(
    'loss',
    'nats (cross-entropy)',
    (r) => r.loss,
    (r, v) => (r.loss = v),
  ),
  scalar(
    'testAccuracy',
    'fraction of the live test digits',
    (r) => r.testAccuracy,
    (r, v) => (r.testAccuracy = v),
  ),
  scalar(
    'fullTestAccuracy',
    'fraction of all test digits (NaN: not scored)',
    (r) => r.fullTestAccuracy,
    (r, v) => (r.fullTestAccuracy = v),
  ),
  {
    name: 'inferenceGap',
    unit: 'fraction of the probe digits in whole mini-batches, per normalization mode (NaN: no batch statistics, or a record that does not measure it)',
    length: INFERENCE_GAP.length,
    parts: INFERENCE_GAP,
    read: (r) => INFERENCE_GAP.map((part) => r.inferenceGap?.[part] ?? NaN),
    write: (r, values) => {
      if (values.some(Number.isFinite)) r.inferenceGap = Object.fromEntries(INFERENCE_GAP.map((part, i) => [part, values[i]])) as InferenceGap;
    },
  },
  sometimes<ArmRecord, Landscape>(
    'landscape',
    'nats (loss), gradient norm (gradient change), 1/weight (beta-smoothness), over steps of 1/4 to 4 learning rates along the gradient (NaN: not measured)',
    LANDSCAPE,
    (r) => r.landscape,
    (r, v) => (r.landscape = v),
  ),
];

/** Measures of one distribution of the input to the nonlinearity (per layer, per DISTRIBUTIONS entry). */
export const DISTRIBUTION_MEASURES: readonly Measure<Distribution>[] = [
  ...PERCENTILES.map((p, i) =>
    scalar<Distribution>(
      `p${p}`,
      'input to the nonlinearity',
      (d) => d.percentiles[i],
      (d, v) => ((d.percentiles ??= [])[i] = v),
    ),
  ),
  scalar(
    'mean',
    'input to the nonlinearity',
    (d) => d.mean,
    (d, v) => (d.mean = v),
  ),
  scalar(
    'std',
    'input to the nonlinearity',
    (d) => d.std,
    (d, v) => (d.std = v),
  ),
  {
    name: 'histogram',
    unit: `count per bin, ${HISTOGRAM.bins} bins over [${HISTOGRAM.min}, ${HISTOGRAM.max}]`,
    length: HISTOGRAM.bins,
    read: (d) => d.histogram,
    write: (d, values) => (d.histogram = Array.from(values)),
  },
];

/** Measures of one hidden layer besides its distributions, which come first in a layer's record. */
export const LAYER_MEASURES: readonly Measure<LayerRecord>[] = [
  scalar(
    'saturation',
    'fraction of (unit, digit) pairs',
    (l) => l.saturation,
    (l, v) => (l.saturation = v),
  ),
  sometimes<LayerRecord, InternalCovariateShift>(
    'ics',
    "gradient norm (l2), cosine of the layer's weight gradient before and after the layers below take the step (NaN: not measured)",
    ICS,
    (l) => l.ics,
    (l, v) => (l.ics = v),
  ),
];

const DISTRIBUTION_LENGTH = DISTRIBUTION_MEASURES.reduce((sum, m) => sum + m.length, 0);
const LAYER_LENGTH = DISTRIBUTIONS.length * DISTRIBUTION_LENGTH + LAYER_MEASURES.reduce((sum, m) => sum + m.length, 0);
const ARM_LENGTH = ARM_MEASURES.reduce((sum, m) => sum + m.length, 0);

/** Numbers one record of an arm with `layers` hidden layers takes when packed. */
export function packedRecordLength(layers: number): number {
  return ARM_LENGTH + layers * LAYER_LENGTH;
}

/** Where a measure sits in the record: the arm as a whole, a layer, or one of a layer's distributions. */
export type Place = { layer: null; distribution: null } | { layer: number; distribution: null } | { layer: number; distribution: DistributionName };

export interface MeasureAt {
  measure: Measure<never>;
  place: Place;
  /** Offset of its first number in the packed record. */
  offset: number;
}

/**
 * Every measure of a record in packed order: the arm's, then per layer its distributions (unit,
 * pooled) and its own measures.
 */
export function recordLayout(layers: number): MeasureAt[] {
  const out: MeasureAt[] = [];
  let offset = 0;
  const add = (measure: Measure<never>, place: Place) => {
    out.push({ measure, place, offset });
    offset += measure.length;
  };
  for (const m of ARM_MEASURES) add(m as Measure<never>, { layer: null, distribution: null });
  for (let layer = 0; layer < layers; layer++) {
    for (const distribution of DISTRIBUTIONS) for (const m of DISTRIBUTION_MEASURES) add(m as Measure<never>, { layer, distribution });
    for (const m of LAYER_MEASURES) add(m as Measure<never>, { layer, distribution: null });
  }
  return out;
}

/** The object of `record` a measure at `place` reads from and writes to. */
export function holderOf(record: ArmRecord, place: Place): never {
  if (place.layer === null) return record as never;
  const layer = record.layers[place.layer];
  return (place.distribution === null ? layer : layer[place.distribution]) as never;
}

/** A record of `layers` layers with no measures yet: the measures' `write` fill it in. */
export function emptyRecord(layers: number): ArmRecord {
  return { layers: Array.from({ length: layers }, () => ({ unit: {}, pooled: {} })) } as unknown as ArmRecord;
}
