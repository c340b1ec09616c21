/**
 * Classroom mode and the keyboard: `present=1` hides the settings and enlarges Figure 1,
 * `autoplay=1` trains with no click, the Present and Exit presentation buttons set and clear
 * both; Space plays and pauses without scrolling, S takes one step, R resets, `?` lists the keys,
 * and none of them fires while typing in a field.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ACTION_TIMEOUT_MS, artifactsDir, useBrowserApp } from './harness';

const SMALL = 'units=32&probe=200&every=10';
const WAIT = { timeout: ACTION_TIMEOUT_MS, polling: 50 };

async function stepCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('step').textContent());
}

async function waitForStep(page: Page, atLeast: number): Promise<void> {
  await page.waitForFunction((min) => Number(document.querySelector('[data-testid=step]')!.textContent) >= min, atLeast, WAIT);
}

async function waitForStatus(page: Page, status: string): Promise<void> {
  await page.waitForFunction((text) => document.querySelector('.status-bar [role=status]')?.textContent === text, status, WAIT);
}

/** The step once the workers have had time to deliver their last records. */
async function settledStep(page: Page): Promise<number> {
  let before = await stepCount(page);
  for (;;) {
    await page.waitForTimeout(300);
    const now = await stepCount(page);
    if (now === before) return now;
    before = now;
  }
}

/**
 * Height in device pixels of the x axis's tick labels on Figure 1(a): the rows of the bottom
 * margin that hold text-coloured ink.
 */
async function tickLabelHeight(page: Page): Promise<number> {
  return page.getByTestId('chart-accuracy').evaluate((canvas: HTMLCanvasElement) => {
    const { data, width, height } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const rows: number[] = [];
    // Below the plot: the tick labels, then the axis title; the bottom third of the canvas holds both.
    for (let y = Math.floor((height * 2) / 3); y < height; y++) {
      for (let x = Math.floor(width / 4); x < width; x++) {
        const i = 4 * (y * width + x);
        if (data[i + 3] > 0 && data[i] < 120 && data[i + 1] < 120 && data[i + 2] < 140) {
          rows.push(y);
          break;
        }
      }
    }
    // The first run of consecutive inked rows under the plot's bottom line: the tick labels.
    const runs: number[][] = [];
    for (const y of rows) {
      const run = runs.at(-1);
      if (run && y === run.at(-1)! + 1) run.push(y);
      else runs.push([y]);
    }
    const labels = runs.filter((run) => run.length > 3);
    return labels.length > 1 ? labels[labels.length - 2].length : 0;
  });
}

async function chartBox(page: Page): Promise<{ width: number; height: number }> {
  const box = await page.getByTestId('chart-accuracy').boundingBox();
  if (!box) throw new Error('Figure 1(a) has no box');
  return box;
}

describe('classroom mode', () => {
  const lab = useBrowserApp();
  const viewport = { width: 1440, height: 900 };

  it('present=1 hides the settings and enlarges Figure 1; autoplay=1 trains with no click', async () => {
    const normal = await lab.open(`?${SMALL}`, { viewport });
    await normal.page.getByTestId('chart-accuracy').waitFor();
    const normalBox = await chartBox(normal.page);
    expect(await normal.page.getByRole('region', { name: 'Experiment' }).isVisible()).toBe(true);

    const { page, errors } = await lab.open(`?${SMALL}&present=1&autoplay=1`, { viewport });
    await page.getByTestId('chart-accuracy').waitFor();
    expect(await page.getByRole('region', { name: 'Experiment' }).isVisible()).toBe(false);
    expect(await page.getByRole('region', { name: 'The network' }).isVisible()).toBe(false);
    expect(await page.getByRole('group', { name: 'Display options' }).isVisible()).toBe(false);
    const presentedBox = await chartBox(page);
    expect(presentedBox.height).toBeGreaterThan(normalBox.height * 1.5);
    expect(presentedBox.width).toBeGreaterThanOrEqual(normalBox.width);
    // Nobody pressed Play.
    await waitForStatus(page, 'Training');
    await waitForStep(page, 20);
    // Its text grows with it, for the back of the room.
    const [presented, normalText] = [await tickLabelHeight(page), await tickLabelHeight(normal.page)];
    expect(normalText).toBeGreaterThan(4);
    expect(presented).toBeGreaterThan(1.3 * normalText);
    expect(await page.getByRole('button', { name: 'Pause', exact: true }).isVisible()).toBe(true);
    mkdirSync(join(artifactsDir, 'screenshots'), { recursive: true });
    // The viewport, as a projector shows it: a full-page capture resizes the page, which clears the canvases.
    await page.screenshot({ path: join(artifactsDir, 'screenshots', 'classroom-mode.png') });
    expect(errors).toEqual([]);
  });

  it('Present sets both fields in the link and Exit presentation clears them, without restarting the run', async () => {
    const { page, errors } = await lab.open(`?${SMALL}`, { viewport });
    await waitForStatus(page, 'Paused');
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await waitForStep(page, 1);
    await page.getByRole('button', { name: 'Present', exact: true }).click();
    await page.waitForFunction(() => /present=1&autoplay=1/.test(window.location.search), undefined, WAIT);
    expect(await page.getByRole('region', { name: 'Experiment' }).isVisible()).toBe(false);
    expect(await stepCount(page)).toBe(1);
    await page.getByRole('button', { name: 'Exit presentation' }).click();
    await page.waitForFunction(() => !/present|autoplay/.test(window.location.search), undefined, WAIT);
    expect(await page.getByRole('region', { name: 'Experiment' }).isVisible()).toBe(true);
    expect(await stepCount(page)).toBe(1);
    expect(errors).toEqual([]);
  });
});

describe('keyboard shortcuts', () => {
  const lab = useBrowserApp();

  it('Space plays and pauses without scrolling the page; S adds exactly one step; R goes back to step 0', async () => {
    const { page, errors } = await lab.open(`?${SMALL}`, { viewport: { width: 1280, height: 700 } });
    await waitForStatus(page, 'Paused');
    const scrollable = await page.evaluate(() => document.documentElement.scrollHeight > window.innerHeight);
    expect(scrollable).toBe(true);
    await page.keyboard.press('Space');
    await waitForStatus(page, 'Training');
    await waitForStep(page, 20);
    await page.keyboard.press('Space');
    await waitForStatus(page, 'Paused');
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    const paused = await settledStep(page);
    await page.keyboard.press('s');
    await waitForStep(page, paused + 1);
    expect(await settledStep(page)).toBe(paused + 1);
    await page.keyboard.press('.');
    await waitForStep(page, paused + 2);
    expect(await settledStep(page)).toBe(paused + 2);
    await page.keyboard.press('r');
    await page.waitForFunction(() => document.querySelector('[data-testid=step]')!.textContent === '0', undefined, WAIT);
    await waitForStatus(page, 'Paused');
    expect(errors).toEqual([]);
  });

  it('? opens a dialog listing the keys, Escape closes it; the toolbar button opens it too', async () => {
    const { page, errors } = await lab.open(`?${SMALL}`);
    await waitForStatus(page, 'Paused');
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor({ state: 'visible' });
    const text = (await dialog.textContent()) ?? '';
    for (const key of ['Space', 'S', 'R', '?']) expect(text).toContain(key);
    expect(text).toMatch(/Play or pause/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: /Keyboard shortcuts/ }).click();
    await dialog.waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(errors).toEqual([]);
  });

  it('does nothing while typing in a field: S and Space go into the seed box', async () => {
    const { page, errors } = await lab.open(`?${SMALL}`);
    await waitForStatus(page, 'Paused');
    const seed = page.getByLabel('Seed', { exact: true });
    await seed.click();
    await seed.press('End');
    await page.keyboard.type('s ');
    expect(await seed.inputValue()).toBe('1s ');
    await page.waitForTimeout(500);
    expect(await stepCount(page)).toBe(0);
    expect(await page.locator('.status-bar [role=status]').textContent()).toBe('Paused');
    expect(errors).toEqual([]);
  });
});
