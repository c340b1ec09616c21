import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { screenshot, useBrowserApp } from './harness';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('the production page in Chromium', () => {
  const lab = useBrowserApp();

  it('loads with no console error, uncaught exception or request to another origin', async () => {
    const { page, errors } = await lab.open();
    await page.getByRole('heading', { level: 1 }).waitFor({ state: 'visible' });
    expect(errors).toEqual([]);
  });

  it('is titled "Covariate Shift Lab" in the tab and in its main heading', async () => {
    const { page } = await lab.open();
    expect(await page.title()).toBe('Covariate Shift Lab');
    const heading = page.getByRole('heading', { level: 1 });
    await heading.waitFor({ state: 'visible' });
    expect(await heading.textContent()).toBe('Covariate Shift Lab');
  });

  it('writes a PNG screenshot of the rendered page to artifacts/ for CI to keep', async () => {
    const { page } = await lab.open();
    await page.getByRole('heading', { level: 1 }).waitFor({ state: 'visible' });
    const path = await screenshot(page, 'page-loaded');
    expect(readFileSync(path).subarray(0, PNG_SIGNATURE.length)).toEqual(PNG_SIGNATURE);
  });

  it('folds the expert fields into a closed "Advanced" group whose fields are labelled and open by keyboard', async () => {
    const { page, errors } = await lab.open();
    const advanced = page.locator('details.advanced');
    await advanced.waitFor({ state: 'attached' });
    expect(await advanced.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    const epsilon = page.getByLabel('BN ε');
    expect(await epsilon.isVisible()).toBe(false);
    await page.getByText('Advanced', { exact: true }).focus();
    await page.keyboard.press('Enter');
    await epsilon.waitFor({ state: 'visible' });
    for (const label of [
      'BN ε',
      'Moving-average decay',
      'Population batches',
      'Ghost batch size',
      'Measure every',
      "Santurkar et al.'s measures every",
      'Probe digits',
      'Backend',
      'Gradients',
    ]) {
      expect(await advanced.getByLabel(label).isVisible()).toBe(true);
    }
    // No drop-down cuts its option text short.
    const clipped = await page.evaluate(() => [...document.querySelectorAll('select')].filter((s) => s.scrollWidth > s.clientWidth).map((s) => s.id));
    expect(clipped).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows which preset the run is: the matching preset button is pressed, the others not', async () => {
    const { page, errors } = await lab.open();
    const paper = page.getByRole('button', { name: 'Paper, Figure 1', exact: true });
    const saturating = page.getByRole('button', { name: 'Larger init: the sigmoids saturate', exact: true });
    expect(await paper.getAttribute('aria-pressed')).toBe('true');
    expect(await saturating.getAttribute('aria-pressed')).toBe('false');
    await saturating.click();
    await vi.waitFor(async () => expect(await saturating.getAttribute('aria-pressed')).toBe('true'), { timeout: 10_000, interval: 50 });
    expect(await paper.getAttribute('aria-pressed')).toBe('false');
    expect(new URL(page.url()).searchParams.get('sigma')).not.toBeNull();
    expect(errors).toEqual([]);
  });
});
