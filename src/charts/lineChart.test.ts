import { describe, expect, it } from 'vitest';
import { ACCURACY_AXIS, LOSS_AXIS } from './axes';
import { ARM_COLORS } from './colors';
import { drawLineChart, lineChartLayout, lineChartLegend, lineChartYDomain, type LineSeries } from './lineChart';

/** A context that records the calls a chart makes; Node has no canvas. */
function recordingContext() {
  const calls: { name: string; args: unknown[] }[] = [];
  const state: Record<string | symbol, unknown> = {};
  const ctx = new Proxy(state, {
    get(target, prop) {
      if (prop in target) return target[prop];
      if (prop === 'measureText') return (text: string) => ({ width: text.length * 6 });
      return (...args: unknown[]) => void calls.push({ name: String(prop), args });
    },
    set(target, prop, value) {
      target[prop] = value;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
  const texts = () => calls.filter((c) => c.name === 'fillText').map((c) => c.args[0] as string);
  return { ctx, calls, texts };
}

const steps = new Float64Array([0, 100, 200, 300]);
const a: LineSeries = { label: 'A: no BN', color: ARM_COLORS[0], steps, values: new Float32Array([2.3, 1.0, NaN, NaN]), divergedStep: 200 };
const b: LineSeries = { label: 'B: BN on all', color: ARM_COLORS[1], steps, values: new Float32Array([2.3, 0.51234, 0.2, 0]), divergedStep: null };

describe('lineChart', () => {
  it('fits the y-domain to the finite values, and to the positive ones on a log scale', () => {
    const [lo, hi] = lineChartYDomain([a, b], false);
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(2.3);
    const [logLo, logHi] = lineChartYDomain([a, b], true);
    expect(logLo).toBeGreaterThan(0);
    expect(logLo).toBeLessThan(0.2);
    expect(logHi).toBeGreaterThan(2.3);
  });

  it('uses the caller’s domains when given, so panels can share them', () => {
    const layout = lineChartLayout([a, b], { width: 400, height: 200, yAxis: ACCURACY_AXIS, yDomain: [0, 1], xDomain: [0, 50_000] });
    expect(layout.x.domain()).toEqual([0, 50_000]);
    expect(layout.y.domain()).toEqual([0, 1]);
    expect(layout.x.range()).toEqual([layout.area.left, layout.area.right]);
  });

  it('labels each arm in the legend, with its divergence step', () => {
    expect(lineChartLegend([a, b]).map((item) => item.label)).toEqual(['A: no BN (diverged at step 200)', 'B: BN on all']);
  });

  it('draws axis titles, the legend, the divergence mark and a hover readout to three significant digits', () => {
    const { ctx, texts } = recordingContext();
    drawLineChart(ctx, [a, b], { width: 500, height: 240, yAxis: LOSS_AXIS, log: true, hoverStep: 100 });
    const drawn = texts();
    expect(drawn).toContain('training step');
    expect(drawn).toContain('cross-entropy (nats)');
    expect(drawn).toContain('B: BN on all');
    expect(drawn).toContain('diverged at step 200');
    expect(drawn).toContain('step 100');
    expect(drawn).toContain('A: no BN  1');
    expect(drawn).toContain('B: BN on all  0.512');
  });

  it('leaves NaN and, on a log scale, non-positive values out of the line', () => {
    const { ctx, calls } = recordingContext();
    drawLineChart(ctx, [b], { width: 500, height: 240, yAxis: LOSS_AXIS, log: true });
    const vertices = calls.filter((c) => c.name === 'lineTo' || c.name === 'moveTo');
    for (const v of vertices) for (const coordinate of v.args as number[]) expect(Number.isFinite(coordinate)).toBe(true);
    // The line itself: one moveTo and two lineTo for the three positive losses (0 is left out).
    const clip = calls.findIndex((c) => c.name === 'clip');
    const stroke = calls.findIndex((c, i) => i > clip && c.name === 'stroke');
    const line = calls.slice(clip, stroke).filter((c) => c.name === 'lineTo' || c.name === 'moveTo');
    expect(line.map((c) => c.name).slice(0, 3)).toEqual(['moveTo', 'lineTo', 'lineTo']);
    expect(line.length).toBe(3);
  });

  it('draws a dot at each point only when asked and the points are sparse, so a measure taken every few records shows where', () => {
    const arcs = (options: { markers?: boolean; width?: number }, series: LineSeries[]) => {
      const { ctx, calls } = recordingContext();
      drawLineChart(ctx, series, { width: options.width ?? 500, height: 240, yAxis: LOSS_AXIS, markers: options.markers });
      return calls.filter((c) => c.name === 'arc').length;
    };
    expect(arcs({}, [b])).toBe(0);
    expect(arcs({ markers: true }, [b])).toBe(4);
    // 400 points across a plot area under 500 px wide read as a line: no dots.
    const dense = { ...b, steps: Float64Array.from({ length: 400 }, (_, i) => i), values: Float64Array.from({ length: 400 }, (_, i) => Math.sin(i)) };
    expect(arcs({ markers: true }, [dense])).toBe(0);
  });
});
