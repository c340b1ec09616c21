/**
 * The page leads with the paper's Figure 1: its three charts and Play above the fold on a laptop,
 * first on a phone, and one step cursor that the keyboard moves and that the "now" histograms and
 * the readout follow.
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ACTION_TIMEOUT_MS, screenshot, useBrowserApp } from './harness';

const FIGURE_CHARTS = ['chart-accuracy', 'chart-figure1-b', 'chart-figure1-c'];
/** A small network recorded every 10 steps: many records within a second or two. */
const SMALL = '?units=32&probe=200&every=10';
const WAIT = { timeout: ACTION_TIMEOUT_MS, polling: 50 };

function figure1(page: Page): Locator {
  return page.getByRole('region', { name: /Figure 1/ });
}

async function play(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Play', exact: true }).click();
}

async function waitForStep(page: Page, atLeast: number): Promise<void> {
  await page.waitForFunction((min) => Number(document.querySelector('[data-testid=step]')!.textContent) >= min, atLeast, WAIT);
}

async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

async function waitForText(page: Page, testId: string, pattern: RegExp): Promise<string> {
  await page.waitForFunction(
    ([id, source]) => new RegExp(source).test(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
    [testId, pattern.source] as const,
    WAIT,
  );
  return textOf(page, testId);
}

describe('Figure 1 at the top of the page', () => {
  const lab = useBrowserApp();

  it('at 1280x720 shows its three charts and the Play button without scrolling, and they receive data after Play', async () => {
    const viewport = { width: 1280, height: 720 };
    const { page, errors } = await lab.open('', { viewport });
    const region = figure1(page);
    await region.waitFor({ state: 'visible' });
    expect(await region.getByRole('heading', { level: 2 }).textContent()).toMatch(/^Figure 1: /);
    const within = async (locator: Locator) => {
      const box = (await locator.boundingBox())!;
      return box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;
    };
    const playButton = page.getByRole('button', { name: 'Play', exact: true });
    expect(await within(playButton)).toBe(true);
    for (const id of FIGURE_CHARTS) {
      expect(await within(page.getByTestId(id)), id).toBe(true);
      expect(await region.getByTestId(id).count(), id).toBe(1);
      // The workers send their step-0 record as soon as the digits are in, Play or not.
      expect(await textOf(page, `${id}-text`), id).toMatch(/no data yet|at step 0 \(latest\)/);
    }

    await play(page);
    expect(await waitForText(page, 'chart-accuracy-text', /A: no BN \d+\.\d%, B: BN on all \d+\.\d%/)).toMatch(/\(latest\)/);
    for (const id of ['chart-figure1-b', 'chart-figure1-c']) {
      expect(await waitForText(page, `${id}-text`, /latest\): −?[\d.]+\/−?[\d.]+\/−?[\d.]+\.$/), id).toMatch(/layer 3, unit 0/);
    }
    await page.waitForTimeout(5000);
    await screenshot(page, 'figure1-1280x720');
    expect(errors).toEqual([]);
  });

  it('names the arms and what each normalizes from the config, in the captions and the lede', async () => {
    const { page } = await lab.open('?bnA=1,1,0&bnB=0,0,1');
    const region = figure1(page);
    await region.waitFor({ state: 'visible' });
    const captions = await region.locator('figcaption').allTextContents();
    expect(captions[1]).toMatch(/^\(b\) Arm A: BN on 1, 2: Wx \+ b, layer 3, unit 0$/);
    expect(captions[2]).toMatch(/^\(c\) Arm B: BN on 3: BN\(Wx\), layer 3, unit 0$/);
    expect(await page.locator('.lede').textContent()).toMatch(/Arm A: BN on 1, 2; arm B: BN on 3\./);
    expect(await region.locator('.look-for').textContent()).toMatch(/In \(b\), arm A, without BN on the last layer, .* in \(c\), arm B, with BN, they hold/);
    expect(await region.getByRole('link', { name: /Ioffe & Szegedy/ }).getAttribute('href')).toBe('https://arxiv.org/abs/1502.03167');
  });

  it('says that (b) and (c) should move alike when both arms normalize the last layer', async () => {
    const { page } = await lab.open('?bnA=1,1,1&bnB=2,2,2');
    expect(await page.getByTestId('test-digits-note').textContent()).toMatch(
      /live 2,000 of MNIST's 10,000 test digits at every record; every 1,000 steps a record also scores all 10,000/,
    );
    const lookFor = figure1(page).locator('.look-for');
    await lookFor.waitFor({ state: 'visible' });
    expect(await lookFor.textContent()).toMatch(/both arms normalize the last hidden layer, so \(b\) and\s+\(c\) should move alike/);
    expect(await figure1(page).locator('figcaption').allTextContents()).toEqual([
      '(a) Test accuracy, both arms',
      '(b) Arm A: BN on all: BN(Wx), layer 3, unit 0',
      '(c) Arm B: noisy BN on all: BN(Wx) + ε, layer 3, unit 0',
    ]);
  });

  it('moves the step cursor with the keys of a focused chart: the "now" histograms and the readout follow it, Escape goes back to the latest', async () => {
    // Tall enough that the layer panels paint too (charts out of view do not).
    const { page, errors } = await lab.open(SMALL, { viewport: { width: 1280, height: 3000 } });
    await play(page);
    await waitForStep(page, 60);
    const readout = page.getByTestId('cursor-readout');
    expect(await readout.getAttribute('aria-live')).toBe('polite');
    expect(await readout.textContent()).toMatch(/^The charts show the latest record/);
    expect(await waitForText(page, 'chart-histogram-0-text', /\(latest\)/)).toMatch(/at step \d+ \(latest\)/);

    const chart = page.getByTestId('chart-accuracy');
    await chart.focus();
    await page.keyboard.press('Home');
    expect(await waitForText(page, 'cursor-readout', /^Step 0:/)).toMatch(
      /^Step 0: test accuracy A: no BN \d+\.\d%, B: BN on all \d+\.\d%\. Layer 3, unit 0, input to the sigmoid, 15th\/50th\/85th percentiles: A \S+\/\S+\/\S+, B \S+\/\S+\/\S+\.$/,
    );
    expect(await waitForText(page, 'chart-histogram-0-text', /step 0 \(step cursor\)/)).toMatch(/A: no BN: most values from/);
    expect(await waitForText(page, 'chart-histogram-2-text', /step 0 \(step cursor\)/)).toMatch(/layer 3/);
    await page.keyboard.press('ArrowRight');
    await waitForText(page, 'cursor-readout', /^Step 10:/);
    await waitForText(page, 'chart-histogram-0-text', /step 10 \(step cursor\)/);
    expect(await page.getByRole('slider', { name: 'Step' }).getAttribute('aria-valuetext')).toBe('step 10');
    await page.keyboard.press('ArrowLeft');
    await waitForText(page, 'cursor-readout', /^Step 0:/);

    // The cursor is one: the band chart of a layer panel reads the same step.
    expect(await waitForText(page, 'chart-bands-0-B-text', /step 0 \(step cursor\)/)).toMatch(/layer 1, unit 0/);

    await page.keyboard.press('Escape');
    await waitForText(page, 'cursor-readout', /^The charts show the latest record/);
    expect(await waitForText(page, 'chart-histogram-0-text', /\(latest\)/)).not.toMatch(/step cursor/);
    expect(errors).toEqual([]);
  });

  it('follows the mouse over a chart and returns to the latest when it leaves; a drag holds the cursor where it ends', async () => {
    const { page } = await lab.open(SMALL);
    await play(page);
    await waitForStep(page, 100);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const box = (await page.getByTestId('chart-figure1-b').boundingBox())!;
    const y = box.y + box.height / 2;
    // The plot area starts after the y axis' margin: its left edge is step 0.
    await page.mouse.move(box.x + 60, y);
    const hovered = await waitForText(page, 'cursor-readout', /^Step \d+:/);
    expect(hovered).toMatch(/^Step (0|10):/);
    await page.mouse.move(box.x + box.width / 2, box.y - 40);
    await waitForText(page, 'cursor-readout', /^The charts show the latest record/);

    await page.mouse.move(box.x + 60, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 20, y, { steps: 5 });
    await page.mouse.up();
    await waitForText(page, 'cursor-readout', /^Step [1-9]\d+:/);
    // The live region speaks at most every 300 ms while dragged: read it once it has caught up with the drag's end.
    let dragged = await textOf(page, 'cursor-readout');
    for (;;) {
      await page.waitForTimeout(400);
      const now = await textOf(page, 'cursor-readout');
      if (now === dragged) break;
      dragged = now;
    }
    expect(dragged).toMatch(/^Step [1-9]\d+:/);
    await page.mouse.move(box.x + box.width / 2, box.y - 40);
    await page.waitForTimeout(500);
    expect(await textOf(page, 'cursor-readout')).toBe(dragged);
  });

  it('moves the step cursor with the Step slider; the Latest button and Reset clear it', async () => {
    const { page } = await lab.open(SMALL);
    await play(page);
    await waitForStep(page, 60);
    const slider = page.getByRole('slider', { name: 'Step' });
    await slider.focus();
    await page.keyboard.press('Home');
    await waitForText(page, 'cursor-readout', /^Step 0:/);
    await page.keyboard.press('ArrowRight');
    await waitForText(page, 'cursor-readout', /^Step 10:/);
    const latest = page.getByRole('button', { name: 'Latest', exact: true });
    await latest.click();
    await waitForText(page, 'cursor-readout', /^The charts show the latest record/);
    expect(await latest.isDisabled()).toBe(true);

    // A new run has other records: Reset lets go of the old run's step.
    await slider.focus();
    await page.keyboard.press('Home');
    await waitForText(page, 'cursor-readout', /^Step 0:/);
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await waitForText(page, 'cursor-readout', /^The charts show the latest record/);
  });

  it('at 390x844 comes before the controls and the per-layer panels', async () => {
    const { page, errors } = await lab.open('', { viewport: { width: 390, height: 844 } });
    const region = figure1(page);
    await region.waitFor({ state: 'visible' });
    const top = async (locator: Locator) => (await locator.boundingBox())!.y;
    const figureTop = await top(region);
    expect(figureTop).toBeLessThan(await top(page.getByRole('region', { name: 'Experiment' })));
    expect(figureTop).toBeLessThan(await top(page.getByRole('region', { name: 'Hidden layer 1: input to the nonlinearity' })));
    expect(figureTop).toBeLessThan(844);
    await play(page);
    await waitForText(page, 'chart-accuracy-text', /\d+\.\d%/);
    await page.waitForTimeout(5000);
    await screenshot(page, 'figure1-390x844');
    expect(errors).toEqual([]);
  });
});
