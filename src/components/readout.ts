/**
 * The charts' values in words: the text alternatives of the canvases and the step cursor's readout,
 * so that keyboard and screen-reader users read what the pixels show. Arm names and what each arm
 * normalizes come from the config, never fixed text.
 */
import { describeNormalization, type Config, type DistributionView } from '../config/schema';
import { formatStepExact, type Column } from '../charts/axes';
import { rangeText } from '../charts/rangeChart';
import { nearestIndex, valuesAtStep } from '../charts/hover';
import type { ArmSeries } from '../state/series';
import type { LabState } from '../state/store';
import { HISTOGRAM, P15, P50, P85 } from '../training/records';
import { LANDSCAPE } from '../training/measures';
import { icsOf, landscapeOf, lastMeasuredIndex } from './santurkar';

/** MNIST's test set, as the paper scores it. */
export const TEST_DIGITS = 10_000;

export const ARM_NAMES = ['A', 'B'] as const;

type Series = Pick<LabState, 'series'>;

export function armNormalization(config: Config, arm: number): Config['normalizationA'] {
  return arm === 0 ? config.normalizationA : config.normalizationB;
}

/** "A: no BN", "B: BN on all": the legend entry of an arm. */
export function armLabel(state: Pick<LabState, 'config'>, arm: number): string {
  return `${ARM_NAMES[arm]}: ${describeNormalization(armNormalization(state.config, arm))}`;
}

/**
 * The latest step both arms have recorded (the faster arm runs a little ahead), or the furthest any
 * reached when the others diverged: the latest step at which both arms' values can be read. Null
 * before any record.
 */
export function comparedStep(state: Series): number | null {
  const last = (s: ArmSeries) => s.steps()[s.length - 1];
  const recorded = state.series.filter((s) => s.length > 0);
  if (recorded.length === 0) return null;
  const live = state.series.filter((s) => s.divergedStep === null);
  return live.length > 0 && live.every((s) => s.length > 0) ? Math.min(...live.map(last)) : Math.max(...recorded.map(last));
}

/** The step the charts read their values at: the cursor's, or the latest both arms recorded (null before any record). */
export function readStep(state: Series & Pick<LabState, 'view'>): number | null {
  return state.view.cursorStep ?? comparedStep(state);
}

/** Where a step came from, for the reader: the cursor, or the latest record. */
export function stepPhrase(state: Pick<LabState, 'view'>, step: number): string {
  return `step ${formatStepExact(step)} (${state.view.cursorStep === null ? 'latest' : 'step cursor'})`;
}

export function percentText(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : '–';
}

/** Three significant digits, a true minus sign: enough to compare the arms. */
export function inputText(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return String(+value.toPrecision(3)).replace('-', '−');
}

/** "A: no BN 85.1%, B: BN on all 90.2%" at `step`, a dash for an arm with no record there. */
export function accuracyText(state: Series & Pick<LabState, 'config'>, step: number): string {
  const values = valuesAtStep(
    step,
    state.series.map((s, arm) => ({ label: armLabel(state, arm), steps: s.steps(), values: s.testAccuracy() })),
  );
  return values.map((v) => `${v.label} ${percentText(v.index >= 0 ? v.value : NaN)}`).join(', ');
}

/**
 * Both arms' accuracy on all 10,000 test digits at `step`, where that record scored them (every
 * FULL_TEST_EVERY-th record and the last), e.g. "A: no BN 85.6%, B: BN on all 90.2%"; null elsewhere.
 */
export function fullAccuracyText(state: Series & Pick<LabState, 'config'>, step: number): string | null {
  const values = valuesAtStep(
    step,
    state.series.map((s, arm) => ({ label: armLabel(state, arm), steps: s.steps(), values: s.fullTestAccuracy() })),
  );
  const scored = values.filter((v) => v.index >= 0 && v.step === step && Number.isFinite(v.value));
  return scored.length > 0 ? scored.map((v) => `${v.label} ${percentText(v.value)}`).join(', ') : null;
}

/** One arm's 15th/50th/85th percentiles at `step` as "−1.8/−0.34/1.22", or a dash. */
export function percentilesText(series: ArmSeries, layer: number, view: DistributionView, step: number): string {
  const steps = series.steps();
  const n = steps.length;
  if (n === 0 || !(step >= steps[0] && step <= steps[n - 1])) return '–';
  const i = nearestIndex(steps, step);
  return [P15, P50, P85].map((p) => inputText(series.percentile(layer, view, p)[i])).join('/');
}

/** "layer 3, unit 0" or "layer 3, all units". */
export function distributionTitle(config: Config, layer: number, view: DistributionView = config.distributionView): string {
  return view === 'unit' ? `layer ${layer + 1}, unit ${config.trackedUnit}` : `layer ${layer + 1}, all units`;
}

/** The range of the histogram bin that holds the most values, e.g. "−0.5 to 0". */
export function modalBin(histogram: ArrayLike<number>): string {
  let best = 0;
  for (let b = 1; b < histogram.length; b++) if (histogram[b] > histogram[best]) best = b;
  const width = (HISTOGRAM.max - HISTOGRAM.min) / HISTOGRAM.bins;
  const low = HISTOGRAM.min + best * width;
  return `${inputText(low)} to ${inputText(low + width)}`;
}

/**
 * The readout of the step cursor, for the live region: its step, both arms' test accuracy and the
 * tracked unit's 15th/50th/85th percentiles in the last hidden layer (Figure 1's three panels).
 */
export function cursorReadout(state: LabState): string {
  const step = state.view.cursorStep;
  if (step === null) {
    return 'The charts show the latest record. To read the values at a step, hover, drag or touch a chart, focus one and press the arrow keys, or move the Step slider.';
  }
  const layer = state.config.hiddenLayers - 1;
  const bands = state.series.map((s, arm) => `${ARM_NAMES[arm]} ${percentilesText(s, layer, 'unit', step)}`).join(', ');
  const full = fullAccuracyText(state, step);
  return (
    `Step ${formatStepExact(step)}: test accuracy ${accuracyText(state, step)}` +
    `${full === null ? '' : ` (on all ${TEST_DIGITS.toLocaleString('en-US')} test digits: ${full})`}. ` +
    `Layer ${layer + 1}, unit ${state.config.trackedUnit}, input to the ${state.config.activation}, 15th/50th/85th percentiles: ${bands}.`
  );
}

/**
 * Each arm's last measurement of a measure taken every few records (all of `columns` finite), at
 * or before the step cursor, or each arm's latest when the cursor is not set.
 */
export function measuredAtCursor(state: LabState, columns: (s: ArmSeries) => Column[]): { label: string; step: number; values: number[] }[] {
  return state.series.map((s, arm) => {
    const steps = s.steps();
    const values = columns(s);
    const at = steps.length === 0 ? -1 : lastMeasuredIndex(steps, values, state.view.cursorStep ?? steps[steps.length - 1]);
    return { label: armLabel(state, arm), step: at < 0 ? NaN : steps[at], values: at < 0 ? [] : values.map((c) => c[at]) };
  });
}

/** The text alternative of a chart of a sparse measure: each arm's last measurement and its step, e.g. "A: no BN 0.0123 at step 1,200". */
export function describeMeasured(state: LabState, what: string, columns: (s: ArmSeries) => Column[], format: (values: number[]) => string): string {
  if (state.series.every((s) => s.length === 0)) return `${what}: no data yet.`;
  const where = state.view.cursorStep === null ? 'latest measurement' : `at or before step ${formatStepExact(state.view.cursorStep)} (step cursor)`;
  const at = measuredAtCursor(state, columns).map((a) =>
    a.values.length === 0 ? `${a.label} not measured` : `${a.label} ${format(a.values)} at step ${formatStepExact(a.step)}`,
  );
  return `${what}, ${where}: ${at.join(', ')}.`;
}

/**
 * Santurkar et al.'s measures in words, per arm: the last hidden layer's ICS (when a layer lies
 * below it), the loss and gradient ranges along the gradient and β, at the step cursor (the last
 * measurement at or before it) or the latest.
 */
export function santurkarReadout(state: LabState): string {
  const last = state.config.hiddenLayers - 1;
  const where = state.view.cursorStep === null ? 'Latest measurements' : `At step ${formatStepExact(state.view.cursorStep)} (step cursor)`;
  const arms = state.series.map((s, arm) => {
    const label = armLabel(state, arm);
    const steps = s.steps();
    const landscape = Object.fromEntries(LANDSCAPE.map((part) => [part, landscapeOf(s, part)])) as Record<(typeof LANDSCAPE)[number], Float64Array>;
    const ics = last > 0 ? { l2: icsOf(s, last, 'l2'), cosine: icsOf(s, last, 'cosine') } : null;
    const columns = [...Object.values(landscape), ...(ics ? [ics.l2, ics.cosine] : [])];
    const at = steps.length === 0 ? -1 : lastMeasuredIndex(steps, columns, state.view.cursorStep ?? steps[steps.length - 1]);
    if (at < 0) return `${label}: not measured yet.`;
    const shift = ics ? `ICS of layer ${last + 1} ‖G − G′‖ ${inputText(ics.l2[at])}, cosine ${inputText(ics.cosine[at])}; ` : '';
    return (
      `${label}, measured at step ${formatStepExact(steps[at])}: ${shift}` +
      `loss along the gradient ${rangeText(landscape.lossMin[at], landscape.lossMax[at], inputText)} nats; ` +
      `change of the gradient ${rangeText(landscape.gradientChangeMin[at], landscape.gradientChangeMax[at], inputText)}; ` +
      `β-smoothness ${inputText(landscape.betaSmoothness[at])}.`
    );
  });
  return `${where}, Santurkar et al.: ${arms.join(' ')}`;
}
