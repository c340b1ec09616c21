/**
 * The machine's GEMM rate and the steps' share of it (gemmShare.ts, in a Node process of its own),
 * so that step rates measured on different machines compare.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config/schema';

type Gradients = Config['gradients'];

export interface GemmShare {
  blocks: number;
  gemm: { shape: [number, number, number]; ms: number; gflops: number };
  steps: { gradients: Gradients; arm: 0 | 1; stepMs: number; mflop: number; gflops: number; shareOfGemm: number }[];
  /** Per arm (no BN, BN), the median over blocks of hand-written ms / SIMD ms. */
  speedUps: [number, number];
}

const script = fileURLToPath(new URL('./gemmShare.ts', import.meta.url));

export function measureGemmShare(blocks: number): Promise<GemmShare> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', script, String(blocks)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`gemmShare exited ${code}: ${output}`));
      else resolve(JSON.parse(line) as GemmShare);
    });
  });
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
