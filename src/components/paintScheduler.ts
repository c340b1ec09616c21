/**
 * All canvases paint from one requestAnimationFrame loop with a time budget per frame. A dozen
 * charts repainting in the same frame would be one long task that drops frames; spreading the
 * dirty ones over consecutive frames, oldest first, keeps every frame short.
 *
 * New data repaints a chart at most every DATA_REPAINT_MS: records arrive many times a second
 * from two workers, and the eye gains nothing from more, while every paint takes main-thread time
 * from the workers on a 2-core machine. What the user does (hover, options) repaints at once.
 */

/** Paint time allowed per frame, well inside a 16.7 ms frame at 60 Hz. */
const FRAME_BUDGET_MS = 8;
const DATA_REPAINT_MS = 250;

/** Why a chart needs painting: it shows old data, or something the user just changed. */
export type Dirt = false | 'data' | 'user';

export interface Paintable {
  dirty(): Dirt;
  paint(): void;
}

const charts = new Map<Paintable, { paintedAt: number }>();
let frame = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

function paintDirty(now: number): void {
  frame = 0;
  const start = performance.now();
  let overBudget = false;
  let nextDue = Infinity;
  // Map iteration follows insertion order; a chart painted moves to the back so none starves.
  for (const [chart, timing] of [...charts]) {
    const dirt = chart.dirty();
    if (!dirt) continue;
    if (dirt === 'data' && now - timing.paintedAt < DATA_REPAINT_MS) {
      nextDue = Math.min(nextDue, timing.paintedAt + DATA_REPAINT_MS);
      continue;
    }
    if (performance.now() - start > FRAME_BUDGET_MS) {
      overBudget = true;
      continue;
    }
    chart.paint();
    charts.delete(chart);
    charts.set(chart, { paintedAt: now });
  }
  if (overBudget) requestPaint();
  // Waiting charts wake the loop when they are due, not every frame: idle frames still cost CPU.
  else if (nextDue < Infinity && timer === null) {
    timer = setTimeout(() => {
      timer = null;
      requestPaint();
    }, nextDue - now);
  }
}

/** Asks for a frame in which dirty charts paint; many requests in one frame make one paint. */
export function requestPaint(): void {
  if (frame === 0) frame = requestAnimationFrame(paintDirty);
}

export function registerChart(chart: Paintable): () => void {
  charts.set(chart, { paintedAt: -Infinity });
  requestPaint();
  return () => charts.delete(chart);
}
