/**
 * Accessibility in a real Chromium: axe-core finds no violation at a laptop's and a phone's width,
 * before and while training, in the light and the dark theme; every control is a target of at
 * least 24 px and shows a clearly visible focus ring when reached by keyboard; a select walked by
 * the arrow keys restarts nothing until Enter; the dark theme darkens the page and the charts.
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { contrastRatio, relativeLuminance } from '../../src/charts/colors';
import { ACTION_TIMEOUT_MS, artifactsDir, useBrowserApp } from './harness';

const SMALL = '?units=32&probe=200&every=10';
const WAIT = { timeout: ACTION_TIMEOUT_MS, polling: 50 };
const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; summary: string }[];
}

/** axe's violations, each with its nodes' selectors and what failed, so a failure names what to fix. */
async function axeViolations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ path: AXE_SCRIPT });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            context: Document,
            options: object,
          ) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[]; failureSummary: string }[] }[] }>;
        };
      }
    ).axe;
    const { violations } = await axe.run(document, { resultTypes: ['violations'] });
    return violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n: { target: string[]; failureSummary: string }) => ({ target: n.target, summary: n.failureSummary })),
    }));
  });
}

async function waitForStatus(page: Page, status: string): Promise<void> {
  await page.waitForFunction((text) => document.querySelector('.status-bar [role=status]')?.textContent === text, status, WAIT);
}

async function waitForStep(page: Page, atLeast: number): Promise<void> {
  await page.waitForFunction((min) => Number(document.querySelector('[data-testid=step]')!.textContent) >= min, atLeast, WAIT);
}

/** Mean relative luminance of a canvas's pixels, read back from the canvas itself. */
async function canvasLuminance(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((canvas: HTMLCanvasElement) => {
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const channel = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += 0.2126 * channel(data[i]) + 0.7152 * channel(data[i + 1]) + 0.0722 * channel(data[i + 2]);
    return sum / (data.length / 4);
  });
}

describe('accessibility', () => {
  const lab = useBrowserApp();

  for (const width of [1440, 390]) {
    it(`axe finds no violation at ${width} px wide, before and while training, the Advanced group open`, async () => {
      const { page, errors } = await lab.open(SMALL, { viewport: { width, height: 900 } });
      await waitForStatus(page, 'Paused');
      await page.getByText('Advanced', { exact: true }).click();
      expect(await axeViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      await waitForStep(page, 30);
      expect(await axeViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
    });
  }

  it('axe finds no violation in the dark theme, nor with the shortcuts dialog open', async () => {
    const { page, errors } = await lab.open(SMALL, { viewport: { width: 1440, height: 900 } });
    await page.emulateMedia({ colorScheme: 'dark' });
    await waitForStatus(page, 'Paused');
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  for (const width of [1440, 390]) {
    it(`makes every button, field, list, checkbox and summary at least 24 x 24 px at ${width} px wide`, async () => {
      const { page } = await lab.open(SMALL, { viewport: { width, height: 900 } });
      await waitForStatus(page, 'Paused');
      await page.getByText('Advanced', { exact: true }).click();
      const small = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('button, input, select, summary, textarea')]
          .filter((element) => element.getClientRects().length > 0)
          .map((element) => ({ element, box: element.getBoundingClientRect() }))
          .filter(({ box }) => box.width < 24 || box.height < 24)
          .map(({ element, box }) => `${element.outerHTML.slice(0, 80)}: ${box.width.toFixed(1)} x ${box.height.toFixed(1)}`),
      );
      expect(small).toEqual([]);
    });
  }

  it('shows a focus ring of at least 2 px and 3:1 against the page on every control reached by Tab, the dark Play button too', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const { page, close } = await lab.open(SMALL, { viewport: { width: 1440, height: 900 } });
      await page.emulateMedia({ colorScheme: scheme });
      await waitForStatus(page, 'Paused');
      const seen: string[] = [];
      const weak: string[] = [];
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => {
          const element = document.activeElement as HTMLElement | null;
          if (!element || element === document.body) return null;
          const style = getComputedStyle(element);
          return {
            name: `${element.tagName.toLowerCase()} ${(element.getAttribute('aria-label') ?? element.textContent ?? '').trim().slice(0, 40)}`,
            width: parseFloat(style.outlineWidth),
            style: style.outlineStyle,
            color: style.outlineColor,
            page: getComputedStyle(document.documentElement).backgroundColor,
          };
        });
        if (!focused) continue;
        seen.push(focused.name);
        if (focused.style === 'none' || focused.width < 2 || contrastRatio(focused.color, focused.page) < 3) {
          weak.push(`${focused.name}: ${focused.width}px ${focused.style} ${focused.color} on ${focused.page}`);
        }
      }
      expect(
        seen.some((name) => name.startsWith('button Play')),
        scheme,
      ).toBe(true);
      expect(weak, scheme).toEqual([]);
      await close();
    }
  });

  it('walks a closed select with the arrow keys without restarting the run, and applies the choice on Enter', async () => {
    const { page, errors } = await lab.open(SMALL);
    await waitForStatus(page, 'Paused');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await waitForStep(page, 30);
    const select = page.getByLabel('Nonlinearity', { exact: true });
    await select.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await select.inputValue()).toBe('relu');
    // Still the same run: no restart, no new link.
    const before = Number(await page.getByTestId('step').textContent());
    await waitForStep(page, before + 10);
    expect(await page.evaluate(() => window.location.search)).not.toMatch(/act=/);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /act=relu/.test(window.location.search), undefined, WAIT);
    expect(errors).toEqual([]);
  });

  it('shows a chart as a table with a caption and header cells, for every chart on the page', async () => {
    const { page, errors } = await lab.open(SMALL, { viewport: { width: 1440, height: 900 } });
    await waitForStatus(page, 'Paused');
    const charts = await page.locator('canvas[role=img]').count();
    expect(await page.getByRole('button', { name: /^Show as table/ }).count()).toBe(charts);
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await waitForStep(page, 1);
    await page.getByRole('button', { name: /^Show as table: Figure 1\(a\)/ }).click();
    const table = page.getByRole('table', { name: /Figure 1\(a\): test accuracy/ });
    await table.waitFor();
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(['Step', 'A: no BN', 'B: BN on all']);
    expect(await table.locator('tbody th').allTextContents()).toEqual(['0', '1']);
    const cells = await table.locator('tbody td').allTextContents();
    expect(cells).toHaveLength(4);
    for (const cell of cells) expect(cell).toMatch(/^\d+\.\d%$/);
    await page.getByRole('button', { name: /^Show as table: Histogram of the input to the nonlinearity.*hidden layer 1,/ }).click();
    const histogram = page.getByRole('table', { name: /Histogram, layer 1/ });
    // The table renders after the click: wait for its last bin's row before counting.
    await histogram.locator('tbody tr').nth(39).waitFor({ state: 'attached' });
    expect(await histogram.locator('tbody tr').count()).toBe(40);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: /^Hide table: Figure 1\(a\)/ }).click();
    await table.waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
  });

  it('follows prefers-color-scheme: a dark page and dark charts, repainted when the scheme changes', async () => {
    const { page, errors } = await lab.open(SMALL, { viewport: { width: 1440, height: 900 } });
    await waitForStatus(page, 'Paused');
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await waitForStep(page, 1);
    const pageLuminance = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(relativeLuminance(await pageLuminance())).toBeGreaterThan(0.8);
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLCanvasElement>('[data-testid=chart-accuracy]')?.dataset.painted ?? 0) > 0,
      undefined,
      WAIT,
    );
    expect(await canvasLuminance(page, 'chart-accuracy')).toBeGreaterThan(0.8);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForFunction(() => getComputedStyle(document.documentElement).backgroundColor !== 'rgb(244, 245, 248)', undefined, WAIT);
    expect(relativeLuminance(await pageLuminance())).toBeLessThan(0.05);
    await page.waitForFunction(
      () => {
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=chart-accuracy]')!;
        const [r, g, b] = canvas.getContext('2d')!.getImageData(1, 1, 1, 1).data;
        return r + g + b < 150;
      },
      undefined,
      WAIT,
    );
    expect(await canvasLuminance(page, 'chart-accuracy')).toBeLessThan(0.1);
    mkdirSync(join(artifactsDir, 'screenshots'), { recursive: true });
    // The viewport, as a projector shows it: a full-page capture resizes the page, which clears the canvases.
    await page.screenshot({ path: join(artifactsDir, 'screenshots', 'dark-theme.png') });
    expect(errors).toEqual([]);
  });
});
