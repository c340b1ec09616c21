/**
 * The one message protocol between the page and a training worker. Every message names the run
 * it belongs to: a result whose runId is not the page's current run is stale and dropped.
 * One worker trains one arm; the page keeps the two arms in lockstep with `horizon`.
 */
import type { Config } from '../config/schema';
import type { ArmIndex } from './trainer';

export const PROTOCOL_VERSION = 2;

/** Absolute URLs of what the page and its workers fetch, resolved against the page's own address. */
export interface Assets {
  /** The digit file; the page fetches it once and hands its bytes to both workers. */
  dataUrl: string;
  /** Folder of the tfjs wasm binaries, ending in '/'. */
  wasmDir: string;
}

export type Command =
  /**
   * The digit file, uncompressed and already checked by the page (data.ts's format), sent once per
   * worker, after its first start when the page is still downloading (the start waits for it while
   * the backend loads), before it otherwise. On a SharedArrayBuffer where the page is cross-origin isolated
   * (both workers read the page's one copy), otherwise a copy. `fileName` names it in errors.
   */
  | { type: 'data'; version: number; digits: Uint8Array; fileName: string }
  /** Start the backend if needed, build the arm from `config` at step 0 on the digits received, record step 0. */
  | { type: 'start'; version: number; runId: number; config: Config; arm: ArmIndex; running: boolean; wasmDir: string }
  | { type: 'pause'; version: number; runId: number }
  | { type: 'resume'; version: number; runId: number }
  /** Train exactly `count` steps, then pause. */
  | { type: 'step'; version: number; runId: number; count: number }
  /** Train no further than this step until told otherwise (keeps the faster arm from running ahead). */
  | { type: 'horizon'; version: number; runId: number; step: number }
  /** Dispose the arm (the page is going away or restarts with a new run). */
  | { type: 'stop'; version: number; runId: number }
  /** Is the worker alive? Answered with a `heartbeat` between two slices, whatever the run's state. */
  | { type: 'ping'; version: number }
  /**
   * Take the Web Lock named `lock` and keep it for life, then answer `holding`: the browser frees
   * it when the worker ends, however it ends, and the page, waiting for it, learns of that end.
   */
  | { type: 'hold'; version: number; lock: string };

export type Result =
  | { type: 'ready'; version: number; runId: number; arm: ArmIndex; backend: string; fallbackReason: string | null; startMs: number }
  /** Records packed by `packRecords` (transferred, not copied), plus where the arm is now. */
  | { type: 'records'; version: number; runId: number; arm: ArmIndex; layers: number; packed: Float64Array; step: number }
  /** The arm's step advanced without a record falling due (so counters move on every step). */
  | { type: 'progress'; version: number; runId: number; arm: ArmIndex; step: number; running: boolean }
  | { type: 'diverged'; version: number; runId: number; arm: ArmIndex; step: number }
  | { type: 'finished'; version: number; runId: number; arm: ArmIndex; step: number }
  | { type: 'error'; version: number; runId: number; arm: ArmIndex; message: string }
  /**
   * The worker is alive: the answer to a `ping`, and also sent before a record, with `busyMs` the
   * time that record may keep it from answering (0 when it answers at once).
   */
  | { type: 'heartbeat'; version: number; busyMs: number }
  | { type: 'holding'; version: number; lock: string };

type WithoutVersion<T> = T extends unknown ? Omit<T, 'version'> : never;

export function command(message: WithoutVersion<Command>): Command {
  return { ...message, version: PROTOCOL_VERSION } as Command;
}

export function result(message: WithoutVersion<Result>): Result {
  return { ...message, version: PROTOCOL_VERSION } as Result;
}
