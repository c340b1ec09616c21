/**
 * Does a thread per arm pay on this machine? The same steps of the default config, both arms in
 * one Node process in lockstep (as one worker would run them), then one process per arm at once
 * (as the page's two workers do). Node, not the browser: the page has no one-worker mode to compare.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CoresResult {
  steps: number;
  /** Pair-steps/s with both arms in one thread. */
  oneThread: number;
  /** Pair-steps/s with a thread per arm: the slower arm's rate. */
  threadPerArm: number;
  perArm: [number, number];
}

const script = fileURLToPath(new URL('./armSteps.ts', import.meta.url));

function run(arms: string, steps: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', script, arms, String(steps)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`armSteps ${arms} exited ${code}: ${output}`));
      else resolve((JSON.parse(line) as { stepsPerSecond: number }).stepsPerSecond);
    });
  });
}

export async function measureCores(steps: number): Promise<CoresResult> {
  const oneThread = await run('both', steps);
  const perArm = (await Promise.all([run('0', steps), run('1', steps)])) as [number, number];
  return { steps, oneThread, threadPerArm: Math.min(...perArm), perArm };
}

export function describeCores(result: CoresResult): string {
  const [a, b] = result.perArm.map((rate) => rate.toFixed(0));
  return (
    `cores: ${result.steps} steps of the default config in Node: both arms in one thread ${result.oneThread.toFixed(0)} pair-steps/s; ` +
    `a thread per arm ${result.threadPerArm.toFixed(0)} (A ${a}, B ${b}), ${(result.threadPerArm / result.oneThread).toFixed(2)}x`
  );
}
