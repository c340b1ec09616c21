import { describe, expect, it } from 'vitest';
import { ACCURACY_AXIS } from './axes';
import { drawBandChart } from './bandChart';
import { ARM_COLORS } from './colors';
import { drawLineChart } from './lineChart';
import { PERCENTILES } from '../training/measures';
import { asCanvasContext, SvgContext } from './svgContext';

const measure = (text: string) => text.length * 6;
const steps = new Float64Array([0, 100, 200, 300]);

function lineSvg(): string {
  const svg = new SvgContext(400, 250, measure);
  drawLineChart(
    asCanvasContext(svg),
    [
      { label: 'A: no BN', color: ARM_COLORS[0], steps, values: new Float64Array([0.1, 0.5, 0.7, 0.8]), divergedStep: null },
      { label: 'B: BN on all', color: ARM_COLORS[1], steps, values: new Float64Array([0.1, 0.8, 0.9, 0.95]), divergedStep: null },
    ],
    { width: 400, height: 250, yAxis: ACCURACY_AXIS, yDomain: [0, 1] },
  );
  return svg.toString('Figure 1(a) & test <accuracy>');
}

describe('SvgContext', () => {
  it("records a line chart's lines as d3-path strings in each arm's colour, with its axes' titles and legend as text", () => {
    const text = lineSvg();
    expect(text).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="400" height="250"/);
    for (const color of ARM_COLORS) expect(text).toMatch(new RegExp(`<path d="M[^"]+L[^"]+" fill="none" stroke="${color}"`));
    for (const label of ['training step', 'test accuracy (%)', 'A: no BN', 'B: BN on all']) expect(text).toContain(`>${label}</text>`);
    expect(text).toContain('<title>Figure 1(a) &#38; test &#60;accuracy&#62;</title>');
  });

  it('clips the plotted lines to the plot area and keeps the rotated y-axis title rotated', () => {
    const text = lineSvg();
    expect(text).toMatch(/<clipPath id="clip1"><path d="M[\d.]+,[\d.]+h[\d.]+v[\d.]+h-[\d.]+Z"\/><\/clipPath>/);
    expect(text).toMatch(/clip-path="url\(#clip1\)"/);
    expect(text).toMatch(/<g transform="[^"]*rotate\(-90\)"[^>]*><text[^>]*>test accuracy \(%\)<\/text>/);
  });

  it("records a band chart's shaded bands as filled paths and its 15th/85th lines dashed", () => {
    const svg = new SvgContext(400, 250, measure);
    const percentiles = PERCENTILES.map((p) => new Float64Array([p / 50 - 1, p / 40 - 1, p / 30 - 1, p / 20 - 1]));
    drawBandChart(
      asCanvasContext(svg),
      { label: 'A: no BN', color: ARM_COLORS[0], steps, percentiles, divergedStep: null },
      { width: 400, height: 250, yDomain: [-1.5, 4.5] },
    );
    const text = svg.toString('bands');
    expect((text.match(/<path d="M[^"]+Z" fill="rgba\(/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/stroke-dasharray="4 2"/);
  });

  it('restores the style and transform saved before', () => {
    const svg = new SvgContext(10, 10, measure);
    svg.fillStyle = 'red';
    svg.save();
    svg.fillStyle = 'blue';
    svg.translate(5, 5);
    svg.restore();
    svg.fillRect(0, 0, 1, 1);
    expect(svg.toString('t')).toContain('<rect x="0" y="0" width="1" height="1" fill="red"/>');
  });
});
