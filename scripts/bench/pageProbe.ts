/**
 * What the benchmark watches inside the page. Installed before navigation (so it sees start-up), it
 * counts animation frames, keeps every main-thread long task, and notes when Play was clicked and
 * when the status bar's step counter first showed a trained step. It reads only the page's DOM and
 * the browser's own performance APIs; the product is not changed for it.
 */

export interface LongTask {
  /** Milliseconds since navigation start (performance.now() of the page). */
  start: number;
  duration: number;
}

/** One reading of the page, taken at a window boundary. */
export interface PageSample {
  /** performance.now() of the page when the sample was taken. */
  now: number;
  /** The status bar's step counter (data-testid="step"): the pair step both arms have reached. */
  step: number;
  /** Animation frames painted since navigation. */
  frames: number;
  /** What the status bar's steps/s shows, for comparison with the rate measured from the counter. */
  displayedRate: string;
  /** The status bar's backend readout (data-testid="backend"). */
  backend: string;
  /** The status bar's fallback warning, if the requested backend did not load. */
  warning: string | null;
  /** Chart canvases at least partly inside the viewport (the page paints only those), and all of them. */
  chartsInView: number;
  charts: number;
  playClickedAt: number | null;
  firstStepAt: number | null;
}

export interface PageProbe {
  sample(): PageSample;
  longTasks: LongTask[];
}

declare global {
  interface Window {
    __benchProbe?: PageProbe;
  }
}

function readStep(): number {
  return Number(document.querySelector('[data-testid="step"]')?.textContent?.replace(/[^\d]/g, '') || 0);
}

/** Runs in the page, serialized: everything it uses must be defined inside it. */
function installPageProbe(): void {
  let frames = 0;
  let playClickedAt: number | null = null;
  let firstStepAt: number | null = null;
  const longTasks: LongTask[] = [];
  const stepNow = readStep;

  const countFrame = () => {
    frames += 1;
    requestAnimationFrame(countFrame);
  };
  requestAnimationFrame(countFrame);

  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });

  // Capture phase: the click is noted before the app's own handler starts the run.
  document.addEventListener(
    'click',
    (event) => {
      const button = event.target instanceof Element ? event.target.closest('button') : null;
      if (playClickedAt === null && button?.textContent?.trim() === 'Play') playClickedAt = performance.now();
    },
    true,
  );

  // A mutation observer rather than polling: the first step is timed to the DOM update that shows it.
  const firstStepWatch = new MutationObserver(() => {
    if (stepNow() >= 1) {
      firstStepAt = performance.now();
      firstStepWatch.disconnect();
    }
  });
  firstStepWatch.observe(document, { subtree: true, childList: true, characterData: true });

  window.__benchProbe = {
    longTasks,
    sample: () => ({
      now: performance.now(),
      step: stepNow(),
      frames,
      displayedRate: document.querySelector('[data-testid="steps-per-second"]')?.textContent ?? '',
      backend: document.querySelector('[data-testid="backend"]')?.textContent ?? '',
      warning: document.querySelector('.status-bar .warning')?.textContent ?? null,
      chartsInView: [...document.querySelectorAll('canvas')].filter((canvas) => {
        const { top, bottom, left, right } = canvas.getBoundingClientRect();
        return bottom > 0 && top < innerHeight && right > 0 && left < innerWidth;
      }).length,
      charts: document.querySelectorAll('canvas').length,
      playClickedAt,
      firstStepAt,
    }),
  };
}

/**
 * The probe as script text for page.addInitScript. tsx compiles with esbuild's keepNames, which
 * wraps named functions in a `__name(...)` helper that exists in Node, not in the page; an identity
 * `__name` in the script keeps the serialized code runnable.
 */
export const PAGE_PROBE_SCRIPT = `(() => {
  const __name = (target) => target;
  const readStep = ${readStep.toString()};
  (${installPageProbe.toString()})();
})();`;

/** Expression for page.evaluate: a sample of the probe. */
export const SAMPLE_EXPRESSION = 'window.__benchProbe.sample()';
/** Expression for page.evaluate: every long task seen so far. */
export const LONG_TASKS_EXPRESSION = 'window.__benchProbe.longTasks.slice()';
