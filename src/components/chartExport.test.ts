import { describe, expect, it } from 'vitest';
import { wrapText } from './chartExport';

describe('wrapText', () => {
  const measure = (text: string) => text.length * 7;

  it("breaks a chart's title between words into lines that fit the width", () => {
    const title = 'Figure 1(b): 15th, 50th and 85th percentiles over training steps of the input to the sigmoid';
    const lines = wrapText(title, 200, measure);
    expect(lines.join(' ')).toBe(title);
    for (const line of lines) expect(measure(line)).toBeLessThanOrEqual(200);
    expect(lines.length).toBeGreaterThan(2);
  });

  it('keeps a word longer than the width on a line of its own rather than dropping it', () => {
    expect(wrapText('a verylongwordthatdoesnotfit b', 70, measure)).toEqual(['a', 'verylongwordthatdoesnotfit', 'b']);
  });
});
