import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../config/schema';
import { ArmRunner, type RunnerHost } from './armRunner';
import { readPackageMnist } from '../../scripts/build-mnist';
import { encodeMnist, MNIST_PATH } from './data';
import { command, PROTOCOL_VERSION, type Command, type Result } from './protocol';
import { packedRecordLength, unpackRecords } from './records';
import { ArmTrainer, experimentData, type ArmIndex, type ExperimentData } from './trainer';

let data: ExperimentData;
/** The digit file's bytes as the page sends them to a worker. */
let digits: Uint8Array;

beforeAll(() => {
  // Once per file: reading and indexing the 70,000 digits takes about a second.
  const mnist = readPackageMnist();
  digits = encodeMnist(mnist);
  data = experimentData(mnist);
});

/** Small enough that a whole run takes well under a second. */
const small: Config = {
  ...DEFAULT_CONFIG,
  hiddenLayers: 2,
  hiddenUnits: 16,
  normalizationA: ['none', 'none'],
  normalizationB: ['batchnorm', 'batchnorm'],
  probeSize: 100,
  metricsInterval: 5,
  steps: 60,
};

const wasmDir = 'memory://wasm/';

/**
 * A worker's surroundings without a worker. Its clock moves one millisecond each time it is read,
 * so time slices and record batches depend on the runner's own logic, not on this machine's speed.
 */
type RunMessage = Exclude<Result, { type: 'heartbeat' | 'holding' }>;

class FakeHost implements RunnerHost {
  /** What the run reported, heartbeats and locks apart (they come whatever the run does). */
  readonly messages: RunMessage[] = [];
  readonly transfers: Transferable[][] = [];
  readonly heartbeats: Extract<Result, { type: 'heartbeat' }>[] = [];
  readonly holding: Extract<Result, { type: 'holding' }>[] = [];
  /** What each `data` command handed over; the worker parses them (worker.ts), this host has them parsed already. */
  readonly prepared: { digits: Uint8Array; fileName: string }[] = [];
  prepareData: RunnerHost['prepareData'] = (bytes, fileName) => {
    this.prepared.push({ digits: bytes, fileName });
    return data;
  };
  private clock = 0;
  private queued = 0;

  post(message: Result, transfer: Transferable[] = []): void {
    if (message.type === 'heartbeat' || message.type === 'holding') {
      if (message.type === 'heartbeat') this.heartbeats.push(message);
      else this.holding.push(message);
      return;
    }
    this.messages.push(message);
    this.transfers.push(transfer);
  }

  schedule(task: () => void): void {
    this.queued++;
    setImmediate(() => {
      this.queued--;
      task();
    });
  }

  now(): number {
    return this.clock++;
  }

  /** Moves the clock on, as work that takes time does. */
  advance(ms: number): void {
    this.clock += ms;
  }

  prepareBackend(): void {}

  readonly locksHeld: string[] = [];
  async holdForLife(lock: string): Promise<void> {
    this.locksHeld.push(lock);
  }

  /** Resolves once the runner has nothing scheduled: it trained as far as it was allowed to. */
  async settled(): Promise<void> {
    do await new Promise((resolve) => setImmediate(resolve));
    while (this.queued > 0);
  }

  /** Runs scheduled slices until `done` holds of the messages so far (or nothing is left to run). */
  async until(done: (messages: RunMessage[]) => boolean): Promise<void> {
    while (!done(this.messages)) {
      if (this.queued === 0) throw new Error('the runner stopped before the awaited message');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  of<T extends RunMessage['type']>(type: T): Extract<RunMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<RunMessage, { type: T }> => m.type === type);
  }

  /** Every record the runner sent, in order. */
  recordedSteps(layers = small.hiddenLayers): number[] {
    return this.of('records').flatMap((m) => unpackRecords(m.packed, layers).map((r) => r.step));
  }

  /** Where the arm said it was last. */
  get step(): number {
    const progress = this.of('progress');
    return progress[progress.length - 1]?.step ?? -1;
  }
}

function start(runId: number, config: Config = small, arm: ArmIndex = 0, running = false): Command {
  return command({ type: 'start', runId, config, arm, running, wasmDir });
}

async function started(config: Config = small, arm: ArmIndex = 0): Promise<{ host: FakeHost; runner: ArmRunner }> {
  const host = new FakeHost();
  const runner = new ArmRunner(host);
  await runner.handle(command({ type: 'data', digits, fileName: MNIST_PATH }));
  await runner.handle(start(1, config, arm));
  await host.settled();
  return { host, runner };
}

function stepsOf(from: number, to: number, every: number): number[] {
  return Array.from({ length: Math.floor((to - from) / every) + 1 }, (_, i) => from + i * every);
}

describe('ArmRunner', () => {
  it('on start reports ready with its backend, then the step-0 record, and trains nothing until told', async () => {
    const { host } = await started();
    expect(host.messages[0]).toMatchObject({ type: 'ready', version: PROTOCOL_VERSION, runId: 1, arm: 0, backend: 'wasm', fallbackReason: null });
    expect(host.recordedSteps()).toEqual([0]);
    const [record] = unpackRecords(host.of('records')[0].packed, small.hiddenLayers);
    expect(record.layers).toHaveLength(small.hiddenLayers);
    expect(record.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(record.loss)).toBe(true);
    expect(host.step).toBe(0);
    expect(host.of('progress').every((m) => !m.running)).toBe(true);
  });

  it('sends records as transferred Float64Arrays, one packed record per stride', async () => {
    const { host } = await started();
    const [message] = host.of('records');
    const at = host.messages.indexOf(message);
    expect(message.packed).toBeInstanceOf(Float64Array);
    expect(message.packed.length % packedRecordLength(small.hiddenLayers)).toBe(0);
    expect(host.transfers[at]).toEqual([message.packed.buffer]);
  });

  it('"step" with count 1 trains exactly one step and stays paused', async () => {
    const { host, runner } = await started();
    await runner.handle(command({ type: 'step', runId: 1, count: 1 }));
    await host.settled();
    expect(host.step).toBe(1);
    expect(host.of('progress').at(-1)!.running).toBe(false);
    await runner.handle(command({ type: 'step', runId: 1, count: 1 }));
    await host.settled();
    expect(host.step).toBe(2);
  });

  it('"step" records the step it ends on, off the metrics interval, and "resume" keeps to the interval', async () => {
    const { host, runner } = await started();
    await runner.handle(command({ type: 'step', runId: 1, count: 1 }));
    await host.settled();
    expect(host.recordedSteps()).toEqual([0, 1]);
    await runner.handle(command({ type: 'step', runId: 1, count: 2 }));
    await host.settled();
    expect(host.recordedSteps()).toEqual([0, 1, 3]);
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.settled();
    expect(host.recordedSteps()).toEqual([0, 1, 3, ...stepsOf(small.metricsInterval, small.steps, small.metricsInterval)]);
  });

  it('"step" presses that arrive before the previous step ran add up', async () => {
    const { host, runner } = await started();
    await runner.handle(command({ type: 'step', runId: 1, count: 1 }));
    await runner.handle(command({ type: 'step', runId: 1, count: 1 }));
    await runner.handle(command({ type: 'step', runId: 1, count: 1 }));
    await host.settled();
    expect(host.step).toBe(3);
  });

  it('"resume" trains to the end of the run, recording every metricsInterval steps in batches of records', async () => {
    const { host, runner } = await started();
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.settled();
    expect(host.step).toBe(small.steps);
    expect(host.recordedSteps()).toEqual(stepsOf(0, small.steps, small.metricsInterval));
    // Fewer messages than records: the page gets batches, not a message per record.
    const batches = host.of('records');
    expect(batches.length).toBeLessThan(host.recordedSteps().length);
    expect(batches.some((m) => unpackRecords(m.packed, small.hiddenLayers).length > 1)).toBe(true);
    expect(host.of('finished')).toEqual([expect.objectContaining({ runId: 1, arm: 0, step: small.steps })]);
  });

  it('"pause" stops training; "resume" goes on from the same step', async () => {
    // Long enough that progress reports (every 100 ms of the fake clock) arrive before the end.
    const long = { ...small, steps: 400 };
    const { host, runner } = await started(long);
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.until(() => host.step >= 10);
    await runner.handle(command({ type: 'pause', runId: 1 }));
    await host.settled();
    const pausedAt = host.step;
    expect(pausedAt).toBeLessThan(long.steps);
    expect(host.of('progress').at(-1)!.running).toBe(false);
    const sent = host.messages.length;
    await host.settled();
    expect(host.messages.length).toBe(sent);

    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.settled();
    expect(host.recordedSteps()).toEqual(stepsOf(0, long.steps, long.metricsInterval));
  });

  it('"horizon" holds the arm at that step until the horizon moves', async () => {
    const { host, runner } = await started();
    await runner.handle(command({ type: 'horizon', runId: 1, step: 22 }));
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.settled();
    expect(host.step).toBe(22);
    expect(host.recordedSteps()).toEqual(stepsOf(0, 20, small.metricsInterval));
    await runner.handle(command({ type: 'horizon', runId: 1, step: 40 }));
    await host.settled();
    expect(host.step).toBe(40);
  });

  it('ignores commands that carry an older run id', async () => {
    const { host, runner } = await started();
    await runner.handle(command({ type: 'resume', runId: 0 }));
    await runner.handle(command({ type: 'step', runId: 0, count: 3 }));
    await host.settled();
    expect(host.step).toBe(0);
    expect(host.recordedSteps()).toEqual([0]);
  });

  it('a new start discards the old run: its trainer, its settings and its unsent records', async () => {
    const { host, runner } = await started();
    await runner.handle(command({ type: 'horizon', runId: 1, step: 12 }));
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.until(() => host.step >= 3);
    const config: Config = {
      ...small,
      hiddenLayers: 3,
      normalizationA: ['none', 'none', 'batchnorm'],
      normalizationB: ['batchnorm', 'batchnorm', 'batchnorm'],
    };
    await runner.handle(start(2, config, 1));
    await host.settled();
    const second = host.messages.slice(host.messages.findIndex((m) => m.runId === 2));
    expect(second.every((m) => m.runId === 2 && m.arm === 1)).toBe(true);
    expect(second.filter((m) => m.type === 'records').flatMap((m) => unpackRecords(m.packed, 3).map((r) => r.step))).toEqual([0]);
    // The old run's horizon and running state do not carry over: the new run waits at step 0.
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.settled();
    expect(host.step).toBe(0);
    await runner.handle(command({ type: 'resume', runId: 2 }));
    await host.settled();
    expect(host.step).toBe(small.steps);
  });

  it('an arm whose loss turns NaN reports "diverged" at its step and stops without an error', async () => {
    const exploding: Config = {
      ...small,
      hiddenLayers: 3,
      hiddenUnits: 100,
      normalizationA: ['none', 'none', 'none'],
      normalizationB: ['batchnorm', 'batchnorm', 'batchnorm'],
      activation: 'relu',
      learningRate: 100,
      initSigma: 1,
    };
    const { host, runner } = await started(exploding, 0);
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.settled();
    const [diverged] = host.of('diverged');
    expect(diverged).toMatchObject({ runId: 1, arm: 0 });
    expect(diverged.step).toBeGreaterThan(0);
    expect(diverged.step).toBeLessThan(small.steps);
    expect(host.step).toBe(diverged.step);
    expect(host.of('error')).toEqual([]);
    expect(host.of('finished')).toEqual([]);
    // A record is only ever taken of a finite network.
    expect(host.recordedSteps(3).every((step) => step < diverged.step)).toBe(true);

    // The runner still answers: a new run starts and trains.
    await runner.handle(start(2));
    await runner.handle(command({ type: 'step', runId: 2, count: 1 }));
    await host.settled();
    expect(host.step).toBe(1);
  });

  it('digits that cannot be read make the next start report "error" with their message, and new digits start a run', async () => {
    const host = new FakeHost();
    host.prepareData = () => {
      throw new Error('data/mnist.bin: truncated: expected 20-byte header, got 3 bytes');
    };
    const runner = new ArmRunner(host);
    await runner.handle(command({ type: 'data', digits: digits.subarray(0, 3), fileName: MNIST_PATH }));
    await runner.handle(start(1, small, 1));
    expect(host.messages).toEqual([
      expect.objectContaining({ type: 'error', runId: 1, arm: 1, message: 'data/mnist.bin: truncated: expected 20-byte header, got 3 bytes' }),
    ]);

    host.prepareData = () => data;
    await runner.handle(command({ type: 'data', digits, fileName: MNIST_PATH }));
    await runner.handle(start(2, small, 1));
    await host.settled();
    expect(host.messages.map((m) => m.type)).toEqual(['error', 'ready', 'records', 'progress']);
  });

  it('a start before the digits arrive waits for them, then reports ready', async () => {
    const host = new FakeHost();
    const runner = new ArmRunner(host);
    const starting = runner.handle(start(1));
    await host.settled();
    expect(host.messages).toEqual([]);
    await runner.handle(command({ type: 'data', digits, fileName: MNIST_PATH }));
    await starting;
    expect(host.messages.map((m) => m.type)).toEqual(['ready', 'records', 'progress']);
  });

  it('answers a ping with a heartbeat at once, before its first start and while paused mid-run', async () => {
    const host = new FakeHost();
    const runner = new ArmRunner(host);
    await runner.handle(command({ type: 'ping' }));
    expect(host.heartbeats).toEqual([{ type: 'heartbeat', version: PROTOCOL_VERSION, busyMs: 0 }]);
    await runner.handle(command({ type: 'data', digits, fileName: MNIST_PATH }));
    await runner.handle(start(1));
    await runner.handle(command({ type: 'step', runId: 1, count: 3 }));
    await host.settled();
    const before = host.heartbeats.length;
    await runner.handle(command({ type: 'ping' }));
    expect(host.heartbeats.length).toBe(before + 1);
    expect(host.heartbeats.at(-1)?.busyMs).toBe(0);
    expect(host.messages.map((m) => m.type)).not.toContain('error');
  });

  it('before each record it says how long the record may keep it silent: 4 times the last of its kind, the first full one guessed at 5 live ones', async () => {
    // The fake clock reads one millisecond later each time, so every record is timed at 1 ms.
    const { host, runner } = await started();
    await runner.handle(command({ type: 'resume', runId: 1 }));
    await host.until((messages) => messages.some((m) => m.type === 'finished'));
    // Steps 0, 5, ..., 60; all 10,000 test digits at step 50 (every 10 records) and at the last step.
    expect(host.heartbeats.map((h) => h.busyMs)).toEqual([0, ...new Array(9).fill(4), 20, 4, 4]);
  });

  it('"hold" takes the lock for life, then says it holds it', async () => {
    const host = new FakeHost();
    await new ArmRunner(host).handle(command({ type: 'hold', lock: 'lab-worker-1' }));
    expect(host.locksHeld).toEqual(['lab-worker-1']);
    expect(host.holding).toEqual([{ type: 'holding', version: PROTOCOL_VERSION, lock: 'lab-worker-1' }]);
  });

  it('on a machine where a step takes long, announces each step after the first as it does a record', async () => {
    const { host, runner } = await started();
    const trainStep = ArmTrainer.prototype.trainStep;
    const slow = vi.spyOn(ArmTrainer.prototype, 'trainStep').mockImplementation(function (this: ArmTrainer, learningRate?: number) {
      host.advance(300);
      return trainStep.call(this, learningRate);
    });
    try {
      const before = host.heartbeats.length;
      await runner.handle(command({ type: 'step', runId: 1, count: 3 }));
      await host.settled();
      // Each step timed at 301 ms (300 and the clock's own millisecond): steps 2 and 3 are announced (the
      // first is timed only once it ran), then the record of the step the press ends on (timed at 1 ms).
      expect(host.heartbeats.slice(before).map((h) => h.busyMs)).toEqual([4 * 301, 4 * 301, 4]);
    } finally {
      slow.mockRestore();
    }
  });

  it("announces a step that takes Santurkar et al.'s measures as it does a record: first guessed at 12 steps, then 4 times the last such step", async () => {
    const { host, runner } = await started({ ...small, santurkarInterval: 5 });
    const trainStep = ArmTrainer.prototype.trainStep;
    const timed = vi.spyOn(ArmTrainer.prototype, 'trainStep').mockImplementation(function (this: ArmTrainer, learningRate?: number) {
      // An ordinary step of 30 ms, a measured one of 400 ms (each plus the fake clock's own millisecond).
      host.advance(this.measuresNextStep ? 400 : 30);
      return trainStep.call(this, learningRate);
    });
    try {
      const before = host.heartbeats.length;
      await runner.handle(command({ type: 'step', runId: 1, count: 10 }));
      await host.settled();
      // Steps 5 and 10 measure: 12 x 31 ms guessed before the first, 4 x 401 ms before the second; each record 4 x 1 ms.
      expect(host.heartbeats.slice(before).map((h) => h.busyMs)).toEqual([4 * 12 * 31, 4, 4 * 401, 4]);
    } finally {
      timed.mockRestore();
    }
  });

  it('prepares the digits once: later starts (reset, a new config) train on them without receiving them again', async () => {
    const { host, runner } = await started();
    await runner.handle(start(2, { ...small, seed: 7 }, 0, true));
    await host.settled();
    expect(host.prepared).toHaveLength(1);
    expect(host.prepared[0].digits).toBe(digits);
    expect(host.step).toBe(small.steps);
  });
});
