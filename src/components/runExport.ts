import type { Runner } from '../state/runner';
import type { LabState } from '../state/store';
import type { Run } from '../training/runJson';
import { ARM_NAMES, armNormalization } from './readout';

/**
 * The run as the page holds it, in the shape `npm run experiment` writes: every record the series
 * kept (all of them up to the series' memory bound), with the backend and digit counts it used.
 */
export function pageRun(state: LabState, runner: Pick<Runner, 'digitCounts'>): Run {
  const counts = runner.digitCounts();
  if (counts === null) throw new Error('the digits have not arrived yet');
  if (state.series.every((s) => s.length === 0)) throw new Error('nothing measured yet: press Play or Step');
  const thinned = state.series.find((s) => s.stride > 1);
  if (thinned)
    throw new Error(
      `this run outgrew the page's memory bound and keeps only one record in ${thinned.stride}; for every record, run it with npm run experiment -- --url`,
    );
  return {
    config: state.config,
    backend: state.arms[0].backend ?? state.config.backend,
    trainDigits: counts.train,
    testDigits: counts.test,
    arms: state.series.map((s, arm) => ({
      name: ARM_NAMES[arm],
      normalization: armNormalization(state.config, arm),
      diverged: state.arms[arm].diverged ?? s.divergedStep,
      records: s.records(),
    })),
  };
}
