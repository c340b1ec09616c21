import { describe, expect, it } from 'vitest';
import { applyNoise, drawNoise } from './noise';

/** Per unit j, the mean and standard deviation of column j of rows [m, units]. */
function columnMoments(values: Float32Array, units: number): { mean: number[]; std: number[] } {
  const m = values.length / units;
  const mean = Array.from({ length: units }, (_, j) => values.filter((_, at) => at % units === j).reduce((s, v) => s + v, 0) / m);
  const std = mean.map((mu, j) => Math.sqrt(values.filter((_, at) => at % units === j).reduce((s, v) => s + (v - mu) ** 2, 0) / m));
  return { mean, std };
}

describe('drawNoise, noisy BN as Santurkar et al. define it', () => {
  it('gives every example of the mini-batch its own noise: two examples of one batch differ in every unit', () => {
    const { scale, shift } = drawNoise(['noisy'], 20, 1, 7, 5, 60)[0]!;
    expect(scale).toBeNull();
    expect(shift.length).toBe(60 * 20);
    const first = shift.subarray(0, 20);
    const second = shift.subarray(20, 40);
    first.forEach((value, j) => expect(value).not.toBe(second[j]));
  });

  it('replays from the seed: a pure function of seed and step, another at the next step and under another seed', () => {
    const layers = ['noisy', 'noisy'] as const;
    const step5 = drawNoise(layers, 20, 1, 7, 5, 60);
    expect(drawNoise(layers, 20, 1, 7, 5, 60)).toEqual(step5);
    expect(drawNoise(layers, 20, 1, 7, 6, 60)[0]!.shift).not.toEqual(step5[0]!.shift);
    expect(drawNoise(layers, 20, 1, 8, 5, 60)[0]!.shift).not.toEqual(step5[0]!.shift);
    // Two layers do not share their draws.
    expect(step5[1]!.shift).not.toEqual(step5[0]!.shift);
  });

  it("draws each unit's noise from a distribution whose mean lies in [-n, n] and standard deviation in [0, n], redrawn at every step", () => {
    // 6,000 examples per unit: each unit's sample mean and deviation are its distribution's to about 0.03.
    const units = 50;
    const steps = [0, 1].map((step) => columnMoments(drawNoise(['noisy'], units, 2, 1, step, 6000)[0]!.shift, units));
    for (const { mean, std } of steps) {
      mean.forEach((mu) => expect(Math.abs(mu)).toBeLessThan(2.1));
      std.forEach((sigma) => expect(sigma).toBeLessThan(2.1));
      // Spread over the ranges, not stuck at one value.
      expect(Math.max(...mean) - Math.min(...mean)).toBeGreaterThan(2);
      expect(Math.max(...std) - Math.min(...std)).toBeGreaterThan(1);
    }
    // The distribution moves from one step to the next: that is the shift.
    steps[0].mean.forEach((mu, j) => expect(Math.abs(mu - steps[1].mean[j]) + Math.abs(steps[0].std[j] - steps[1].std[j])).toBeGreaterThan(0.01));
  });

  it('is 0 at strength 0', () => {
    const { shift } = drawNoise(['noisy'], 5, 0, 1, 3, 4)[0]!;
    // -0 where a draw fell below the middle: the same noise.
    expect(shift.every((value) => value === 0)).toBe(true);
  });
});

describe('drawNoise, the shared scheme of links before v4 (noisy-shared)', () => {
  it('draws one scale in [1, 1 + n] and one shift in [-n, n] per unit for the whole mini-batch, spread over those ranges', () => {
    const { scale, shift } = drawNoise(['noisy-shared'], 2000, 2, 1, 0, 60)[0]!;
    expect(scale!.length).toBe(2000);
    expect(shift.length).toBe(2000);
    expect(Math.min(...scale!)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...scale!)).toBeLessThanOrEqual(3);
    expect(Math.min(...shift)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...shift)).toBeLessThanOrEqual(2);
    // 2,000 uniform draws come within 0.05 of both ends of their range.
    expect(Math.max(...scale!)).toBeGreaterThan(2.9);
    expect(Math.min(...shift)).toBeLessThan(-1.9);
  });

  it('draws only for noisy layers, each layer the same whatever the other layers are', () => {
    const mixed = drawNoise(['batchnorm', 'noisy-shared', 'none', 'noisy'], 10, 1, 3, 0, 4);
    expect(mixed[0]).toBeNull();
    expect(mixed[2]).toBeNull();
    expect(mixed[1]).toEqual(drawNoise(['noisy', 'noisy-shared', 'noisy'], 10, 1, 3, 0, 4)[1]);
    expect(mixed[3]).toEqual(drawNoise(['none', 'none', 'none', 'noisy'], 10, 1, 3, 0, 4)[3]);
  });

  it('is the identity at strength 0', () => {
    const { scale, shift } = drawNoise(['noisy-shared'], 5, 0, 1, 3, 4)[0]!;
    expect(Array.from(scale!)).toEqual([1, 1, 1, 1, 1]);
    expect(shift.every((value) => value === 0)).toBe(true);
  });
});

describe('applyNoise', () => {
  it('maps each unit j of every example to y * scale[j] + shift[j], in place', () => {
    const y = Float32Array.from([1, 2, 3, 4]);
    const noise = { scale: Float32Array.from([2, 3]), shift: Float32Array.from([0.5, -1]) };
    expect(applyNoise(y, noise, 2)).toBe(y);
    expect(Array.from(y)).toEqual([2.5, 5, 6.5, 11]);
  });

  it("adds noise drawn per example to its example's row, and to more rows (a record's probe digits) example r mod m's", () => {
    const noise = { scale: null, shift: Float32Array.from([1, 2, 10, 20]) };
    expect(Array.from(applyNoise(new Float32Array(6), noise, 2))).toEqual([1, 2, 10, 20, 1, 2]);
  });
});
