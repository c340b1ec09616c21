/**
 * The Santurkar et al. panel: while both arms train it shows their measures of shift (ICS per
 * hidden layer from the second) and of the landscape (Figure 4), as measured values at the steps
 * they were taken (neither NaN nor zeros in between), in text alternatives that name both arms, in
 * tables and in the readout; it says when the measures are off; its presets set the link.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/schema';
import { leadSteps } from '../../src/state/runner';
import { ACTION_TIMEOUT_MS, artifactsDir, useBrowserApp } from './harness';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** A small network recorded every 10 steps, Santurkar et al.'s measures at every 30th step: records between them carry none. */
const EVERY = 30;
const SMALL = `?units=32&probe=200&every=10&santurkar=${EVERY}`;
const WAIT = { timeout: ACTION_TIMEOUT_MS, polling: 50 };
/** How far one arm may train ahead of the other at this record interval. */
const LEAD = leadSteps({ ...DEFAULT_CONFIG, metricsInterval: 10 });
/** Tall enough that the panel, at the foot of the page, is on screen: charts out of view do not paint. */
const TALL = { width: 1280, height: 6400 };

const SANTURKAR_CHARTS = [
  'chart-ics-l2-1',
  'chart-ics-cosine-1',
  'chart-ics-l2-2',
  'chart-ics-cosine-2',
  'chart-landscape-loss',
  'chart-landscape-gradient',
  'chart-landscape-beta',
];

async function waitForStep(page: Page, atLeast: number): Promise<void> {
  await page.waitForFunction((min) => Number(document.querySelector('[data-testid=step]')!.textContent) >= min, atLeast, WAIT);
}

async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

/** "A: no BN 0.0123 at step 90, B: BN on all 0.00456 at step 90": each arm's number and step, or null where the text has none. */
function armValues(text: string, arms: readonly string[]): { value: string; step: number }[] | null {
  const found = arms.map((arm) => new RegExp(`${arm.replace(/[()]/g, '\\$&')} (\\S+?) at step ([\\d,]+)`).exec(text));
  if (found.some((m) => m === null)) return null;
  return found.map((m) => ({ value: m![1], step: Number(m![2].replace(/,/g, '')) }));
}

const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe's violations inside the panel, as "rule: selectors", so a failure names what to fix. */
async function panelViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SCRIPT });
  return page.evaluate(async () => {
    const { axe } = window as unknown as { axe: { run: (context: Element) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } };
    const { violations } = await axe.run(document.querySelector('[data-testid=santurkar]')!);
    return violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

const NUMBER = /^−?\d+(\.\d+)?(e[−-]?\d+)?$/;
const RANGE = /^−?[\d.e−-]+–−?[\d.e−-]+$/;

describe('the Santurkar et al. panel', () => {
  const lab = useBrowserApp();

  it('shows both arms’ measured ICS and landscape while training, at the measured steps only, in words, tables and the readout', async () => {
    const { page, errors } = await lab.open(SMALL, { viewport: TALL });
    const panel = page.getByRole('region', { name: 'Santurkar et al. (2018): is it the shift?' });
    await panel.waitFor({ state: 'visible' });
    expect(await panel.getByRole('link', { name: 'Santurkar et al. (2018)' }).getAttribute('href')).toBe('https://arxiv.org/abs/1805.11604');
    expect(await textOf(page, 'santurkar-note')).toMatch(new RegExp(`^Measured every ${EVERY} steps`));
    expect(await panel.textContent()).toMatch(/Hidden layer 1 has no layer below it: its ‖G − G′‖ is 0 and its cosine 1 by definition/);
    // Both arms' step-0 record comes before any step, so it carries no measurement: a dash in words, not a zero.
    await page.waitForFunction(() => document.querySelector('.status-bar [role=status]')?.textContent === 'Paused', undefined, WAIT);
    for (const id of SANTURKAR_CHARTS) {
      await vi.waitFor(async () => expect(await textOf(page, `${id}-text`), id).toMatch(/A: no BN not measured, B: BN on all not measured\.$/), WAIT);
    }

    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await waitForStep(page, 4 * EVERY);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();

    const arms = ['A: no BN', 'B: BN on all'];
    for (const id of SANTURKAR_CHARTS) {
      // The text follows the data at the scheduler's pace.
      let values: { value: string; step: number }[] | null = null;
      await vi.waitFor(async () => {
        values = armValues(await textOf(page, `${id}-text`), arms);
        expect(values?.every((v) => v.step >= 3 * EVERY)).toBe(true);
      }, WAIT);
      for (const { value, step } of values!) {
        expect(step % EVERY, `${id} at step ${step}`).toBe(0);
        expect(value, id).toMatch(/landscape-(loss|gradient)/.test(id) ? RANGE : NUMBER);
      }
    }
    const text = await textOf(page, 'chart-ics-l2-2-text');
    const l2 = armValues(text, arms)!.map((v) => Number(v.value.replace('−', '-')));
    // ICS is a distance between two gradients that differ, for both arms: not a zero filling a gap.
    for (const value of l2) expect(value).toBeGreaterThan(0);
    const cosine = armValues(await textOf(page, 'chart-ics-cosine-2-text'), arms)!.map((v) => Number(v.value.replace('−', '-')));
    for (const value of cosine) expect(Math.abs(value)).toBeLessThanOrEqual(1);

    // The table lists the measured steps only, every one a multiple of EVERY, with a number per arm.
    await panel.getByRole('button', { name: /^Show as table: ICS .* hidden layer 3: ‖G − G′‖/ }).click();
    const table = panel.getByRole('table', { name: /hidden layer 3: ‖G − G′‖/ });
    await table.locator('tbody tr').nth(2).waitFor({ state: 'attached' });
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(['Step', ...arms]);
    const steps = (await table.locator('tbody th').allTextContents()).map((s) => Number(s.replace(/,/g, '')));
    // Step 0's record comes before any step, which is what the measures measure.
    expect(steps[0]).toBe(EVERY);
    for (const step of steps) expect(step % EVERY).toBe(0);
    // One arm may run up to LEAD steps ahead of the other: only the rows that close to the end may lack the other's value.
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    rows.forEach((cells, i) => {
      const nearEnd = steps[i] > steps[steps.length - 1] - LEAD;
      for (const cell of cells) expect(cell, `step ${steps[i]}`).toMatch(nearEnd ? new RegExp(`${NUMBER.source}|^–$`) : NUMBER);
      expect(cells.some((cell) => NUMBER.test(cell))).toBe(true);
    });

    expect(await panelViolations(page)).toEqual([]);

    // The step cursor reads them out: at step 0 nothing is measured yet; at step 40 the last measurement is step 30's.
    const readout = page.getByTestId('santurkar-readout');
    expect(await readout.textContent()).toMatch(/^Latest measurements, Santurkar et al\.: A: no BN, measured at step \d+: ICS of layer 3 ‖G − G′‖ /);
    await page.getByTestId('chart-landscape-beta').focus();
    await page.keyboard.press('Home');
    await vi.waitFor(
      async () => expect(await readout.textContent()).toMatch(/^At step 0 \(step cursor\), Santurkar et al\.: A: no BN: not measured yet\./),
      WAIT,
    );
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    await vi.waitFor(
      async () => expect(await readout.textContent()).toMatch(/^At step 40 \(step cursor\), Santurkar et al\.: A: no BN, measured at step 30: /),
      WAIT,
    );
    expect(await readout.textContent()).toMatch(
      /B: BN on all, measured at step 30: ICS of layer 3 ‖G − G′‖ \S+, cosine \S+; loss along the gradient \S+–\S+ nats/,
    );

    const exportMenu = page.getByTestId('chart-landscape-loss-export');
    await exportMenu.getByText('Export').click();
    expect(await exportMenu.getByRole('button').allTextContents()).toEqual(['PNG', 'SVG']);
    await exportMenu.getByText('Export').click();

    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await waitForStep(page, 6 * EVERY);
    mkdirSync(join(artifactsDir, 'screenshots'), { recursive: true });
    await panel.screenshot({ path: join(artifactsDir, 'screenshots', 'santurkar.png') });
    expect(errors).toEqual([]);
  });

  it('says when the measures are off, and reads no value as zero', async () => {
    const { page, errors } = await lab.open('?units=32&probe=200&every=10&santurkar=0', { viewport: TALL });
    await page.getByTestId('santurkar-note').waitFor();
    expect(await textOf(page, 'santurkar-note')).toMatch(/^These measures are off in this run/);
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await waitForStep(page, 40);
    await vi.waitFor(async () => expect(await textOf(page, 'chart-landscape-beta-text')).toMatch(/A: no BN not measured, B: BN on all not measured\.$/), WAIT);
    expect(await textOf(page, 'santurkar-readout')).toMatch(/A: no BN: not measured yet\. B: BN on all: not measured yet\.$/);
    expect(errors).toEqual([]);
  });

  it('plots no ICS for a network of one hidden layer, whose ICS is 0 and 1 by definition, and says so', async () => {
    const { page, errors } = await lab.open('?layers=1&units=32&probe=200&every=10');
    const panel = page.getByRole('region', { name: 'Santurkar et al. (2018): is it the shift?' });
    await panel.waitFor({ state: 'visible' });
    expect(await panel.textContent()).toMatch(
      /This network has one hidden layer, which has no layer below it: its ‖G − G′‖ is 0 and its cosine 1 by definition/,
    );
    expect(await panel.locator('canvas[data-testid^=chart-ics-]').count()).toBe(0);
    expect(await panel.locator('canvas[data-testid^=chart-landscape-]').count()).toBe(3);
    expect(errors).toEqual([]);
  });

  it('has presets that set the link: BN against noisy BN, and the plain net against noisy BN', async () => {
    const { page, errors } = await lab.open();
    const shift = page.getByRole('button', { name: 'Santurkar et al.: is it the shift?', exact: true });
    await shift.click();
    await vi.waitFor(async () => expect(await shift.getAttribute('aria-pressed')).toBe('true'), WAIT);
    let query = new URL(page.url()).searchParams;
    expect(query.get('bnA')).toBe('1,1,1');
    expect(query.get('bnB')).toBe('2,2,2');
    expect(await page.locator('.lede').textContent()).toMatch(/Arm A: BN on all; arm B: noisy BN on all\./);
    expect(await page.getByTestId('santurkar-prediction').textContent()).toMatch(
      /the noise moves the input distributions of arm B \(noisy BN\) at every step, which arm A \(BN\) holds still/,
    );

    const plain = page.getByRole('button', { name: 'Santurkar et al.: plain net against noisy BN', exact: true });
    await plain.click();
    await vi.waitFor(async () => expect(await plain.getAttribute('aria-pressed')).toBe('true'), WAIT);
    query = new URL(page.url()).searchParams;
    expect(query.get('bnA')).toBeNull();
    expect(query.get('bnB')).toBe('2,2,2');
    expect(await shift.getAttribute('aria-pressed')).toBe('false');
    expect(await page.getByTestId('santurkar-prediction').textContent()).toMatch(
      /predicts arm B \(noisy BN\) faster training than arm A \(the plain net\) even though the noise moves/,
    );
    expect(await page.getByRole('region', { name: /Santurkar et al\./ }).textContent()).toMatch(/arm A: no BN and arm B: noisy BN on all/);
    expect(errors).toEqual([]);
  });
});
