import { describe, expect, it } from 'vitest';
import { applyNoise, drawNoise } from './noise';

describe('drawNoise', () => {
  it('is a pure function of seed and step, and differs from one step to the next and between seeds', () => {
    const layers = ['noisy', 'noisy'] as const;
    const step5 = drawNoise(layers, 20, 1, 7, 5);
    expect(drawNoise(layers, 20, 1, 7, 5)).toEqual(step5);
    expect(drawNoise(layers, 20, 1, 7, 6)[0]!.shift).not.toEqual(step5[0]!.shift);
    expect(drawNoise(layers, 20, 1, 8, 5)[0]!.scale).not.toEqual(step5[0]!.scale);
    // Two layers do not share their draws.
    expect(step5[1]!.shift).not.toEqual(step5[0]!.shift);
  });

  it('draws only for noisy layers, each layer the same whatever the other layers are', () => {
    const mixed = drawNoise(['batchnorm', 'noisy', 'none'], 10, 1, 3, 0);
    expect(mixed[0]).toBeNull();
    expect(mixed[2]).toBeNull();
    expect(mixed[1]).toEqual(drawNoise(['noisy', 'noisy', 'noisy'], 10, 1, 3, 0)[1]);
  });

  it('draws scales in [1, 1 + n] and shifts in [-n, n], spread over those ranges', () => {
    const { scale, shift } = drawNoise(['noisy'], 2000, 2, 1, 0)[0]!;
    expect(Math.min(...scale)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...scale)).toBeLessThanOrEqual(3);
    expect(Math.min(...shift)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...shift)).toBeLessThanOrEqual(2);
    // 2,000 uniform draws come within 0.05 of both ends of their range.
    expect(Math.max(...scale)).toBeGreaterThan(2.9);
    expect(Math.min(...shift)).toBeLessThan(-1.9);
  });

  it('is the identity at strength 0', () => {
    const { scale, shift } = drawNoise(['noisy'], 5, 0, 1, 3)[0]!;
    expect(Array.from(scale)).toEqual([1, 1, 1, 1, 1]);
    // -0 where the draw fell below the middle: the same shift.
    expect(shift.every((value) => value === 0)).toBe(true);
  });
});

describe('applyNoise', () => {
  it('maps each unit j of every example to y * scale[j] + shift[j], in place', () => {
    const y = Float32Array.from([1, 2, 3, 4]);
    const noise = { scale: Float32Array.from([2, 3]), shift: Float32Array.from([0.5, -1]) };
    expect(applyNoise(y, noise)).toBe(y);
    expect(Array.from(y)).toEqual([2.5, 5, 6.5, 11]);
  });
});
