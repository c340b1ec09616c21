/**
 * The machine's GEMM rate and the training steps' share of it, measured in one Node process in
 * alternating blocks (so the machine's drift hits every figure alike); prints them as JSON.
 * `tsx scripts/bench/gemmShare.ts <blocks>`
 *
 * The GEMM rate is tfjs's own (XNNPACK, wasm SIMD) on the step's commonest product, 60x100 by
 * 100x100, with the same weights every time, so that it packs them once: the best this stack does
 * on that shape. A step's rate counts its products as dense ones (the first layer included, which
 * the SIMD step computes over each digit's ink only), so rates of different steps compare.
 */
import * as tf from '@tensorflow/tfjs';
import { type Config, DEFAULT_CONFIG } from '../../src/config/schema';

type Gradients = Config['gradients'];
import { useBackend } from '../../src/training/backend';
import { layerSizes } from '../../src/training/network';
import { ArmTrainer, experimentData, networkSpec, type ArmIndex } from '../../src/training/trainer';
import { readPackageMnist } from '../build-mnist';

const blocks = Number(process.argv[2] ?? '8');
const STEPS_PER_BLOCK = 40;
const PRODUCTS_PER_BLOCK = 400;
const [M, K, N] = [60, 100, 100];

await useBackend('wasm');
const data = experimentData(readPackageMnist());
const config = { ...DEFAULT_CONFIG, steps: 1e9 };

/** Multiply-adds of one step as dense products: x W and x^T dy for every layer, dy W^T for all but the first (whose input is the data). */
function stepFlops(arm: ArmIndex): number {
  const sizes = layerSizes(networkSpec(config, arm));
  let flops = 0;
  for (let l = 0; l + 1 < sizes.length; l++) flops += 2 * config.batchSize * sizes[l] * sizes[l + 1] * (l === 0 ? 2 : 3);
  return flops;
}

const paths: Gradients[] = ['simd', 'handwritten'];
const trainers = paths.flatMap((gradients) =>
  ([0, 1] as const).map((arm) => ({ gradients, arm, trainer: new ArmTrainer({ ...config, gradients }, arm, data), ms: [] as number[] })),
);
const a = tf.randomNormal([M, K]) as tf.Tensor2D;
const b = tf.randomNormal([K, N]) as tf.Tensor2D;
const gemmMs: number[] = [];

function timeGemm(count: number): number {
  // The wasm backend computes each product when it is called: no read-back is needed to time it.
  const started = performance.now();
  for (let i = 0; i < count; i++) tf.matMul(a, b).dispose();
  return (performance.now() - started) / count;
}

for (const t of trainers) for (let i = 0; i < 30; i++) t.trainer.trainStep();
timeGemm(100);
for (let block = 0; block < blocks; block++) {
  gemmMs.push(timeGemm(PRODUCTS_PER_BLOCK));
  for (const t of trainers) {
    const started = performance.now();
    for (let i = 0; i < STEPS_PER_BLOCK; i++) t.trainer.trainStep();
    t.ms.push((performance.now() - started) / STEPS_PER_BLOCK);
  }
}
const median = (values: number[]) => values.slice().sort((x, y) => x - y)[Math.floor(values.length / 2)];
const gemmGflops = (2 * M * K * N) / (median(gemmMs) * 1e6);
const steps = trainers.map(({ gradients, arm, ms }) => {
  const stepMs = median(ms);
  const gflops = stepFlops(arm) / (stepMs * 1e6);
  return { gradients, arm, stepMs, mflop: stepFlops(arm) / 1e6, gflops, shareOfGemm: gflops / gemmGflops };
});
// Per block, the SIMD step's speed-up over the hand-written one: both measured within the block.
const speedUps = ([0, 1] as const).map((arm) => {
  const [simd, handwritten] = paths.map((g) => trainers.find((t) => t.gradients === g && t.arm === arm)!.ms);
  return median(simd.map((ms, i) => handwritten[i] / ms));
});
process.stdout.write(`${JSON.stringify({ blocks, gemm: { shape: [M, K, N], ms: median(gemmMs), gflops: gemmGflops }, steps, speedUps })}\n`);
