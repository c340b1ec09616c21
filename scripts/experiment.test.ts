import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function experiment(...args: string[]) {
  const run = spawnSync('npx', ['tsx', 'scripts/experiment.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npm run experiment', () => {
  it.each([
    [['--nonsense', '1'], /--nonsense/],
    [['--steps', 'many'], /--steps.*not a number/],
    [['--hidden-units', '100000'], /--hidden-units.*2\.\.256/],
    [['--learning-rate', '-1'], /--learning-rate.*0\.00001\.\.100/],
  ])('rejects %j with a message naming the flag and writes nothing', (args, message) => {
    const out = join(mkdtempSync(join(tmpdir(), 'csl-')), 'run.json');
    const run = experiment(...args, '--out', out);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('trains both arms from a link and writes every record in the documented format', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'csl-')), 'run.json');
    const run = experiment(
      '--url',
      'https://example.org/?v=2&units=16&probe=100',
      '--steps',
      '20',
      '--metrics-interval',
      '10',
      '--santurkar-interval',
      '10',
      '--out',
      out,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/A: no BN vs B: BN on all/);
    // The last column pair is the last hidden layer's ICS of each arm: none at step 0, a number at 10 and 20.
    expect(run.stdout).toMatch(/ICS A +ICS B\n +0 .* - +-\n +10 .* \d\.\d\de-\d+ +\d\.\d\de-\d+\n/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.config.hiddenUnits).toBe(16);
    expect(json.backend).toBe('wasm');
    expect(json.measuredOn).toMatchObject({ trainDigits: 60_000, testDigits: 10_000, liveTestDigits: 2_000, fullTestEverySteps: 100, probeDigits: 100 });
    expect(run.stdout).toMatch(/test accuracy on all 10000 test digits \(the table's acc: the first 2000\): A \d+\.\d\d% at step 20, B \d+\.\d\d% at step 20/);
    expect(json.arms.map((arm: { name: string }) => arm.name)).toEqual(['A', 'B']);
    for (const arm of json.arms) {
      expect(arm.diverged).toBeNull();
      expect(arm.records.map((r: { step: number }) => r.step)).toEqual([0, 10, 20]);
      // All 10,000 test digits every 10th record and at the last step; the live 2,000 at every record.
      expect(arm.records.map((r: { fullTestAccuracy: number | null }) => r.fullTestAccuracy === null)).toEqual([true, true, false]);
      for (const r of arm.records) expect(r.testAccuracy).toBeGreaterThanOrEqual(0);
      const layer = arm.records[2].layers[2];
      expect(layer.unit.p15).toBeLessThanOrEqual(layer.unit.p50);
      expect(layer.unit.p50).toBeLessThanOrEqual(layer.unit.p85);
      expect(layer.pooled.histogram.reduce((a: number, b: number) => a + b, 0)).toBe(100 * 16);
      expect(layer.saturation).toBeGreaterThanOrEqual(0);
      expect(arm.records[0].layers[2].ics).toEqual({ l2: null, cosine: null });
      expect(layer.ics.l2).toBeGreaterThan(0);
      expect(arm.records[2].landscape.lossMax).toBeGreaterThanOrEqual(arm.records[2].landscape.lossMin);
    }
  });

  it('trains LayerNorm against BN after the nonlinearity from a link, and names both in the JSON', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'csl-')), 'run.json');
    const run = experiment('--url', '?bnA=3,3,3&bnB=4,4,4&units=16&probe=100&lr=0.5', '--steps', '100', '--metrics-interval', '50', '--out', out);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/A: LayerNorm on all vs B: BN after g on all/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.arms.map((arm: { normalization: string[] }) => arm.normalization)).toEqual([
      ['layernorm', 'layernorm', 'layernorm'],
      ['batchnorm-after', 'batchnorm-after', 'batchnorm-after'],
    ]);
    for (const arm of json.arms) {
      expect(arm.diverged).toBeNull();
      expect(arm.records.map((r: { step: number }) => r.step)).toEqual([0, 50, 100]);
      // Both learn: chance is 10%.
      expect(arm.records[2].testAccuracy).toBeGreaterThan(0.2);
    }
    // Only the arm with batch statistics has a train vs inference gap.
    expect(json.arms[0].records[2].inferenceGap).toBeUndefined();
    expect(Object.keys(json.arms[1].records[2].inferenceGap)).toEqual(['trainingMode', 'population', 'movingAverage']);
  });
});
