import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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
});
