import { describe, expect, it } from 'vitest';
import { armLegendLabel, divergedLabel, layoutLegend, symbolWidth } from './legend';

describe('legend', () => {
  it('labels an arm by the caller’s label, and adds the step where it diverged', () => {
    expect(armLegendLabel('A: no BN', null)).toBe('A: no BN');
    expect(armLegendLabel('A: no BN', 12_300)).toBe('A: no BN (diverged at step 12,300)');
    expect(divergedLabel(950)).toBe('diverged at step 950');
  });

  it('lays items out left to right and wraps to a new row when the row is full', () => {
    const placed = layoutLegend([60, 60, 60], 10, 150, 0);
    expect(placed[0].x).toBe(10);
    expect(placed[1].x).toBeGreaterThan(70);
    expect(placed[1].y).toBe(placed[0].y);
    expect(placed[2].x).toBe(10);
    expect(placed[2].y).toBeGreaterThan(placed[0].y);
  });

  it('never wraps before the first item of a row, however wide', () => {
    const placed = layoutLegend([500], 10, 150, 0);
    expect(placed[0]).toEqual({ x: 10, y: placed[0].y });
  });

  it('gives headings no symbol room', () => {
    expect(symbolWidth({ kind: 'none' })).toBe(0);
    expect(symbolWidth({ kind: 'line', color: 'red' })).toBeGreaterThan(0);
  });
});
