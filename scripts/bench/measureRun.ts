/**
 * One benchmark run: open the page at a link, press Play at once, and watch through the page's own
 * UI (the status bar's step counter and backend readout) how fast the pair of arms trains, what the
 * main thread suffers meanwhile, and what memory the page and its workers hold.
 */
import { loadavg } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { openPage, type OpenedPage, type RunningApp } from '../../tests/browser/app';
import { MemoryReader, type MemorySnapshot } from './memory';
import { LONG_TASKS_EXPRESSION, PAGE_PROBE_SCRIPT, SAMPLE_EXPRESSION, type LongTask, type PageSample } from './pageProbe';
import { median, rateWindows, summarizeLongTasks, type FirstStepTiming, type RunResult } from './report';

/** Training workers the page runs: one per arm. */
const WORKERS = 2;
const POLL_MS = 200;

export interface RunSpec {
  id: string;
  label: string;
  /** Query string without "?", e.g. `v=2&backend=webgl`. */
  query: string;
  viewport: { width: number; height: number };
  requestedBackend: string;
  gradients: string;
  /** Steps at which to read memory; the first one also ends the warm-up. */
  memoryAtSteps: readonly number[];
  /** Extra page loads that only time the first step, for a median of the time to first step. */
  extraFirstStepLoads: number;
}

export interface Timing {
  /** Training time after the first step before the first window opens (at least the first second). */
  warmupSeconds: number;
  windowSeconds: number;
  windowCount: number;
  /** How long to wait for the first step (WebGPU on a software adapter compiles slowly). */
  firstStepTimeoutSeconds: number;
  /** How long to wait for each memory step to be reached. */
  memoryStepTimeoutSeconds: number;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const sample = (page: Page) => page.evaluate<PageSample>(SAMPLE_EXPRESSION);

/** Polls the step counter until it reaches `step` or the time is up; returns the last sample either way. */
async function waitForStep(page: Page, step: number, timeoutSeconds: number): Promise<PageSample> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const latest = await sample(page);
    if (latest.step >= step || Date.now() >= deadline) return latest;
    await sleep(POLL_MS);
  }
}

async function waitForFirstStep(page: Page, timeoutSeconds: number): Promise<PageSample> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const latest = await sample(page);
    if (latest.firstStepAt !== null || Date.now() >= deadline) return latest;
    await sleep(POLL_MS);
  }
}

export interface PlayingPage {
  opened: OpenedPage;
  /** The sample that saw the first step, or the last one before the time limit. */
  first: PageSample;
}

/** Opens the link with the probe installed and clicks Play as soon as the page has loaded. */
export async function openAndPlay(browser: Browser, app: RunningApp, spec: RunSpec, timing: Timing): Promise<PlayingPage> {
  const opened = await openPage(browser, app, `?${spec.query}`, { viewport: spec.viewport, initScript: PAGE_PROBE_SCRIPT });
  try {
    await opened.page.getByRole('button', { name: 'Play' }).click();
    return { opened, first: await waitForFirstStep(opened.page, timing.firstStepTimeoutSeconds) };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

function firstStepTiming(first: PageSample): FirstStepTiming | null {
  if (first.firstStepAt === null) return null;
  return { navigationMs: first.firstStepAt, clickMs: first.playClickedAt === null ? null : first.firstStepAt - first.playClickedAt };
}

export async function measureRun(browser: Browser, app: RunningApp, spec: RunSpec, timing: Timing, log: (line: string) => void): Promise<RunResult> {
  const loadAtStart = loadavg()[0];
  const result: RunResult = {
    id: spec.id,
    label: spec.label,
    query: spec.query,
    viewport: spec.viewport,
    chartsInView: null,
    requestedBackend: spec.requestedBackend,
    gradients: spec.gradients,
    backendInUse: null,
    fallbackWarning: null,
    skipped: null,
    firstStepLoads: [],
    timeToFirstStepMs: null,
    clickToFirstStepMs: null,
    windows: [],
    pairStepsPerSecond: null,
    framesPerSecond: null,
    longTasks: null,
    memory: [],
    errors: [],
    loadAverage: [loadAtStart, loadAtStart],
  };
  log(`${spec.label}: opening ?${spec.query}`);
  const { opened, first } = await openAndPlay(browser, app, spec, timing);
  const { page } = opened;
  let memoryReader: MemoryReader | undefined;
  try {
    if (first.firstStepAt === null) {
      result.skipped = `no step within ${timing.firstStepTimeoutSeconds} s`;
      result.backendInUse = first.backend || null;
      result.fallbackWarning = first.warning;
      return result;
    }
    const firstStepAt = first.firstStepAt;
    const firstStep = firstStepTiming(first);
    if (firstStep) result.firstStepLoads.push(firstStep);
    log(`${spec.label}: first step ${(firstStepAt / 1000).toFixed(2)} s after navigation`);

    const snapshotSpans: [number, number][] = [];
    const snapshot = async (target: number): Promise<MemorySnapshot> => {
      const reached = await waitForStep(page, target, timing.memoryStepTimeoutSeconds);
      memoryReader ??= await MemoryReader.attach(page, WORKERS);
      const taken = await memoryReader.read(reached.step);
      snapshotSpans.push([reached.now, (await sample(page)).now]);
      log(`${spec.label}: memory at step ${taken.step}${taken.step < target ? ` (step ${target} not reached in ${timing.memoryStepTimeoutSeconds} s)` : ''}`);
      return taken;
    };

    const [warmupTarget, ...laterTargets] = spec.memoryAtSteps;
    if (warmupTarget !== undefined) result.memory.push(await snapshot(warmupTarget));
    const sinceFirstStep = (await sample(page)).now - firstStepAt;
    await sleep(Math.max(0, timing.warmupSeconds * 1000 - sinceFirstStep));

    const samples = [await sample(page)];
    for (let i = 0; i < timing.windowCount; i++) {
      await sleep(timing.windowSeconds * 1000);
      samples.push(await sample(page));
    }
    result.windows = rateWindows(samples);
    result.pairStepsPerSecond = median(result.windows.map((w) => w.pairStepsPerSecond));
    result.framesPerSecond = median(result.windows.map((w) => w.framesPerSecond));
    log(`${spec.label}: ${result.windows.map((w) => w.pairStepsPerSecond.toFixed(1)).join(' / ')} pair-steps/s`);
    const last = samples[samples.length - 1];
    const longTasks = await page.evaluate<LongTask[]>(LONG_TASKS_EXPRESSION);
    result.longTasks = summarizeLongTasks(longTasks, firstStepAt + 1000, last.now, snapshotSpans);
    result.backendInUse = last.backend || null;
    result.fallbackWarning = last.warning;
    result.chartsInView = [last.chartsInView, last.charts];

    for (const target of laterTargets) result.memory.push(await snapshot(target));
  } finally {
    await memoryReader?.detach();
    result.errors = [...opened.errors];
    await opened.close();
  }
  // Separate loads, each in a fresh context (no cache shared with the loads before it).
  for (let i = 0; i < spec.extraFirstStepLoads && result.skipped === null; i++) {
    const extra = await openAndPlay(browser, app, spec, timing);
    const timed = firstStepTiming(extra.first);
    if (timed) result.firstStepLoads.push(timed);
    result.errors.push(...extra.opened.errors);
    await extra.opened.close();
  }
  result.timeToFirstStepMs = median(result.firstStepLoads.map((t) => t.navigationMs));
  result.clickToFirstStepMs = median(result.firstStepLoads.flatMap((t) => (t.clickMs === null ? [] : [t.clickMs])));
  result.loadAverage[1] = loadavg()[0];
  return result;
}
