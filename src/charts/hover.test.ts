import { describe, expect, it } from 'vitest';
import { scaleLinear } from 'd3';
import { cursorAfterKey, cursorSteps, hoverText, nearestIndex, pageSize, stepAtPointer, valuesAtStep } from './hover';

const steps = new Float64Array([0, 100, 200, 300, 400]);

describe('hover', () => {
  it('finds the nearest recorded step', () => {
    expect(nearestIndex(steps, 0)).toBe(0);
    expect(nearestIndex(steps, 149)).toBe(1);
    expect(nearestIndex(steps, 151)).toBe(2);
    expect(nearestIndex(steps, -50)).toBe(0);
    expect(nearestIndex(steps, 10_000)).toBe(4);
    expect(nearestIndex(new Float64Array(0), 5)).toBe(-1);
    expect(nearestIndex(steps, NaN)).toBe(-1);
  });

  it('maps a pointer x in CSS pixels to the nearest recorded step of any arm', () => {
    const x = scaleLinear().domain([0, 400]).range([50, 450]);
    expect(stepAtPointer(50, x, [steps])).toBe(0);
    expect(stepAtPointer(50 + 260, x, [steps])).toBe(300);
    // Arm B stopped early; past its end the step comes from arm A.
    expect(stepAtPointer(440, x, [new Float64Array([0, 100]), steps])).toBe(400);
    expect(stepAtPointer(100, x, [new Float64Array(0)])).toBeNull();
  });

  it('reads both arms at the hovered step, and no value for an arm that stopped before it', () => {
    const a = { label: 'A: no BN', steps, values: new Float32Array([2.3, 1.2, 0.8, 0.5, 0.4]) };
    const b = { label: 'B: BN on all', steps: steps.subarray(0, 2), values: new Float32Array([2.3, 0.3]) };
    const [atA, atB] = valuesAtStep(300, [a, b]);
    expect(atA).toEqual({ label: 'A: no BN', index: 3, step: 300, value: 0.5 });
    expect(atB.index).toBe(-1);
    expect(Number.isNaN(atB.value)).toBe(true);
    const [earlyA, earlyB] = valuesAtStep(90, [a, b]);
    expect(earlyA.step).toBe(100);
    expect(earlyB.value).toBeCloseTo(0.3, 6);
  });

  it('writes a readout line per arm, with a dash where there is no finite value', () => {
    const format = (v: number) => v.toFixed(2);
    expect(hoverText({ label: 'A', index: 1, step: 100, value: 0.5 }, format)).toBe('A  0.50');
    expect(hoverText({ label: 'B', index: -1, step: NaN, value: NaN }, format)).toBe('B  –');
    expect(hoverText({ label: 'B', index: 2, step: 200, value: NaN }, format)).toBe('B  –');
  });

  it('moves the step cursor over the arm that recorded furthest', () => {
    const short = new Float64Array([0, 100]);
    expect(cursorSteps([short, steps])).toBe(steps);
    expect(cursorSteps([steps, short])).toBe(steps);
    expect(cursorSteps([new Float64Array(0), short])).toBe(short);
    expect(cursorSteps([]).length).toBe(0);
  });

  it('moves the step cursor one record with the arrow keys, from the latest record when it is not set', () => {
    expect(cursorAfterKey('ArrowLeft', steps, null)).toBe(300);
    expect(cursorAfterKey('ArrowRight', steps, null)).toBe(400);
    expect(cursorAfterKey('ArrowLeft', steps, 200)).toBe(100);
    expect(cursorAfterKey('ArrowRight', steps, 200)).toBe(300);
    expect(cursorAfterKey('ArrowDown', steps, 200)).toBe(100);
    expect(cursorAfterKey('ArrowUp', steps, 200)).toBe(300);
    // A cursor between records (the series halved since it was set) moves from the nearest one.
    expect(cursorAfterKey('ArrowRight', steps, 190)).toBe(300);
    expect(cursorAfterKey('ArrowLeft', steps, 0)).toBe(0);
    expect(cursorAfterKey('ArrowRight', steps, 400)).toBe(400);
  });

  it('jumps to the first and last record with Home and End, a tenth of the records with PageUp/PageDown', () => {
    expect(cursorAfterKey('Home', steps, 300)).toBe(0);
    expect(cursorAfterKey('End', steps, 100)).toBe(400);
    const many = Float64Array.from({ length: 101 }, (_, i) => i * 10);
    expect(pageSize(many.length)).toBe(10);
    expect(pageSize(3)).toBe(1);
    expect(cursorAfterKey('PageDown', many, 500)).toBe(400);
    expect(cursorAfterKey('PageUp', many, 500)).toBe(600);
    expect(cursorAfterKey('PageUp', many, 980)).toBe(1000);
    expect(cursorAfterKey('PageDown', many, 30)).toBe(0);
  });

  it('clears the cursor on Escape, and leaves other keys alone', () => {
    expect(cursorAfterKey('Escape', steps, 200)).toBeNull();
    expect(cursorAfterKey('Tab', steps, 200)).toBeUndefined();
    expect(cursorAfterKey('a', steps, null)).toBeUndefined();
    expect(cursorAfterKey('ArrowLeft', new Float64Array(0), null)).toBeNull();
  });
});
