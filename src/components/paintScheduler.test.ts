import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Dirt } from './paintScheduler';

type Scheduler = typeof import('./paintScheduler');

/** A chart whose dirt the test sets, recording the clock time of each paint. */
function fakeChart(scheduler: Scheduler) {
  const chart = {
    dirt: false as Dirt,
    paints: [] as { at: number; dirt: Dirt }[],
    frameOf: [] as number[],
  };
  scheduler.registerChart({
    dirty: () => chart.dirt,
    paint: (dirt) => {
      chart.paints.push({ at: performance.now(), dirt });
      chart.frameOf.push(frames);
      chart.dirt = false;
    },
  });
  return chart;
}

let frames = 0;

describe('paintScheduler', () => {
  let scheduler: Scheduler;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    frames = 0;
    vi.stubGlobal('requestAnimationFrame', (callback: (now: number) => void) =>
      setTimeout(() => {
        frames += 1;
        callback(performance.now());
      }, 16),
    );
    // The scheduler keeps its charts and waiting callbacks in module state: a fresh copy per test.
    vi.resetModules();
    scheduler = await import('./paintScheduler');
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('untilNextTick(period, now) is the time to the next multiple of period', () => {
    expect(scheduler.untilNextTick(250, 1000)).toBe(250);
    expect(scheduler.untilNextTick(250, 1010)).toBe(240);
    expect(scheduler.untilNextTick(1000, 1999)).toBe(1);
  });

  it('paints charts whose data changed at different moments together, in one frame after the next tick', () => {
    const [a, b] = [fakeChart(scheduler), fakeChart(scheduler)];
    vi.advanceTimersByTime(20);
    frames = 0;
    const start = performance.now();
    a.dirt = 'data';
    scheduler.requestDataPaint();
    vi.advanceTimersByTime(60);
    b.dirt = 'data';
    scheduler.requestDataPaint();
    const tickAt = start + scheduler.untilNextTick(scheduler.DATA_REPAINT_MS, start);
    vi.advanceTimersByTime(tickAt - performance.now() - 1);
    expect(a.paints.length + b.paints.length).toBe(0);
    vi.advanceTimersByTime(40);
    expect(a.paints).toHaveLength(1);
    expect(b.paints).toHaveLength(1);
    expect(a.frameOf).toEqual(b.frameOf);
    expect(frames).toBe(1);
  });

  it('repaints a chart for new data at most once a tick, however often its data changes', () => {
    const chart = fakeChart(scheduler);
    for (let t = 0; t < 1000; t += 20) {
      chart.dirt = 'data';
      scheduler.requestDataPaint();
      vi.advanceTimersByTime(20);
    }
    vi.advanceTimersByTime(300);
    expect(chart.paints.length).toBeGreaterThanOrEqual(4);
    expect(chart.paints.length).toBeLessThanOrEqual(5);
    const gaps = chart.paints.slice(1).map((p, i) => p.at - chart.paints[i].at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(scheduler.DATA_REPAINT_MS / 2);
  });

  it('paints what the user changed in the next frame, not at the tick', () => {
    const chart = fakeChart(scheduler);
    vi.advanceTimersByTime(scheduler.untilNextTick() + 10);
    const asked = performance.now();
    chart.dirt = 'user';
    scheduler.requestPaint();
    vi.advanceTimersByTime(17);
    expect(chart.paints).toEqual([{ at: asked + 16, dirt: 'user' }]);
  });

  it('runs every callback waiting for a tick in one task at that tick, once however often it was asked', () => {
    const order: string[] = [];
    const first = () => order.push(`first ${performance.now()}`);
    const second = () => order.push(`second ${performance.now()}`);
    vi.advanceTimersByTime(scheduler.untilNextTick() + 30);
    const tickAt = performance.now() + scheduler.untilNextTick();
    scheduler.atNextTick(first);
    scheduler.atNextTick(first);
    vi.advanceTimersByTime(50);
    scheduler.atNextTick(second);
    vi.advanceTimersByTime(tickAt - performance.now());
    expect(order).toEqual([`first ${tickAt}`, `second ${tickAt}`]);
    vi.advanceTimersByTime(1000);
    expect(order).toHaveLength(2);
  });

  it("runs a callback of a longer period at that period's tick, and not one that was cancelled", () => {
    const seen: number[] = [];
    const cancelled = vi.fn();
    vi.advanceTimersByTime(scheduler.untilNextTick(1000) + 100);
    scheduler.atNextTick(() => seen.push(performance.now()), 1000);
    scheduler.atNextTick(cancelled);
    scheduler.cancelTick(cancelled);
    vi.advanceTimersByTime(1000);
    expect(seen).toHaveLength(1);
    expect(seen[0] % 1000).toBe(0);
    expect(cancelled).not.toHaveBeenCalled();
  });
});
