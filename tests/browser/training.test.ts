/**
 * Training in the page: Play trains both arms and feeds every panel, Pause holds, Step takes one
 * step, Reset goes back to step 0, choosing a layer's normalization restarts the run, a diverging arm is reported
 * while the other trains on, and a missing data file stops the run with a way to restart it.
 * Small networks through the link keep each test a few seconds long.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { ACTION_TIMEOUT_MS, screenshot, useBrowserApp } from './harness';

const SMALL = '?units=32&probe=200&every=10';
/** Arm A (no BN) overflows within a few steps; arm B (BN on every layer) trains on. */
const EXPLODING = `${SMALL}&act=relu&lr=100&sigma=10`;
const LAYERS = 3;

const WAIT = { timeout: ACTION_TIMEOUT_MS, polling: 50 };

const CHARTS = [
  'chart-accuracy',
  'chart-figure1-b',
  'chart-figure1-c',
  'chart-loss',
  'chart-gap-training',
  'chart-gap-moving',
  ...Array.from({ length: LAYERS }, (_, layer) => [
    `chart-bands-${layer}-A`,
    `chart-bands-${layer}-B`,
    `chart-histogram-${layer}`,
    `chart-heatmap-${layer}-A`,
    `chart-heatmap-${layer}-B`,
    `chart-saturation-${layer}`,
  ]).flat(),
  // Santurkar et al.'s ICS from the second hidden layer (the first has no layer below it), then their Figure 4.
  ...Array.from({ length: LAYERS - 1 }, (_, i) => [`chart-ics-l2-${i + 1}`, `chart-ics-cosine-${i + 1}`]).flat(),
  'chart-landscape-loss',
  'chart-landscape-gradient',
  'chart-landscape-beta',
];

async function stepCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('step').textContent());
}

async function waitForStep(page: Page, atLeast: number): Promise<void> {
  await page.waitForFunction((min) => Number(document.querySelector('[data-testid=step]')!.textContent) >= min, atLeast, WAIT);
}

/** Both arms are loaded and the run is paused, as the status bar says. */
async function waitUntilPaused(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('.status-bar [role=status]')?.textContent === 'Paused', undefined, WAIT);
}

/** Waits until the step counter holds still for `ms` (results in flight when Pause was pressed may land first). */
async function settledStep(page: Page, ms = 300): Promise<number> {
  let previous = await stepCount(page);
  for (;;) {
    await page.waitForTimeout(ms);
    const now = await stepCount(page);
    if (now === previous) return now;
    previous = now;
  }
}

function button(page: Page, name: string) {
  return page.getByRole('button', { name, exact: true });
}

/** Per chart: how often it was painted, and its pixels. */
async function charts(page: Page): Promise<Record<string, { painted: number; pixels: string }>> {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll<HTMLCanvasElement>('canvas[data-testid^=chart-]')].map((canvas) => [
        canvas.dataset.testid!,
        { painted: Number(canvas.dataset.painted ?? 0), pixels: canvas.toDataURL() },
      ]),
    ),
  );
}

/** Waits until every chart has painted more often than `since` says. */
async function waitForPaints(page: Page, since: Record<string, { painted: number }>): Promise<void> {
  const counts = Object.fromEntries(Object.entries(since).map(([id, chart]) => [id, chart.painted]));
  await page.waitForFunction(
    (painted) =>
      Object.entries(painted).every(([id, count]) => Number(document.querySelector<HTMLElement>(`[data-testid="${id}"]`)!.dataset.painted ?? 0) > count),
    counts,
    WAIT,
  );
}

/** Pixels of a chart drawn in each arm's colour (the light theme's ARM_COLORS: A #D17A00, B #005C94): curves, not just axes. */
async function armPixels(page: Page, testId: string): Promise<[number, number]> {
  return page.evaluate((id) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"]`)!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const near = (i: number, [r, g, b]: number[]) => Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 30;
    const counts: [number, number] = [0, 0];
    for (let i = 0; i < data.length; i += 4) {
      if (near(i, [0xd1, 0x7a, 0x00])) counts[0]++;
      if (near(i, [0x00, 0x5c, 0x94])) counts[1]++;
    }
    return counts;
  }, testId);
}

describe('training in Chromium', () => {
  const lab = useBrowserApp();

  it('Play trains both arms: the step counter rises and every panel keeps receiving new data', async () => {
    // Tall enough from the start for every panel to be on screen: charts out of view do not paint.
    const { page, errors } = await lab.open(SMALL, { viewport: { width: 1280, height: 7200 } });
    await waitUntilPaused(page);
    const ready = await charts(page);
    expect(Object.keys(ready).sort()).toEqual([...CHARTS].sort());
    expect(await page.getByTestId('backend').textContent()).toBe('wasm');

    await button(page, 'Play').click();
    await waitForStep(page, 60);
    await waitForPaints(page, ready);
    const early = await charts(page);
    await waitForStep(page, (await stepCount(page)) + 100);
    await waitForPaints(page, early);
    // A repaint with a record more can leave a chart's pixels as they were (a heatmap column per
    // several records): every chart must change within the wait, not at its first repaint.
    await vi.waitFor(async () => {
      const later = await charts(page);
      expect(CHARTS.filter((id) => later[id].pixels === early[id].pixels)).toEqual([]);
    }, WAIT);

    const [lossA, lossB] = await armPixels(page, 'chart-loss');
    expect(Math.min(lossA, lossB)).toBeGreaterThan(50);
    for (let layer = 0; layer < LAYERS; layer++) {
      expect((await armPixels(page, `chart-bands-${layer}-A`))[0]).toBeGreaterThan(50);
      expect((await armPixels(page, `chart-bands-${layer}-B`))[1]).toBeGreaterThan(50);
      expect(Math.min(...(await armPixels(page, `chart-histogram-${layer}`)))).toBeGreaterThan(20);
    }
    // The rate reads '–' over the first half second of running (too short to mean anything), and
    // the charts above can all change within it on a fast machine: the rate must come, not be there.
    await vi.waitFor(async () => expect(await page.getByTestId('steps-per-second').textContent()).toMatch(/^\d+$/), WAIT);

    await screenshot(page, 'running');
    expect(errors).toEqual([]);
  });

  it('while training, the status bar shows the step several times a second, and a text alternative follows the latest record within two seconds but not at every record', async () => {
    // A record every 2 steps: many more than a text alternative is rewritten for.
    const { page, errors } = await lab.open('?units=32&probe=200&every=2&autoplay=1');
    await waitForStep(page, 20);
    const seen = await page.evaluate(async () => {
      const changes = { start: performance.now(), step: [] as number[], text: [] as number[] };
      const watch = (testId: string, times: number[]) =>
        new MutationObserver(() => times.push(performance.now())).observe(document.querySelector(`[data-testid="${testId}"]`)!, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      watch('step', changes.step);
      watch('chart-accuracy-text', changes.text);
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const text = document.querySelector('[data-testid="chart-accuracy-text"]')!.textContent ?? '';
      const latest = /at step ([\d,]+) \(latest\)/.exec(text)?.[1];
      return {
        ...changes,
        textStep: Number(latest?.replace(/,/g, '')),
        shownStep: Number(document.querySelector('[data-testid="step"]')!.textContent),
        rate: Number(document.querySelector('[data-testid="steps-per-second"]')!.textContent),
      };
    });
    const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);
    // Several times a second: at least 2 changes a second on average, none far apart on a loaded machine.
    expect(seen.step.length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...gaps(seen.step))).toBeLessThan(1500);
    // At most once a second (a late timer may shorten one gap), at least every two seconds.
    expect(seen.text.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...gaps(seen.text))).toBeGreaterThan(500);
    expect(Math.max(...gaps([seen.start, ...seen.text]))).toBeLessThan(2500);
    // The text's latest record is no older than about two seconds of training.
    expect(seen.textStep).toBeGreaterThanOrEqual(seen.shownStep - 2.5 * seen.rate - 4);
    expect(errors).toEqual([]);
  });

  it('Pause holds the step counter, Step adds exactly one step, Reset returns to step 0', async () => {
    const { page, errors } = await lab.open(SMALL);
    await waitUntilPaused(page);
    await button(page, 'Play').click();
    await waitForStep(page, 30);
    await button(page, 'Pause').click();
    await waitUntilPaused(page);
    const paused = await settledStep(page);
    expect(paused).toBeGreaterThanOrEqual(30);
    await page.waitForTimeout(1000);
    expect(await stepCount(page)).toBe(paused);

    await button(page, 'Step').click();
    await waitForStep(page, paused + 1);
    expect(await settledStep(page)).toBe(paused + 1);

    // A chart below the fold paints once scrolled into view, with the run's data so far.
    const lastBands = `chart-bands-${LAYERS - 1}-A`;
    const offscreen = (await charts(page))[lastBands];
    await page.getByTestId(lastBands).scrollIntoViewIfNeeded();
    await waitForPaints(page, { [lastBands]: offscreen });
    expect((await armPixels(page, lastBands))[0]).toBeGreaterThan(50);

    await button(page, 'Reset').click();
    await waitUntilPaused(page);
    expect(await stepCount(page)).toBe(0);
    expect(await button(page, 'Play').isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('one Step from a fresh page shows step 1: the counter reads 1 and the charts have a point at step 1', async () => {
    const { page, errors } = await lab.open(SMALL);
    // Pressed at once, while the data may still be loading: the press is kept, not lost.
    await button(page, 'Step').click();
    await waitForStep(page, 1);
    expect(await settledStep(page)).toBe(1);
    const readout = page.getByTestId('saturation-readout-0');
    // The readout follows the data at the text clock's ticks: the arms' records may land in different ticks.
    await vi.waitFor(
      async () => {
        expect(await readout.getAttribute('data-step')).toBe('1');
        expect(await readout.textContent()).toMatch(/^Units saturated: A: no BN [\d.]+% at step 1; B: BN on all [\d.]+% at step 1$/);
      },
      { timeout: ACTION_TIMEOUT_MS, interval: 50 },
    );
    await vi.waitFor(async () => expect(await page.getByTestId('chart-saturation-0-text').textContent()).toContain('at step 1;'), {
      timeout: ACTION_TIMEOUT_MS,
      interval: 50,
    });
    expect(await button(page, 'Play').isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('an arm stuck at chance with a runaway loss is flagged "not learning" with the reason, and trains on', async () => {
    const { page, errors } = await lab.open('?lr=100&sigma=1&every=20');
    await waitUntilPaused(page);
    await button(page, 'Play').click();
    const flag = page.getByTestId('not-learning-A');
    await flag.waitFor({ state: 'visible' });
    expect(await flag.textContent()).toMatch(
      /^A: not learning: (loss [\d,]+ nats at step [\d,]+, [\d,]+x its [\d.]+ at step 0|\d+% test accuracy after [\d,]+ steps \(chance is 10%\))$/,
    );
    const flaggedAt = await stepCount(page);
    await waitForStep(page, flaggedAt + 50);
    expect(await page.locator('.status-bar [role=status]').textContent()).toBe('Training');
    await screenshot(page, 'not-learning');
    expect(errors).toEqual([]);
  });

  it("choosing a layer's normalization in the diagram restarts both arms from step 0, keeps training, relabels that arm and writes its digit in the link", async () => {
    const { page, errors } = await lab.open(SMALL);
    await waitUntilPaused(page);
    expect(await page.getByTestId('arm-label-A').textContent()).toBe('A: no BN');
    await button(page, 'Play').click();
    await waitForStep(page, 150);

    // Its accessible name holds its visible label.
    const choice = page.getByRole('combobox', { name: 'Arm A, layer 2 normalization' });
    const visibleLabel = await page.locator('label[for="normalization-A-1"]').evaluate((label) => {
      const copy = label.cloneNode(true) as HTMLElement;
      copy.querySelectorAll('.visually-hidden').forEach((hidden) => hidden.remove());
      return copy.textContent!.trim();
    });
    expect(visibleLabel).toBe('layer 2');
    await choice.selectOption({ label: 'BN after the nonlinearity' });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=step]')!.textContent) < 100, undefined, WAIT);
    expect(await choice.inputValue()).toBe('batchnorm-after');
    expect(new URL(page.url()).searchParams.get('bnA')).toBe('0,4,0');
    expect(await page.getByTestId('arm-label-A').textContent()).toBe('A: BN after g on 2');
    expect(await page.getByTestId('arm-label-B').textContent()).toBe('B: BN on all');
    // The new run trains on by itself: it was running when the choice was made.
    const restartedAt = await stepCount(page);
    await waitForStep(page, restartedAt + 50);
    expect(await button(page, 'Pause').isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('offers every normalization per layer; noisy BN, LayerNorm and ghost BN each train on and write their digit in the link', async () => {
    const { page, errors } = await lab.open(SMALL);
    await waitUntilPaused(page);
    const choiceB = page.getByRole('combobox', { name: 'Arm B, layer 2 normalization' });
    expect(await choiceB.locator('option').allTextContents()).toEqual([
      'no normalization',
      'BN before the nonlinearity',
      'noisy BN (Santurkar et al.)',
      'LayerNorm (Ba et al.)',
      'BN after the nonlinearity',
      'ghost BN (Hoffer et al.)',
      'noisy BN, one map per step (links before v4)',
    ]);
    await choiceB.selectOption('noisy');
    await vi.waitFor(() => expect(new URL(page.url()).searchParams.get('bnB')).toMatch(/^1,2(,1)*$/), { timeout: ACTION_TIMEOUT_MS, interval: 50 });
    expect(await page.getByTestId('arm-label-B').textContent()).toBe('B: BN on all, noisy on 2');
    await button(page, 'Play').click();
    await waitForStep(page, 50);
    for (const [value, digit] of [
      ['layernorm', '3'],
      ['ghost-batchnorm', '5'],
    ]) {
      await page.getByRole('combobox', { name: 'Arm A, layer 1 normalization' }).selectOption(value);
      await vi.waitFor(() => expect(new URL(page.url()).searchParams.get('bnA')).toMatch(new RegExp(`^${digit},0`)), {
        timeout: ACTION_TIMEOUT_MS,
        interval: 50,
      });
      const restartedAt = await stepCount(page);
      await waitForStep(page, restartedAt + 30);
    }
    expect(errors).toEqual([]);
  });

  it('an arm that diverges is marked at its step while the other arm trains on, and the controls still work', async () => {
    const { page, errors } = await lab.open(EXPLODING);
    await waitUntilPaused(page);
    await button(page, 'Play').click();
    const divergedA = page.getByTestId('diverged-A');
    await divergedA.waitFor({ state: 'visible' });
    expect(await divergedA.textContent()).toMatch(/^Arm A diverged at step \d+$/);
    const divergedAt = Number((await divergedA.textContent())!.match(/\d+$/)![0]);
    expect(divergedAt).toBeGreaterThan(0);

    // The counter follows arm B, which keeps training past the step where A stopped.
    await waitForStep(page, divergedAt + 100);
    expect(await page.getByTestId('diverged-B').count()).toBe(0);

    await button(page, 'Pause').click();
    await waitUntilPaused(page);
    const paused = await settledStep(page);
    await page.waitForTimeout(1000);
    expect(await stepCount(page)).toBe(paused);

    await button(page, 'Reset').click();
    await waitUntilPaused(page);
    expect(await stepCount(page)).toBe(0);
    expect(await divergedA.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('a missing or corrupt data file stops the run with a message naming it and a restart button; the settings stay', async () => {
    const { page } = await lab.open(SMALL);
    // The page's own origin answers 404 for the digits, as if the file had not been deployed.
    await page.route('**/data/mnist.bin', (route) => route.fulfill({ status: 404, body: 'not here' }));
    await page.reload();
    const alert = page.getByRole('alert').filter({ hasText: 'mnist.bin' });
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toMatch(/HTTP 404/);
    expect(await page.getByLabel('Units per layer').inputValue()).toBe('32');

    // A file that arrives whole but is not gzip: the message says what failed, not that the fetch did.
    await page.unroute('**/data/mnist.bin');
    await page.route('**/data/mnist.bin', (route) => route.fulfill({ status: 200, contentType: 'application/gzip', body: Buffer.alloc(5_000, 7) }));
    await button(page, 'Restart training').click();
    await alert.filter({ hasText: 'gunzip failed' }).waitFor({ state: 'visible' });
    expect(await alert.textContent()).toMatch(/mnist\.bin: gunzip failed on the 5,000 bytes received/);
    expect(await alert.textContent()).not.toMatch(/Failed to fetch/);

    await page.unroute('**/data/mnist.bin');
    await button(page, 'Restart training').click();
    await waitUntilPaused(page);
    await button(page, 'Play').click();
    await waitForStep(page, 5);
    expect(await alert.count()).toBe(0);
  });
});
