/**
 * Runs one of the bench's Node measurements (a script beside this file) in a process of its own, so
 * its timings share nothing with the browser's or another measurement's, and reads back the JSON
 * object it prints last.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runNodeScript<T>(name: string, args: readonly string[]): Promise<T> {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${name} ${args.join(' ')} exited ${code}: ${output}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}
