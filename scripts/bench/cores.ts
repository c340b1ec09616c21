/**
 * Does a thread per arm pay on this machine? The same steps of the default config, both arms in
 * one Node process in lockstep (as one worker would run them), then one process per arm at once
 * (as the page's two workers do). Node, not the browser: the page has no one-worker mode to compare.
 */
import { runNodeScript } from './nodeScript';

export interface CoresResult {
  steps: number;
  /** Pair-steps/s with both arms in one thread. */
  oneThread: number;
  /** Pair-steps/s with a thread per arm: the slower arm's rate. */
  threadPerArm: number;
  perArm: [number, number];
}

async function run(arms: string, steps: number): Promise<number> {
  return (await runNodeScript<{ stepsPerSecond: number }>('armSteps.ts', [arms, String(steps)])).stepsPerSecond;
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
