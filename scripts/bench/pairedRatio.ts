/**
 * The speed-up of one run over another measured in alternation: both pages open and warmed up,
 * then windows in turn, one page training while the other is paused. A machine whose speed drifts
 * during the benchmark (other processes, a shared host) slows both sides of a pair alike, so the
 * median of the per-pair ratios is steadier than the ratio of two runs measured minutes apart.
 */
import type { Browser, Page } from 'playwright-core';
import type { OpenedPage, RunningApp } from '../../tests/browser/app';
import { openAndPlay, sample, sleep, type RunSpec, type Timing } from './measureRun';
import { pairRatios, rateWindows, type RateWindow, type RatioPair } from './report';

/** After Play, the workers pick up where they paused; this much time passes before a window opens. */
const RESUME_SETTLE_MS = 1_000;

export interface PairedRatio {
  fastId: string;
  referenceId: string;
  pairs: RatioPair[];
  /** Median of the pairs' ratios; null if a page never trained. */
  ratio: number | null;
  errors: string[];
}

async function press(page: Page, name: 'Play' | 'Pause'): Promise<void> {
  await page.getByRole('button', { name, exact: true }).click();
}

async function trainWindow(page: Page, seconds: number): Promise<RateWindow> {
  await press(page, 'Play');
  await sleep(RESUME_SETTLE_MS);
  const start = await sample(page);
  await sleep(seconds * 1000);
  const end = await sample(page);
  await press(page, 'Pause');
  return rateWindows([start, end])[0];
}

export async function measurePairedRatio(
  browser: Browser,
  app: RunningApp,
  fast: RunSpec,
  reference: RunSpec,
  timing: Timing,
  pairCount: number,
  log: (line: string) => void,
): Promise<PairedRatio> {
  const result: PairedRatio = { fastId: fast.id, referenceId: reference.id, pairs: [], ratio: null, errors: [] };
  log(`alternating ${fast.label} and ${reference.label}: ${pairCount} pairs of ${timing.windowSeconds} s windows`);
  const opened: OpenedPage[] = [];
  try {
    for (const spec of [fast, reference]) {
      const playing = await openAndPlay(browser, app, spec, timing);
      opened.push(playing.opened);
      if (playing.first.firstStepAt === null) return result;
      await sleep(timing.warmupSeconds * 1000);
      await press(playing.opened.page, 'Pause');
    }
    const [fastPage, referencePage] = opened.map((o) => o.page);
    const fastWindows: RateWindow[] = [];
    const referenceWindows: RateWindow[] = [];
    for (let i = 0; i < pairCount; i++) {
      fastWindows.push(await trainWindow(fastPage, timing.windowSeconds));
      referenceWindows.push(await trainWindow(referencePage, timing.windowSeconds));
      log(`pair ${i + 1}: ${fastWindows[i].pairStepsPerSecond.toFixed(1)} / ${referenceWindows[i].pairStepsPerSecond.toFixed(1)} pair-steps/s`);
    }
    Object.assign(result, pairRatios(fastWindows, referenceWindows));
    return result;
  } finally {
    for (const page of opened) {
      result.errors.push(...page.errors);
      await page.close();
    }
  }
}
