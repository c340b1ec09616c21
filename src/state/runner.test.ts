import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../config/schema';
import { command, result, type Command, type Result } from '../training/protocol';
import { HISTOGRAM, packRecords, PERCENTILES, type ArmRecord, type Distribution } from '../training/records';
import type { ArmIndex } from '../training/trainer';
import { HEARTBEAT_MS, leadSteps, MISSED_HEARTBEATS, Runner, type DigitDownload, type Locks, type TrainingWorker } from './runner';
import { createLabStore, pairStep, type LabStore } from './store';

const config: Config = {
  ...DEFAULT_CONFIG,
  hiddenLayers: 2,
  normalizationA: ['none', 'none'],
  normalizationB: ['batchnorm', 'none'],
  metricsInterval: 10,
};
const assets = { dataUrl: 'http://lab.test/data/mnist.bin', wasmDir: 'http://lab.test/tfjs-wasm/' };

/** Stands in for a worker: keeps what the page sent it and lets a test answer as the worker would. */
class FakeWorker implements TrainingWorker {
  readonly sent: Command[] = [];
  terminated = false;
  /** Whether it answers pings as a live worker does (between two slices, so not within the call). */
  answersPings = false;
  onmessage: TrainingWorker['onmessage'] = null;
  onerror: TrainingWorker['onerror'] = null;

  postMessage(message: Command): void {
    this.sent.push(message);
    if (message.type === 'ping' && this.answersPings) queueMicrotask(() => this.reply(result({ type: 'heartbeat', busyMs: 0 })));
  }

  terminate(): void {
    this.terminated = true;
  }

  reply(message: Result): void {
    this.onmessage?.({ data: message } as MessageEvent<Result>);
  }

  crash(message: string): void {
    this.onerror?.({ message, preventDefault() {} } as ErrorEvent);
  }

  of<T extends Command['type']>(type: T): Extract<Command, { type: T }>[] {
    return this.sent.filter((m): m is Extract<Command, { type: T }> => m.type === type);
  }

  /** The last step limit the page set for this arm. */
  get horizon(): number | undefined {
    return this.of('horizon').at(-1)?.step;
  }
}

function distribution(value: number): Distribution {
  return { percentiles: PERCENTILES.map(() => value), mean: value, std: 1, histogram: new Array<number>(HISTOGRAM.bins).fill(0) };
}

function record(step: number, loss: number): ArmRecord {
  const layer = { unit: distribution(step), pooled: distribution(-step), saturation: 0 };
  return { step, loss, testAccuracy: 0.5, fullTestAccuracy: step % 100 === 0 ? 0.5 : NaN, layers: Array.from({ length: config.hiddenLayers }, () => layer) };
}

/** The digit file's bytes as the download hands them over; the runner passes them on unread. */
const digits = new Uint8Array([1, 2, 3]);

/** A runner whose download has already delivered, so starts reach the workers at once, as on Reset. */
async function setup(initial: Config = config): Promise<{ store: LabStore; runner: Runner; workers: FakeWorker[] }> {
  const lab = setupDownloading(initial, async () => digits);
  await lab.runner.loadDigits();
  return lab;
}

function setupDownloading(initial: Config, download: DigitDownload): { store: LabStore; runner: Runner; workers: FakeWorker[] } {
  const store = createLabStore(initial);
  const workers: FakeWorker[] = [];
  const runner = new Runner(
    store,
    () => {
      const worker = new FakeWorker();
      workers.push(worker);
      return worker;
    },
    assets,
    download,
  );
  return { store, runner, workers };
}

/** The current pair of workers (the last two created). */
function current(workers: FakeWorker[]): [FakeWorker, FakeWorker] {
  return [workers[workers.length - 2], workers[workers.length - 1]];
}

function ready(worker: FakeWorker, runId: number, arm: ArmIndex): void {
  worker.reply(result({ type: 'ready', runId, arm, backend: 'wasm', fallbackReason: null, startMs: 40 }));
  worker.reply(result({ type: 'progress', runId, arm, step: 0, running: false }));
}

function progress(worker: FakeWorker, runId: number, arm: ArmIndex, step: number): void {
  worker.reply(result({ type: 'progress', runId, arm, step, running: true }));
}

/** A started run whose two arms have reported ready. */
async function readyRun(initial: Config = config) {
  const lab = await setup(initial);
  lab.runner.start(false);
  const [a, b] = current(lab.workers);
  const runId = lab.store.getState().runId;
  ready(a, runId, 0);
  ready(b, runId, 1);
  return { ...lab, a, b, runId };
}

describe('Runner', () => {
  it('start sends "start" to one worker per arm with a new run id and the same config', async () => {
    const { store, runner, workers } = await setup();
    runner.start(false);
    expect(workers).toHaveLength(2);
    const starts = workers.map((w) => w.of('start'));
    expect(starts.map((s) => s.length)).toEqual([1, 1]);
    const [[a], [b]] = starts;
    expect(a.runId).toBe(store.getState().runId);
    expect(a.runId).toBeGreaterThan(0);
    expect(b.runId).toBe(a.runId);
    expect([a.arm, b.arm]).toEqual([0, 1]);
    expect(a.config).toEqual(config);
    expect(b.config).toEqual(config);
    expect(a.wasmDir).toBe(assets.wasmDir);
    expect(store.getState().status).toBe('loading');

    runner.start(false);
    expect(workers).toHaveLength(2);
    expect(workers[0].of('start')[1].runId).toBe(a.runId + 1);
  });

  it('is paused once both arms are ready, not before', async () => {
    const { store, runner, workers } = await setup();
    runner.start(false);
    const [a, b] = current(workers);
    const { runId } = store.getState();
    ready(a, runId, 0);
    expect(store.getState().status).toBe('loading');
    ready(b, runId, 1);
    expect(store.getState().status).toBe('paused');
    expect(store.getState().arms.map((arm) => arm.backend)).toEqual(['wasm', 'wasm']);
    expect(a.of('resume')).toEqual([]);
  });

  it('play pressed while loading starts both arms as soon as both are ready', async () => {
    const { store, runner, workers } = await setup();
    runner.start(false);
    runner.play();
    const [a, b] = current(workers);
    const { runId } = store.getState();
    expect(a.of('resume')).toEqual([]);
    ready(a, runId, 0);
    ready(b, runId, 1);
    expect(store.getState().status).toBe('running');
    expect(a.of('resume')).toEqual([command({ type: 'resume', runId })]);
    expect(b.of('resume')).toEqual([command({ type: 'resume', runId })]);
  });

  it('Step pressed while loading takes its steps as soon as both arms are ready, and stays paused', async () => {
    const { store, runner, workers } = await setup();
    runner.start(false);
    runner.stepOnce();
    runner.stepOnce();
    const [a, b] = current(workers);
    const { runId } = store.getState();
    expect(a.of('step')).toEqual([]);
    ready(a, runId, 0);
    expect(a.of('step')).toEqual([]);
    ready(b, runId, 1);
    for (const worker of [a, b]) expect(worker.of('step')).toEqual([command({ type: 'step', runId, count: 2 })]);
    expect(store.getState().status).toBe('paused');
    // A Reset forgets presses made for the run it replaces.
    runner.reset();
    runner.stepOnce();
    runner.reset();
    ready(a, runId + 2, 0);
    ready(b, runId + 2, 1);
    expect(a.of('step')).toHaveLength(1);
  });

  it('pause pressed after play, while still loading, leaves the run paused when it is ready', async () => {
    const { store, runner, workers } = await setup();
    runner.start(false);
    runner.play();
    runner.pause();
    const [a, b] = current(workers);
    ready(a, store.getState().runId, 0);
    ready(b, store.getState().runId, 1);
    expect(store.getState().status).toBe('paused');
    expect(a.of('resume')).toEqual([]);
  });

  it("puts each arm's records into that arm's series, and its step into that arm's status", async () => {
    const { store, a, b, runId } = await readyRun();
    b.reply(
      result({
        type: 'records',
        runId,
        arm: 1,
        layers: config.hiddenLayers,
        packed: packRecords([record(0, 2.3), record(10, 1.9)], config.hiddenLayers),
        step: 12,
      }),
    );
    const [seriesA, seriesB] = store.getState().series;
    expect(seriesA.length).toBe(0);
    expect(Array.from(seriesB.steps())).toEqual([0, 10]);
    expect(Array.from(seriesB.loss())).toEqual([2.3, 1.9]);
    expect(Array.from(seriesB.percentile(1, 'pooled', 0))).toEqual([-0, -10]);
    expect(store.getState().arms.map((arm) => arm.step)).toEqual([0, 12]);

    a.reply(result({ type: 'records', runId, arm: 0, layers: config.hiddenLayers, packed: packRecords([record(0, 2.4)], config.hiddenLayers), step: 3 }));
    expect(Array.from(seriesA.steps())).toEqual([0]);
    expect(pairStep(store.getState())).toBe(3);
  });

  it('drops results of an older run', async () => {
    const { store, runner, workers } = await setup();
    runner.start(false);
    const oldRun = store.getState().runId;
    runner.start(false);
    const [a, b] = current(workers);
    ready(a, oldRun, 0);
    ready(b, oldRun, 1);
    a.reply(
      result({ type: 'records', runId: oldRun, arm: 0, layers: config.hiddenLayers, packed: packRecords([record(0, 2)], config.hiddenLayers), step: 40 }),
    );
    a.reply(result({ type: 'diverged', runId: oldRun, arm: 0, step: 41 }));
    b.reply(result({ type: 'error', runId: oldRun, arm: 1, message: 'old news' }));
    const state = store.getState();
    expect(state.status).toBe('loading');
    expect(state.series[0].length).toBe(0);
    expect(state.arms.map((arm) => [arm.step, arm.diverged, arm.backend])).toEqual([
      [0, null, null],
      [0, null, null],
    ]);
    expect(state.error).toBeNull();
  });

  it(`keeps the arms within leadSteps of each other through "horizon"`, async () => {
    const { runner, a, b, runId } = await readyRun();
    const lead = leadSteps(config);
    runner.play();
    expect([a.horizon, b.horizon]).toEqual([lead, lead]);
    progress(a, runId, 0, lead);
    // A waits at its horizon until B catches up; B may now run ahead of A by the same lead.
    expect(a.horizon).toBe(lead);
    expect(b.horizon).toBe(2 * lead);
    progress(b, runId, 1, 30);
    expect(a.horizon).toBe(30 + lead);
    progress(b, runId, 1, 2 * lead);
    progress(a, runId, 0, 30 + lead);
    expect(a.horizon).toBe(3 * lead);
    expect(b.horizon).toBe(30 + 2 * lead);
    for (const worker of [a, b]) {
      expect(worker.of('horizon').every((h) => h.runId === runId)).toBe(true);
    }
  });

  it('marks a diverged arm at its step and lets the other arm run on without a horizon', async () => {
    const { store, runner, a, b, runId } = await readyRun();
    runner.play();
    progress(a, runId, 0, 3);
    a.reply(result({ type: 'diverged', runId, arm: 0, step: 4 }));
    const state = store.getState();
    expect(state.arms[0].diverged).toBe(4);
    expect(state.series[0].divergedStep).toBe(4);
    expect(state.arms[1].diverged).toBeNull();
    expect(b.horizon).toBe(Infinity);
    expect(state.status).toBe('running');
    progress(b, runId, 1, 900);
    expect(pairStep(store.getState())).toBe(900);
  });

  it('is finished when every arm has finished or diverged', async () => {
    const { store, runner, a, b, runId } = await readyRun();
    runner.play();
    b.reply(result({ type: 'diverged', runId, arm: 1, step: 7 }));
    a.reply(result({ type: 'finished', runId, arm: 0, step: config.steps }));
    expect(store.getState().status).toBe('finished');
    expect(store.getState().runningSince).toBeNull();
  });

  it('pause sends "pause" to both arms; Step, while paused, asks each for exactly one step with no horizon in the way', async () => {
    const { store, runner, a, b, runId } = await readyRun();
    runner.play();
    runner.pause();
    expect(store.getState().status).toBe('paused');
    expect([a.of('pause'), b.of('pause')]).toEqual([[command({ type: 'pause', runId })], [command({ type: 'pause', runId })]]);
    runner.stepOnce();
    for (const worker of [a, b]) {
      expect(worker.sent.slice(-2)).toEqual([command({ type: 'horizon', runId, step: Infinity }), command({ type: 'step', runId, count: 1 })]);
    }
    expect(store.getState().status).toBe('paused');
  });

  it('a worker that fails puts the page in "error" with a message, and keeps the config', async () => {
    const { store, a } = await readyRun();
    a.crash('wasm memory exhausted');
    const state = store.getState();
    expect(state.status).toBe('error');
    expect(state.error).toMatch(/wasm memory exhausted/);
    expect(state.config).toEqual(config);
  });

  it('an arm that reports an error names the arm in the message', async () => {
    const { store, b, runId } = await readyRun();
    b.reply(result({ type: 'error', runId, arm: 1, message: 'GET data/mnist.bin: 404 Not Found' }));
    expect(store.getState().status).toBe('error');
    expect(store.getState().error).toBe('Arm B stopped: GET data/mnist.bin: 404 Not Found');
  });

  it('restart after a failure terminates the workers and starts fresh ones with the same config', async () => {
    const { store, runner, workers, a, b } = await readyRun();
    a.crash('boom');
    runner.restart(true);
    expect(workers).toHaveLength(4);
    expect(a.terminated && b.terminated).toBe(true);
    const [freshA, freshB] = current(workers);
    const { runId } = store.getState();
    expect(freshA.of('start')).toEqual([expect.objectContaining({ runId, config, arm: 0 })]);
    expect(freshB.of('start')).toEqual([expect.objectContaining({ runId, config, arm: 1 })]);
    expect(store.getState()).toMatchObject({ status: 'loading', error: null });
    ready(freshA, runId, 0);
    ready(freshB, runId, 1);
    expect(store.getState().status).toBe('running');
  });

  it('Reset or a new config after a failure starts on fresh workers, not on the failed ones', async () => {
    const { store, runner, workers, a } = await readyRun();
    a.crash('the worker script failed to load');
    runner.reset();
    expect(workers).toHaveLength(4);
    const [freshA] = current(workers);
    expect(freshA.of('start')).toEqual([expect.objectContaining({ runId: store.getState().runId })]);

    freshA.crash('again');
    runner.setConfig({ ...config, learningRate: 0.2 });
    expect(workers).toHaveLength(6);
    expect(current(workers)[1].of('start')[0].config.learningRate).toBe(0.2);
  });

  it('a failure of one arm stops the other arm too', async () => {
    const { runner, a, b } = await readyRun();
    runner.play();
    a.crash('out of memory');
    expect(b.terminated).toBe(true);
  });

  it('a config change while running restarts both arms from step 0 and keeps running', async () => {
    const { store, runner, workers, a, runId } = await readyRun();
    runner.play();
    progress(a, runId, 0, 120);
    const changed: Config = { ...config, normalizationA: ['none', 'batchnorm'] };
    runner.setConfig(changed);
    const state = store.getState();
    expect(state.runId).toBe(runId + 1);
    expect(state.config).toBe(changed);
    expect(state.arms.map((arm) => arm.step)).toEqual([0, 0]);
    const [a2, b2] = current(workers);
    expect(a2.of('start').at(-1)!.config).toEqual(changed);
    ready(a2, runId + 1, 0);
    ready(b2, runId + 1, 1);
    expect(store.getState().status).toBe('running');
  });

  it('a display setting changes the config and the panels, not the run', async () => {
    const { store, runner, a, runId } = await readyRun();
    runner.play();
    progress(a, runId, 0, 120);
    const starts = a.of('start').length;
    runner.setConfig({ ...config, distributionView: 'pooled', lossScale: 'linear' });
    const state = store.getState();
    expect(state.config.distributionView).toBe('pooled');
    expect(state.runId).toBe(runId);
    expect(state.status).toBe('running');
    expect(state.arms[0].step).toBe(120);
    expect(a.of('start')).toHaveLength(starts);
  });

  it('dispose terminates both workers', async () => {
    const { runner, a, b } = await readyRun();
    runner.dispose();
    expect([a.terminated, b.terminated]).toEqual([true, true]);
  });
});

/** Web Locks as a worker's end frees them: `end(lock)` grants the page's waiting request. */
class FakeLocks implements Locks {
  private readonly waiting = new Map<string, () => void>();
  request(name: string, granted: () => void): Promise<unknown> {
    return new Promise((resolve) => this.waiting.set(name, () => resolve(granted())));
  }
  end(lock: string): void {
    this.waiting.get(lock)?.();
  }
}

describe('Runner: a worker that ends', () => {
  async function lockedRun() {
    const store = createLabStore(config);
    const workers: FakeWorker[] = [];
    const locks = new FakeLocks();
    const runner = new Runner(
      store,
      () => {
        const worker = new FakeWorker();
        workers.push(worker);
        return worker;
      },
      assets,
      async () => digits,
      locks,
    );
    await runner.loadDigits();
    runner.start(false);
    const [a, b] = current(workers);
    const lockOf = (worker: FakeWorker) => worker.of('hold')[0].lock;
    for (const worker of [a, b]) worker.reply(result({ type: 'holding', lock: lockOf(worker) }));
    const { runId } = store.getState();
    ready(a, runId, 0);
    ready(b, runId, 1);
    return { store, runner, workers, locks, a, b, lockOf };
  }

  it('asks each worker to hold a lock of its own, and reports at once, naming the arm, when one is freed', async () => {
    const { store, runner, locks, a, b, lockOf } = await lockedRun();
    expect(lockOf(a)).not.toBe(lockOf(b));
    runner.play();
    locks.end(lockOf(b));
    await Promise.resolve();
    const state = store.getState();
    expect(state.status).toBe('error');
    expect(state.error).toBe('Arm B stopped: its training worker ended without a word (terminated, or its process crashed).');
    expect(state.config).toEqual(config);
  });

  it('workers the page ended itself (a restart) raise nothing', async () => {
    const { store, runner, workers, locks, a, lockOf } = await lockedRun();
    runner.restart(false);
    expect(a.terminated).toBe(true);
    locks.end(lockOf(a));
    await Promise.resolve();
    expect(store.getState().status).toBe('loading');
    expect(store.getState().error).toBeNull();
    expect(workers).toHaveLength(4);
  });
});

describe('Runner: the heartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Lets `seconds` of heartbeats pass, each tick's answers delivered before the next tick. */
  async function wait(seconds: number): Promise<void> {
    for (let i = 0; i < seconds; i++) await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
  }

  it('a worker that goes silent while training is reported within 4 s, naming its arm; the other arm is stopped too and the config kept', async () => {
    const { store, runner, a, b } = await readyRun();
    a.answersPings = true;
    b.answersPings = true;
    runner.play();
    await wait(10);
    expect(store.getState().status).toBe('running');
    b.answersPings = false;
    await wait(MISSED_HEARTBEATS);
    expect(store.getState().status).toBe('running');
    await wait(1);
    const state = store.getState();
    expect(state.status).toBe('error');
    expect(state.error).toBe('Arm B stopped answering: its training worker has sent nothing for 3 s (it was terminated, crashed or hangs).');
    expect(state.config).toEqual(config);
    expect([a.terminated, b.terminated]).toEqual([true, true]);
  });

  it('any message counts as an answer: an arm that reports progress is alive without answering pings', async () => {
    const { store, runner, a, b, runId } = await readyRun();
    b.answersPings = true;
    runner.play();
    for (let i = 1; i <= 10; i++) {
      progress(a, runId, 0, i * 10);
      await wait(1);
    }
    expect(store.getState().status).toBe('running');
  });

  it('no alarm while the arms load, however long, nor while paused or finished with live workers', async () => {
    const lab = await setup();
    lab.runner.start(false);
    await wait(60);
    expect(lab.store.getState().status).toBe('loading');
    const [a, b] = current(lab.workers);
    expect(a.of('ping')).toHaveLength(0);
    a.answersPings = true;
    b.answersPings = true;
    const { runId } = lab.store.getState();
    ready(a, runId, 0);
    ready(b, runId, 1);
    await wait(60);
    expect(lab.store.getState().status).toBe('paused');
    expect(a.of('ping').length).toBeGreaterThanOrEqual(59);
    a.reply(result({ type: 'finished', runId, arm: 0, step: 100 }));
    b.reply(result({ type: 'finished', runId, arm: 1, step: 100 }));
    await wait(60);
    expect(lab.store.getState().status).toBe('finished');
  });

  it('a record announced as long extends the silence allowed by its length', async () => {
    const { store, runner, a, b } = await readyRun();
    b.answersPings = true;
    runner.play();
    a.reply(result({ type: 'heartbeat', busyMs: 4_500 }));
    // 3 ticks and 5 more for the record's 4.5 s.
    await wait(MISSED_HEARTBEATS + 5);
    expect(store.getState().status).toBe('running');
    await wait(1);
    expect(store.getState().error).toMatch(/^Arm A stopped answering/);
  });

  it('restart after a silent worker trains on fresh workers that are watched again', async () => {
    const { store, runner, workers } = await readyRun();
    runner.play();
    await wait(MISSED_HEARTBEATS + 1);
    expect(store.getState().status).toBe('error');
    runner.restart(true);
    const [a, b] = current(workers);
    expect(workers).toHaveLength(4);
    const { runId } = store.getState();
    ready(a, runId, 0);
    ready(b, runId, 1);
    expect(store.getState().status).toBe('running');
    b.answersPings = true;
    await wait(MISSED_HEARTBEATS + 1);
    expect(store.getState().error).toMatch(/^Arm A stopped answering/);
  });

  it('dispose stops the heartbeat', async () => {
    const { runner, a } = await readyRun();
    runner.dispose();
    const pings = a.of('ping').length;
    await wait(10);
    expect(a.of('ping')).toHaveLength(pings);
  });
});

describe('Runner: the digits, downloaded once per visit', () => {
  /** A download the test completes by hand, reporting progress on the way. */
  function manualDownload() {
    const calls: { progress: Parameters<DigitDownload>[0]; resolve: (d: Uint8Array) => void; reject: (e: Error) => void }[] = [];
    const download: DigitDownload = (progress) => new Promise((resolve, reject) => calls.push({ progress, resolve, reject }));
    return { calls, download };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('downloads on the first start with progress in the store; the workers start at once and get the same digits when they arrive', async () => {
    const { calls, download } = manualDownload();
    const { store, runner, workers } = setupDownloading(config, download);
    runner.start(false);
    expect(calls).toHaveLength(1);
    // Their backends load during the download.
    expect(workers.map((w) => w.sent.map((m) => m.type))).toEqual([['start'], ['start']]);
    calls[0].progress({ loadedBytes: 4_100_000, totalBytes: 11_200_000 });
    expect(store.getState().data).toEqual({ status: 'loading', loadedBytes: 4_100_000, totalBytes: 11_200_000, error: null });
    calls[0].resolve(digits);
    await settle();
    expect(store.getState().data.status).toBe('ready');
    expect(workers).toHaveLength(2);
    for (const worker of workers) {
      expect(worker.sent.map((m) => m.type)).toEqual(['start', 'data']);
      expect(worker.of('data')[0]).toMatchObject({ digits, fileName: 'mnist.bin' });
    }
  });

  it('Play pressed while the digits download starts training once they are in and both arms are ready', async () => {
    const { calls, download } = manualDownload();
    const { store, runner, workers } = setupDownloading(config, download);
    runner.start(false);
    runner.play();
    calls[0].resolve(digits);
    await settle();
    const [a, b] = current(workers);
    const { runId } = store.getState();
    ready(a, runId, 0);
    ready(b, runId, 1);
    expect(store.getState().status).toBe('running');
    expect(a.of('resume')).toHaveLength(1);
  });

  it('Reset, a new config and a restart on fresh workers download nothing again', async () => {
    const { calls, download } = manualDownload();
    const { store, runner, workers } = setupDownloading(config, download);
    runner.start(false);
    calls[0].resolve(digits);
    await settle();
    runner.reset();
    runner.setConfig({ ...config, seed: 9 });
    runner.restart(false);
    expect(calls).toHaveLength(1);
    const [freshA, freshB] = current(workers);
    expect(workers).toHaveLength(4);
    expect(freshA.sent.map((m) => m.type)).toEqual(['data', 'start']);
    expect(freshB.of('data')[0].digits).toBe(digits);
    expect(freshA.of('start')[0].runId).toBe(store.getState().runId);
  });

  it('a failed download stops the run with a message naming the file; restart downloads again', async () => {
    const { calls, download } = manualDownload();
    const { store, runner, workers } = setupDownloading(config, download);
    runner.start(true);
    calls[0].reject(new Error('http://lab.test/data/mnist.bin: could not fetch the MNIST digits: HTTP 404 Not Found'));
    await settle();
    expect(store.getState()).toMatchObject({
      status: 'error',
      error: 'Could not load the MNIST digits: http://lab.test/data/mnist.bin: could not fetch the MNIST digits: HTTP 404 Not Found',
    });
    expect(store.getState().data.status).toBe('error');
    expect(workers.map((w) => w.terminated)).toEqual([true, true]);
    runner.restart(false);
    expect(calls).toHaveLength(2);
    expect(store.getState().data).toMatchObject({ status: 'loading', error: null });
    calls[1].resolve(digits);
    await settle();
    expect(current(workers).map((w) => w.sent.map((m) => m.type))).toEqual([
      ['start', 'data'],
      ['start', 'data'],
    ]);
  });
});
