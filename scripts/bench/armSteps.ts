/**
 * Trains arms of the default config headless and prints their lockstep rate as JSON: the unit of
 * the benchmark's question whether one thread per arm pays. `tsx scripts/bench/armSteps.ts both|0|1 <steps>`
 */
import { DEFAULT_CONFIG } from '../../src/config/schema';
import { useBackend } from '../../src/training/backend';
import { ArmTrainer, experimentData, type ArmIndex } from '../../src/training/trainer';
import { readPackageMnist } from '../build-mnist';

const [which = 'both', stepsText = '1500'] = process.argv.slice(2);
const steps = Number(stepsText);
const WARMUP = 100;
await useBackend('wasm');
const data = experimentData(readPackageMnist());
const arms: ArmIndex[] = which === 'both' ? [0, 1] : [Number(which) as ArmIndex];
// Records at their default interval, as a worker makes them.
const trainers = arms.map((arm) => new ArmTrainer({ ...DEFAULT_CONFIG, steps: steps + WARMUP }, arm, data));
const advance = () =>
  trainers.forEach((trainer) => {
    trainer.trainStep();
    if (trainer.recordDue) trainer.record();
  });
for (let i = 0; i < WARMUP; i++) advance();
const started = performance.now();
for (let i = 0; i < steps; i++) advance();
process.stdout.write(`${JSON.stringify({ arms: which, stepsPerSecond: steps / ((performance.now() - started) / 1000) })}\n`);
