/**
 * The benchmark: the production page in headless Chromium, driven through its own UI.
 * `npm run bench` (`-- --quick` for smaller numbers while trying things out, `-- --help` for flags).
 *
 * Runs, each in a fresh browser context at 1400x1000 with every panel live and the default metrics
 * interval: the "Paper, Figure 1" link, on the WebAssembly SIMD step (the default; memory at two
 * step counts), the same link with hand-written gradients on wasm (grad=handwritten), the same link
 * through tfjs autodiff on wasm (the naive reference), the first again in a viewport tall enough
 * that every chart paints, then the hand-written step on every other backend. Then pairs of those
 * pages once more, open side by side and trained in alternating windows, for speed-ups that the
 * machine's drift between runs does not skew: SIMD against hand-written and autodiff, hand-written
 * against autodiff, and the default page against itself with Santurkar et al.'s measures off
 * (`santurkar=0`), for what the measures cost.
 * Last, in Node, the machine's GEMM rate and each step's share of it, measured in the same run,
 * and where an arm's time goes: its steps, Santurkar et al.'s measures and its records.
 * Prints one table and writes artifacts/bench.json. It asserts nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { DEFAULT_CONFIG, type Backend, type Config } from '../src/config/schema';
import { serialize } from '../src/config/url';
import { artifactsDir, launchBrowser, startApp, withTimeout, CLOSE_TIMEOUT_MS, type RunningApp } from '../tests/browser/app';
import { describeCores, measureCores } from './bench/cores';
import { describeGemmShare, measureGemmShare } from './bench/gemm';
import { measureRun, type RunSpec, type Timing } from './bench/measureRun';
import { measurePairedRatio, type PairedRatio } from './bench/pairedRatio';
import { describePhases, measurePhases } from './bench/phases';
import { describePairedRatio, renderTable, type BenchEnvironment, type RunResult } from './bench/report';

const BACKENDS: readonly Backend[] = ['wasm', 'webgl', 'cpu', 'webgpu'];
/** WebGPU is off by default in Chromium; with this flag headless Chromium offers a software adapter. */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

interface Settings {
  timing: Timing;
  /** Memory is read when the main run reaches these steps. */
  memoryAtSteps: number[];
  /** Page loads of the main link beyond its run that only time the first step (a median of 1 + these). */
  extraFirstStepLoads: number;
  /** Steps per arm for the one-thread-or-two comparison. */
  coreSteps: number;
  /** Alternating blocks of the GEMM-rate measurement. */
  gemmBlocks: number;
  /** Alternating metrics intervals per arm of where an arm's time goes (10 take in one record of all test digits). */
  phaseBlocks: number;
}

/**
 * Full: 3 windows of 7 s (21 s of steady state) per run; memory at 2,000 and 20,000 steps of the main
 * run, ~70 s at ~300 pair-steps/s. The time limits keep the whole benchmark under ~8 minutes on 2 cores
 * even when other processes slow it.
 */
const FULL: Settings = {
  timing: { warmupSeconds: 3, windowSeconds: 7, windowCount: 3, firstStepTimeoutSeconds: 90, memoryStepTimeoutSeconds: 210 },
  memoryAtSteps: [2_000, 20_000],
  extraFirstStepLoads: 2,
  coreSteps: 2_000,
  gemmBlocks: 8,
  phaseBlocks: 10,
};
const QUICK: Settings = {
  timing: { warmupSeconds: 1, windowSeconds: 2, windowCount: 3, firstStepTimeoutSeconds: 60, memoryStepTimeoutSeconds: 30 },
  memoryAtSteps: [200, 2_000],
  extraFirstStepLoads: 2,
  coreSteps: 300,
  gemmBlocks: 3,
  phaseBlocks: 10,
};

const HELP = `npm run bench [-- flags]
  --quick               smaller numbers for trying things out (3 x 2 s windows, memory at 200 and 2,000 steps)
  --backends <list>     comma-separated subset of ${BACKENDS.join(',')} (default: all); the autodiff
                        reference runs when wasm is in the list
  --out <file>          where to write the JSON (default: artifacts/bench.json)
  --help                this text`;

interface Options {
  quick: boolean;
  backends: Backend[];
  out: string;
}

function parseArgs(argv: string[]): Options | { error: string } | 'help' {
  const options: Options = { quick: false, backends: [...BACKENDS], out: join(artifactsDir, 'bench.json') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--quick') options.quick = true;
    else if (flag === '--backends' || flag === '--out') {
      const value = argv[++i];
      if (value === undefined) return { error: `${flag} needs a value` };
      if (flag === '--out') options.out = resolve(value);
      else {
        const listed = value.split(',').map((name) => name.trim());
        const unknown = listed.filter((name) => !(BACKENDS as readonly string[]).includes(name));
        if (unknown.length > 0 || listed.length === 0) return { error: `--backends: ${unknown.join(',') || 'empty'} is not one of ${BACKENDS.join(',')}` };
        options.backends = BACKENDS.filter((backend) => listed.includes(backend));
      }
    } else return { error: `unknown flag ${flag}` };
  }
  return options;
}

/** The issue's viewport: what a laptop shows, the loss and accuracy panels and the top of the first layer's. */
const VIEWPORT = { width: 1400, height: 1000 };
/** Tall enough that every chart is in view, so every chart paints (the page skips offscreen ones). */
const WHOLE_PAGE_VIEWPORT = { width: 1400, height: 2600 };

interface RunOptions {
  viewport?: { width: number; height: number };
  memoryAtSteps?: readonly number[];
  extraFirstStepLoads?: number;
}

function runSpec(id: string, label: string, changes: Partial<Config>, options: RunOptions = {}): RunSpec {
  const config: Config = { ...DEFAULT_CONFIG, ...changes };
  return {
    id,
    label,
    query: serialize(config),
    viewport: options.viewport ?? VIEWPORT,
    requestedBackend: config.backend,
    gradients: config.gradients,
    memoryAtSteps: options.memoryAtSteps ?? [],
    extraFirstStepLoads: options.extraFirstStepLoads ?? 0,
  };
}

function plannedRuns(options: Options, settings: Settings): RunSpec[] {
  const runs: RunSpec[] = [];
  if (options.backends.includes('wasm')) {
    runs.push(
      runSpec(
        'simd-wasm',
        'WebAssembly SIMD step (default)',
        { backend: 'wasm' },
        { memoryAtSteps: settings.memoryAtSteps, extraFirstStepLoads: settings.extraFirstStepLoads },
      ),
    );
    runs.push(runSpec('handwritten-wasm', 'hand-written, wasm', { backend: 'wasm', gradients: 'handwritten' }));
    runs.push(runSpec('autodiff-wasm', 'autodiff, wasm', { backend: 'wasm', gradients: 'autodiff' }));
    runs.push(runSpec('simd-wasm-whole-page', 'WebAssembly SIMD step, all charts', { backend: 'wasm' }, { viewport: WHOLE_PAGE_VIEWPORT }));
  }
  // The backend is tfjs's: the step it trains on is the hand-written one.
  for (const backend of options.backends.filter((b) => b !== 'wasm')) {
    runs.push(runSpec(`handwritten-${backend}`, `hand-written, ${backend}`, { backend, gradients: 'handwritten' }));
  }
  return runs;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if ('error' in options) {
    process.stderr.write(`bench: ${options.error}\n${HELP}\n`);
    return 2;
  }
  const settings = options.quick ? QUICK : FULL;
  const startedAt = new Date();
  log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; building and serving the page`,
  );
  const app: RunningApp = await startApp();
  const browsers: Browser[] = [];
  try {
    const browser = await launchBrowser();
    browsers.push(browser);
    const probeContext = await browser.newContext();
    const hardwareConcurrency = await (await probeContext.newPage()).evaluate(() => navigator.hardwareConcurrency);
    await probeContext.close();

    const results: RunResult[] = [];
    let webgpuBrowser: Browser | undefined;
    const planned = plannedRuns(options, settings);
    for (const spec of planned) {
      if (spec.requestedBackend === 'webgpu') {
        webgpuBrowser = await launchBrowser(WEBGPU_ARGS);
        browsers.push(webgpuBrowser);
      }
      results.push(await measureRun(spec.requestedBackend === 'webgpu' && webgpuBrowser ? webgpuBrowser : browser, app, spec, settings.timing, log));
    }

    const environment: BenchEnvironment = {
      date: startedAt.toISOString(),
      nodeCpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      hardwareConcurrency,
      chromium: browser.version(),
      quick: options.quick,
      windowSeconds: settings.timing.windowSeconds,
      windowCount: settings.timing.windowCount,
    };
    // Fast page first, then the one it is compared with.
    const pairings = [
      ['simd-wasm', 'handwritten-wasm'],
      ['simd-wasm', 'autodiff-wasm'],
      ['handwritten-wasm', 'autodiff-wasm'],
      ['simd-wasm-no-santurkar', 'simd-wasm'],
    ];
    // Only compared, not run on its own: the default link with Santurkar et al.'s measures off.
    const comparedOnly = options.backends.includes('wasm')
      ? [runSpec('simd-wasm-no-santurkar', "WebAssembly SIMD step, Santurkar et al.'s measures off", { backend: 'wasm', santurkarInterval: 0 })]
      : [];
    const pairedRatios: PairedRatio[] = [];
    const pairedLines: string[] = [];
    for (const ids of pairings) {
      const [fast, reference] = ids.map((id) => [...planned, ...comparedOnly].find((run) => run.id === id));
      if (!fast || !reference) continue;
      const paired = await measurePairedRatio(browser, app, fast, reference, settings.timing, settings.timing.windowCount, log);
      pairedRatios.push(paired);
      pairedLines.push(describePairedRatio(paired, fast.label, reference.label));
    }
    log('one thread for both arms against a thread per arm (Node)');
    const cores = await measureCores(settings.coreSteps);
    log("the machine's GEMM rate and each step's share of it (Node)");
    const gemm = await measureGemmShare(settings.gemmBlocks);
    log("where an arm's time goes: steps, Santurkar et al.'s measures, records (Node)");
    const phases = await measurePhases(settings.phaseBlocks);
    const table = renderTable(results, environment, settings.memoryAtSteps);
    process.stdout.write(
      `${table}\n${pairedLines.map((line) => `${line}\n`).join('')}${describeCores(cores)}\n${describeGemmShare(gemm)}\n${describePhases(phases)}\nload average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    const pairedRatio = pairedRatios[0] ?? null;
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(
      options.out,
      `${JSON.stringify(
        {
          environment,
          settings,
          finishedAt: new Date().toISOString(),
          loadAverageAtEnd: loadavg(),
          runs: results,
          pairedRatio,
          pairedRatios,
          cores,
          gemm,
          phases,
        },
        null,
        2,
      )}\n`,
    );
    log(`wrote ${options.out}`);
    return 0;
  } finally {
    for (const browser of browsers) await withTimeout(browser.close(), CLOSE_TIMEOUT_MS, 'closing the browser');
    await withTimeout(app.close(), CLOSE_TIMEOUT_MS, 'closing the preview server');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
