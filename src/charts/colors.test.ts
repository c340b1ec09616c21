import { describe, expect, it } from 'vitest';
import { interpolateViridis, rgb } from 'd3';
import { ARM_COLORS, colorLookupTable, LUT_SIZE, lookupIndex, withAlpha } from './colors';

describe('colors', () => {
  it('gives the two arms distinct colours that also differ in lightness (readable in greyscale)', () => {
    const [a, b] = ARM_COLORS.map((c) => rgb(c));
    const luminance = (c: { r: number; g: number; b: number }) => 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    expect(Math.abs(luminance(a) - luminance(b))).toBeGreaterThan(50);
  });

  it('withAlpha keeps the colour and sets its opacity', () => {
    expect(withAlpha('#0072B2', 0.25)).toBe('rgba(0, 114, 178, 0.25)');
  });

  it('samples the interpolator evenly, opaque, from its first to its last colour', () => {
    const table = colorLookupTable(interpolateViridis);
    expect(table.length).toBe(LUT_SIZE * 4);
    const first = rgb(interpolateViridis(0));
    const last = rgb(interpolateViridis(1));
    expect(Array.from(table.subarray(0, 4))).toEqual([first.r, first.g, first.b, 255]);
    expect(Array.from(table.subarray(table.length - 4))).toEqual([last.r, last.g, last.b, 255]);
  });

  it('maps t in [0, 1] to a table entry and clamps NaN and out-of-range t to the ends', () => {
    expect(lookupIndex(0)).toBe(0);
    expect(lookupIndex(1)).toBe(LUT_SIZE - 1);
    expect(lookupIndex(0.5)).toBe(Math.round(0.5 * (LUT_SIZE - 1)));
    expect(lookupIndex(-3)).toBe(0);
    expect(lookupIndex(NaN)).toBe(0);
    expect(lookupIndex(7)).toBe(LUT_SIZE - 1);
  });
});
