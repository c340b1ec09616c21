import { describe, expect, it } from 'vitest';
import { scaleLinear } from 'd3';
import { hoverText, nearestIndex, stepAtPointer, valuesAtStep } from './hover';

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
});
