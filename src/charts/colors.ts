/**
 * Colours of the charts, in a light and a dark theme. Arms use the Okabe-Ito orange and blue, a
 * pair that stays distinct under every common form of colour blindness and in greyscale (they
 * differ in lightness too); arm B's lines are also dashed, so the arms differ without colour. On
 * the light panel both are darkened until a line keeps WCAG's 3:1 for a chart's graphics (the
 * Okabe-Ito orange is 2.3:1 on white) and the two still differ as much in lightness.
 * A hue bright enough for a line can be too light for text on the same background (the orange
 * on white), so each arm has a text colour of its own per theme, chosen for WCAG's 4.5:1.
 */
import { interpolateViridis, rgb } from 'd3';

export type ColorScheme = 'light' | 'dark';

export interface ChartTheme {
  scheme: ColorScheme;
  /** What a chart paints under everything: the panel's own colour, so the canvas blends in. */
  background: string;
  text: string;
  mutedText: string;
  axis: string;
  grid: string;
  crosshair: string;
  readoutBackground: string;
  /** Indexed by arm: the colour of its lines and bands. */
  armLines: readonly [string, string];
  /** Indexed by arm: the colour of text written in its colour (readouts, "diverged" marks). */
  armText: readonly [string, string];
  font: string;
  titleFont: string;
}

const FONT = '11px system-ui, sans-serif';
const TITLE_FONT = '12px system-ui, sans-serif';

export const LIGHT_THEME: ChartTheme = {
  scheme: 'light',
  background: '#ffffff',
  text: '#1d2330',
  mutedText: '#5b6273',
  axis: '#8a90a0',
  grid: '#e3e6ec',
  crosshair: '#1d2330',
  readoutBackground: 'rgba(255, 255, 255, 0.9)',
  armLines: ['#D17A00', '#005C94'],
  armText: ['#8f5e00', '#005C94'],
  font: FONT,
  titleFont: TITLE_FONT,
};

export const DARK_THEME: ChartTheme = {
  scheme: 'dark',
  background: '#1b2029',
  text: '#e6e8ee',
  mutedText: '#a9b0bf',
  axis: '#6c7383',
  grid: '#2c323d',
  crosshair: '#e6e8ee',
  readoutBackground: 'rgba(27, 32, 41, 0.92)',
  // Okabe-Ito's sky blue: the darker blue is too dim a line on a dark panel.
  armLines: ['#E69F00', '#56B4E9'],
  armText: ['#E69F00', '#56B4E9'],
  font: FONT,
  titleFont: TITLE_FONT,
};

/**
 * The theme charts paint with now. A live binding: every importer sees the new theme after
 * setColorScheme, so painting code reads it at paint time rather than keeping a copy.
 */
export let CHART_THEME: ChartTheme = LIGHT_THEME;

/** Indexed by arm: 0 = A (no BN by default), 1 = B (BN by default); follows the theme like CHART_THEME. */
export let ARM_COLORS: readonly [string, string] = LIGHT_THEME.armLines;

/** Line dash per arm: A solid, B dashed, so the two arms differ in print and for the colour-blind. */
export const ARM_DASHES: readonly (readonly number[])[] = [[], [7, 3]];

export function setColorScheme(scheme: ColorScheme): void {
  CHART_THEME = scheme === 'dark' ? DARK_THEME : LIGHT_THEME;
  ARM_COLORS = CHART_THEME.armLines;
}

/** Text in an arm's colour: the theme's text colour for the arm whose line colour this is. */
export function textColorFor(color: string): string {
  const arm = CHART_THEME.armLines.findIndex((line) => line.toLowerCase() === color.toLowerCase());
  return arm >= 0 ? CHART_THEME.armText[arm] : color;
}

/**
 * Runs `paint` with the charts in `scheme`, then puts the theme back (also if it throws): a file
 * for a slide or a paper is printed in the light theme whatever the page shows.
 */
export function withColorScheme<T>(scheme: ColorScheme, paint: () => T): T {
  const previous = CHART_THEME.scheme;
  setColorScheme(scheme);
  try {
    return paint();
  } finally {
    setColorScheme(previous);
  }
}

/** Paints the chart's background over the whole canvas (instead of leaving it transparent). */
export function paintBackground(ctx: CanvasRenderingContext2D, width: number, height: number): void {
  ctx.fillStyle = CHART_THEME.background;
  ctx.fillRect(0, 0, width, height);
}

/**
 * Follows the system's `prefers-color-scheme`: sets the theme now and whenever it changes, and
 * calls `changed` after a change so that the charts repaint. Returns the unsubscribe function.
 */
export function followColorScheme(changed: () => void): () => void {
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const apply = () => setColorScheme(query.matches ? 'dark' : 'light');
  apply();
  const onChange = () => {
    apply();
    changed();
  };
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

/** WCAG 2's relative luminance of an opaque colour. */
export function relativeLuminance(color: string): number {
  const c = rgb(color);
  const channel = (value: number) => {
    const v = value / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

/** WCAG 2's contrast ratio of two opaque colours, from 1 to 21; text needs 4.5. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** A translucent colour over an opaque background, as the eye sees it (for contrast checks). */
export function composite(color: string, background: string): string {
  const top = rgb(color);
  const bottom = rgb(background);
  const a = top.opacity;
  return rgb(top.r * a + bottom.r * (1 - a), top.g * a + bottom.g * (1 - a), top.b * a + bottom.b * (1 - a)).formatHex();
}

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
