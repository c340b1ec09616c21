import { runCsv, runJson } from '../training/runJson';
import { ExportMenu } from './ExportMenu';
import { exportFileName, latestStep, saveBlob } from './exportFiles';
import { useLab } from './labContext';
import { pageRun } from './runExport';

/** CSV and JSON of the run, beside Copy link. */
export function ExportRun() {
  const { store, runner } = useLab();
  const save = (extension: 'csv' | 'json') => async () => {
    const state = store.getState();
    const run = pageRun(state, runner);
    const blob = extension === 'csv' ? new Blob([runCsv(run)], { type: 'text/csv' }) : new Blob([JSON.stringify(runJson(run))], { type: 'application/json' });
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
