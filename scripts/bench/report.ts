/**
 * The benchmark's figures from raw page samples, and the one printed table. Pure: no browser here,
 * so the arithmetic is tested on its own.
 */
import type { LongTask, PageSample } from './pageProbe';
import type { HeapUsage, MemorySnapshot } from './memory';
import type { PairedRatio } from './pairedRatio';

/** One measurement window: the step counter and the frame count at its two ends. */
export interface RateWindow {
  seconds: number;
  startStep: number;
  endStep: number;
  pairStepsPerSecond: number;
  framesPerSecond: number;
  /** What the page's own steps/s readout showed at the window's end. */
  displayedRate: string;
}

export interface LongTaskSummary {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Seconds of training the long tasks were collected over. */
  observedSeconds: number;
  /** The counted tasks themselves (page time), to see when they happen. */
  tasks: LongTask[];
}

export interface FirstStepTiming {
  /** From navigation start (data load, backend start, first step). */
  navigationMs: number;
  /** From the click on Play, which comes as soon as the page has loaded. */
  clickMs: number | null;
}

export interface RunResult {
  id: string;
  label: string;
  /** The query string the page was opened with. */
  query: string;
  viewport: { width: number; height: number };
  /** Chart canvases inside the viewport at the end of the windows, of all charts: only those paint. */
  chartsInView: [number, number] | null;
  requestedBackend: string;
  gradients: string;
  /** What the status bar showed (the backend actually in use), and its fallback warning if any. */
  backendInUse: string | null;
  fallbackWarning: string | null;
  /** Why the run has no figures, if it has none (e.g. no step within the time limit). */
  skipped: string | null;
  /** Every page load's time to first step; the main run loads the page more than once. */
  firstStepLoads: FirstStepTiming[];
  /** Median from navigation start to the step counter first showing >= 1 (Play clicked as soon as the page loaded). */
  timeToFirstStepMs: number | null;
  /** Median from the click on Play to the first step. */
  clickToFirstStepMs: number | null;
  windows: RateWindow[];
  /** Medians over the windows. */
  pairStepsPerSecond: number | null;
  framesPerSecond: number | null;
  longTasks: LongTaskSummary | null;
  memory: MemorySnapshot[];
  /** Console errors, uncaught exceptions and off-origin requests the page produced. */
  errors: string[];
  /** 1-minute load average of the machine at the run's start and end. */
  loadAverage: [number, number];
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Windows between consecutive samples: rates from the step counter, not from the page's readout. */
export function rateWindows(samples: readonly PageSample[]): RateWindow[] {
  return samples.slice(1).map((end, i) => {
    const start = samples[i];
    const seconds = (end.now - start.now) / 1000;
    return {
      seconds,
      startStep: start.step,
      endStep: end.step,
      pairStepsPerSecond: (end.step - start.step) / seconds,
      framesPerSecond: (end.frames - start.frames) / seconds,
      displayedRate: end.displayedRate,
    };
  });
}

/**
 * Long tasks that start in [from, to] (page time, ms), except those that overlap a span in `excluded`:
 * the benchmark's own memory snapshots force garbage collections that are not the page's doing.
 */
export function summarizeLongTasks(tasks: readonly LongTask[], from: number, to: number, excluded: readonly [number, number][] = []): LongTaskSummary {
  const counted = tasks.filter(
    (task) => task.start >= from && task.start <= to && !excluded.some(([start, end]) => task.start <= end && task.start + task.duration >= start),
  );
  const excludedMs = excluded.reduce((sum, [start, end]) => sum + Math.max(0, Math.min(end, to) - Math.max(start, from)), 0);
  return {
    count: counted.length,
    totalMs: counted.reduce((sum, task) => sum + task.duration, 0),
    maxMs: counted.reduce((max, task) => Math.max(max, task.duration), 0),
    observedSeconds: Math.max(0, to - from - excludedMs) / 1000,
    tasks: counted,
  };
}

export interface BenchEnvironment {
  date: string;
  nodeCpus: number;
  cpuModel: string;
  hardwareConcurrency: number | null;
  chromium: string;
  quick: boolean;
  windowSeconds: number;
  windowCount: number;
}

const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);

const bufferCell = (heap: HeapUsage) => (heap.arrayBufferBytes === null ? '?' : megabytes(heap.arrayBufferBytes));

function memoryCell(run: RunResult, index: number, cell: (snapshot: MemorySnapshot) => string): string {
  const snapshot = run.memory[index];
  return snapshot ? cell(snapshot) : '';
}

/** How many times faster `run` trains than `reference`; null when either has no rate. */
export function speedUp(run: RunResult, reference: RunResult): number | null {
  return run.pairStepsPerSecond && reference.pairStepsPerSecond ? run.pairStepsPerSecond / reference.pairStepsPerSecond : null;
}

/**
 * One table, a column per run and a row per figure. An autodiff run is the baseline of the ratio row
 * for the runs on the backend it used.
 */
export function renderTable(runs: readonly RunResult[], environment: BenchEnvironment, memorySteps: readonly number[]): string {
  const rows: [string, (run: RunResult) => string][] = [
    ['backend in use', (run) => (run.backendInUse || '–') + (run.fallbackWarning ? ' (fallback!)' : '')],
    [
      'viewport; charts in view (painted) / all',
      (run) => `${run.viewport.width}x${run.viewport.height}; ${run.chartsInView ? run.chartsInView.join(' / ') : '–'}`,
    ],
    [`pair-steps/s, median of ${environment.windowCount} x ${environment.windowSeconds} s`, (run) => fixed(run.pairStepsPerSecond, 1)],
    ['  each window', (run) => run.windows.map((w) => fixed(w.pairStepsPerSecond, 0)).join(' / ') || '–'],
    ['  page readout at window ends', (run) => run.windows.map((w) => w.displayedRate).join(' / ') || '–'],
    [
      'ratio to autodiff on the same backend',
      (run) => {
        const reference = runs.find((r) => r.gradients === 'autodiff' && r.backendInUse === run.backendInUse);
        return reference ? `${fixed(speedUp(run, reference), 2)}x` : '';
      },
    ],
    ['panel frames/s (rAF), median', (run) => fixed(run.framesPerSecond, 1)],
    [
      'long tasks > 50 ms: count / total / max',
      (run) => (run.longTasks ? `${run.longTasks.count} / ${fixed(run.longTasks.totalMs, 0)} ms / ${fixed(run.longTasks.maxMs, 0)} ms` : '–'),
    ],
    ['  over (s of training, from 1 s after step 1)', (run) => fixed(run.longTasks?.observedSeconds, 1)],
    [
      'time to first step from navigation / click',
      (run) =>
        `${fixed(run.timeToFirstStepMs === null ? null : run.timeToFirstStepMs / 1000, 2)} s / ${fixed(run.clickToFirstStepMs === null ? null : run.clickToFirstStepMs / 1000, 2)} s` +
        (run.firstStepLoads.length > 1 ? ` (median of ${run.firstStepLoads.length})` : ''),
    ],
    ...memorySteps.flatMap((target, i): [string, (run: RunResult) => string][] => [
      [`at step ${target.toLocaleString('en')}: actual step`, (run) => memoryCell(run, i, (s) => String(s.step))],
      ['  page JS heap (after GC)', (run) => memoryCell(run, i, (s) => megabytes(s.page.usedBytes))],
      ['  page array buffers (the digit file)', (run) => memoryCell(run, i, (s) => bufferCell(s.page))],
      ['  worker array buffers (digits, test copy, ink index)', (run) => memoryCell(run, i, (s) => s.workers.map((w) => bufferCell(w.heap)).join(' + '))],
      ['  worker JS heaps (after GC)', (run) => memoryCell(run, i, (s) => s.workers.map((w) => megabytes(w.heap.usedBytes)).join(' + '))],
      ['  worker tf.memory(): tensors', (run) => memoryCell(run, i, (s) => s.workers.map((w) => String(w.tf?.numTensors ?? '?')).join(' + '))],
      ['  worker tf.memory(): bytes', (run) => memoryCell(run, i, (s) => s.workers.map((w) => (w.tf ? megabytes(w.tf.numBytes) : '?')).join(' + '))],
      [
        "  worker tfjs's wasm memory",
        (run) => memoryCell(run, i, (s) => s.workers.map((w) => (w.tf?.wasmMemoryBytes ? megabytes(w.tf.wasmMemoryBytes) : '–')).join(' + ')),
      ],
      [
        "  worker SIMD kernels' memory (WebAssembly, not tfjs's)",
        (run) => memoryCell(run, i, (s) => s.workers.map((w) => (w.simdMemoryBytes === null ? '?' : megabytes(w.simdMemoryBytes))).join(' + ')),
      ],
    ]),
    ['page errors', (run) => String(run.errors.length)],
    ['load average (1 min) start / end', (run) => `${fixed(run.loadAverage[0], 2)} / ${fixed(run.loadAverage[1], 2)}`],
  ];
  const header = ['', ...runs.map((run) => run.label)];
  const body = rows.map(([name, cell]) => [name, ...runs.map(cell)]);
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((row) => row[column].length)));
  const line = (row: string[]) => row.map((text, column) => (column === 0 ? text.padEnd(widths[column]) : text.padStart(widths[column]))).join(' | ');
  const rule = widths.map((width) => '-'.repeat(width)).join('-|-');
  const notes = runs
    .filter((run) => run.skipped || run.fallbackWarning)
    .map((run) => `${run.label}: ${run.skipped ?? ''}${run.skipped && run.fallbackWarning ? '; ' : ''}${run.fallbackWarning ?? ''}`);
  return [
    `Covariate Shift Lab benchmark, ${environment.date}${environment.quick ? ' (--quick: smaller numbers, not the reference figures)' : ''}`,
    `Chromium ${environment.chromium}; cores: os.cpus() ${environment.nodeCpus}, navigator.hardwareConcurrency ${environment.hardwareConcurrency ?? '?'} (${environment.cpuModel})`,
    line(header),
    rule,
    ...body.map(line),
    ...notes,
  ]
    .filter((text) => text !== '')
    .join('\n');
}

/** Windows of two pages trained in turn (pairedRatio.ts): the i-th window of each makes a pair. */
export interface RatioPair {
  fast: RateWindow;
  reference: RateWindow;
  /** fast / reference pair-steps/s. */
  ratio: number;
}

/** The pairs and the median of their ratios (null without a pair that has a finite ratio). */
export function pairRatios(fast: readonly RateWindow[], reference: readonly RateWindow[]): { pairs: RatioPair[]; ratio: number | null } {
  const pairs = fast
    .slice(0, reference.length)
    .map((window, i) => ({ fast: window, reference: reference[i], ratio: window.pairStepsPerSecond / reference[i].pairStepsPerSecond }));
  return { pairs, ratio: median(pairs.map((pair) => pair.ratio).filter(Number.isFinite)) };
}

/** The printed line for a ratio measured in alternation. */
export function describePairedRatio(paired: PairedRatio, fastLabel: string, referenceLabel: string): string {
  const errors = paired.errors.length > 0 ? `; ${paired.errors.length} page errors` : '';
  if (paired.ratio === null) return `${fastLabel} against ${referenceLabel}, windows alternated: no figure (a page did not train)${errors}`;
  const pairs = paired.pairs.map((p) => `${p.fast.pairStepsPerSecond.toFixed(0)}/${p.reference.pairStepsPerSecond.toFixed(0)}`).join(', ');
  return `${fastLabel} against ${referenceLabel}, windows alternated between the two pages (pair-steps/s ${pairs}): median ratio ${paired.ratio.toFixed(2)}x${errors}`;
}
