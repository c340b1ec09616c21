/**
 * The share of a layer's units whose input sits where the nonlinearity is flat: the number behind
 * "the sigmoids saturate", as a y-axis and as the sentence that is the chart's text alternative.
 */
import { ACCURACY_AXIS, formatStepExact, type AxisSpec, type Column } from './axes';
import { valuesAtStep } from './hover';

export const SATURATION_AXIS: AxisSpec = { title: 'units saturated (%)', format: ACCURACY_AXIS.format };

export interface SaturationArm {
  /** The arm's short name, e.g. "A: no BN". */
  label: string;
  steps: Column;
  /** Fractions in [0, 1], one per step. */
  saturation: Column;
}

/**
 * Each arm's value at `step` (its nearest record; the latest when `step` is null) in words, e.g.
 * "Units saturated: A: no BN 12% at step 1,200; B: BN on all 0% at step 1,200"; null before any
 * record. An arm without a record there is left out.
 */
export function saturationReadout(arms: readonly SaturationArm[], step: number | null = null): string | null {
  const at = arms.map((arm) =>
    step === null
      ? { label: arm.label, index: arm.steps.length - 1 }
      : { label: arm.label, index: valuesAtStep(step, [{ ...arm, values: arm.saturation }])[0].index },
  );
  const values = at
    .filter(({ index }) => index >= 0)
    .map(({ label, index }) => {
      const arm = arms.find((a) => a.label === label)!;
      return `${label} ${SATURATION_AXIS.format(+arm.saturation[index].toPrecision(3))}% at step ${formatStepExact(arm.steps[index])}`;
    });
  return values.length > 0 ? `Units saturated: ${values.join('; ')}` : null;
}
