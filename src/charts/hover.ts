/**
 * From a mouse position to the recorded step under it and each arm's value there. Both arms are
 * recorded at the same steps, but one may stop early (diverged): past its last point it has no value.
 */
import { bisectCenter, type ScaleLinear } from 'd3';

/** Index of the step nearest to `step` in ascending `steps`, or -1 when there are none. */
export function nearestIndex(steps: ArrayLike<number>, step: number): number {
  const n = steps.length;
  if (n === 0 || Number.isNaN(step)) return -1;
  return Math.min(n - 1, bisectCenter(steps, step));
}

/**
 * The recorded step nearest to a pointer at `pointerX` CSS pixels (relative to the canvas), over all
 * series, or null when nothing is recorded.
 */
export function stepAtPointer(pointerX: number, x: ScaleLinear<number, number>, stepColumns: readonly ArrayLike<number>[]): number | null {
  const target = x.invert(pointerX);
  let best: number | null = null;
  for (const steps of stepColumns) {
    const i = nearestIndex(steps, target);
    if (i < 0) continue;
    if (best === null || Math.abs(steps[i] - target) < Math.abs(best - target)) best = steps[i];
  }
  return best;
}

export interface HoverSeries {
  label: string;
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface HoverValue {
  label: string;
  /** Index of the point shown, or -1 when the series has no point at this step. */
  index: number;
  /** The recorded step of that point. */
  step: number;
  value: number;
}

/**
 * Each series' point nearest to `step`, if `step` lies within the steps the series covers;
 * otherwise index -1 and NaN, so a readout can say the arm has no value there.
 */
export function valuesAtStep(step: number, series: readonly HoverSeries[]): HoverValue[] {
  return series.map(({ label, steps, values }) => {
    const n = steps.length;
    if (n === 0 || !(step >= steps[0] && step <= steps[n - 1])) return { label, index: -1, step: NaN, value: NaN };
    const index = nearestIndex(steps, step);
    return { label, index, step: steps[index], value: values[index] };
  });
}

/** One readout line: "A: no BN  0.231", or a dash where the arm has no finite value. */
export function hoverText(hover: HoverValue, format: (value: number) => string): string {
  const shown = hover.index >= 0 && Number.isFinite(hover.value) ? format(hover.value) : '–';
  return `${hover.label}  ${shown}`;
}

/**
 * The steps the cursor moves over: the arm that recorded furthest (both arms record at the same
 * steps, but one may run a little ahead or have stopped when it diverged).
 */
export function cursorSteps(stepColumns: readonly ArrayLike<number>[]): ArrayLike<number> {
  let best: ArrayLike<number> = [];
  for (const steps of stepColumns) {
    if (steps.length > 0 && (best.length === 0 || steps[steps.length - 1] > best[best.length - 1])) best = steps;
  }
  return best;
}

/** Records a PageUp/PageDown moves: a tenth of the run so far, so ten presses cross it. */
export function pageSize(records: number): number {
  return Math.max(1, Math.round(records / 10));
}

/**
 * Where a key moves the step cursor over the recorded `steps`, as a slider does (WAI-ARIA):
 * Left/Right one record, PageDown/PageUp a page, Home/End the first/last record, Escape back to
 * the latest (null). A cursor not set starts from the latest record. Undefined for any other key,
 * so the key keeps its usual meaning.
 */
export function cursorAfterKey(key: string, steps: ArrayLike<number>, cursor: number | null): number | null | undefined {
  if (key === 'Escape') return null;
  const n = steps.length;
  const moves: Record<string, (i: number) => number> = {
    ArrowLeft: (i) => i - 1,
    ArrowDown: (i) => i - 1,
    ArrowRight: (i) => i + 1,
    ArrowUp: (i) => i + 1,
    PageDown: (i) => i - pageSize(n),
    PageUp: (i) => i + pageSize(n),
    Home: () => 0,
    End: () => n - 1,
  };
  const move = moves[key];
  if (move === undefined) return undefined;
  if (n === 0) return null;
  const from = cursor === null ? n - 1 : nearestIndex(steps, cursor);
  return steps[Math.min(n - 1, Math.max(0, move(from)))];
}
