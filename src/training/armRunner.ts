/**
 * The life of one arm inside a worker: take the digits once, train in time slices, report in batches.
 * Kept apart from the worker's message plumbing so Node tests can drive it directly.
 */
import type { Config } from '../config/schema';
import { useBackend } from './backend';
import { result, type Command, type Result } from './protocol';
import { packRecords, type ArmRecord } from './records';
import { ArmTrainer, type ArmIndex, type ExperimentData } from './trainer';

/** Train this long before looking at the inbox again: short enough for pause to feel instant. */
const SLICE_MS = 12;
/**
 * Send buffered records at most this often. Every message costs the page a status-bar render and
 * a frame, main-thread time taken from the workers on two cores; ten a second per arm still look
 * continuous, and the charts repaint at most four times a second anyway (paintScheduler.ts).
 */
const FLUSH_MS = 100;
/**
 * A record that scores all 10,000 test digits forwards five times the digits of one that scores
 * the live 2,000; until one has been timed, its length is guessed from the live records.
 */
const FULL_RECORD_FACTOR = 5;
/**
 * The page is told a record or a step may take up to this many times its predecessor: on a
 * shared machine the same work takes several times as long from one minute to the next.
 */
const BUSY_MARGIN = 4;
/** Steps that take longer than this are announced like records (large networks on the cpu backend). */
const SLOW_STEP_MS = 250;
/**
 * A step that takes Santurkar et al.'s measures computes a gradient per hidden layer and per
 * landscape step size besides its own, about ten steps' work at 3 layers; until one has been
 * timed, it is guessed at this many ordinary steps.
 */
const MEASURED_STEP_FACTOR = 12;

export interface RunnerHost {
  post(message: Result, transfer?: Transferable[]): void;
  /** Runs `task` soon, after pending messages have been handled. */
  schedule(task: () => void): void;
  now(): number;
  /** The trainer's data from the digit file's bytes (data.ts's format, uncompressed). */
  prepareData(digits: Uint8Array, fileName: string): ExperimentData;
  /** Points tfjs at its wasm binaries before the wasm backend starts (a no-op in Node). */
  prepareBackend(wasmDir: string): void;
  /** Takes the Web Lock `lock` and never lets it go; resolves once it is held. */
  holdForLife(lock: string): Promise<void>;
}

export class ArmRunner {
  private trainer: ArmTrainer | null = null;
  private runId = -1;
  private arm: ArmIndex = 0;
  private config: Config | null = null;
  private running = false;
  private stepsLeft = Infinity;
  private horizon = Infinity;
  private scheduled = false;
  private pending: ArmRecord[] = [];
  private lastFlush = 0;
  /** The digits as the last `data` command gave them; a failure to read them is kept for the next start to report. */
  private data: { ok: true; value: ExperimentData } | { ok: false; error: unknown } | null = null;
  /** Starts waiting for the first digits (the page sends `start` first so the backend loads meanwhile). */
  private dataWaiters: (() => void)[] = [];
  private backend: string | null = null;
  private requestedBackend: string | null = null;
  /** How long the last record took, of those that score the live test digits and of those that score all. */
  private recordMs: { live: number | null; full: number | null } = { live: null, full: null };
  private stepMs = 0;
  private measuredStepMs: number | null = null;

  constructor(private readonly host: RunnerHost) {}

  async handle(message: Command): Promise<void> {
    if (message.type === 'hold') {
      await this.host.holdForLife(message.lock);
      this.host.post(result({ type: 'holding', lock: message.lock }));
      return;
    }
    if (message.type === 'ping') {
      this.host.post(result({ type: 'heartbeat', busyMs: 0 }));
      return;
    }
    if (message.type === 'data') {
      try {
        this.data = { ok: true, value: this.host.prepareData(message.digits, message.fileName) };
      } catch (error) {
        this.data = { ok: false, error };
      }
      for (const wake of this.dataWaiters.splice(0)) wake();
      return;
    }
    if (message.type === 'start') {
      await this.start(message);
      return;
    }
    if (message.runId !== this.runId) return;
    switch (message.type) {
      case 'pause':
        this.running = false;
        this.flush(true);
        break;
      case 'resume':
        this.running = true;
        this.stepsLeft = Infinity;
        break;
      case 'step':
        // Presses that come faster than steps run add up rather than replace each other.
        this.stepsLeft = (this.running && Number.isFinite(this.stepsLeft) ? this.stepsLeft : 0) + message.count;
        this.running = true;
        break;
      case 'horizon':
        this.horizon = message.step;
        break;
      case 'stop':
        this.running = false;
        this.trainer?.dispose();
        this.trainer = null;
        break;
    }
    this.wake();
  }

  private async start(message: Extract<Command, { type: 'start' }>): Promise<void> {
    this.trainer?.dispose();
    this.trainer = null;
    this.runId = message.runId;
    this.arm = message.arm;
    this.config = message.config;
    this.running = message.running;
    this.stepsLeft = Infinity;
    this.horizon = Infinity;
    this.pending = [];
    const runId = message.runId;
    try {
      const began = this.host.now();
      let fallbackReason: string | null = null;
      if (this.requestedBackend !== message.config.backend) {
        this.host.prepareBackend(message.wasmDir);
        const choice = await useBackend(message.config.backend, message.wasmDir);
        this.requestedBackend = message.config.backend;
        this.backend = choice.backend;
        fallbackReason = choice.fallbackReason;
      }
      while (this.data === null) await new Promise<void>((resolve) => this.dataWaiters.push(resolve));
      if (!this.data.ok) throw this.data.error;
      const data = this.data.value;
      // A newer start may have arrived while this one waited for the backend or the digits.
      if (runId !== this.runId) return;
      this.trainer = new ArmTrainer(message.config, message.arm, data);
      this.pending.push(this.record(this.trainer));
      // The status bar shows it: a backend that fell back, or a step that trains on another path than asked.
      const notice = [fallbackReason, this.trainer.kernelNotice].filter(Boolean).join(' ') || null;
      this.host.post(
        result({ type: 'ready', runId, arm: this.arm, backend: this.backend ?? 'unknown', fallbackReason: notice, startMs: this.host.now() - began }),
      );
      this.flush(true);
      this.wake();
    } catch (error) {
      this.fail(runId, error);
    }
  }

  private fail(runId: number, error: unknown): void {
    // A start superseded while it loaded must not stop the run that replaced it.
    if (runId !== this.runId) return;
    this.running = false;
    const message = error instanceof Error ? error.message : String(error);
    this.host.post(result({ type: 'error', runId, arm: this.arm, message }));
  }

  private get canTrain(): boolean {
    const trainer = this.trainer;
    return trainer !== null && this.running && !trainer.done && this.stepsLeft > 0 && trainer.step < this.horizon;
  }

  private wake(): void {
    if (this.scheduled || !this.canTrain) return;
    this.scheduled = true;
    this.host.schedule(() => {
      this.scheduled = false;
      this.slice();
    });
  }

  private slice(): void {
    const trainer = this.trainer;
    if (trainer === null) return;
    const runId = this.runId;
    try {
      const until = this.host.now() + SLICE_MS;
      while (this.canTrain && this.host.now() < until) {
        const measuring = trainer.measuresNextStep;
        const expected = measuring ? (this.measuredStepMs ?? MEASURED_STEP_FACTOR * this.stepMs) : this.stepMs;
        if (expected > SLOW_STEP_MS) this.host.post(result({ type: 'heartbeat', busyMs: BUSY_MARGIN * expected }));
        const began = this.host.now();
        trainer.trainStep();
        if (measuring) this.measuredStepMs = this.host.now() - began;
        else this.stepMs = this.host.now() - began;
        this.stepsLeft--;
        if (trainer.diverged !== null) {
          this.running = false;
          this.flush(true);
          this.host.post(result({ type: 'diverged', runId, arm: this.arm, step: trainer.diverged }));
          return;
        }
        // The last step of a Step press is recorded whatever the metrics interval, so the
        // charts show the step the learner just took.
        if (trainer.recordDue || this.stepsLeft === 0) this.pending.push(this.record(trainer));
      }
      if (this.stepsLeft <= 0) this.running = false;
      const finished = trainer.done;
      this.flush(!this.canTrain);
      if (finished) this.host.post(result({ type: 'finished', runId, arm: this.arm, step: trainer.step }));
      this.wake();
    } catch (error) {
      this.fail(runId, error);
    }
  }

  /**
   * Measures the arm, first telling the page how long that may keep the worker from answering its
   * pings: a record is one synchronous block, far longer than a step.
   */
  private record(trainer: ArmTrainer): ArmRecord {
    const full = trainer.fullTestDue;
    const { live } = this.recordMs;
    const expected = (full ? this.recordMs.full : live) ?? (full && live !== null ? FULL_RECORD_FACTOR * live : 0);
    this.host.post(result({ type: 'heartbeat', busyMs: BUSY_MARGIN * expected }));
    const began = this.host.now();
    const record = trainer.record();
    this.recordMs[full ? 'full' : 'live'] = this.host.now() - began;
    return record;
  }

  /** Sends buffered records (or, with none, where the arm is) if enough time has passed or `force`. */
  private flush(force: boolean): void {
    const trainer = this.trainer;
    if (trainer === null || this.config === null) return;
    const now = this.host.now();
    if (!force && now - this.lastFlush < FLUSH_MS) return;
    this.lastFlush = now;
    const { runId, arm } = this;
    if (this.pending.length > 0) {
      const packed = packRecords(this.pending, this.config.hiddenLayers);
      this.pending = [];
      this.host.post(result({ type: 'records', runId, arm, layers: this.config.hiddenLayers, packed, step: trainer.step }), [packed.buffer]);
    }
    this.host.post(result({ type: 'progress', runId, arm, step: trainer.step, running: this.running }));
  }
}
