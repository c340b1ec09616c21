import { afterEach, describe, expect, it } from 'vitest';
import { interpolateViridis, rgb } from 'd3';
import {
  ARM_COLORS,
  ARM_DASHES,
  CHART_THEME,
  colorLookupTable,
  composite,
  contrastRatio,
  DARK_THEME,
  LIGHT_THEME,
  LUT_SIZE,
  lookupIndex,
  setColorScheme,
  withColorScheme,
  textColorFor,
  withAlpha,
} from './colors';

describe('colors', () => {
  afterEach(() => setColorScheme('light'));

  it('gives the two arms distinct colours that also differ in lightness (readable in greyscale)', () => {
    const [a, b] = LIGHT_THEME.armLines.map((c) => rgb(c));
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

  it('computes WCAG contrast: 21 for black on white, 1 for a colour on itself, the same both ways', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 6);
    expect(contrastRatio('#0072B2', '#0072B2')).toBe(1);
    expect(contrastRatio('#E69F00', '#ffffff')).toBeCloseTo(contrastRatio('#ffffff', '#E69F00'), 12);
    // The arm A orange as text on white, the failure this theme fixes.
    expect(contrastRatio('#E69F00', '#ffffff')).toBeLessThan(2.5);
  });

  it('composites a translucent colour over its background', () => {
    expect(composite('rgba(255, 255, 255, 0.5)', '#000000')).toBe('#808080');
    expect(composite('#123456', '#ffffff')).toBe('#123456');
  });

  for (const theme of [LIGHT_THEME, DARK_THEME]) {
    it(`gives both arms' lines of the ${theme.scheme} theme at least 3:1 on the chart, as WCAG asks of a chart's graphics`, () => {
      for (const line of theme.armLines) expect(contrastRatio(line, theme.background), `${line} on ${theme.background}`).toBeGreaterThanOrEqual(3);
    });

    it(`gives every text colour of the ${theme.scheme} theme at least 4.5:1 on the chart and on the readout box`, () => {
      const readoutBox = composite(theme.readoutBackground, theme.background);
      for (const text of [theme.text, theme.mutedText, ...theme.armText]) {
        expect(contrastRatio(text, theme.background), `${text} on ${theme.background}`).toBeGreaterThanOrEqual(4.5);
        expect(contrastRatio(text, readoutBox), `${text} on ${readoutBox}`).toBeGreaterThanOrEqual(4.5);
      }
    });
  }

  it('paints in another scheme for one call and then puts the theme back, also when the painting throws', () => {
    setColorScheme('dark');
    expect(withColorScheme('light', () => [CHART_THEME.scheme, ARM_COLORS[0]])).toEqual(['light', LIGHT_THEME.armLines[0]]);
    expect(CHART_THEME).toBe(DARK_THEME);
    expect(() =>
      withColorScheme('light', () => {
        throw new Error('no canvas');
      }),
    ).toThrow('no canvas');
    expect(CHART_THEME).toBe(DARK_THEME);
    expect(ARM_COLORS).toEqual(DARK_THEME.armLines);
  });

  it("switches the charts and the arm colours with the colour scheme, and writes arm text in the theme's text colour", () => {
    setColorScheme('dark');
    expect(CHART_THEME).toBe(DARK_THEME);
    expect(ARM_COLORS).toEqual(DARK_THEME.armLines);
    expect(textColorFor(ARM_COLORS[1])).toBe(DARK_THEME.armText[1]);
    setColorScheme('light');
    expect(CHART_THEME).toBe(LIGHT_THEME);
    expect(textColorFor(ARM_COLORS[0])).toBe('#8f5e00');
    expect(textColorFor('#123456')).toBe('#123456');
  });

  it('dashes arm B and only arm B, so the arms differ without colour', () => {
    expect(ARM_DASHES[0]).toEqual([]);
    expect(ARM_DASHES[1].length).toBeGreaterThan(0);
  });
});
