/**
 * Reliability and deployment: a worker that dies or hangs is reported with a way to restart; the
 * build works from a sub-path of a plain static host (no cross-origin isolation) under a strict
 * Content-Security-Policy; after one visit it loads and trains with the server gone.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ACTION_TIMEOUT_MS, buildApp, openPage, startStaticHost, useBrowserApp, type RunningApp } from './harness';

const SMALL = '?units=32&probe=200&every=10';
const WAIT = { timeout: ACTION_TIMEOUT_MS, polling: 50 };
/** The policy the page must run under without a single refusal (issue 10). */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'";

async function stepCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('step').textContent());
}

async function waitForStep(page: Page, atLeast: number): Promise<void> {
  await page.waitForFunction((min) => Number(document.querySelector('[data-testid=step]')!.textContent) >= min, atLeast, WAIT);
}

async function waitUntilPaused(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('.status-bar [role=status]')?.textContent === 'Paused', undefined, WAIT);
}

function button(page: Page, name: string) {
  return page.getByRole('button', { name, exact: true });
}

/** Plays from a fresh page until both arms have trained `steps` steps. */
async function trains(page: Page, steps = 20): Promise<void> {
  await waitUntilPaused(page);
  await button(page, 'Play').click();
  await waitForStep(page, steps);
}

/** Milliseconds from `since` until the page shows an alert that says `text`. */
async function msUntilAlert(page: Page, text: string, since: number): Promise<number> {
  await page.getByRole('alert').filter({ hasText: text }).waitFor({ state: 'visible' });
  return Date.now() - since;
}

const lab = useBrowserApp();

/**
 * Changes a copy of the build as a deploy of a new version would: new page text, and the service
 * worker's precache list naming the page's new revision (so the worker script changes too).
 */
function deploy(root: string, version: string): void {
  const html = readFileSync(join(root, 'index.html'), 'utf8').replace(/<title>[^<]*<\/title>/, `<title>Covariate Shift Lab, ${version}</title>`);
  writeFileSync(join(root, 'index.html'), html);
  const sw = readFileSync(join(root, 'sw.js'), 'utf8');
  const updated = sw.replace(/(url:"index\.html",revision:")[0-9a-f]+"/, `$1${createHash('md5').update(html).digest('hex')}"`);
  if (updated === sw) throw new Error('deploy: the precache list names no index.html revision');
  writeFileSync(join(root, 'sw.js'), updated);
}

/** Collects the page's CSP refusals from before its first script (the console reports them too). */
const RECORD_VIOLATIONS = `window.violations = [];
document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.violatedDirective + ': ' + event.blockedURI));`;

describe('reliability', () => {
  it('a worker terminated or hung mid-run is reported within 5 s, naming its arm, and Restart trains again with the settings kept', async () => {
    const { page, errors } = await lab.open(SMALL);
    await trains(page);
    // The workers in the order the page created them: arm A's, then arm B's.
    const [workerA] = page.workers();
    // Closed from inside, as a crash or the browser would end it: no error event reaches the page,
    // only the end of the Web Lock the worker held.
    let since = Date.now();
    await workerA.evaluate(() => setTimeout(() => self.close(), 0));
    expect(await msUntilAlert(page, 'Arm A stopped: its training worker ended without a word', since)).toBeLessThan(5_000);
    expect(await page.locator('.status-bar [role=status]').textContent()).not.toBe('Training');
    expect(await page.getByLabel('Units per layer').inputValue()).toBe('32');

    await button(page, 'Restart training').click();
    await trains(page);
    expect(await page.getByRole('alert').filter({ hasText: 'Arm A stopped' }).count()).toBe(0);

    // A worker stuck in a loop ends nothing and answers no ping; Restart terminates it.
    const workerB = page.workers().at(-1)!;
    since = Date.now();
    void workerB
      .evaluate(() => {
        for (;;);
      })
      .catch(() => undefined);
    expect(await msUntilAlert(page, 'Arm B stopped answering', since)).toBeLessThan(5_000);
    await button(page, 'Restart training').click();
    await trains(page);
    expect(errors).toEqual([]);
  });

  it('paused for longer than the heartbeat allows, nothing is reported, and Play trains on', async () => {
    const { page, errors } = await lab.open(SMALL);
    await trains(page);
    await button(page, 'Pause').click();
    await page.waitForTimeout(6_000);
    expect(await page.locator('.status-bar [role=status]').textContent()).toBe('Paused');
    const step = await stepCount(page);
    await button(page, 'Play').click();
    await waitForStep(page, step + 20);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

describe('honest messages', () => {
  it('a missing .wasm binary falls back to cpu with a message naming the file and the HTTP status, and trains', async () => {
    const { page, errors } = await lab.open(SMALL);
    // The workers' requests too: the context sees what every frame and worker of the page asks for.
    await page.context().route('**/tfjs-wasm/*.wasm', (route) => route.fulfill({ status: 404, body: 'not deployed' }));
    await page.reload();
    await trains(page, 5);
    expect(await page.getByTestId('backend').textContent()).toBe('cpu');
    const warning = page.locator('.status-bar .warning');
    expect(await warning.textContent()).toMatch(
      /^the wasm backend could not load http:\/\/127\.0\.0\.1:\d+\/tfjs-wasm\/tfjs-backend-wasm(-simd)?\.wasm: HTTP 404/,
    );
    expect(errors).toEqual([]);
  });
});

describe('deployment', () => {
  async function withHost<T>(host: RunningApp, use: (host: RunningApp) => Promise<T>): Promise<T> {
    try {
      return await use(host);
    } finally {
      await host.close();
    }
  }

  it('served from /lab/ by a plain static host with a strict CSP and no cross-origin isolation: loads, trains, no error', async () => {
    await withHost(await startStaticHost({ base: '/lab/', headers: { 'Content-Security-Policy': CSP } }), async (host) => {
      const { page, errors, close } = await openPage(lab.browser, host, SMALL, { serviceWorkers: true, initScript: RECORD_VIOLATIONS });
      const violations = () => page.evaluate(() => (window as unknown as { violations: string[] }).violations);
      try {
        expect(page.url()).toContain('/lab/');
        expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
        await trains(page);
        expect(await violations()).toEqual([]);
        // Again under the service worker's control, which now answers every request.
        await page.evaluate(() => navigator.serviceWorker.ready);
        await page.reload();
        expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
        await trains(page);
        expect(await violations()).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  });

  it('after one visit, the page, its wasm and its digits load from the service worker with the server gone, and it trains', async () => {
    const host = await startStaticHost({ base: '/lab/' });
    let closed = false;
    try {
      const { page, errors, close } = await openPage(lab.browser, host, SMALL, { serviceWorkers: true });
      try {
        await trains(page);
        // Everything a run needs is cached once the service worker is active: the page and the
        // wasm in Workbox's precache (keyed by URL and revision), the digits in the copy the page
        // kept of its own download.
        await page.evaluate(() => navigator.serviceWorker.ready);
        const cached = () =>
          page.evaluate(async () => {
            const paths = ['data/mnist.bin', 'tfjs-wasm/tfjs-backend-wasm-simd.wasm', 'index.html'];
            return Promise.all(paths.map(async (path) => (await caches.match(new URL(path, document.baseURI).href, { ignoreSearch: true })) !== undefined));
          });
        await expect.poll(cached, { timeout: ACTION_TIMEOUT_MS }).toEqual([true, true, true]);
        // The 11.5 MB file came over the network once, not once for the page and once for the worker.
        expect(host.served.filter((path) => path.endsWith('/data/mnist.bin'))).toHaveLength(1);

        await host.close();
        closed = true;
        await expect(fetch(host.url)).rejects.toThrow();
        await page.reload();
        expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
        await trains(page);
        // The wasm binaries came from the cache too: no fall back to cpu.
        expect(await page.getByTestId('backend').textContent()).toBe('wasm');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    } finally {
      if (!closed) await host.close();
    }
  });

  it('a new version takes over on the next load: the page reloads into it if it has trained nothing, and otherwise keeps its run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lab-deploy-'));
    cpSync(await buildApp(), root, { recursive: true });
    const host = await startStaticHost({ root });
    try {
      const { page, errors, close } = await openPage(lab.browser, host, SMALL, { serviceWorkers: true });
      try {
        await page.evaluate(() => navigator.serviceWorker.ready);
        deploy(root, 'version 2');
        // This load comes from the old cache; it finds the new worker, which reloads it into version 2.
        await page.reload();
        await page.waitForFunction(() => document.title === 'Covariate Shift Lab, version 2', undefined, WAIT);
        await trains(page, 5);

        // A page that has trained keeps its run when a new version takes over; the next load shows it.
        deploy(root, 'version 3');
        await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
        // update() resolves once the new worker installs. It caches the new page as it installs, but
        // the old worker answers loads until the new one is active: wait for the takeover itself.
        await page.waitForFunction(
          async () => {
            const registration = await navigator.serviceWorker.getRegistration();
            return !registration?.installing && !registration?.waiting && registration?.active?.state === 'activated';
          },
          undefined,
          WAIT,
        );
        const step = await stepCount(page);
        await waitForStep(page, step + 10);
        expect(await page.title()).toBe('Covariate Shift Lab, version 2');
        await page.reload();
        expect(await page.title()).toBe('Covariate Shift Lab, version 3');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    } finally {
      await host.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
