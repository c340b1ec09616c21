import { useEffect, useId, useRef } from 'react';
import type { ScaleLinear } from 'd3';
import { CHART_THEME } from '../charts/colors';
import { cursorAfterKey, cursorSteps, stepAtPointer } from '../charts/hover';
import { holdCursor, hoverCursor, leaveCursor, type LabState } from '../state/store';
import { ChartTable } from './ChartTable';
import type { ChartTable as Table } from './chartTables';
import { chartExportChoices } from './chartExport';
import { ExportMenu } from './ExportMenu';
import { useLab, useLabState } from './labContext';
import { atNextTick, cancelTick, registerChart, requestDataPaint, requestPaint, TEXT_TICK_MS } from './paintScheduler';

export interface PaintArgs {
  ctx: CanvasRenderingContext2D;
  width: number;
  height: number;
  state: LabState;
}

export interface ChartCanvasProps {
  /** The accessible name of the chart (a canvas has no text of its own). */
  label: string;
  height: number;
  /**
   * The text alternative: what the chart shows in words (the latest values, or the values at the
   * step cursor), rewritten at once when the user changes what the chart shows and at most every
   * TEXT_TICK_MS as new data comes.
   */
  describe: (state: LabState) => string;
  /**
   * The x axis is training steps: pointer (hover, drag, touch) and keys move the step cursor, and
   * the chart takes focus for the keys.
   */
  stepCursor?: boolean;
  /**
   * What the chart depends on besides the series (labels, view options, the step cursor), one value
   * per input; a change repaints at once. New series data repaints at the scheduler's pace.
   */
  inputs: (state: LabState) => unknown[];
  /** Draws everything; returns the step scale when the chart's x axis is training steps. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a chart without a step axis returns nothing at all, which only void admits
  paint: (args: PaintArgs) => { x: ScaleLinear<number, number> } | void;
  /** The chart's data as a table, behind a "Show as table" button under the chart. */
  table?: (state: LabState) => Table;
  testId?: string;
  /** Also offer the chart as SVG: its drawing uses only what the SVG context (charts/svgContext.ts) records. */
  vector?: boolean;
}

/**
 * In classroom mode (`present=1`) a chart is drawn at this zoom, as the browser zooms a page:
 * its text, lines and margins grow together, so axis labels read from the back of a room.
 */
export const PRESENTED_ZOOM = 1.5;

/**
 * A canvas sized to its box for the device's pixel ratio, painted outside React: subscribing to
 * the store in an effect means a metrics message never re-renders the component tree.
 */
export function ChartCanvas({ label, height, inputs, paint, describe, table, stepCursor = false, testId, vector = false }: ChartCanvasProps) {
  const { store } = useLab();
  const zoom = useLabState((s) => s.config.present) === '1' ? PRESENTED_ZOOM : 1;
  const descriptionId = useId();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const descriptionRef = useRef<HTMLParagraphElement>(null);
  const describeRef = useRef(describe);
  describeRef.current = describe;
  const layoutRef = useRef<{ x: ScaleLinear<number, number> } | null>(null);
  const widthRef = useRef(0);
  const paintRef = useRef(paint);
  const inputsRef = useRef(inputs);
  paintRef.current = paint;
  inputsRef.current = inputs;

  useEffect(() => {
    const canvas = canvasRef.current!;
    const ctx = canvas.getContext('2d')!;
    const description = descriptionRef.current!;
    // Written outside React, like the pixels, so that new data never re-renders the tree; only a
    // changed text is written, since every write relayouts its text.
    const writeDescription = () => {
      const text = describeRef.current(store.getState());
      if (description.textContent !== text) description.textContent = text;
    };
    writeDescription();
    let width = 0;
    let visible = true;
    let drawn: unknown[] | null = null;
    let drawnTheme = CHART_THEME;
    let drawnData: unknown[] = [];
    const dataOf = (state: LabState) => [...state.series, state.series[0].version, state.series[1].version];
    const differs = (now: unknown[], before: unknown[]) => now.length !== before.length || now.some((value, i) => value !== before[i]);
    // The chart paints in its own units: CSS pixels divided by the zoom.
    const chartHeight = height / zoom;
    const observer = new ResizeObserver(([entry]) => {
      const cssWidth = Math.floor(entry.contentRect.width);
      width = cssWidth / zoom;
      widthRef.current = width;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(cssWidth * ratio));
      canvas.height = Math.round(height * ratio);
      drawn = null;
      requestPaint();
    });
    observer.observe(canvas.parentElement!);
    // A chart scrolled out of view does not paint: its main-thread time goes to the workers.
    const visibility = new IntersectionObserver(([entry]) => {
      visible = entry.isIntersecting;
      if (visible) requestPaint();
    });
    visibility.observe(canvas);
    // The text alternative follows new data at the clock's ticks TEXT_TICK_MS apart, in view or
    // not (a screen reader reads it wherever the chart is), and what the user does as it paints.
    const describeSoon = () => atNextTick(writeDescription, TEXT_TICK_MS);
    const describeNow = () => {
      cancelTick(writeDescription);
      writeDescription();
    };
    const unregister = registerChart({
      dirty: () => {
        if (width === 0 || !visible) return false;
        const state = store.getState();
        if (drawn === null || drawnTheme !== CHART_THEME || differs(inputsRef.current(state), drawn)) return 'user';
        return differs(dataOf(state), drawnData) ? 'data' : false;
      },
      paint: (dirt) => {
        const state = store.getState();
        drawn = inputsRef.current(state);
        drawnTheme = CHART_THEME;
        drawnData = dataOf(state);
        const ratio = canvas.width / width;
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        layoutRef.current = paintRef.current({ ctx, width, height: chartHeight, state }) ?? null;
        if (dirt === 'user') describeNow();
        canvas.dataset.painted = String(Number(canvas.dataset.painted ?? 0) + 1);
      },
    });
    // Most store changes are an arm's step count, which no chart draws: those cost two comparisons here.
    let [seenA, seenB] = store.getState().series;
    let [seenVersionA, seenVersionB] = [seenA.version, seenB.version];
    const unsubscribe = store.subscribe((state, previous) => {
      // A chart in view rewrites its text as it paints; one out of view follows at the next text
      // tick, so a pointer moving the cursor does not describe every chart of the page at each move.
      if (state.view !== previous.view || state.config !== previous.config) {
        requestPaint();
        if (!visible) describeSoon();
      }
      const [a, b] = state.series;
      if (a !== seenA || b !== seenB || a.version !== seenVersionA || b.version !== seenVersionB) {
        [seenA, seenB, seenVersionA, seenVersionB] = [a, b, a.version, b.version];
        requestDataPaint();
        describeSoon();
      }
    });
    return () => {
      observer.disconnect();
      visibility.disconnect();
      unregister();
      unsubscribe();
      cancelTick(writeDescription);
    };
  }, [store, height, zoom]);

  const stepAt = (event: React.PointerEvent<HTMLCanvasElement>): number | null | undefined => {
    const layout = layoutRef.current;
    if (!layout) return undefined;
    const x = (event.clientX - event.currentTarget.getBoundingClientRect().left) / zoom;
    return stepAtPointer(
      x,
      layout.x,
      store.getState().series.map((s) => s.steps()),
    );
  };
  const setView = (next: (view: LabState['view']) => LabState['view']) => {
    const { view } = store.getState();
    const changed = next(view);
    if (changed !== view) store.setState({ view: changed });
  };
  // A press (mouse, pen or touch) holds the cursor where it lands and drags it while captured;
  // a mouse moving without a press only hovers.
  const onPointerDown = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const step = stepAt(event);
    if (step === undefined) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    setView((view) => holdCursor(view, step));
  };
  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const step = stepAt(event);
    if (step === undefined) return;
    const dragging = event.currentTarget.hasPointerCapture(event.pointerId);
    setView((view) => (dragging ? holdCursor(view, step) : hoverCursor(view, step)));
  };
  const onPointerLeave = () => setView(leaveCursor);
  const onKeyDown = (event: React.KeyboardEvent<HTMLCanvasElement>) => {
    const state = store.getState();
    const step = cursorAfterKey(event.key, cursorSteps(state.series.map((s) => s.steps())), state.view.cursorStep);
    if (step === undefined) return;
    event.preventDefault();
    setView((view) => holdCursor(view, step));
  };

  // One element, so a chart (with its table) takes one cell of the grids it is laid out in.
  return (
    <div className="chart-block">
      <div className="chart" style={{ height }}>
        <canvas
          ref={canvasRef}
          role="img"
          aria-label={stepCursor ? `${label}. Arrow keys, Home, End, Page Up and Page Down move the step cursor; Escape shows the latest.` : label}
          aria-describedby={descriptionId}
          data-testid={testId}
          tabIndex={stepCursor ? 0 : undefined}
          className={stepCursor ? 'step-cursor' : undefined}
          style={{ width: '100%', height }}
          {...(stepCursor ? { onPointerDown, onPointerMove, onPointerLeave, onKeyDown } : {})}
        />
        <ExportMenu
          what={label}
          testId={testId && `${testId}-export`}
          choices={chartExportChoices(store, label, testId ?? 'chart', vector, widthRef, height / zoom, paintRef)}
        />
        <p id={descriptionId} ref={descriptionRef} className="visually-hidden" data-testid={testId && `${testId}-text`} />
      </div>
      {table && <ChartTable store={store} label={label} table={table} />}
    </div>
  );
}
