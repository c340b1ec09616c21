/**
 * What the page's exports are called and how a file leaves the page. A file's name says what run
 * it is: the link's query in short form (only the fields that differ from the defaults) and the
 * latest step, so files of different runs never overwrite each other in a downloads folder.
 */
import { serialize } from '../config/url';
import type { Config } from '../config/schema';

const APP = 'covariate-shift-lab';

/** `covariate-shift-lab_lr=5_bnB=0,0,1_step-2000[_what].ext`; the query's version key is left out. */
export function exportFileName(config: Config, step: number, extension: string, what?: string): string {
  const query = serialize(config)
    .replace(/^\?/, '')
    .split('&')
    .filter((pair) => pair !== '' && !pair.startsWith('v='))
    .map((pair) => decodeURIComponent(pair).replace(/[^A-Za-z0-9=.,+-]+/g, '-'));
  const parts = [APP, ...query, `step-${Math.max(0, Math.round(step))}`];
  if (what) parts.push(what.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, ''));
  return `${parts.join('_')}.${extension}`;
}

/** Hands `blob` to the browser as a download named `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own reference once started; the URL is only needed for the click.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The latest step either arm has recorded: how far the exported run went. */
export function latestStep(state: { series: readonly { steps(): ArrayLike<number> }[] }): number {
  let step = 0;
  for (const s of state.series) {
    const steps = s.steps();
    if (steps.length > 0) step = Math.max(step, steps[steps.length - 1]);
  }
  return step;
}

export interface ExportChoice {
  /** Visible text of the choice, e.g. "PNG". */
  text: string;
  /** Its accessible name, which holds the visible text (e.g. "PNG of Figure 1(a)"). */
  name: string;
  /** Builds the file and hands it to the browser; a rejection is shown beside the menu. */
  save: () => Promise<void>;
}
