import { describe, expect, it } from 'vitest';
import type { PageSample } from './pageProbe';
import {
  describePairedRatio,
  median,
  pairRatios,
  rateWindows,
  renderTable,
  speedUp,
  summarizeLongTasks,
  type BenchEnvironment,
  type RunResult,
} from './report';

function sampleAt(seconds: number, step: number, frames: number): PageSample {
  return {
    now: seconds * 1000,
    step,
    frames,
    displayedRate: '0',
    backend: 'wasm',
    warning: null,
    chartsInView: 4,
    charts: 17,
    playClickedAt: 0,
    firstStepAt: 500,
  };
}

function run(changes: Partial<RunResult>): RunResult {
  return {
    id: 'r',
    label: 'run',
    query: 'v=2',
    viewport: { width: 1400, height: 1000 },
    chartsInView: [4, 17],
    requestedBackend: 'wasm',
    gradients: 'handwritten',
    backendInUse: 'wasm',
    fallbackWarning: null,
    skipped: null,
    firstStepLoads: [{ navigationMs: 1200, clickMs: 400 }],
    timeToFirstStepMs: 1200,
    clickToFirstStepMs: 400,
    windows: [],
    pairStepsPerSecond: null,
    framesPerSecond: null,
    longTasks: null,
    memory: [],
    errors: [],
    loadAverage: [1, 1],
    ...changes,
  };
}

const environment: BenchEnvironment = {
  date: '2026-11-25T00:00:00.000Z',
  nodeCpus: 2,
  cpuModel: 'cpu',
  hardwareConcurrency: 2,
  chromium: '156',
  quick: false,
  windowSeconds: 7,
  windowCount: 3,
};

describe('median', () => {
  it('is the middle value of an odd count and the mean of the middle two of an even count, whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe('rateWindows', () => {
  it('gives pair-steps/s and frames/s of each window from the step counter and frame count at its ends', () => {
    const windows = rateWindows([sampleAt(10, 1000, 600), sampleAt(12, 1600, 720), sampleAt(16, 2000, 960)]);
    expect(windows.map((w) => [w.seconds, w.pairStepsPerSecond, w.framesPerSecond])).toEqual([
      [2, 300, 60],
      [4, 100, 60],
    ]);
  });
});

describe('summarizeLongTasks', () => {
  const tasks = [
    { start: 500, duration: 80 }, // before the window: start-up
    { start: 2000, duration: 60 },
    { start: 3000, duration: 200 }, // inside a memory snapshot's span
    { start: 4000, duration: 120 },
    { start: 9000, duration: 70 }, // after the window
  ];

  it('counts only the tasks that start inside the window and do not overlap an excluded span', () => {
    const summary = summarizeLongTasks(tasks, 1000, 5000, [[2900, 3100]]);
    expect(summary).toMatchObject({ count: 2, totalMs: 180, maxMs: 120 });
    expect(summary.tasks.map((t) => t.start)).toEqual([2000, 4000]);
  });

  it('leaves the excluded spans out of the observed time', () => {
    expect(summarizeLongTasks(tasks, 1000, 5000, [[2900, 3100]]).observedSeconds).toBeCloseTo(3.8);
  });
});

describe('renderTable', () => {
  const handwritten = run({ label: 'hand-written, wasm', pairStepsPerSecond: 300 });
  const autodiff = run({ label: 'autodiff, wasm', gradients: 'autodiff', pairStepsPerSecond: 60 });
  const webgl = run({ label: 'hand-written, webgl', requestedBackend: 'webgl', backendInUse: 'webgl', pairStepsPerSecond: 20 });

  it('prints one column per run with the ratio to the autodiff run of the same backend', () => {
    const lines = renderTable([handwritten, autodiff, webgl], environment, []).split('\n');
    const header = lines.find((line) => line.includes('hand-written, wasm'));
    expect(header?.split('|').map((cell) => cell.trim())).toEqual(['', 'hand-written, wasm', 'autodiff, wasm', 'hand-written, webgl']);
    const ratio = lines.find((line) => line.startsWith('ratio to autodiff'));
    expect(ratio?.split('|').map((cell) => cell.trim())).toEqual(['ratio to autodiff on the same backend', '5.00x', '1.00x', '']);
  });

  it('says when the backend in use is a fallback and why', () => {
    const fallback = run({
      label: 'hand-written, webgpu',
      requestedBackend: 'webgpu',
      backendInUse: 'cpu',
      fallbackWarning: 'the webgpu backend did not initialise here',
    });
    const text = renderTable([fallback], environment, []);
    expect(text).toMatch(/backend in use\s+\|\s+cpu \(fallback!\)/);
    expect(text).toContain('hand-written, webgpu: the webgpu backend did not initialise here');
  });

  it("prints each worker's SIMD kernels' memory, tfjs's apart, at every memory step, so flat memory covers it", () => {
    const worker = (simdMemoryBytes: number | null) => ({
      heap: { usedBytes: 2 ** 20, totalBytes: 2 ** 21, arrayBufferBytes: null },
      tf: { backend: 'wasm', numTensors: 0, numDataBuffers: 0, numBytes: 0, wasmMemoryBytes: 16 * 2 ** 20 },
      simdMemoryBytes,
    });
    const page = { usedBytes: 2 ** 20, totalBytes: 2 ** 21, arrayBufferBytes: null };
    const simd = run({
      label: 'SIMD',
      memory: [
        { step: 2_004, page, workers: [worker(23.5 * 2 ** 20), worker(24 * 2 ** 20)] },
        { step: 20_010, page, workers: [worker(23.5 * 2 ** 20), worker(null)] },
      ],
    });
    const rows = renderTable([simd], environment, [2_000, 20_000])
      .split('\n')
      .filter((line) => line.startsWith("  worker SIMD kernels' memory") || line.startsWith("  worker tfjs's wasm memory"));
    expect(rows.map((line) => line.split('|')[1].trim())).toEqual(['16.0 MB + 16.0 MB', '23.5 MB + 24.0 MB', '16.0 MB + 16.0 MB', '23.5 MB + ?']);
  });

  it('has no speed-up where either run has no rate', () => {
    expect(speedUp(handwritten, run({ pairStepsPerSecond: null }))).toBeNull();
  });
});

describe('pairRatios', () => {
  const windows = (rates: number[]) =>
    rateWindows(
      rates.reduce(
        (samples, rate, i) => {
          samples.push(sampleAt(i + 1, samples[i].step + rate, 0));
          return samples;
        },
        [sampleAt(0, 0, 0)],
      ),
    );

  it('pairs the i-th windows of the two pages and takes the median of their ratios, not the ratio of medians', () => {
    // The machine slows down in the second pair: both pages slow alike, and the ratio holds.
    const { pairs, ratio } = pairRatios(windows([400, 200, 380]), windows([80, 40, 100]));
    expect(pairs.map((p) => p.ratio)).toEqual([5, 5, 3.8]);
    expect(ratio).toBe(5);
  });

  it('has no ratio when the reference page never trained', () => {
    expect(pairRatios(windows([400]), windows([0])).ratio).toBeNull();
  });

  it('is printed with every pair and the page errors', () => {
    const paired = { fastId: 'a', referenceId: 'b', ...pairRatios(windows([400, 390]), windows([80, 78])), errors: ['console: x'] };
    expect(describePairedRatio(paired, 'hand-written, wasm', 'autodiff, wasm')).toBe(
      'hand-written, wasm against autodiff, wasm, windows alternated between the two pages (pair-steps/s 400/80, 390/78): median ratio 5.00x; 1 page errors',
    );
  });
});
