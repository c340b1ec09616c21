/**
 * The share of a layer's units whose input sits where the nonlinearity is flat: the number behind
 * "the sigmoids saturate", as a y-axis and as the sentence that is the chart's text alternative.
 */
import { ACCURACY_AXIS, formatStepExact, type AxisSpec, type Column } from './axes';

export const SATURATION_AXIS: AxisSpec = { title: 'units saturated (%)', format: ACCURACY_AXIS.format };

export interface SaturationArm {
  /** The arm's short name, e.g. "A: no BN". */
  label: string;
  steps: Column;
  /** Fractions in [0, 1], one per step. */
  saturation: Column;
}

/** The latest value of each arm in words, e.g. "Units saturated: A: no BN 12% at step 1,200; B: BN on all 0% at step 1,200"; null before any record. */
export function saturationReadout(arms: readonly SaturationArm[]): string | null {
  const latest = arms.filter((arm) => arm.steps.length > 0);
  if (latest.length === 0) return null;
  const values = latest.map((arm) => {
    const i = arm.steps.length - 1;
    return `${arm.label} ${SATURATION_AXIS.format(+arm.saturation[i].toPrecision(3))}% at step ${formatStepExact(arm.steps[i])}`;
  });
  return `Units saturated: ${values.join('; ')}`;
}
