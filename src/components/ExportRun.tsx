import { runCsv, runJson, type Run } from '../training/runJson';
import type { LabState } from '../state/store';
import type { Runner } from '../state/runner';
import { ARM_NAMES, armNormalization } from './readout';
import { ExportMenu } from './ExportMenu';
import { exportFileName, latestStep, saveBlob } from './exportFiles';
import { useLab } from './labContext';

/**
 * The run as the page holds it, in the shape `npm run experiment` writes: every record the series
 * kept (all of them up to the series' memory bound), with the backend and digit counts it used.
 */
export function pageRun(state: LabState, runner: Pick<Runner, 'digitCounts'>): Run {
  const counts = runner.digitCounts();
  if (counts === null) throw new Error('the digits have not arrived yet');
  if (state.series.every((s) => s.length === 0)) throw new Error('nothing measured yet: press Play or Step');
  const thinned = state.series.find((s) => s.stride > 1);
  if (thinned) throw new Error(`this run outgrew the page's memory bound and keeps only every ${thinned.stride}th record; export it with npm run experiment`);
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

/** CSV and JSON of the run, beside Copy link. */
export function ExportRun() {
  const { store, runner } = useLab();
  const save = (extension: 'csv' | 'json') => async () => {
    const state = store.getState();
    const run = pageRun(state, runner);
    const blob =
      extension === 'csv'
        ? new Blob([runCsv(run)], { type: 'text/csv' })
        : new Blob([JSON.stringify(runJson(run))], { type: 'application/json' });
    saveBlob(blob, exportFileName(state.config, latestStep(state), extension));
  };
  return (
    <ExportMenu
      what="the run's data"
      testId="export-run"
      choices={[
        { text: 'CSV', name: "CSV of the run's data", save: save('csv') },
        { text: 'JSON', name: "JSON of the run's data", save: save('json') },
      ]}
    />
  );
}
