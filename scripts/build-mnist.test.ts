import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMnist, DIGIT_CLASSES, MNIST_PATH, type MnistSplits } from '../src/training/data';
import { ensureMnist, MNIST_OUTPUT, packageIdxFile, readPackageMnist } from './build-mnist';

const idx = (name: string) => new Uint8Array(readFileSync(packageIdxFile(name)));

describe('build-mnist', () => {
  let shipped: Uint8Array;
  let decoded: MnistSplits;
  beforeAll(async () => {
    // What the page serves: the build and dev server make it through ensureMnist (vite.config.ts).
    ensureMnist();
    shipped = new Uint8Array(readFileSync(MNIST_OUTPUT));
    decoded = await decodeMnist(shipped, MNIST_PATH);
  });

  it("the served public/data/mnist.bin holds the package's IDX files byte for byte: 60,000 train and 10,000 test digits", () => {
    const { train, test } = decoded;
    expect([train.count, test.count, train.rows, train.cols]).toEqual([60_000, 10_000, 28, 28]);
    // The IDX payloads follow 16-byte (images) and 8-byte (labels) headers.
    expect(Buffer.compare(train.pixels, idx('train-images-idx3-ubyte').subarray(16))).toBe(0);
    expect(Buffer.compare(train.labels, idx('train-labels-idx1-ubyte').subarray(8))).toBe(0);
    expect(Buffer.compare(test.pixels, idx('t10k-images-idx3-ubyte').subarray(16))).toBe(0);
    expect(Buffer.compare(test.labels, idx('t10k-labels-idx1-ubyte').subarray(8))).toBe(0);
  });

  it("reads the package's files as MNIST: every class in both splits, the known class counts of the test set", () => {
    const counts = (labels: Uint8Array) => Array.from({ length: DIGIT_CLASSES }, (_, d) => labels.filter((l) => l === d).length);
    expect(counts(decoded.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(counts(decoded.train.labels).every((n) => n > 5_000)).toBe(true);
    const { train } = readPackageMnist();
    expect(Buffer.compare(train.pixels, decoded.train.pixels)).toBe(0);
  });

  it('writes no timestamp or file name into the gzip header, so rebuilding gives the same bytes', () => {
    expect(shipped[3]).toBe(0);
    expect(Array.from(shipped.subarray(4, 8))).toEqual([0, 0, 0, 0]);
  });

  it('keeps an up-to-date file and rebuilds a stale or damaged one to the same bytes', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'csl-mnist-')), MNIST_PATH);
    expect(ensureMnist(file)).toBe(true);
    expect(Buffer.compare(readFileSync(file), shipped)).toBe(0);
    const written = statSync(file).mtimeMs;
    expect(ensureMnist(file)).toBe(false);
    expect(statSync(file).mtimeMs).toBe(written);
    writeFileSync(file, shipped.subarray(0, 1_000));
    expect(ensureMnist(file)).toBe(true);
    expect(Buffer.compare(gunzipSync(readFileSync(file)), gunzipSync(shipped))).toBe(0);
  });
});
