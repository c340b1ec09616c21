/**
 * The WebAssembly SIMD step (grad=simd, src/training/simd) in the page: its workers compile the
 * kernels under the strict CSP a static host may send, and a link trains the same run there as in
 * Node, the training losses and the records equal to the bit.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { experimentRun } from './experimentRun';
import { ACTION_TIMEOUT_MS, openPage, startStaticHost, useBrowserApp, withTimeout, CLOSE_TIMEOUT_MS } from './harness';

/** Both arms on the SIMD step, one with noisy BN (its noise drawn from the seed in both places). */
const QUERY = 'grad=simd&steps=40&every=10&units=24&layers=2&probe=200&seed=5&bnA=0,2&bnB=1,3';
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'";

describe('grad=simd in the page', () => {
  const lab = useBrowserApp();

  it('trains under a strict CSP with no notice and no error, the same losses and records to the bit as the same link in Node', async () => {
    const host = await startStaticHost({ base: '/lab/', headers: { 'Content-Security-Policy': CSP } });
    try {
      const { page, errors, close } = await openPage(lab.browser, host, `?${QUERY}`);
      try {
        await page.getByRole('button', { name: 'Play', exact: true }).click();
        await page.waitForFunction(() => document.body.textContent?.includes('Finished'), undefined, { timeout: ACTION_TIMEOUT_MS, polling: 50 });
        expect(await page.locator('.status-bar .warning').count()).toBe(0);
        const menu = page.getByTestId('export-run');
        await menu.locator('summary').click();
        const downloaded = page.waitForEvent('download');
        await menu.getByRole('button', { name: /^JSON/ }).click();
        const fromPage = JSON.parse((await readFile(await (await downloaded).path())).toString('utf8'));
        const { json: fromNode, kernelNotices } = await experimentRun(QUERY);
        expect(kernelNotices).toEqual([null, null]);
        const losses = (run: { arms: { records: { step: number; loss: number }[] }[] }) => run.arms.map((arm) => arm.records.map((r) => [r.step, r.loss]));
        // The mean training loss of each 10 steps: every step's loss comes out of the same kernels.
        expect(losses(fromPage)).toEqual(losses(fromNode));
        expect(losses(fromNode)[0]).toHaveLength(5);
        // The records too, accuracies, distributions and the gap: they are measured in the same kernels.
        expect(fromPage.arms.map((arm: { records: unknown }) => arm.records)).toEqual(fromNode.arms.map((arm: { records: unknown }) => arm.records));
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    } finally {
      await withTimeout(host.close(), CLOSE_TIMEOUT_MS, 'closing the static host');
    }
  });
});
