/**
 * The page's state: the config (mirrored in the URL), the run's status per arm, and the metric
 * series. The store knows nothing of React. Series are mutable, bounded objects that panels read
 * directly when their `version` changes; only small status fields go through zustand's set().
 */
import { createStore } from 'zustand/vanilla';
import { DEFAULT_CONFIG, type Config } from '../config/schema';
import type { Problem } from '../config/schema';
import { ArmSeries } from './series';

export type RunStatus = 'idle' | 'loading' | 'running' | 'paused' | 'finished' | 'error';

export interface ArmStatus {
  step: number;
  diverged: number | null;
  finished: boolean;
  /** The tfjs backend in use, once the worker is ready. */
  backend: string | null;
  fallbackReason: string | null;
  /** Milliseconds from start to the first record (data load + backend start). */
  startMs: number | null;
}

/** The page's one download of the MNIST digits (dataLoader.ts). */
export interface DataState {
  status: 'loading' | 'ready' | 'error';
  loadedBytes: number;
  /** null while the size is unknown (no Content-Length, or a body decoded on the way). */
  totalBytes: number | null;
  error: string | null;
}

/** Transient state of the panels (what a link does not carry; display settings are config fields). */
export interface ViewState {
  /**
   * The one step cursor: every time chart, the "now" histograms and the readout show this step;
   * null means the latest record. It follows the pointer over a chart and otherwise rests on
   * `heldStep`.
   */
  cursorStep: number | null;
  /**
   * The step a click, drag, touch, arrow key or the scrubber chose; the cursor returns to it when
   * the pointer leaves a chart, so hovering to compare does not lose the chosen step.
   */
  heldStep: number | null;
}

export const NO_CURSOR: ViewState = { cursorStep: null, heldStep: null };

export interface LabState {
  config: Config;
  /** Fields of a link that were bad, and what was used instead; each dismissible. */
  problems: Problem[];
  /** What an older link could not keep through its migration (url.ts), shown until dismissed. */
  linkNotices: string[];
  runId: number;
  status: RunStatus;
  arms: [ArmStatus, ArmStatus];
  series: [ArmSeries, ArmSeries];
  view: ViewState;
  data: DataState;
  error: string | null;
  /** Wall-clock time and the pair-step count when the current stretch of running began. */
  runningSince: number | null;
  stepsAtRunningSince: number;
  /** Training time accumulated before the current stretch (pauses excluded). */
  elapsedBeforeMs: number;
}

export function freshArm(): ArmStatus {
  return { step: 0, diverged: null, finished: false, backend: null, fallbackReason: null, startMs: null };
}

export function freshSeries(config: Config): [ArmSeries, ArmSeries] {
  return [new ArmSeries(config.hiddenLayers), new ArmSeries(config.hiddenLayers)];
}

export function initialState(config: Config = DEFAULT_CONFIG, problems: Problem[] = [], linkNotices: string[] = []): LabState {
  return {
    config,
    problems,
    linkNotices,
    runId: 0,
    status: 'idle',
    arms: [freshArm(), freshArm()],
    series: freshSeries(config),
    view: NO_CURSOR,
    data: { status: 'loading', loadedBytes: 0, totalBytes: null, error: null },
    error: null,
    runningSince: null,
    stepsAtRunningSince: 0,
    elapsedBeforeMs: 0,
  };
}

export const createLabStore = (config?: Config, problems?: Problem[], linkNotices?: string[]) =>
  createStore<LabState>()(() => initialState(config, problems, linkNotices));
export type LabStore = ReturnType<typeof createLabStore>;

/** Steps both arms have completed (a diverged arm no longer holds the other back). */
export function pairStep(state: Pick<LabState, 'arms'>): number {
  const live = state.arms.filter((arm) => arm.diverged === null);
  return live.length > 0 ? Math.min(...live.map((arm) => arm.step)) : Math.max(...state.arms.map((arm) => arm.step));
}

/** The pointer over a time chart moves the cursor; the held step waits for it to leave. */
export function hoverCursor(view: ViewState, step: number | null): ViewState {
  return step === view.cursorStep ? view : { ...view, cursorStep: step };
}

/** A click, drag, key or the scrubber sets the step the cursor rests on. */
export function holdCursor(view: ViewState, step: number | null): ViewState {
  return step === view.cursorStep && step === view.heldStep ? view : { cursorStep: step, heldStep: step };
}

/** The pointer left the charts: the cursor goes back to the held step (the latest when none). */
export function leaveCursor(view: ViewState): ViewState {
  return view.cursorStep === view.heldStep ? view : { ...view, cursorStep: view.heldStep };
}
