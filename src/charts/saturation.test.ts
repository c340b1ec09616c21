import { describe, expect, it } from 'vitest';
import { SATURATION_AXIS, saturationReadout } from './saturation';

describe('saturation', () => {
  it("reads each arm's latest share of saturated units in percent, with its step", () => {
    const text = saturationReadout([
      { label: 'A: no BN', steps: new Float64Array([0, 100, 1200]), saturation: new Float32Array([0.5, 0.3, 0.1234]) },
      { label: 'B: BN on all', steps: new Float64Array([0, 100]), saturation: new Float32Array([0.5, 0]) },
    ]);
    expect(text).toBe('Units saturated: A: no BN 12.3% at step 1,200; B: BN on all 0% at step 100');
  });

  it('says nothing before the first record, and leaves out an arm without one', () => {
    expect(saturationReadout([{ label: 'A', steps: new Float64Array(0), saturation: new Float32Array(0) }])).toBeNull();
    expect(
      saturationReadout([
        { label: 'A', steps: new Float64Array(0), saturation: new Float32Array(0) },
        { label: 'B', steps: new Float64Array([0]), saturation: new Float32Array([1]) },
      ]),
    ).toBe('Units saturated: B 100% at step 0');
  });

  it('reads the record nearest a given step, leaving out an arm whose records do not reach it', () => {
    const arms = [
      { label: 'A', steps: new Float64Array([0, 100, 200]), saturation: new Float32Array([0.5, 0.25, 0.1]) },
      { label: 'B', steps: new Float64Array([0, 100]), saturation: new Float32Array([0.5, 0]) },
    ];
    expect(saturationReadout(arms, 90)).toBe('Units saturated: A 25% at step 100; B 0% at step 100');
    expect(saturationReadout(arms, 200)).toBe('Units saturated: A 10% at step 200');
  });

  it('titles its axis as a percentage of units', () => {
    expect(SATURATION_AXIS.title).toBe('units saturated (%)');
    expect(SATURATION_AXIS.format(0.25)).toBe('25');
  });
});
