/**
 * Sharing a run: the link opens the run it describes, follows every change without filling the
 * history, copies, replays the same curves, and a hostile link is reported as text and still trains.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { ACTION_TIMEOUT_MS, useBrowserApp } from './harness';

const WAIT = { timeout: ACTION_TIMEOUT_MS, interval: 100 };

async function stepCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('step').textContent());
}

/** Presses Step `steps` times, each after the previous step has reached the status bar (a press during a step is not queued). */
async function stepExactly(page: Page, steps: number): Promise<void> {
  const step = page.getByRole('button', { name: 'Step', exact: true });
  for (let i = 1; i <= steps; i++) {
    await step.click();
    await vi.waitFor(async () => expect(await stepCount(page)).toBe(i), WAIT);
  }
}

/**
 * The loss chart's pixels once the last store update has been painted: new data repaints a chart
 * at most every 250 ms (paintScheduler's DATA_REPAINT_MS), so wait past that, then two frames.
 * The chart sits below Figure 1, and a chart out of view does not paint: scroll to it first.
 */
async function lossChartPixels(page: Page): Promise<string> {
  return page.evaluate(async () => {
    document.querySelector('[data-testid=chart-loss]')!.scrollIntoView();
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await frame();
    await frame();
    return document.querySelector<HTMLCanvasElement>('[data-testid=chart-loss]')!.toDataURL();
  });
}

function queryOf(page: Page): URLSearchParams {
  return new URL(page.url()).searchParams;
}

describe('links in Chromium', () => {
  const lab = useBrowserApp();

  it("opens a link with its values in the controls, each layer's normalization and its arm labels", async () => {
    const { page, errors } = await lab.open('?v=2&lr=0.1&layers=2&units=50&bnA=1,0&bnB=0,1&seed=7');
    expect(await page.getByLabel('Learning rate').inputValue()).toBe('0.1');
    expect(await page.getByLabel('Hidden layers').inputValue()).toBe('2');
    expect(await page.getByLabel('Units per layer').inputValue()).toBe('50');
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('7');
    const chosen = async (arm: string, layer: number) => page.getByRole('combobox', { name: `Arm ${arm}, layer ${layer} normalization` }).inputValue();
    expect([await chosen('A', 1), await chosen('A', 2), await chosen('B', 1), await chosen('B', 2)]).toEqual(['batchnorm', 'none', 'none', 'batchnorm']);
    expect(await page.getByRole('combobox', { name: /^Arm [AB], layer \d+ normalization$/ }).count()).toBe(4);
    expect(await page.getByTestId('arm-label-A').textContent()).toBe('A: BN on 1');
    expect(await page.getByTestId('arm-label-B').textContent()).toBe('B: BN on 2');
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('opens a link of the 10,000-digit days with its settings and the old default learning rate, says it now runs on the full data, and rewrites it as v5 on the hand-written step it trained on', async () => {
    const { page, errors } = await lab.open('?v=2&sigma=1');
    expect(await page.getByLabel('Learning rate').inputValue()).toBe('0.5');
    const notice = page.getByRole('status', { name: 'About this link' });
    expect(await notice.textContent()).toMatch(/60,000 training digits/);
    await vi.waitFor(() => expect(page.url()).toMatch(/\?v=5&sigma=1&lr=0\.5&grad=handwritten$/), WAIT);
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    expect(await notice.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('writes a changed setting or normalization into the address bar without a history entry, and a reload restores them', async () => {
    const { page } = await lab.open('?seed=7');
    const historyLength = await page.evaluate(() => history.length);
    const learningRate = page.getByLabel('Learning rate');
    await learningRate.fill('0.2');
    await learningRate.press('Enter');
    await vi.waitFor(() => expect(queryOf(page).get('lr')).toBe('0.2'), WAIT);
    expect(queryOf(page).get('seed')).toBe('7');
    const choice = page.getByRole('combobox', { name: 'Arm A, layer 2 normalization' });
    await choice.selectOption('batchnorm');
    await vi.waitFor(() => expect(queryOf(page).get('bnA')).toBe('0,1,0'), WAIT);
    expect(await page.evaluate(() => history.length)).toBe(historyLength);

    await page.reload({ waitUntil: 'load' });
    expect(await page.getByLabel('Learning rate').inputValue()).toBe('0.2');
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('7');
    expect(await choice.inputValue()).toBe('batchnorm');
  });

  it('says so when lowering the units moves the tracked unit, and the address bar holds the unit used', async () => {
    const { page } = await lab.open('?unit=50&seed=7');
    const units = page.getByLabel('Units per layer');
    await units.fill('10');
    await units.press('Enter');
    await vi.waitFor(() => expect(queryOf(page).get('units')).toBe('10'), WAIT);
    expect(queryOf(page).get('unit')).toBe('9');
    expect(await page.getByRole('textbox', { name: 'Tracked unit' }).inputValue()).toBe('9');
    expect(await page.getByRole('status').filter({ hasText: 'Tracked unit' }).textContent()).toMatch(/Tracked unit.*used 9/);
  });

  it('keeps the reason a typed value was refused on screen after focus leaves the field', async () => {
    const { page } = await lab.open();
    const momentum = page.getByLabel('Momentum');
    const before = await momentum.inputValue();
    await momentum.fill('abc');
    await momentum.press('Enter');
    const reason = page.getByRole('status').filter({ hasText: 'not a number' });
    await reason.waitFor();
    await momentum.blur();
    expect(await reason.count()).toBe(1);
    expect(await momentum.inputValue()).toBe(before);
  });

  it('copies the current link to the clipboard and says so', async () => {
    const { page } = await lab.open('?seed=7&units=50');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(lab.app.url).origin });
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByText('Link copied').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(page.url());
    expect(new URL(copied).searchParams.get('units')).toBe('50');
  });

  it("keeps a second copy's confirmation on screen for its full time", async () => {
    const { page } = await lab.open('?seed=7');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(lab.app.url).origin });
    await page.clock.install();
    const copyLink = page.getByRole('button', { name: 'Copy link' });
    const confirmation = page.getByRole('status').filter({ hasText: 'Link copied' });
    await copyLink.click();
    await confirmation.waitFor();
    await page.clock.runFor(2_000);
    await page.getByLabel('Learning rate').fill('0.1');
    await page.getByLabel('Learning rate').press('Enter');
    await copyLink.click();
    // The second copy has finished once the clipboard holds the changed link.
    await vi.waitFor(async () => expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(page.url()), WAIT);
    await page.clock.runFor(1_000);
    expect(await confirmation.count()).toBe(1);
    await page.clock.runFor(2_000);
    expect(await confirmation.count()).toBe(0);
  });

  it('reports a hostile link field by field as plain text, clamps it, and still trains', async () => {
    const huge = '9'.repeat(100_000);
    const hostile =
      '?units=10000&layers=1000&lr=NaN&sigma=Infinity&seed=-5&lr=3' +
      '&act=<img src=x onerror=window.__pwned=1>&x=<script>window.__pwned=1</script>' +
      `&eps=${huge}&infer=популяция🙂&mom=%E0%A4%A`;
    // The preview server, like most static hosts, refuses request lines over 16 KB (431); the page
    // itself must still cope with such a link, so its document is served for the long URL here.
    const { page, errors } = await lab.open();
    await page.route(
      (url) => url.search.length > 16_000,
      async (route) => route.fulfill({ response: await route.fetch({ url: lab.app.url }) }),
    );
    await page.goto(new URL(hostile, lab.app.url).href, { waitUntil: 'load' });
    const notice = page.getByRole('alert', { name: 'Problems with the link' });
    await notice.waitFor();
    const items = await notice.getByRole('listitem').allTextContents();
    const keys = items.map((item) => item.split(':')[0]);
    expect(keys).toEqual(expect.arrayContaining(['units', 'layers', 'lr', 'sigma', 'seed', 'act', 'x', 'eps', 'infer', 'mom']));
    const text = (await notice.textContent()) ?? '';
    expect(text).toContain('<img src=x onerror=window.__pwned=1>');
    expect(text).toContain('<script>window.__pwned=1</script>');
    expect(text).toContain('популяция🙂');
    expect(text).toContain('given 2 times');
    expect(text.length).toBeLessThan(3000);

    expect(
      await page.evaluate(() => ({
        pwned: (window as { __pwned?: unknown }).__pwned,
        images: document.querySelectorAll('img[src="x"]').length,
        scripts: [...document.scripts].filter((script) => script.textContent?.includes('__pwned')).length,
      })),
    ).toEqual({ pwned: undefined, images: 0, scripts: 0 });

    expect(await page.getByLabel('Units per layer').inputValue()).toBe('256');
    expect(await page.getByLabel('Hidden layers').inputValue()).toBe('6');
    const query = queryOf(page);
    expect([query.get('units'), query.get('layers'), query.get('act'), query.get('x')]).toEqual(['256', '6', null, null]);

    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await notice.waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Play' }).click();
    await vi.waitFor(async () => expect(await stepCount(page)).toBeGreaterThan(0), WAIT);
    expect(errors).toEqual([]);
  });

  it('replays the same run from the same link: identical loss curves, and a different seed draws a different one', async () => {
    const link = (seed: number) => `?units=32&probe=200&every=5&seed=${seed}`;
    const pages = await Promise.all([lab.open(link(3)), lab.open(link(3)), lab.open(link(4))]);
    await Promise.all(pages.map(({ page }) => stepExactly(page, 10)));
    const [first, replay, otherSeed] = await Promise.all(pages.map(({ page }) => lossChartPixels(page)));
    expect(replay).toBe(first);
    expect(otherSeed).not.toBe(first);
  });

  it('applies a preset to the controls and the address bar', async () => {
    const { page } = await lab.open();
    const before = Number(await page.getByLabel('Learning rate').inputValue());
    await page.getByRole('button', { name: 'A learning rate 10x higher' }).click();
    await vi.waitFor(async () => expect(Number(await page.getByLabel('Learning rate').inputValue())).toBe(before * 10), WAIT);
    expect(queryOf(page).get('lr')).toBe(String(before * 10));
  });

  it('keeps the display settings in the link without restarting the run', async () => {
    const { page } = await lab.open('?units=32&probe=200&every=10&view=pooled&loss=linear');
    const pooled = page.getByRole('radio', { name: 'all units of the layer, pooled' });
    expect(await pooled.isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Log scale for the loss' }).isChecked()).toBe(false);
    await stepExactly(page, 3);
    await page.getByRole('radio', { name: 'the tracked unit' }).click();
    await vi.waitFor(() => expect(queryOf(page).get('view')).toBeNull(), WAIT);
    expect(queryOf(page).get('loss')).toBe('linear');
    expect(await stepCount(page)).toBe(3);
  });
});
