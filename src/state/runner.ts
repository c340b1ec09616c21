/**
 * Drives the two training workers (one per arm, so both cores train) from the store: starts runs,
 * relays play/pause/step, keeps the arms in step, and folds their results into the store.
 * Results of an older run are dropped by run id.
 */
import { FIELDS, formatValue, type Config } from '../config/schema';
import { MNIST_PATH, parseMnist } from '../training/data';
import { command, type Assets, type Command, type Result } from '../training/protocol';
import { unpackRecords } from '../training/records';
import type { ArmIndex } from '../training/trainer';
import { downloadDigits, offlineCopy, type DownloadProgress } from './dataLoader';
import { freshArm, freshSeries, pairStep, type ArmStatus, type DataState, type LabStore } from './store';

/** The part of a Worker the runner uses, so tests can hand it something else. */
export interface TrainingWorker {
  postMessage(message: Command): void;
  onmessage: ((event: MessageEvent<Result>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** Fetches the digit file's bytes, reporting progress (dataLoader.ts's downloadDigits, or a test's stand-in). */
export type DigitDownload = (onProgress: (progress: DownloadProgress) => void) => Promise<Uint8Array>;

/**
 * How far one arm may run ahead of the other. The arms train at different speeds (BN costs more);
 * without a bound the faster arm's curves would run far ahead and the comparison at "step N" would
 * be a comparison of two different moments of the run.
 */
export function leadSteps(config: Config): number {
  return Math.max(100, 2 * config.metricsInterval);
}

/** How often the page asks each worker whether it is alive. */
export const HEARTBEAT_MS = 1000;
/**
 * Pings a worker may leave unanswered in a row before it is reported. A worker answers between
 * slices of a few milliseconds, so this much silence means it was terminated, crashed or hangs.
 * Counted in ticks rather than time: a main thread that was itself blocked has not been waiting.
 */
export const MISSED_HEARTBEATS = 3;

/** The part of the Web Locks API the runner uses (navigator.locks), so tests can hand it something else. */
export interface Locks {
  request(name: string, granted: () => void): Promise<unknown>;
}

export class Runner {
  private workers: [TrainingWorker, TrainingWorker] | null = null;
  private horizons: [number, number] = [Infinity, Infinity];
  /** Whether to train as soon as both arms are ready (play pressed before the data arrived). */
  private pendingRunning = false;
  /** Step presses made before both arms were ready, taken as soon as they are. */
  private pendingSteps = 0;
  /** The visit's one download; forgotten only when it fails, so the next start tries again. */
  private digits: Promise<Uint8Array> | null = null;
  /** The digits once they have arrived, so a start after the first needs no wait. */
  private digitsLoaded: Uint8Array | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Per arm: heartbeat ticks since its worker last sent anything, and how many it may stay silent. */
  private silentTicks: [number, number] = [0, 0];
  private allowedTicks: [number, number] = [MISSED_HEARTBEATS, MISSED_HEARTBEATS];

  constructor(
    private readonly store: LabStore,
    private readonly createWorker: () => TrainingWorker,
    private readonly assets: Assets,
    private readonly download: DigitDownload = (onProgress) =>
      downloadDigits(assets.dataUrl, onProgress, globalThis.crossOriginIsolated === true, offlineCopy()),
    /** Where the platform has them (a secure context), a worker's end is seen at once; elsewhere by the heartbeat alone. */
    private readonly locks: Locks | null = globalThis.navigator?.locks ?? null,
  ) {}

  /** How many train and test digits the arms train on, once the file has arrived (the run's JSON names them). */
  digitCounts(): { train: number; test: number } | null {
    if (this.digitsLoaded === null) return null;
    const { train, test } = parseMnist(this.digitsLoaded, MNIST_PATH);
    return { train: train.count, test: test.count };
  }

  /** The digits, downloaded on the first call (the page opening) and kept for every later run. */
  loadDigits(): Promise<Uint8Array> {
    if (this.digits === null) {
      const setData = (patch: Partial<DataState>) => this.store.setState({ data: { ...this.store.getState().data, ...patch } });
      setData({ status: 'loading', loadedBytes: 0, totalBytes: null, error: null });
      const loading = this.download((progress) => setData(progress));
      this.digits = loading;
      loading.then(
        (digits) => {
          this.digitsLoaded = digits;
          setData({ status: 'ready' });
        },
        (error: unknown) => {
          if (this.digits === loading) this.digits = null;
          setData({ status: 'error', error: error instanceof Error ? error.message : String(error) });
        },
      );
    }
    return this.digits;
  }

  /**
   * Workers exist from the first start, before the digits arrive, so their backends load during the
   * download; each gets the digits once, as soon as the page has them. Structured clone shares a
   * SharedArrayBuffer and copies anything else.
   */
  private ensureWorkers(): [TrainingWorker, TrainingWorker] {
    if (this.workers === null) {
      const workers: [TrainingWorker, TrainingWorker] = [this.createWorker(), this.createWorker()];
      workers.forEach((worker, arm) => {
        worker.onmessage = (event) => {
          const message = event.data;
          this.silentTicks[arm] = 0;
          this.allowedTicks[arm] = MISSED_HEARTBEATS + (message.type === 'heartbeat' ? Math.ceil(message.busyMs / HEARTBEAT_MS) : 0);
          if (message.type === 'holding') this.watchEnd(workers, arm as ArmIndex, message.lock);
          else if (message.type !== 'heartbeat') this.receive(message);
        };
        if (this.locks) worker.postMessage(command({ type: 'hold', lock: `covariate-shift-lab-worker-${Date.now()}-${Math.random()}` }));
        worker.onerror = (event) => {
          event.preventDefault?.();
          this.fail(`The training worker failed${event.message ? `: ${event.message}` : ' to load'}.`);
        };
      });
      this.workers = workers;
      this.silentTicks = [0, 0];
      this.heartbeat ??= setInterval(() => this.checkHeartbeats(), HEARTBEAT_MS);
      if (this.digitsLoaded !== null) this.sendDigits(workers, this.digitsLoaded);
      else
        this.loadDigits().then(
          (digits) => this.workers === workers && this.sendDigits(workers, digits),
          () => undefined,
        );
    }
    return this.workers;
  }

  private sendDigits(workers: TrainingWorker[], digits: Uint8Array): void {
    const fileName = this.assets.dataUrl.split('/').pop() || MNIST_PATH;
    for (const worker of workers) worker.postMessage(command({ type: 'data', digits, fileName }));
  }

  private send(message: Command): void {
    this.workers?.forEach((worker) => worker.postMessage(message));
  }

  /** Starts a new run of the store's config from step 0; both arms from the same seed. */
  start(running: boolean): void {
    const { config, runId: previous } = this.store.getState();
    const runId = previous + 1;
    this.horizons = [Infinity, Infinity];
    this.store.setState({
      runId,
      status: 'loading',
      arms: [freshArm(), freshArm()],
      series: freshSeries(config),
      error: null,
      runningSince: null,
      stepsAtRunningSince: 0,
      elapsedBeforeMs: 0,
    });
    this.pendingRunning = running;
    this.pendingSteps = 0;
    this.loadDigits().catch((error: unknown) => {
      if (this.store.getState().runId === runId) this.fail(`Could not load the MNIST digits: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.ensureWorkers().forEach((worker, arm) =>
      worker.postMessage(command({ type: 'start', runId, config, arm: arm as ArmIndex, running: false, wasmDir: this.assets.wasmDir })),
    );
  }

  /** Applies a config; a run restarts only when a field that changes what it computes changed. */
  setConfig(config: Config): void {
    const { config: previous, status } = this.store.getState();
    const wasRunning = status === 'running' || this.pendingRunning;
    this.store.setState({ config });
    if (FIELDS.some((field) => field.restartsRun && formatValue(field, config[field.name]) !== formatValue(field, previous[field.name]))) {
      this.start(wasRunning);
    }
  }

  play(): void {
    const state = this.store.getState();
    if (state.status === 'finished' || state.status === 'error') {
      this.restart(true);
      return;
    }
    if (state.status === 'loading') {
      this.pendingRunning = true;
      return;
    }
    if (state.status === 'running') return;
    this.send(command({ type: 'resume', runId: state.runId }));
    this.store.setState({ status: 'running', runningSince: performance.now(), stepsAtRunningSince: pairStep(state) });
    this.updateHorizons();
  }

  pause(): void {
    const state = this.store.getState();
    this.pendingRunning = false;
    if (state.status !== 'running') return;
    this.send(command({ type: 'pause', runId: state.runId }));
    this.store.setState({ status: 'paused', ...this.stopClock() });
  }

  /** Trains exactly one more step of each arm still training, then stays paused. */
  stepOnce(): void {
    const state = this.store.getState();
    if (state.status === 'loading' && !this.pendingRunning) this.pendingSteps++;
    if (state.status === 'paused') this.step(1);
  }

  private step(count: number): void {
    const { runId } = this.store.getState();
    this.horizons = [Infinity, Infinity];
    this.send(command({ type: 'horizon', runId, step: Infinity }));
    this.send(command({ type: 'step', runId, count }));
  }

  reset(): void {
    this.pendingRunning = false;
    this.start(false);
  }

  /** After a worker failed: fresh workers, same config, from step 0. */
  restart(running: boolean): void {
    this.dispose();
    this.start(running);
  }

  dispose(): void {
    this.workers?.forEach((worker) => worker.terminate());
    this.workers = null;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** Waits for the lock a worker holds for life: granted once that worker has ended. */
  private watchEnd(workers: [TrainingWorker, TrainingWorker], arm: ArmIndex, lock: string): void {
    void this.locks?.request(lock, () => {
      // Workers the page terminated itself (a restart, a failure) end as expected.
      if (this.workers === workers)
        this.fail(`Arm ${arm === 0 ? 'A' : 'B'} stopped: its training worker ended without a word (terminated, or its process crashed).`);
    });
  }

  /**
   * A worker that hangs, or (where there are no Web Locks) that is terminated or whose process
   * dies, sends no error event: without this the other arm would wait at its horizon and the status
   * would say "Training" for ever. Not while the arms load (a backend and the digits may take long
   * to arrive), and not at all after a failure.
   */
  private checkHeartbeats(): void {
    const workers = this.workers;
    const { status } = this.store.getState();
    if (workers === null || status === 'loading' || status === 'error') {
      this.silentTicks = [0, 0];
      return;
    }
    for (const arm of [0, 1] as const) {
      if (this.silentTicks[arm] >= this.allowedTicks[arm]) {
        const seconds = (this.silentTicks[arm] * HEARTBEAT_MS) / 1000;
        this.fail(
          `Arm ${arm === 0 ? 'A' : 'B'} stopped answering: its training worker has sent nothing for ${seconds} s (it was terminated, crashed or hangs).`,
        );
        return;
      }
      this.silentTicks[arm]++;
      workers[arm].postMessage(command({ type: 'ping' }));
    }
  }

  private stopClock(): { runningSince: null; elapsedBeforeMs: number } {
    const { runningSince, elapsedBeforeMs } = this.store.getState();
    return { runningSince: null, elapsedBeforeMs: elapsedBeforeMs + (runningSince === null ? 0 : performance.now() - runningSince) };
  }

  /**
   * Both workers go: the other arm alone is no comparison, and a worker that failed to load cannot
   * take a start, so the next start (Reset, a config change, Play) begins on fresh ones.
   */
  private fail(message: string): void {
    this.dispose();
    this.pendingRunning = false;
    this.store.setState({ status: 'error', error: message, ...this.stopClock() });
  }

  private updateArm(arm: number, patch: Partial<ArmStatus>): void {
    const arms = [...this.store.getState().arms] as [ArmStatus, ArmStatus];
    arms[arm] = { ...arms[arm], ...patch };
    this.store.setState({ arms });
  }

  /** Lets each arm run at most `leadSteps` past the other; a stopped arm holds nobody back. */
  private updateHorizons(): void {
    const { arms, runId, config } = this.store.getState();
    const lead = leadSteps(config);
    arms.forEach((_, arm) => {
      const other = arms[1 - arm];
      const horizon = other.diverged !== null || other.finished ? Infinity : other.step + lead;
      if (horizon !== this.horizons[arm]) {
        this.horizons[arm] = horizon;
        this.workers?.[arm].postMessage(command({ type: 'horizon', runId, step: horizon }));
      }
    });
  }

  private receive(message: Exclude<Result, { type: 'heartbeat' | 'holding' }>): void {
    const state = this.store.getState();
    if (message.runId !== state.runId) return;
    const arm = message.arm;
    switch (message.type) {
      case 'ready':
        this.updateArm(arm, { backend: message.backend, fallbackReason: message.fallbackReason, startMs: message.startMs });
        if (this.store.getState().arms.every((a) => a.backend !== null)) {
          this.store.setState({ status: 'paused' });
          const steps = this.pendingSteps;
          this.pendingSteps = 0;
          if (this.pendingRunning) {
            this.pendingRunning = false;
            this.play();
          } else if (steps > 0) this.step(steps);
        }
        break;
      case 'records':
        state.series[arm].pushMany(unpackRecords(message.packed, message.layers));
        this.updateArm(arm, { step: message.step });
        break;
      case 'progress':
        this.updateArm(arm, { step: message.step });
        this.updateHorizons();
        break;
      case 'diverged':
        state.series[arm].markDiverged(message.step);
        this.updateArm(arm, { diverged: message.step, step: message.step });
        this.updateHorizons();
        this.checkFinished();
        break;
      case 'finished':
        this.updateArm(arm, { finished: true, step: message.step });
        this.updateHorizons();
        this.checkFinished();
        break;
      case 'error':
        this.fail(`Arm ${arm === 0 ? 'A' : 'B'} stopped: ${message.message}`);
        break;
    }
  }

  private checkFinished(): void {
    const { arms } = this.store.getState();
    if (arms.every((arm) => arm.finished || arm.diverged !== null)) {
      this.store.setState({ status: 'finished', ...this.stopClock() });
    }
  }
}
