/**
 * All canvases paint from one requestAnimationFrame loop with a time budget per frame. A dozen
 * charts repainting in the same frame would be one long task that drops frames; spreading the
 * dirty ones over consecutive frames, oldest first, keeps every frame short.
 */

/** Paint time allowed per frame, well inside a 16.7 ms frame at 60 Hz. */
const FRAME_BUDGET_MS = 8;

export interface Paintable {
  /** Whether what it would draw differs from what it drew last. */
  isDirty(): boolean;
  paint(): void;
}

const charts = new Set<Paintable>();
let frame = 0;

function paintDirty(): void {
  frame = 0;
  const start = performance.now();
  let remaining = false;
  // Iterating a Set in insertion order; a chart painted is moved to the back so nobody starves.
  for (const chart of [...charts]) {
    if (!chart.isDirty()) continue;
    if (performance.now() - start > FRAME_BUDGET_MS) {
      remaining = true;
      break;
    }
    chart.paint();
    charts.delete(chart);
    charts.add(chart);
  }
  if (remaining) requestPaint();
}

/** Asks for a frame in which dirty charts paint; many requests in one frame make one paint. */
export function requestPaint(): void {
  if (frame === 0) frame = requestAnimationFrame(paintDirty);
}

export function registerChart(chart: Paintable): () => void {
  charts.add(chart);
  requestPaint();
  return () => charts.delete(chart);
}
