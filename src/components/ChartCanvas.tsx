import { useEffect, useRef } from 'react';
import type { ScaleLinear } from 'd3';
import { stepAtPointer } from '../charts/hover';
import type { LabState } from '../state/store';
import { useLab } from './labContext';
import { registerChart, requestPaint } from './paintScheduler';

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
   * What the chart depends on besides the series (labels, view options, hover step), one value
   * per input; a change repaints at once. New series data repaints at the scheduler's pace.
   */
  inputs: (state: LabState) => unknown[];
  /** Draws everything; returns the step scale when the chart's x axis is training steps. */
  paint: (args: PaintArgs) => { x: ScaleLinear<number, number> } | void;
  testId?: string;
}

/**
 * A canvas sized to its box for the device's pixel ratio, painted outside React: subscribing to
 * the store in an effect means a metrics message never re-renders the component tree.
 */
export function ChartCanvas({ label, height, inputs, paint, testId }: ChartCanvasProps) {
  const { store } = useLab();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const layoutRef = useRef<{ x: ScaleLinear<number, number> } | null>(null);
  const paintRef = useRef(paint);
  const inputsRef = useRef(inputs);
  paintRef.current = paint;
  inputsRef.current = inputs;

  useEffect(() => {
    const canvas = canvasRef.current!;
    const ctx = canvas.getContext('2d')!;
    let width = 0;
    let visible = true;
    let drawn: unknown[] | null = null;
    let drawnData: unknown[] = [];
    const dataOf = (state: LabState) => [...state.series, state.series[0].version, state.series[1].version];
    const differs = (now: unknown[], before: unknown[]) => now.length !== before.length || now.some((value, i) => value !== before[i]);
    const observer = new ResizeObserver(([entry]) => {
      width = Math.floor(entry.contentRect.width);
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(width * ratio));
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
    const unregister = registerChart({
      dirty: () => {
        if (width === 0 || !visible) return false;
        const state = store.getState();
        if (drawn === null || differs(inputsRef.current(state), drawn)) return 'user';
        return differs(dataOf(state), drawnData) ? 'data' : false;
      },
      paint: () => {
        const state = store.getState();
        drawn = inputsRef.current(state);
        drawnData = dataOf(state);
        const ratio = canvas.width / width;
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        layoutRef.current = paintRef.current({ ctx, width, height, state }) ?? null;
        canvas.dataset.painted = String(Number(canvas.dataset.painted ?? 0) + 1);
      },
    });
    const unsubscribe = store.subscribe(requestPaint);
    return () => {
      observer.disconnect();
      visibility.disconnect();
      unregister();
      unsubscribe();
    };
  }, [store, height]);

  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const layout = layoutRef.current;
    if (!layout) return;
    const state = store.getState();
    const x = event.clientX - event.currentTarget.getBoundingClientRect().left;
    const hoverStep = stepAtPointer(x, layout.x, state.series.map((s) => s.steps()));
    if (hoverStep !== state.view.hoverStep) store.setState({ view: { ...state.view, hoverStep } });
  };
  const onPointerLeave = () => {
    const state = store.getState();
    if (state.view.hoverStep !== null) store.setState({ view: { ...state.view, hoverStep: null } });
  };

  return (
    <div className="chart" style={{ height }}>
      <canvas
        ref={canvasRef}
        role="img"
        aria-label={label}
        data-testid={testId}
        style={{ width: '100%', height }}
        onPointerMove={onPointerMove}
        onPointerLeave={onPointerLeave}
      />
    </div>
  );
}
