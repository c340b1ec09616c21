/**
 * Colours of the charts. Arms use the Okabe-Ito orange and blue, a pair that stays distinct under
 * every common form of colour blindness and in greyscale (they differ in lightness too).
 */
import { interpolateViridis, rgb } from 'd3';

/** Indexed by arm: 0 = A (no BN by default), 1 = B (BN by default). */
export const ARM_COLORS = ['#E69F00', '#0072B2'] as const;

export const CHART_THEME = {
  text: '#1d2330',
  mutedText: '#5b6273',
  axis: '#8a90a0',
  grid: '#e3e6ec',
  crosshair: '#1d2330',
  readoutBackground: 'rgba(255, 255, 255, 0.9)',
  font: '11px system-ui, sans-serif',
  titleFont: '12px system-ui, sans-serif',
} as const;

/** The colour with its alpha replaced, as a CSS rgba() string. */
export function withAlpha(color: string, alpha: number): string {
  const c = rgb(color);
  c.opacity = alpha;
  return c.formatRgb();
}

/** Entries of a colour lookup table: 256 levels are more than the eye separates in viridis. */
export const LUT_SIZE = 256;

/**
 * RGBA bytes of `interpolate` sampled at LUT_SIZE evenly spaced points of [0, 1], so that filling
 * ImageData costs a table read per pixel instead of a colour interpolation and parse.
 */
export function colorLookupTable(interpolate: (t: number) => string = interpolateViridis): Uint8ClampedArray {
  const table = new Uint8ClampedArray(LUT_SIZE * 4);
  for (let i = 0; i < LUT_SIZE; i++) {
    const c = rgb(interpolate(i / (LUT_SIZE - 1)));
    table[4 * i] = c.r;
    table[4 * i + 1] = c.g;
    table[4 * i + 2] = c.b;
    table[4 * i + 3] = 255;
  }
  return table;
}

/** Entry of a LUT_SIZE table for t in [0, 1]; out-of-range and NaN t clamp to the ends. */
export function lookupIndex(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return LUT_SIZE - 1;
  return Math.round(t * (LUT_SIZE - 1));
}
