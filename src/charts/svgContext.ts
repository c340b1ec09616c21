/**
 * A drawing context that writes SVG: the part of CanvasRenderingContext2D the line and band charts
 * draw with (paths, text, rectangles, dashes, clipping, translate/rotate), so their one drawing
 * function gives the canvas on the page and a vector file with the same axes, legend and title.
 * Path strings come from d3-path, as d3-shape's generators would write them.
 */
import { path as d3Path, type Path } from 'd3';

interface DrawState {
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  lineJoin: CanvasLineJoin;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  dash: number[];
  globalAlpha: number;
  /** SVG transform list, outermost first. */
  transform: string;
  clipId: string | null;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

const ANCHOR: Record<CanvasTextAlign, string> = { left: 'start', start: 'start', center: 'middle', right: 'end', end: 'end' };
const BASELINE: Partial<Record<CanvasTextBaseline, string>> = { middle: 'central', top: 'hanging', bottom: 'text-after-edge', alphabetic: 'alphabetic' };

export class SvgContext {
  private state: DrawState = {
    fillStyle: '#000',
    strokeStyle: '#000',
    lineWidth: 1,
    lineJoin: 'miter',
    font: '10px sans-serif',
    textAlign: 'start',
    textBaseline: 'alphabetic',
    dash: [],
    globalAlpha: 1,
    transform: '',
    clipId: null,
  };
  private readonly stack: DrawState[] = [];
  private readonly body: string[] = [];
  private readonly defs: string[] = [];
  private current: Path = d3Path();
  private clips = 0;

  /** `measure` measures text as the page's canvas would, so labels are placed the same. */
  constructor(
    readonly width: number,
    readonly height: number,
    private readonly measure: (text: string, font: string) => number,
  ) {}

  get fillStyle(): string {
    return this.state.fillStyle;
  }
  set fillStyle(value: string) {
    this.state.fillStyle = String(value);
  }
  get strokeStyle(): string {
    return this.state.strokeStyle;
  }
  set strokeStyle(value: string) {
    this.state.strokeStyle = String(value);
  }
  get lineWidth(): number {
    return this.state.lineWidth;
  }
  set lineWidth(value: number) {
    this.state.lineWidth = value;
  }
  get lineJoin(): CanvasLineJoin {
    return this.state.lineJoin;
  }
  set lineJoin(value: CanvasLineJoin) {
    this.state.lineJoin = value;
  }
  get font(): string {
    return this.state.font;
  }
  set font(value: string) {
    this.state.font = value;
  }
  get textAlign(): CanvasTextAlign {
    return this.state.textAlign;
  }
  set textAlign(value: CanvasTextAlign) {
    this.state.textAlign = value;
  }
  get textBaseline(): CanvasTextBaseline {
    return this.state.textBaseline;
  }
  set textBaseline(value: CanvasTextBaseline) {
    this.state.textBaseline = value;
  }
  get globalAlpha(): number {
    return this.state.globalAlpha;
  }
  set globalAlpha(value: number) {
    this.state.globalAlpha = value;
  }

  save(): void {
    this.stack.push({ ...this.state, dash: [...this.state.dash] });
  }
  restore(): void {
    const state = this.stack.pop();
    if (state) this.state = state;
  }
  setLineDash(segments: number[]): void {
    this.state.dash = [...segments];
  }
  getLineDash(): number[] {
    return [...this.state.dash];
  }
  translate(x: number, y: number): void {
    this.state.transform += ` translate(${x} ${y})`;
  }
  rotate(angle: number): void {
    this.state.transform += ` rotate(${(angle * 180) / Math.PI})`;
  }
  /** The page's canvas scales by its pixel ratio; a vector file has none. */
  setTransform(): void {}

  beginPath(): void {
    this.current = d3Path();
  }
  moveTo(x: number, y: number): void {
    this.current.moveTo(x, y);
  }
  lineTo(x: number, y: number): void {
    this.current.lineTo(x, y);
  }
  closePath(): void {
    this.current.closePath();
  }
  arc(x: number, y: number, r: number, a0: number, a1: number, ccw?: boolean): void {
    this.current.arc(x, y, r, a0, a1, ccw);
  }
  rect(x: number, y: number, w: number, h: number): void {
    this.current.rect(x, y, w, h);
  }
  bezierCurveTo(x1: number, y1: number, x2: number, y2: number, x: number, y: number): void {
    this.current.bezierCurveTo(x1, y1, x2, y2, x, y);
  }
  quadraticCurveTo(x1: number, y1: number, x: number, y: number): void {
    this.current.quadraticCurveTo(x1, y1, x, y);
  }

  clip(): void {
    const id = `clip${++this.clips}`;
    this.defs.push(`<clipPath id="${id}"><path d="${this.current.toString()}"${this.transformAttribute()}/></clipPath>`);
    this.state.clipId = id;
  }

  fill(): void {
    const d = this.current.toString();
    if (d) this.emit(`<path d="${d}" fill="${escapeXml(this.state.fillStyle)}"${this.alpha('fill')}/>`);
  }

  stroke(): void {
    const d = this.current.toString();
    if (d) this.emit(`<path d="${d}" fill="none"${this.strokeAttributes()}/>`);
  }

  fillRect(x: number, y: number, w: number, h: number): void {
    this.emit(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${escapeXml(this.state.fillStyle)}"${this.alpha('fill')}/>`);
  }

  strokeRect(x: number, y: number, w: number, h: number): void {
    this.emit(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none"${this.strokeAttributes()}/>`);
  }

  /** A vector file starts empty: nothing to clear. */
  clearRect(): void {}

  fillText(text: string, x: number, y: number): void {
    const { font, textAlign, textBaseline, fillStyle } = this.state;
    this.emit(
      `<text x="${x}" y="${y}" style="font: ${escapeXml(font)}" text-anchor="${ANCHOR[textAlign]}" dominant-baseline="${BASELINE[textBaseline] ?? 'alphabetic'}" fill="${escapeXml(fillStyle)}"${this.alpha('fill')}>${escapeXml(text)}</text>`,
    );
  }

  measureText(text: string): TextMetrics {
    return { width: this.measure(text, this.state.font) } as TextMetrics;
  }

  /** The document, `title` as its accessible name. */
  toString(title: string): string {
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" role="img">` +
      `<title>${escapeXml(title)}</title><defs>${this.defs.join('')}</defs>` +
      `<rect width="100%" height="100%" fill="#fff"/>${this.body.join('')}</svg>`
    );
  }

  private emit(element: string): void {
    const transform = this.transformAttribute();
    const clip = this.state.clipId ? ` clip-path="url(#${this.state.clipId})"` : '';
    this.body.push(transform || clip ? `<g${transform}${clip}>${element}</g>` : element);
  }

  private transformAttribute(): string {
    return this.state.transform ? ` transform="${this.state.transform.trim()}"` : '';
  }

  private alpha(kind: 'fill' | 'stroke'): string {
    return this.state.globalAlpha < 1 ? ` ${kind}-opacity="${this.state.globalAlpha}"` : '';
  }

  private strokeAttributes(): string {
    const { strokeStyle, lineWidth, lineJoin, dash } = this.state;
    const dashes = dash.length > 0 ? ` stroke-dasharray="${dash.join(' ')}"` : '';
    return ` stroke="${escapeXml(strokeStyle)}" stroke-width="${lineWidth}" stroke-linejoin="${lineJoin}"${dashes}${this.alpha('stroke')}`;
  }
}

/** The context as the charts' drawing functions take it. */
export function asCanvasContext(svg: SvgContext): CanvasRenderingContext2D {
  return svg as unknown as CanvasRenderingContext2D;
}
