/**
 * A chart's drawing function run once more for a file: onto a canvas at twice the chart's size
 * for a PNG, or onto an SVG context for a vector file, with the chart's title above it. Files are
 * drawn in the light theme, dark ink on white paper, whatever the page's scheme.
 */
import { asCanvasContext, SvgContext } from '../charts/svgContext';
import { CHART_THEME, withColorScheme } from '../charts/colors';
import type { LabState, LabStore } from '../state/store';
import { exportFileName, latestStep, saveBlob, type ExportChoice } from './exportFiles';

export type Draw = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

/** Resolution of the PNG exports: twice the chart's CSS pixels, sharp on a slide or in print. */
export const PNG_SCALE = 2;
const TITLE_FONT = 'bold 13px system-ui, sans-serif';
const TITLE_LINE = 17;
const PAD = 8;

/** `title` broken into lines that fit `width`. */
export function wrapText(title: string, width: number, measure: (text: string) => number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of title.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && measure(next) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

function measurer(): (text: string, font: string) => number {
  const ctx = document.createElement('canvas').getContext('2d')!;
  return (text, font) => {
    ctx.font = font;
    return ctx.measureText(text).width;
  };
}

function checkSize(width: number, height: number): void {
  if (!(width >= 1 && height >= 1)) throw new Error('the chart has no size yet (is it on screen?)');
}

function drawTitle(ctx: CanvasRenderingContext2D, lines: string[]): void {
  ctx.font = TITLE_FONT;
  ctx.fillStyle = CHART_THEME.text;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  lines.forEach((text, i) => ctx.fillText(text, PAD, PAD + TITLE_LINE * (i + 0.5)));
}

function titleLines(title: string, width: number): string[] {
  const measure = measurer();
  return wrapText(title, width - 2 * PAD, (text) => measure(text, TITLE_FONT));
}

/** The chart as a PNG at PNG_SCALE, on white, its title above it. */
async function chartPng(draw: Draw, width: number, height: number, title: string): Promise<Blob> {
  return canvasBlob(withColorScheme('light', () => chartPage(draw, width, height, title)));
}

function chartPage(draw: Draw, width: number, height: number, title: string): HTMLCanvasElement {
  checkSize(width, height);
  const lines = titleLines(title, width);
  const top = lines.length * TITLE_LINE + 2 * PAD;
  // The chart clears its own rectangle, so it is drawn on its own canvas and then laid on white.
  const chart = document.createElement('canvas');
  chart.width = width * PNG_SCALE;
  chart.height = height * PNG_SCALE;
  const chartCtx = chart.getContext('2d')!;
  chartCtx.setTransform(PNG_SCALE, 0, 0, PNG_SCALE, 0, 0);
  draw(chartCtx, width, height);
  const page = document.createElement('canvas');
  page.width = width * PNG_SCALE;
  page.height = (height + top) * PNG_SCALE;
  const ctx = page.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, page.width, page.height);
  ctx.setTransform(PNG_SCALE, 0, 0, PNG_SCALE, 0, 0);
  drawTitle(ctx, lines);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(chart, 0, top * PNG_SCALE);
  return page;
}

/** The chart as an SVG document, its title above it and as the document's title. */
function chartSvg(draw: Draw, width: number, height: number, title: string): Blob {
  return withColorScheme('light', () => svgDocument(draw, width, height, title));
}

function svgDocument(draw: Draw, width: number, height: number, title: string): Blob {
  checkSize(width, height);
  const lines = titleLines(title, width);
  const top = lines.length * TITLE_LINE + 2 * PAD;
  const svg = new SvgContext(width, height + top, measurer());
  const ctx = asCanvasContext(svg);
  drawTitle(ctx, lines);
  ctx.save();
  ctx.translate(0, top);
  draw(ctx, width, height);
  ctx.restore();
  return new Blob([svg.toString(title)], { type: 'image/svg+xml' });
}

function canvasBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png'),
  );
}

/** The PNG (and, for a vector chart, SVG) choices of a chart's export menu. */
export function chartExportChoices(
  store: LabStore,
  title: string,
  name: string,
  vector: boolean,
  width: { current: number },
  height: number,
  paint: { current: (args: { ctx: CanvasRenderingContext2D; width: number; height: number; state: LabState }) => unknown },
): ExportChoice[] {
  const draw: Draw = (ctx, w, h) => void paint.current({ ctx, width: w, height: h, state: store.getState() });
  const what = name.replace(/^chart-/, '');
  const fileName = (extension: string) => {
    const state = store.getState();
    return exportFileName(state.config, latestStep(state), extension, what);
  };
  const choices: ExportChoice[] = [
    { text: 'PNG', name: `PNG of ${title}`, save: async () => saveBlob(await chartPng(draw, width.current, height, title), fileName('png')) },
  ];
  if (vector) choices.push({ text: 'SVG', name: `SVG of ${title}`, save: async () => saveBlob(chartSvg(draw, width.current, height, title), fileName('svg')) });
  return choices;
}

export interface FigurePanel {
  caption: string;
  draw: Draw;
}

const PANEL_WIDTH = 420;
const PANEL_GAP = 12;

/**
 * Panels side by side as one PNG at PNG_SCALE, as a paper lays out a figure: its title above, each
 * panel's caption above the panel, and `caption` (the run's settings) below.
 */
export async function figurePng(title: string, panels: FigurePanel[], caption: string, panelHeight: number): Promise<Blob> {
  return canvasBlob(withColorScheme('light', () => figurePage(title, panels, caption, panelHeight)));
}

function figurePage(title: string, panels: FigurePanel[], caption: string, panelHeight: number): HTMLCanvasElement {
  const width = PAD * 2 + panels.length * PANEL_WIDTH + (panels.length - 1) * PANEL_GAP;
  const titleRows = titleLines(title, width);
  const measure = measurer();
  const captionFont = `12px system-ui, sans-serif`;
  const captionRows = wrapText(caption, width - 2 * PAD, (text) => measure(text, captionFont));
  const panelCaptions = panels.map((p) => wrapText(p.caption, PANEL_WIDTH, (text) => measure(text, TITLE_FONT)));
  const panelCaptionHeight = Math.max(...panelCaptions.map((rows) => rows.length)) * TITLE_LINE;
  const top = titleRows.length * TITLE_LINE + 2 * PAD;
  const chartTop = top + panelCaptionHeight + 4;
  const height = chartTop + panelHeight + PAD + captionRows.length * 15 + PAD;

  const page = document.createElement('canvas');
  page.width = width * PNG_SCALE;
  page.height = height * PNG_SCALE;
  const ctx = page.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, page.width, page.height);
  ctx.setTransform(PNG_SCALE, 0, 0, PNG_SCALE, 0, 0);
  drawTitle(ctx, titleRows);
  panels.forEach((panel, i) => {
    const left = PAD + i * (PANEL_WIDTH + PANEL_GAP);
    ctx.font = TITLE_FONT;
    ctx.fillStyle = CHART_THEME.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    panelCaptions[i].forEach((text, row) => ctx.fillText(text, left, top + TITLE_LINE * (row + 0.5)));
    const chart = document.createElement('canvas');
    chart.width = PANEL_WIDTH * PNG_SCALE;
    chart.height = panelHeight * PNG_SCALE;
    const chartCtx = chart.getContext('2d')!;
    chartCtx.setTransform(PNG_SCALE, 0, 0, PNG_SCALE, 0, 0);
    panel.draw(chartCtx, PANEL_WIDTH, panelHeight);
    ctx.drawImage(chart, left, chartTop, PANEL_WIDTH, panelHeight);
  });
  ctx.font = captionFont;
  ctx.fillStyle = CHART_THEME.mutedText;
  captionRows.forEach((text, row) => ctx.fillText(text, PAD, chartTop + panelHeight + PAD + 15 * (row + 0.5)));
  return page;
}
