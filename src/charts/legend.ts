/**
 * Legends: a row of symbol + label entries above the plot area, wrapping when the row is full.
 */
import { CHART_THEME, withAlpha } from './colors';
import { formatStepExact, type PlotArea } from './axes';

export type LegendSymbol =
  | { kind: 'line'; color: string; width?: number; dash?: number[] }
  | { kind: 'band'; color: string; opacity: number }
  | { kind: 'cross'; color: string }
  /** Light stripes on dark: the heatmap's end rows, which hold the clamped values. */
  | { kind: 'hatch' }
  /** A heading: the label alone. */
  | { kind: 'none' };

export interface LegendItem {
  label: string;
  symbol: LegendSymbol;
}

const SYMBOL_WIDTH = 16;
const SYMBOL_GAP = 4;
const ITEM_GAP = 14;
const ROW_HEIGHT = 15;

export interface LegendPlacement {
  x: number;
  /** Middle of the row. */
  y: number;
}

/** Room an item's symbol takes before its label. */
export function symbolWidth(symbol: LegendSymbol): number {
  return symbol.kind === 'none' ? 0 : SYMBOL_WIDTH + SYMBOL_GAP;
}

/**
 * Where each item goes when laid out left to right from `left`, wrapping before `right`, rows
 * growing down from `top`. `itemWidths` are symbol plus measured label widths in CSS pixels.
 */
export function layoutLegend(itemWidths: readonly number[], left: number, right: number, top: number): LegendPlacement[] {
  const placements: LegendPlacement[] = [];
  let x = left;
  let row = 0;
  for (const itemWidth of itemWidths) {
    if (x > left && x + itemWidth > right) {
      x = left;
      row++;
    }
    placements.push({ x, y: top + row * ROW_HEIGHT + ROW_HEIGHT / 2 });
    x += itemWidth + ITEM_GAP;
  }
  return placements;
}

/** An arm's entry: its label, and when it diverged, the step. */
export function armLegendLabel(label: string, divergedStep: number | null): string {
  return divergedStep === null ? label : `${label} (diverged at step ${formatStepExact(divergedStep)})`;
}

export function divergedLabel(step: number): string {
  return `diverged at step ${formatStepExact(step)}`;
}

function drawSymbol(ctx: CanvasRenderingContext2D, symbol: LegendSymbol, x: number, y: number): void {
  switch (symbol.kind) {
    case 'line':
      ctx.strokeStyle = symbol.color;
      ctx.lineWidth = symbol.width ?? 2;
      ctx.setLineDash(symbol.dash ?? []);
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + SYMBOL_WIDTH, y);
      ctx.stroke();
      ctx.setLineDash([]);
      break;
    case 'band':
      ctx.fillStyle = withAlpha(symbol.color, symbol.opacity);
      ctx.fillRect(x, y - 5, SYMBOL_WIDTH, 10);
      break;
    case 'cross':
      drawCross(ctx, x + SYMBOL_WIDTH / 2, y, 4, symbol.color);
      break;
    case 'hatch':
      ctx.fillStyle = '#3b528b';
      ctx.fillRect(x, y - 5, SYMBOL_WIDTH, 10);
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, y - 5, SYMBOL_WIDTH, 10);
      ctx.clip();
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let k = -10; k < SYMBOL_WIDTH; k += 5) {
        ctx.moveTo(x + k, y + 5);
        ctx.lineTo(x + k + 10, y - 5);
      }
      ctx.stroke();
      ctx.restore();
      break;
    case 'none':
      break;
  }
}

/** An x mark, the sign of a diverged arm. */
export function drawCross(ctx: CanvasRenderingContext2D, x: number, y: number, radius: number, color: string): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x - radius, y - radius);
  ctx.lineTo(x + radius, y + radius);
  ctx.moveTo(x + radius, y - radius);
  ctx.lineTo(x - radius, y + radius);
  ctx.stroke();
}

/** Draws the items in the margin above the plot area. */
export function drawLegend(ctx: CanvasRenderingContext2D, items: readonly LegendItem[], area: PlotArea): void {
  ctx.save();
  ctx.font = CHART_THEME.font;
  const widths = items.map((item) => symbolWidth(item.symbol) + ctx.measureText(item.label).width);
  const placements = layoutLegend(widths, area.left, area.right, 4);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  items.forEach((item, i) => {
    const { x, y } = placements[i];
    drawSymbol(ctx, item.symbol, x, y);
    ctx.fillStyle = CHART_THEME.text;
    ctx.fillText(item.label, x + symbolWidth(item.symbol), y);
  });
  ctx.restore();
}
