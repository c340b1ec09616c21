/**
 * Exports (issue 10): each chart as PNG at twice its size and, for line and band charts, as SVG;
 * the run as CSV and as the JSON `npm run experiment` writes for the same link, compared with a
 * run of the experiment's code in this (Node) process on the same config and steps.
 */
import { readFile } from 'node:fs/promises';
import type { Download, Page } from 'playwright-core';
import { csvParseRows } from 'd3';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER } from '../../src/training/runJson';
import { experimentRun } from './experimentRun';
import { ACTION_TIMEOUT_MS, useBrowserApp } from './harness';

/** A short run of a small network that finishes within seconds. */
const QUERY = 'steps=30&every=10&santurkar=10&units=16&layers=2&probe=200&seed=3';
const WAIT = { timeout: ACTION_TIMEOUT_MS, polling: 50 };

async function finishedRun(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForFunction(() => document.body.textContent?.includes('Finished'), undefined, WAIT);
}

async function exportFrom(page: Page, menuTestId: string, choice: RegExp): Promise<{ download: Download; bytes: Buffer }> {
  const menu = page.getByTestId(menuTestId);
  await menu.locator('summary').click();
  const downloaded = page.waitForEvent('download');
  // A failed export says why beside the menu: name it rather than time out on the download.
  const failure = menu.getByText(/^Export failed/);
  const failed = failure.waitFor({ timeout: ACTION_TIMEOUT_MS }).then(
    async () => new Error((await failure.textContent()) ?? 'export failed'),
    () => null,
  );
  await menu.getByRole('button', { name: choice }).click();
  const download = await Promise.race([downloaded, failed.then((error) => (error ? Promise.reject(error) : downloaded))]);
  // A copy to look at, beside the screenshots.
  await download.saveAs(`artifacts/exports/${download.suggestedFilename()}`);
  return { download, bytes: await readFile(await download.path()) };
}

/** Walks both JSON values: same shape and keys, same strings and nulls; the numbers that are not bit-equal, by path. */
function compareRuns(page: unknown, cli: unknown, path = '', out = { differing: [] as { path: string; page: number; cli: number }[], numbers: 0 }) {
  if (typeof cli === 'number' && typeof page === 'number') {
    out.numbers++;
    if (!Object.is(page, cli)) out.differing.push({ path, page, cli });
  } else if (cli !== null && typeof cli === 'object') {
    expect(page !== null && typeof page === 'object', path).toBe(true);
    expect(Object.keys(page as object).sort(), path).toEqual(Object.keys(cli).sort());
    for (const [key, value] of Object.entries(cli)) compareRuns((page as Record<string, unknown>)[key], value, `${path}.${key}`, out);
  } else expect(page, path).toEqual(cli);
  return out;
}

describe('export', () => {
  const lab = useBrowserApp();

  it('downloads the run as CSV (header, one row per number) and as the JSON the CLI writes for the same link', async () => {
    const { page, errors } = await lab.open(`/?${QUERY}`);
    await finishedRun(page);

    const csv = await exportFrom(page, 'export-run', /^CSV/);
    expect(csv.download.suggestedFilename()).toBe('covariate-shift-lab_seed=3_steps=30_layers=2_units=16_every=10_santurkar=10_probe=200_step-30.csv');
    const rows = csvParseRows(csv.bytes.toString('utf8'));
    expect(rows[0]).toEqual([...CSV_HEADER]);
    // Per record: loss, the two accuracies, the inference gap's three, the landscape's five, then 2 layers of two 51-number distributions, saturation and ICS's two.
    expect(rows.length - 1).toBe(2 * 4 * (11 + 2 * (2 * 51 + 3)));
    expect(rows[1].slice(0, 4)).toEqual(['A', '0', '', 'loss']);

    const json = await exportFrom(page, 'export-run', /^JSON/);
    expect(json.download.suggestedFilename()).toMatch(/_step-30\.json$/);
    const fromPage = JSON.parse(json.bytes.toString('utf8'));
    expect(fromPage.arms.map((arm: { records: { step: number }[] }) => arm.records.map((r) => r.step))).toEqual([
      [0, 10, 20, 30],
      [0, 10, 20, 30],
    ]);
    const fromCli = (await experimentRun(QUERY)).json;
    const { differing, numbers } = compareRuns(fromPage, fromCli);
    expect(numbers).toBeGreaterThan(1000);
    // The browser's V8 and Node's may round a transcendental function differently in the last bit;
    // everything else (config, counts, steps, histograms) must be equal exactly.
    expect(
      differing.filter((d) => !(Math.abs(d.page - d.cli) <= 1e-12 * Math.max(1, Math.abs(d.cli)))),
      'beyond 1e-12',
    ).toEqual([]);
    expect(differing.length, 'numbers not bit-equal').toBeLessThanOrEqual(numbers / 100);
    expect(errors).toEqual([]);
  });

  it('downloads a chart as a PNG at twice its size and a line or band chart as an SVG with paths, axes and legend', async () => {
    const { page, errors } = await lab.open(`/?${QUERY}`);
    await finishedRun(page);
    const box = (await page.getByTestId('chart-accuracy').boundingBox())!;

    const png = await exportFrom(page, 'chart-accuracy-export', /^PNG/);
    expect(png.download.suggestedFilename()).toMatch(/^covariate-shift-lab_.*_step-30_accuracy\.png$/);
    expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const width = png.bytes.readUInt32BE(16);
    const height = png.bytes.readUInt32BE(20);
    expect(width).toBe(2 * Math.floor(box.width));
    // The title sits above the chart, so the file is at least twice the chart's height.
    expect(height).toBeGreaterThan(2 * Math.round(box.height));

    const heatmap = page.getByTestId('chart-heatmap-0-A-export');
    await heatmap.getByText('Export', { exact: true }).click();
    expect(await heatmap.getByRole('button', { name: /^SVG/ }).count()).toBe(0);

    for (const id of ['chart-accuracy', 'chart-figure1-b']) {
      const svg = await exportFrom(page, `${id}-export`, /^SVG/);
      expect(svg.download.suggestedFilename()).toMatch(/\.svg$/);
      const summary = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        const texts = Array.from(doc.querySelectorAll('text'), (t) => t.textContent ?? '');
        return {
          parseError: doc.querySelector('parsererror') !== null,
          root: doc.documentElement.nodeName,
          paths: Array.from(doc.querySelectorAll('path'), (p) => p.getAttribute('d') ?? '').filter((d) => d.length > 20).length,
          texts,
          title: doc.querySelector('title')?.textContent ?? '',
        };
      }, svg.bytes.toString('utf8'));
      expect(summary.parseError, id).toBe(false);
      expect(summary.root).toBe('svg');
      expect(summary.paths, id).toBeGreaterThan(2);
      expect(
        summary.texts.some((t) => /step/i.test(t)),
        `${id} x-axis title`,
      ).toBe(true);
      expect(
        summary.texts.some((t) => /^A\b/.test(t)),
        `${id} legend`,
      ).toBe(true);
      expect(summary.title).toMatch(/Figure 1/);
    }
    expect(errors).toEqual([]);
  });

  it('downloads the Figure 1 region as one PNG at 2x: (a), (b), (c) side by side under a title, the settings below', async () => {
    const { page, errors } = await lab.open(`/?${QUERY}`);
    await finishedRun(page);
    const png = await exportFrom(page, 'figure1-export', /^PNG/);
    expect(png.download.suggestedFilename()).toBe('covariate-shift-lab_seed=3_steps=30_layers=2_units=16_every=10_santurkar=10_probe=200_step-30_figure-1.png');
    expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // Three 420-pixel panels, two 12-pixel gaps and 8-pixel margins, at twice the resolution.
    expect(png.bytes.readUInt32BE(16)).toBe(2 * (3 * 420 + 2 * 12 + 2 * 8));
    expect(png.bytes.readUInt32BE(20)).toBeGreaterThan(2 * 250);
    const drawn = await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(image, 0, 0);
      // Each third of the figure holds ink of its own panel: not a blank column of the layout.
      return [0, 1, 2].map((third) => {
        const data = ctx.getImageData(Math.round((third * image.width) / 3), 0, Math.round(image.width / 3), image.height).data;
        let ink = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200) ink++;
        return ink;
      });
    }, png.bytes.toString('base64'));
    for (const ink of drawn) expect(ink).toBeGreaterThan(5000);
    expect(errors).toEqual([]);
  });

  it('prints a chart on white in the light theme while the page shows the dark one, and leaves the page dark', async () => {
    const { page, errors } = await lab.open(`/?${QUERY}`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await finishedRun(page);
    const png = await exportFrom(page, 'chart-accuracy-export', /^PNG/);
    const [paper, darkPanel] = await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(image, 0, 0);
      const { data } = ctx.getImageData(0, 0, image.width, image.height);
      let white = 0;
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245) white++;
        // The dark theme's panel colour, #1b2029.
        if (Math.abs(data[i] - 0x1b) + Math.abs(data[i + 1] - 0x20) + Math.abs(data[i + 2] - 0x29) < 12) dark++;
      }
      return [white / (data.length / 4), dark / (data.length / 4)];
    }, png.bytes.toString('base64'));
    expect(paper).toBeGreaterThan(0.6);
    expect(darkPanel).toBeLessThan(0.01);
    // The chart on the page still paints the dark theme after the export.
    const pagePanel = await page
      .getByTestId('chart-accuracy')
      .evaluate((canvas: HTMLCanvasElement) => [...canvas.getContext('2d')!.getImageData(2, 2, 1, 1).data].slice(0, 3));
    expect(pagePanel).toEqual([0x1b, 0x20, 0x29]);
    expect(errors).toEqual([]);
  });
});
