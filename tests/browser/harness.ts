/**
 * Browser tests run the production build in a real Chromium (see app.ts for building, serving and
 * launching; this file adds the vitest hooks around them).
 *
 * In a test file:
 *   const lab = useBrowserApp();
 *   it('...', async () => { const { page, errors } = await lab.open('/?seed=3'); ... });
 * useBrowserApp registers the hooks that start and always stop the server and the browser.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { CLOSE_TIMEOUT_MS, launchBrowser, openPage, screenshot, startApp, withTimeout, type OpenedPage, type OpenPageOptions, type RunningApp } from './app';

export * from './app';

export interface BrowserApp {
  readonly app: RunningApp;
  readonly browser: Browser;
  /** Opens a page that is closed after the current test, with a screenshot first if the test failed. */
  open(path?: string, options?: OpenPageOptions): Promise<OpenedPage>;
}

/**
 * Registers beforeAll/afterEach/afterAll hooks in the calling test file (or describe block): one
 * server and one browser for the file, pages closed after each test, and the browser and the server
 * closed at the end even when a test or a hook failed, so the test process never hangs on them.
 */
export function useBrowserApp(): BrowserApp {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let openedInTest: OpenedPage[] = [];

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  });

  afterEach(async ({ task }) => {
    const opened = openedInTest;
    openedInTest = [];
    for (const [i, { page, close }] of opened.entries()) {
      if (task.result?.state === 'fail' && !page.isClosed()) {
        await screenshot(page, `FAILED-${task.name}${opened.length > 1 ? `-${i + 1}` : ''}`).catch(() => undefined);
      }
      await close();
    }
  });

  afterAll(async () => {
    if (browser) await withTimeout(browser.close(), CLOSE_TIMEOUT_MS, 'closing the browser');
    if (app) await withTimeout(app.close(), CLOSE_TIMEOUT_MS, 'closing the preview server');
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`browser harness: ${what} is not running (did beforeAll fail?)`);
    return value;
  };

  return {
    get app() {
      return started(app, 'the app server');
    },
    get browser() {
      return started(browser, 'the browser');
    },
    async open(path = '', options: OpenPageOptions = {}) {
      const opened = await openPage(started(browser, 'the browser'), started(app, 'the app server'), path, options);
      openedInTest.push(opened);
      return opened;
    },
  };
}
