/**
 * Trains arms of the default config headless and prints their lockstep rate as JSON: the unit of
 * the benchmark's question whether one thread per arm pays. `tsx scripts/bench/armSteps.ts both|0|1 <steps>`
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../src/config/schema';
import { useBackend } from '../../src/training/backend';
import { decodeMnist, MNIST_PATH } from '../../src/training/data';
import { ArmTrainer, experimentData, type ArmIndex } from '../../src/training/trainer';

const [which = 'both', stepsText = '1500'] = process.argv.slice(2);
const steps = Number(stepsText);
const WARMUP = 100;
await useBackend('wasm');
const data = experimentData(await decodeMnist(readFileSync(fileURLToPath(new URL(`../../public/${MNIST_PATH}`, import.meta.url))), MNIST_PATH));
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
process.stdout.write(JSON.stringify({ arms: which, stepsPerSecond: steps / ((performance.now() - started) / 1000) }) + '\n');
