/**
 * Where an arm's time goes (phasesRun.ts, in a Node process of its own): per metrics interval,
 * its steps, Santurkar et al.'s measures and its records, on the SIMD and the hand-written steps.
 */
import type { Config } from '../../src/config/schema';
import { runNodeScript } from './nodeScript';

type Gradients = Config['gradients'];

export interface ArmPhases {
  gradients: Gradients;
  arm: 0 | 1;
  /** Median of an ordinary step. */
  stepMs: number;
  /** Mean of a step that takes Santurkar et al.'s measures (the measures and the step). */
  measuredStepMs: number;
  /** Median of a record that scores the live test digits; mean of one that scores all of them. */
  liveRecordMs: number;
  fullRecordMs: number;
  records: number;
  /** Milliseconds per metrics interval of steps, each part at the share of intervals it takes. */
  perInterval: { steps: number; measures: number; records: number };
  totalPerInterval: number;
}

export interface Phases {
  blocks: number;
  interval: number;
  parts: ArmPhases[];
}

export function measurePhases(blocks: number): Promise<Phases> {
  return runNodeScript<Phases>('phasesRun.ts', [String(blocks)]);
}

const PATH_NAMES: Record<Gradients, string> = { simd: 'SIMD', handwritten: 'hand-written', autodiff: 'autodiff' };

export function describePhases(result: Phases): string {
  const arms = result.parts.map((p) => {
    const { steps, measures, records } = p.perInterval;
    const share = (ms: number) => `${ms.toFixed(0)} (${((100 * ms) / p.totalPerInterval).toFixed(0)}%)`;
    return (
      `${PATH_NAMES[p.gradients]} ${p.arm === 0 ? 'A' : 'B'} ${p.totalPerInterval.toFixed(0)} ms = steps ${share(steps)} + measures ${share(measures)} + records ${share(records)}` +
      ` [step ${p.stepMs.toFixed(2)}, measured step ${p.measuredStepMs.toFixed(1)}, record ${p.liveRecordMs.toFixed(1)} live / ${p.fullRecordMs.toFixed(0)} all digits]`
    );
  });
  return `Where an arm's time goes (Node, ${result.blocks} alternating blocks; ms per ${result.interval} steps): ${arms.join('; ')}`;
}
