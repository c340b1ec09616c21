import { describe, expect, it } from 'vitest';
import { LOSS_AXIS } from './axes';
import { ARM_COLORS, ARM_DASHES } from './colors';
import { lineChartLegend } from './lineChart';
import { drawRangeChart, rangeChartLayout, rangeChartYDomain, rangeText, type RangeSeries } from './rangeChart';

/** A context that records the calls a chart makes; Node has no canvas. */
function recordingContext() {
  const calls: { name: string; args: unknown[]; dash?: unknown }[] = [];
  const state: Record<string | symbol, unknown> = {};
  let dash: number[] = [];
  const ctx = new Proxy(state, {
    get(target, prop) {
      if (prop in target) return target[prop];
      if (prop === 'measureText') return (text: string) => ({ width: text.length * 6 });
      if (prop === 'setLineDash') return (value: number[]) => void (dash = value);
      return (...args: unknown[]) => void calls.push({ name: String(prop), args, dash });
    },
    set(target, prop, value) {
      target[prop] = value;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
  const texts = () => calls.filter((c) => c.name === 'fillText').map((c) => c.args[0] as string);
  return { ctx, calls, texts };
}

const steps = new Float64Array([0, 500, 1000]);
const a: RangeSeries = { label: 'A: no BN', color: ARM_COLORS[0], steps, lower: [2.0, 0.9, 0.5], upper: [2.6, 1.8, 1.4], divergedStep: null };
const b: RangeSeries = { label: 'B: BN on all', color: ARM_COLORS[1], steps, lower: [2.0, 0.4, 0.2], upper: [2.2, 0.5, NaN], divergedStep: null };

describe('rangeChart', () => {
  it('fits one y-domain to every arm’s lower and upper bounds, skipping NaN', () => {
    const [lo, hi] = rangeChartYDomain([a, b], false);
    expect(lo).toBeLessThan(0.2);
    expect(hi).toBeGreaterThan(2.6);
    expect(rangeChartYDomain([{ ...a, lower: [NaN], upper: [NaN], steps: [0] }], false)).toEqual([0, 1]);
    const layout = rangeChartLayout([a, b], { width: 400, height: 200, yAxis: LOSS_AXIS, yDomain: [0, 3], xDomain: [0, 5000] });
    expect(layout.y.domain()).toEqual([0, 3]);
    expect(layout.x.domain()).toEqual([0, 5000]);
  });

  it('names each arm in the legend with its line as drawn, arm B dashed', () => {
    const legend = lineChartLegend([a, { ...b, divergedStep: 500 }]);
    expect(legend.map((item) => item.label)).toEqual(['A: no BN', 'B: BN on all (diverged at step 500)']);
    expect(legend.map((item) => (item.symbol.kind === 'line' ? item.symbol.dash : null))).toEqual([[], [...ARM_DASHES[1]]]);
  });

  it('reads a range at three significant digits, a dash where a bound is missing', () => {
    expect(rangeText(0.123456, 1.5, String)).toBe('0.123–1.5');
    expect(rangeText(0.1, NaN, String)).toBe('–');
  });

  it('draws axis titles, a shaded band and two lines per arm (arm B dashed), dots at sparse points, and a hover readout of each range', () => {
    const { ctx, calls, texts } = recordingContext();
    drawRangeChart(ctx, [a, b], { width: 500, height: 240, yAxis: LOSS_AXIS, hoverStep: 500 });
    const drawn = texts();
    expect(drawn).toContain('training step');
    expect(drawn).toContain('cross-entropy (nats)');
    expect(drawn).toContain('A: no BN');
    expect(drawn).toContain('step 500');
    expect(drawn).toContain('A: no BN  0.9–1.8');
    expect(drawn).toContain('B: BN on all  0.4–0.5');
    const strokes = calls.filter((c) => c.name === 'stroke');
    expect(strokes.some((c) => (c.dash as number[]).length === 0)).toBe(true);
    expect(strokes.some((c) => JSON.stringify(c.dash) === JSON.stringify(ARM_DASHES[1]))).toBe(true);
    // Three points per line, far apart: a dot each (5 defined bounds of arm A's 6 and B's 5), plus the hover's.
    expect(calls.filter((c) => c.name === 'arc').length).toBeGreaterThanOrEqual(11);
    for (const c of calls.filter((call) => call.name === 'lineTo' || call.name === 'moveTo' || call.name === 'arc')) {
      for (const coordinate of c.args.slice(0, 2) as number[]) expect(Number.isFinite(coordinate)).toBe(true);
    }
  });

  it('gives the hover readout a dash for an arm with no point at the step', () => {
    const { ctx, texts } = recordingContext();
    drawRangeChart(ctx, [a, { ...b, steps: [0], lower: [2.0], upper: [2.2] }], { width: 500, height: 240, yAxis: LOSS_AXIS, hoverStep: 1000 });
    expect(texts()).toContain('B: BN on all  –');
    expect(texts()).toContain('A: no BN  0.5–1.4');
  });
});
