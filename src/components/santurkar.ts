/**
 * The series of the Santurkar et al. panel: their measures of shift (ICS, Definition 2.1) and of
 * the loss landscape (Figure 4) are taken every few records, and a record without a measurement
 * carries NaN. The charts draw the measured points only, joined, so an unmeasured record is neither
 * a zero nor a break in every line; the readouts give the last measured value and its step.
 */
import type { Column } from '../charts/axes';
import type { Config, Normalization } from '../config/schema';
import type { ArmSeries } from '../state/series';
import { ICS, LANDSCAPE } from '../training/measures';

/** The points of `columns` (one value per step each) where every column was measured (finite). */
export function measuredPoints(steps: ArrayLike<number>, columns: readonly ArrayLike<number>[]): { steps: Float64Array; columns: Float64Array[] } {
  const n = Math.min(steps.length, ...columns.map((c) => c.length));
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (columns.every((c) => Number.isFinite(c[i]))) kept.push(i);
  return {
    steps: Float64Array.from(kept, (i) => steps[i]),
    columns: columns.map((c) => Float64Array.from(kept, (i) => c[i])),
  };
}

/** One named number of a vector measure's column, whose points hold `parts.length` numbers each, row-major. */
export function partOf(column: ArrayLike<number>, parts: readonly string[], part: string): Float64Array {
  const at = parts.indexOf(part);
  if (at < 0) throw new RangeError(`no part ${part} among ${parts.join(', ')}`);
  const stride = parts.length;
  return Float64Array.from({ length: Math.floor(column.length / stride) }, (_, i) => column[i * stride + at]);
}

/**
 * The last point at or before `step` where every one of `columns` was measured (finite), or -1:
 * before the first measurement, or past the steps the series covers (an arm that stopped early
 * has no value beyond its last record).
 */
export function lastMeasuredIndex(steps: Column, columns: readonly Column[], step: number): number {
  const n = Math.min(steps.length, ...columns.map((c) => c.length));
  if (n === 0 || !(step >= steps[0]) || step > steps[steps.length - 1]) return -1;
  for (let i = n - 1; i >= 0; i--) if (steps[i] <= step && columns.every((c) => Number.isFinite(c[i]))) return i;
  return -1;
}

/** The two numbers of a layer's ICS (Definition 2.1): ‖G − G′‖ and cos(G, G′). */
export type IcsPart = (typeof ICS)[number];

/** The landscape along a step's gradient (Figure 4): the ranges of the loss and of the gradient's change, and β. */
export type LandscapePart = (typeof LANDSCAPE)[number];

/** A hidden layer's ICS over the records, NaN where not measured (the first layer's is 0 and 1 by definition). */
export function icsOf(series: ArmSeries, layer: number, part: IcsPart): Float64Array {
  return partOf(series.column('ics', layer), ICS, part);
}

export function landscapeOf(series: ArmSeries, part: LandscapePart): Float64Array {
  return partOf(series.column('landscape'), LANDSCAPE, part);
}

/**
 * Steps between two measurements: the measures are taken at the records whose step is a multiple
 * of `every`, and records come every `metricsInterval` steps, so at their least common multiple;
 * 0 when the measures are off.
 */
export function measurementSpacing(metricsInterval: number, every: number): number {
  if (!(every > 0 && metricsInterval > 0)) return 0;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return (metricsInterval / gcd(metricsInterval, every)) * every;
}

/** What an arm is, for their claim: the plain net, BN, noisy BN on every hidden layer, or anything else. */
export type ArmKind = 'plain' | 'bn' | 'noisy' | 'other';

export function armKind(layers: readonly Normalization[]): ArmKind {
  if (layers.every((layer) => layer === 'none')) return 'plain';
  if (layers.every((layer) => layer === 'batchnorm')) return 'bn';
  if (layers.every((layer) => layer.startsWith('noisy'))) return 'noisy';
  return 'other';
}

const KIND_NAMES: Record<ArmKind, string> = { plain: 'the plain net', bn: 'BN', noisy: 'noisy BN', other: 'none of these' };

/** What Santurkar et al.'s claim predicts for this run's two arms, in words, naming them as the page does. */
export function santurkarPrediction(config: Pick<Config, 'normalizationA' | 'normalizationB'>): string {
  const kinds = [armKind(config.normalizationA), armKind(config.normalizationB)];
  const arm = (kind: ArmKind) => {
    const i = kinds.indexOf(kind);
    return `arm ${i === 0 ? 'A' : 'B'} (${KIND_NAMES[kind]})`;
  };
  if (kinds.includes('bn') && kinds.includes('noisy')) {
    return `In this run the noise moves the input distributions of ${arm('noisy')} at every step, which ${arm('bn')} holds still (the layer panels above): their claim predicts that this shift costs little, about the same test accuracy in Figure 1(a) and about as smooth a landscape.`;
  }
  const normalized = kinds.find((kind) => kind === 'bn' || kind === 'noisy');
  if (kinds.includes('plain') && normalized) {
    return `In this run their claim predicts ${arm(normalized)} faster training than ${arm('plain')}${normalized === 'noisy' ? ' even though the noise moves its input distributions at every step' : ', whatever its shift'}, and a smoother landscape: a narrower loss range, a smaller change of the gradient and a smaller β.`;
  }
  return `Their claim's contrasts are between the plain net, BN and noisy BN on every hidden layer (the Santurkar et al. presets); in this run arm A is ${KIND_NAMES[kinds[0]]} and arm B ${KIND_NAMES[kinds[1]]}.`;
}
