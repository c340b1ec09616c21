/**
 * All canvases paint from one requestAnimationFrame loop with a time budget per frame. A dozen
 * charts repainting in the same frame would be one long task that drops frames; the dirty ones
 * over the budget wait for the next frame, oldest first, so every frame stays short.
 *
 * New data repaints a chart at most every DATA_REPAINT_MS: records arrive many times a second
 * from two workers, and the eye gains nothing from more, while every frame takes main-thread time
 * from the workers on a 2-core machine. Data repaints wait for the next tick of one clock shared by
 * every chart and by the page's other data-driven text (`untilNextTick`), so the charts and the
 * status bar change in the same frame instead of each in its own. What the user does (hover,
 * options) repaints at once.
 */

/** Paint time allowed per frame, well inside a 16.7 ms frame at 60 Hz. */
const FRAME_BUDGET_MS = 8;
export const DATA_REPAINT_MS = 250;
/**
 * The tick text that follows the data waits for (text alternatives, readouts beside the charts):
 * often enough to read along, rarely enough that a page of it relayouts once a second, not at
 * every tick. A multiple of DATA_REPAINT_MS, so it lands in a repaint's frame.
 */
export const TEXT_TICK_MS = 1000;
/**
 * A tick's frame paints every chart with new data painted at least this long ago: the ticks come
 * DATA_REPAINT_MS apart, but a chart painted late in one (a frame over budget) still joins the next.
 */
const DATA_AGE_MS = DATA_REPAINT_MS / 2;

/** Why a chart needs painting: it shows old data, or something the user just changed. */
export type Dirt = false | 'data' | 'user';

export interface Paintable {
  dirty(): Dirt;
  paint(dirt: Exclude<Dirt, false>): void;
}

const charts = new Map<Paintable, { paintedAt: number }>();
let frame = 0;

/** Callbacks waiting for a tick, each with the time it is due at; one timer serves them all. */
const waiting = new Map<() => void, number>();
let tickTimer: ReturnType<typeof setTimeout> | null = null;
let paintAtTick = false;

/** Milliseconds to the next multiple of `period` on the page's clock. */
export function untilNextTick(period: number = DATA_REPAINT_MS, now: number = performance.now()): number {
  return period - (now % period);
}

function armTick(): void {
  if (tickTimer === null) tickTimer = setTimeout(runTick, untilNextTick());
}

function runTick(): void {
  tickTimer = null;
  // A timer fires a little after its time, never before: what was due at this tick is due now.
  const now = performance.now() + 1;
  for (const [callback, dueAt] of [...waiting]) {
    if (dueAt > now) continue;
    waiting.delete(callback);
    callback();
  }
  if (paintAtTick) {
    paintAtTick = false;
    requestPaint();
  }
  if (waiting.size > 0) armTick();
}

/**
 * Runs `callback` at the next tick of the clock whose period is `period` (a multiple of
 * DATA_REPAINT_MS); asking again before then changes nothing. Every callback of a tick runs in
 * one task, so the text they set renders in one frame, the frame the charts repaint in.
 */
export function atNextTick(callback: () => void, period: number = DATA_REPAINT_MS): void {
  if (waiting.has(callback)) return;
  const now = performance.now();
  waiting.set(callback, now + untilNextTick(period, now));
  armTick();
}

/** Forgets a callback that waits for a tick (a component that unmounts). */
export function cancelTick(callback: () => void): void {
  waiting.delete(callback);
}

function paintDirty(now: number): void {
  frame = 0;
  const start = performance.now();
  let overBudget = false;
  let young = false;
  // Map iteration follows insertion order; a chart painted moves to the back so none starves.
  for (const [chart, timing] of [...charts]) {
    const dirt = chart.dirty();
    if (!dirt) continue;
    if (dirt === 'data' && now - timing.paintedAt < DATA_AGE_MS) {
      young = true;
      continue;
    }
    if (performance.now() - start > FRAME_BUDGET_MS) {
      overBudget = true;
      continue;
    }
    chart.paint(dirt);
    charts.delete(chart);
    charts.set(chart, { paintedAt: now });
  }
  if (overBudget) requestPaint();
  else if (young) requestDataPaint();
}

/** Asks for a frame in which dirty charts paint; many requests in one frame make one paint. */
export function requestPaint(): void {
  if (frame === 0) frame = requestAnimationFrame(paintDirty);
}

/** New data: the charts repaint at the clock's next tick, not in a frame of their own. */
export function requestDataPaint(): void {
  paintAtTick = true;
  armTick();
}

export function registerChart(chart: Paintable): () => void {
  charts.set(chart, { paintedAt: -Infinity });
  requestPaint();
  return () => charts.delete(chart);
}
