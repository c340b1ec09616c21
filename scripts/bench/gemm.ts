/**
 * The machine's GEMM rate and the steps' share of it (gemmShare.ts, in a Node process of its own),
 * so that step rates measured on different machines compare.
 */
import type { Config } from '../../src/config/schema';
import { runNodeScript } from './nodeScript';

type Gradients = Config['gradients'];

export interface GemmShare {
  blocks: number;
  gemm: { shape: [number, number, number]; ms: number; gflops: number };
  steps: { gradients: Gradients; arm: 0 | 1; stepMs: number; mflop: number; gflops: number; shareOfGemm: number }[];
  /** Per arm (no BN, BN), the median over blocks of hand-written ms / SIMD ms. */
  speedUps: [number, number];
}

export function measureGemmShare(blocks: number): Promise<GemmShare> {
  return runNodeScript<GemmShare>('gemmShare.ts', [String(blocks)]);
}

const PATH_NAMES: Record<Gradients, string> = { simd: 'WebAssembly SIMD step', handwritten: 'hand-written step', autodiff: 'autodiff step' };

export function describeGemmShare(result: GemmShare): string {
  const [m, k, n] = result.gemm.shape;
  const steps = result.steps
    .map(
      (s) =>
        `${PATH_NAMES[s.gradients]} ${s.arm === 0 ? 'A (no BN)' : 'B (BN)'} ${s.stepMs.toFixed(2)} ms = ${s.gflops.toFixed(1)} GFLOP/s, ${(100 * s.shareOfGemm).toFixed(0)}%`,
    )
    .join('; ');
  const [a, b] = result.speedUps.map((r) => r.toFixed(2));
  return (
    `GEMM: tfjs wasm (XNNPACK) ${m}x${k} by ${k}x${n}, same weights, ${result.gemm.gflops.toFixed(1)} GFLOP/s in Node; ` +
    `each step's products (${result.steps[0].mflop.toFixed(1)} MFLOP as dense products) as a rate and its share of that: ${steps}. ` +
    `SIMD over hand-written, alternating blocks in the same process: ${a}x (A), ${b}x (B)`
  );
}
