/**
 * The production page in a real Chromium, without any test framework: build (cached on disk by a
 * hash of the sources), serve it in-process with Vite's preview server, launch Chromium, open pages
 * that collect errors. The browser tests (through harness.ts) and the benchmark (scripts/bench.ts)
 * both use it; it must not import vitest, whose hooks throw outside a vitest run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const artifactsDir = join(repoRoot, 'artifacts');
const buildCacheDir = join(repoRoot, 'node_modules', '.cache', 'browser-test-builds');

/** Everything a `vite build` reads from the project; a change to any of these means a new build. */
const buildInputs = ['index.html', 'vite.config.ts', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.app.json', 'src', 'public'];

/** Generous for a 2-core CI machine, yet a hang fails the test instead of eating CI's time limit. */
export const NAVIGATION_TIMEOUT_MS = 30_000;
export const ACTION_TIMEOUT_MS = 20_000;
const LAUNCH_TIMEOUT_MS = 60_000;
export const CLOSE_TIMEOUT_MS = 15_000;

/** Other engineers' and CI's builds may be in use by a concurrent run; only stale ones are removed. */
const STALE_BUILD_MS = 30 * 60_000;

export const chromiumPath = process.env.CHROME_PATH || '/usr/bin/chromium';

/**
 * As root in a container with no GPU and no network: without the sandbox flag Chromium refuses to
 * start as root, and without the background-networking flags it keeps dialling out to Google.
 */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => listFiles(join(path, entry.name)));
}

/** Test files are not part of the page; editing one must not cost a rebuild. */
function isBuildInput(file: string): boolean {
  return !/\.test\.tsx?$/.test(file);
}

function hashBuildInputs(): string {
  const hash = createHash('sha256');
  for (const input of buildInputs) {
    for (const file of listFiles(join(repoRoot, input)).filter(isBuildInput)) {
      hash.update(relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function pruneStaleBuilds(keep: string): void {
  for (const name of readdirSync(buildCacheDir)) {
    const dir = join(buildCacheDir, name);
    if (name !== keep && Date.now() - statSync(dir).mtimeMs > STALE_BUILD_MS) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Vitest sets NODE_ENV=test, and Vite would then bundle React's development build;
 * the tests must see what users get.
 */
async function viteBuild(outDir: string): Promise<void> {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: repoRoot, mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

/**
 * Returns the folder of a production build of the current sources, building only when no build of
 * exactly these sources exists. The build goes to a private folder first and is renamed into the
 * cache only if the sources did not change meanwhile (others edit this tree while tests run).
 */
export async function buildApp(): Promise<string> {
  mkdirSync(buildCacheDir, { recursive: true });
  const key = hashBuildInputs();
  const cached = join(buildCacheDir, key);
  if (existsSync(cached)) {
    const now = new Date();
    utimesSync(cached, now, now);
    return cached;
  }
  const scratch = join(buildCacheDir, `${key}.${process.pid}.${Date.now()}.tmp`);
  await viteBuild(scratch);
  pruneStaleBuilds(key);
  if (hashBuildInputs() !== key) return scratch;
  try {
    renameSync(scratch, cached);
  } catch {
    // A concurrent run cached the same sources first; theirs is as good as ours.
    rmSync(scratch, { recursive: true, force: true });
  }
  return cached;
}

export interface RunningApp {
  /** Origin of the preview server, ending in `/`, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  close(): Promise<void>;
}

/** Builds (or reuses the cached build) and serves it on a free port of 127.0.0.1, in this process. */
export async function startApp(): Promise<RunningApp> {
  const outDir = await buildApp();
  const server: PreviewServer = await preview({
    root: repoRoot,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
  });
  const { port } = server.httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

export interface StaticHostOptions {
  /** The folder the app is served from, e.g. `/lab/` (default `/`). */
  base?: string;
  /** Headers sent with every response, e.g. a Content-Security-Policy. */
  headers?: Record<string, string>;
  /** The folder served (default: the build of the current sources), e.g. a copy a test changes. */
  root?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
};

/**
 * Serves the build as the plainest static host would: files under `base` with their content type
 * and the given headers, a folder's index.html, 404 for anything else; no cross-origin isolation,
 * no fallback to index.html, no compression. `close()` drops open connections too, so a test can
 * take the server away while its page stays open.
 */
export interface StaticHost extends RunningApp {
  /** The path of every GET request served so far, in order. */
  served: string[];
}

export async function startStaticHost(options: StaticHostOptions = {}): Promise<StaticHost> {
  const outDir = options.root ?? (await buildApp());
  const base = options.base ?? '/';
  const served: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://host').pathname);
    if (req.method === 'GET') served.push(path);
    const inside = path.startsWith(base) ? normalize(path.slice(base.length)) : null;
    const file = inside === null || inside.startsWith('..') ? null : join(outDir, inside.endsWith(sep) || inside === '.' ? join(inside, 'index.html') : inside);
    if (file === null || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...options.headers }).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length, ...options.headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${base}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `extraArgs` add to chromiumArgs, e.g. `--enable-unsafe-webgpu` for the WebGPU backend. */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  // playwright gives every launch a fresh temporary profile, removed on close.
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: [...chromiumArgs, ...extraArgs], timeout: LAUNCH_TIMEOUT_MS });
}

export interface OpenedPage {
  page: Page;
  /**
   * Console errors, uncaught exceptions and crashes of the page and its workers, and requests to any
   * origin but the app's own (the page must work offline). A healthy page leaves this empty.
   */
  errors: string[];
  close(): Promise<void>;
}

export interface OpenPageOptions {
  viewport?: { width: number; height: number };
  /** Script text run in the page before any of its own scripts (e.g. an observer that must see start-up). */
  initScript?: string;
  /**
   * Whether the page's service worker may run (default: no). Once it controls the page it answers
   * requests from its cache, which a test that answers them itself (page.route) would never see.
   */
  serviceWorkers?: boolean;
}

/**
 * Opens `path` (relative to the app's URL, e.g. `?seed=3`) in a fresh browser context and waits
 * for the load event. Error collection starts before navigation, so nothing the page does at
 * start-up is missed.
 */
export async function openPage(browser: Browser, app: RunningApp, path = '', options: OpenPageOptions = {}): Promise<OpenedPage> {
  const context: BrowserContext = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    serviceWorkers: options.serviceWorkers ? 'allow' : 'block',
  });
  const page = await context.newPage();
  if (options.initScript) await page.addInitScript(options.initScript);
  page.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const errors: string[] = [];
  const appOrigin = new URL(app.url).origin;
  // Chromium reports the console messages and uncaught errors of the page's workers as the page's.
  // Chromium itself probes /favicon.ico when a page declares no icon; that 404 is the browser's
  // guess, not a request of the page's code.
  const faviconProbe = new URL('/favicon.ico', app.url).href;
  page.on('console', (message) => {
    const at = message.location().url;
    if (message.type() === 'error' && at !== faviconProbe) errors.push(`console: ${message.text()} (at ${at || 'unknown'})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.stack ?? error.message}`));
  page.on('crash', () => errors.push('crash: the page crashed'));
  page.on('request', (request) => {
    const { protocol, origin } = new URL(request.url());
    if ((protocol === 'http:' || protocol === 'https:') && origin !== appOrigin) errors.push(`off-origin request: ${request.url()}`);
  });
  const close = () => withTimeout(context.close(), CLOSE_TIMEOUT_MS, 'closing the browser context');
  try {
    await page.goto(new URL(path, app.url).href, { waitUntil: 'load' });
  } catch (error) {
    await close();
    throw error;
  }
  return { page, errors, close };
}

function fileSafe(name: string): string {
  return (
    name
      .replace(/[^\w.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 120) || 'page'
  );
}

/** Writes `artifacts/screenshots/<name>.png` (CI keeps `artifacts/`) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(artifactsDir, 'screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${fileSafe(name)}.png`);
  await page.screenshot({ path, fullPage: true, timeout: ACTION_TIMEOUT_MS });
  return path;
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      console.warn(`browser harness: ${what} took over ${ms} ms; going on without waiting`);
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
