/**
 * Where an arm's time goes, in one Node process: the default link's arms on the SIMD and the
 * hand-written steps, each trained in alternating blocks of one metrics interval (so the
 * machine's drift hits every figure alike), each part timed on its own: ordinary steps, the step
 * that takes Santurkar et al.'s measures, the record that scores the live test digits and the one
 * that scores all of them, past the first intervals (whose records all measure the gap). Prints
 * them as JSON. `tsx scripts/bench/phasesRun.ts <blocks>`
 */
import { type Config, DEFAULT_CONFIG } from '../../src/config/schema';
import { useBackend } from '../../src/training/backend';
import { INFERENCE_GAP_DENSE_INTERVALS } from '../../src/training/measures';
import { ArmTrainer, experimentData } from '../../src/training/trainer';
import { readPackageMnist } from '../build-mnist';

type Gradients = Config['gradients'];

const blocks = Number(process.argv[2] ?? '10');
await useBackend('wasm');
const data = experimentData(readPackageMnist());
const config = { ...DEFAULT_CONFIG, steps: 1e9 };
const paths: Gradients[] = ['simd', 'handwritten'];
const arms = paths.flatMap((gradients) =>
  ([0, 1] as const).map((arm) => ({
    gradients,
    arm,
    trainer: new ArmTrainer({ ...config, gradients }, arm, data),
    stepMs: [] as number[],
    measuredStepMs: [] as number[],
    liveRecordMs: [] as number[],
    fullRecordMs: [] as number[],
  })),
);

function timed(work: () => void): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

// Untimed: the first interval, where steps and records compile and allocate, and the rest of the
// first ones, whose records all measure the train vs inference gap, as the long run's do not.
const untimed = INFERENCE_GAP_DENSE_INTERVALS + 1;
for (let block = 0; block < untimed + blocks; block++) {
  const isTimed = block >= untimed;
  for (const a of arms) {
    const { trainer } = a;
    do {
      const measured = trainer.measuresNextStep;
      const ms = timed(() => trainer.trainStep());
      if (isTimed) (measured ? a.measuredStepMs : a.stepMs).push(ms);
    } while (!trainer.recordDue);
    const full = trainer.fullTestDue;
    const ms = timed(() => trainer.record());
    if (isTimed) (full ? a.fullRecordMs : a.liveRecordMs).push(ms);
  }
}

const median = (values: number[]) => (values.length === 0 ? NaN : values.slice().sort((x, y) => x - y)[Math.floor(values.length / 2)]);
const mean = (values: number[]) => (values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0) / values.length);
const interval = config.metricsInterval;
const parts = arms.map(({ gradients, arm, stepMs, measuredStepMs, liveRecordMs, fullRecordMs }) => {
  const records = liveRecordMs.length + fullRecordMs.length;
  const measuredSteps = measuredStepMs.length;
  const steps = stepMs.length + measuredSteps;
  // Per metrics interval of steps, each part at the share of intervals it takes.
  const perInterval = {
    steps: (median(stepMs) * stepMs.length * interval) / steps,
    measures: measuredSteps === 0 ? 0 : (mean(measuredStepMs) * measuredSteps * interval) / steps,
    records: ((liveRecordMs.length > 0 ? median(liveRecordMs) * liveRecordMs.length : 0) + fullRecordMs.reduce((s, v) => s + v, 0)) * (interval / steps),
  };
  return {
    gradients,
    arm,
    stepMs: median(stepMs),
    measuredStepMs: mean(measuredStepMs),
    liveRecordMs: median(liveRecordMs),
    fullRecordMs: mean(fullRecordMs),
    records,
    perInterval,
    totalPerInterval: perInterval.steps + perInterval.measures + perInterval.records,
  };
});
process.stdout.write(`${JSON.stringify({ blocks, interval, parts })}\n`);
