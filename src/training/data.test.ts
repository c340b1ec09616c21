import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageIdxFile, readPackageMnist } from '../../scripts/build-mnist';
import {
  decodeMnist,
  DIGIT_CLASSES,
  encodeMnist,
  compactBuffers,
  fillBatch,
  fillCompactBatch,
  gunzipMnist,
  indexInk,
  MNIST_PATH,
  parseIdx,
  parseMnist,
  type MnistData,
  type MnistSplits,
} from './data';

/** A hang must fail the test, not stall the suite for vitest's two-minute default. */
const HANG_GUARD_MS = 15_000;

/** Read once per file: the package's 70,000 digits, and the page's file built from them. */
let mnist: MnistSplits;
let shippedRaw: Uint8Array;
let shipped: Uint8Array;
beforeAll(() => {
  mnist = readPackageMnist();
  shippedRaw = encodeMnist(mnist);
  // A Uint8Array, not the Buffer gzipSync returns: Buffer's slice() is a view, and tests corrupt slices.
  shipped = new Uint8Array(gzipSync(shippedRaw, { level: 1 }));
});

/** Small digits whose pixels encode their index, so a misplaced example is visible. */
function syntheticDigits(labels: number[], rows = 2, cols = 3): MnistData {
  const pixelsPerDigit = rows * cols;
  const pixels = Uint8Array.from({ length: labels.length * pixelsPerDigit }, (_, p) => (Math.floor(p / pixelsPerDigit) * 7 + p) % 256);
  return { count: labels.length, rows, cols, labels: Uint8Array.from(labels), pixels };
}

const syntheticFile = (train: number[], test: number[]) => encodeMnist({ train: syntheticDigits(train), test: syntheticDigits(test) });

function digitPixels(data: MnistData, i: number): number[] {
  const n = data.rows * data.cols;
  return Array.from(data.pixels.subarray(i * n, (i + 1) * n));
}

async function decodeError(bytes: Uint8Array, fileName = 'data/mnist.bin'): Promise<string> {
  try {
    await decodeMnist(bytes, fileName);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('decodeMnist accepted a defective file');
}

describe('parseIdx', () => {
  it("reads the package's original IDX files as 60,000 training and 10,000 test digits of 28x28", () => {
    expect([mnist.train.count, mnist.train.rows, mnist.train.cols, mnist.train.pixels.length]).toEqual([60_000, 28, 28, 47_040_000]);
    expect([mnist.test.count, mnist.test.labels.length, mnist.test.pixels.length]).toEqual([10_000, 10_000, 7_840_000]);
    expect(new Set(mnist.train.labels).size).toBe(DIGIT_CLASSES);
    expect(Math.max(...mnist.test.labels)).toBe(9);
  });

  it('rejects swapped files, a bad magic number and a count the bytes do not hold, naming the file', () => {
    const images = new Uint8Array(readFileSync(packageIdxFile('t10k-images-idx3-ubyte')));
    const labels = new Uint8Array(readFileSync(packageIdxFile('t10k-labels-idx1-ubyte')));
    expect(() => parseIdx(labels, images, 't10k')).toThrow('t10k: images have magic 0x00000801, expected 0x00000803');
    expect(() => parseIdx(images, images, 't10k')).toThrow('t10k: labels have magic 0x00000803, expected 0x00000801');
    expect(() => parseIdx(images.subarray(0, 1_000), labels, 't10k')).toThrow(
      't10k: expected 7,840,016 image and 10,008 label bytes (10,000 digits of 28x28), got 1,000 and 10,008',
    );
    expect(() => parseIdx(images, labels.subarray(0, 4), 't10k')).toThrow('t10k: truncated IDX header: 7840016 image bytes, 4 label bytes');
  });
});

describe('decodeMnist', () => {
  it('reads back what encodeMnist wrote, gzipped or not, train and test apart', async () => {
    const raw = syntheticFile([3, 0, 9], [9, 1]);
    for (const bytes of [gzipSync(raw), raw]) {
      const { train, test } = await decodeMnist(bytes, 'synthetic');
      expect([train.count, test.count, train.rows, train.cols]).toEqual([3, 2, 2, 3]);
      expect([Array.from(train.labels), Array.from(test.labels)]).toEqual([
        [3, 0, 9],
        [9, 1],
      ]);
      expect(Array.from(test.pixels)).toEqual(Array.from(syntheticDigits([9, 1]).pixels));
    }
  });

  it("reads the page's file as the package's digits, each split equal to its IDX files", async () => {
    const { train, test } = await decodeMnist(shipped, MNIST_PATH);
    expect([train.count, test.count]).toEqual([60_000, 10_000]);
    expect(Buffer.compare(train.pixels, mnist.train.pixels)).toBe(0);
    expect(Buffer.compare(test.labels, mnist.test.labels)).toBe(0);
  });

  it('rejects a truncated gzip stream, naming the file, gunzip and the bytes received', { timeout: HANG_GUARD_MS }, async () => {
    const message = await decodeError(shipped.subarray(0, 1000));
    expect(message).toMatch(/^data\/mnist\.bin: gunzip failed on the 1,000 bytes received: not a readable gzip file \(.*end of file/);
  });

  it('rejects a gzip stream with corrupted compressed bytes', { timeout: HANG_GUARD_MS }, async () => {
    const corrupt = shipped.slice();
    for (let i = 5_000; i < 5_100; i++) corrupt[i] ^= 0xa5;
    expect(await decodeError(corrupt)).toMatch(/^data\/mnist\.bin: gunzip failed on the [\d,]+ bytes received/);
  });

  it('rejects bytes that are neither gzip nor the digit format', { timeout: HANG_GUARD_MS }, async () => {
    const html = new TextEncoder().encode('<!doctype html><title>Not found</title>');
    expect(await decodeError(html)).toMatch(/^data\/mnist\.bin: gunzip failed on the 39 bytes received: not a readable gzip file/);
  });

  it('rejects a whole gzip of too few bytes, saying how many were expected and found', { timeout: HANG_GUARD_MS }, async () => {
    expect(await decodeError(gzipSync(shippedRaw.subarray(0, 1000)))).toBe(
      'data/mnist.bin: truncated: expected 54,950,020 bytes of digits (60,000 train + 10,000 test of 28x28), got 1,000',
    );
    expect(await decodeError(gzipSync(shippedRaw.subarray(0, 10)))).toBe('data/mnist.bin: truncated: expected a 20-byte header, got 10 bytes');
  });

  it('rejects trailing bytes after the last digit', { timeout: HANG_GUARD_MS }, async () => {
    const raw = syntheticFile([1], [2]);
    const longer = new Uint8Array(raw.length + 3);
    longer.set(raw);
    expect(await decodeError(gzipSync(longer))).toBe('data/mnist.bin: trailing bytes: expected 34 bytes of digits (1 train + 1 test of 2x3), got 37');
  });

  it('rejects bad magic bytes, naming what it found', () => {
    const raw = syntheticFile([1], [2]);
    raw.set([0x50, 0x4b, 0x03, 0x04], 0);
    expect(() => parseMnist(raw, 'data/mnist.bin')).toThrow('data/mnist.bin: not an MNIST digit file: bad magic bytes 50 4b 03 04 (expected "MNST")');
  });

  it('rejects a format version it does not know, such as the 10,000-digit file of version 1', () => {
    const raw = syntheticFile([1], [2]);
    raw[4] = 1;
    expect(() => parseMnist(raw, 'data/mnist.bin')).toThrow(/^data\/mnist\.bin: format version 1, this page reads version 2/);
  });

  it('rejects a header that promises no digits', () => {
    const raw = syntheticFile([1], [2]);
    raw[16] = 0;
    expect(() => parseMnist(raw, 'data/mnist.bin')).toThrow('data/mnist.bin: empty: header says 1 train and 1 test digits of 0x3 pixels');
  });

  it('rejects a label outside 0..9, naming the label, the split and the digit', { timeout: HANG_GUARD_MS }, async () => {
    const raw = shippedRaw.slice();
    raw[20 + 4321] = 12;
    expect(await decodeError(gzipSync(raw, { level: 1 }))).toBe('data/mnist.bin: label 12 at train digit 4,321 (labels must be 0 to 9)');
    raw[20 + 4321] = 1;
    raw[20 + 60_000 + 17] = 10;
    expect(() => parseMnist(raw, 'data/mnist.bin')).toThrow('data/mnist.bin: label 10 at test digit 17 (labels must be 0 to 9)');
  });

  it('reads bytes on a SharedArrayBuffer (what both workers get on an isolated page) as views, without a copy', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(shippedRaw.length));
    shared.set(shippedRaw);
    const { train, test } = parseMnist(shared, MNIST_PATH);
    expect([train.count, test.count]).toEqual([60_000, 10_000]);
    expect(train.pixels.buffer).toBe(shared.buffer);
    expect(test.labels.buffer).toBe(shared.buffer);
  });

  it('takes bytes a server already gunzipped (Content-Encoding: gzip) as they are', async () => {
    expect(await gunzipMnist(shippedRaw, MNIST_PATH)).toBe(shippedRaw);
    expect(Buffer.compare(await gunzipMnist(shipped, MNIST_PATH), gunzipSync(shipped))).toBe(0);
  });
});

describe('fillBatch', () => {
  it('writes the chosen digits in index order, pixels scaled to [0, 1] and labels one-hot', () => {
    const { test } = mnist;
    const pixelsPerDigit = 784;
    const indices = [17, 1_999, 0, 523, 17];
    const x = new Float32Array(3 * pixelsPerDigit).fill(-1);
    const y = new Float32Array(3 * DIGIT_CLASSES).fill(-1);
    fillBatch(test, indices, 1, 3, x, y);
    for (const [row, example] of [1_999, 0, 523].entries()) {
      const scaled = x.subarray(row * pixelsPerDigit, (row + 1) * pixelsPerDigit);
      expect(Array.from(scaled)).toEqual(digitPixels(test, example).map((byte) => Math.fround(byte / 255)));
      const oneHot = Array.from(y.subarray(row * DIGIT_CLASSES, (row + 1) * DIGIT_CLASSES));
      expect(oneHot).toEqual(Array.from({ length: DIGIT_CLASSES }, (_, c) => (c === test.labels[example] ? 1 : 0)));
    }
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBe(1);
  });

  it('refuses arrays too small for the batch or indices past the end', () => {
    const digits = syntheticDigits([4, 5]);
    expect(() => fillBatch(digits, [0, 1], 0, 2, new Float32Array(11), new Float32Array(20))).toThrow(RangeError);
    expect(() => fillBatch(digits, [0, 1], 1, 2, new Float32Array(12), new Float32Array(20))).toThrow(RangeError);
    expect(() => fillBatch(digits, [0, 2], 0, 2, new Float32Array(12), new Float32Array(20))).toThrow(RangeError);
  });
});

describe('indexInk', () => {
  it("lists each digit's non-zero pixels, ascending, and no other, in under 40% of the pixels' bytes", () => {
    const { train } = mnist;
    const ink = indexInk(train);
    expect(ink.offsets.length).toBe(train.count + 1);
    for (const digit of [0, 1, 777, 31_415, train.count - 1]) {
      const expected = digitPixels(train, digit).flatMap((byte, pixel) => (byte !== 0 ? [pixel] : []));
      expect(Array.from(ink.pixels.subarray(ink.offsets[digit], ink.offsets[digit + 1]))).toEqual(expected);
    }
    let inked = 0;
    for (const byte of train.pixels) if (byte !== 0) inked++;
    expect(ink.offsets[train.count]).toBe(inked);
    // Each worker holds it beside the 47 MB of training pixels: two bytes an ink pixel, four a digit.
    expect(ink.pixels.byteLength + ink.offsets.byteLength).toBe(2 * inked + 4 * (train.count + 1));
    expect(ink.pixels.byteLength + ink.offsets.byteLength).toBeLessThan(0.4 * train.pixels.length);
  });

  it('gives the same index for digits whose bytes do not start on a 4-byte boundary', () => {
    const count = 500;
    const aligned: MnistData = { ...mnist.train, count, labels: mnist.train.labels.subarray(0, count), pixels: mnist.train.pixels.slice(0, count * 784) };
    const unaligned: MnistData = { ...aligned, pixels: new Uint8Array(count * 784 + 1).subarray(1) };
    unaligned.pixels.set(aligned.pixels);
    const [a, b] = [indexInk(aligned), indexInk(unaligned)];
    expect(Array.from(b.offsets)).toEqual(Array.from(a.offsets));
    expect(Array.from(b.pixels)).toEqual(Array.from(a.pixels));
  });
});

describe('fillCompactBatch', () => {
  it("holds fillBatch's mini-batch on exactly the pixels that are ink in some example, and its labels", () => {
    const { train } = mnist;
    const indices = Uint32Array.from({ length: 200 }, (_, i) => (i * 7919) % train.count);
    const [m, pixelsPerDigit] = [60, 784];
    const dense = new Float32Array(m * pixelsPerDigit);
    const denseY = new Float32Array(m * DIGIT_CLASSES);
    const compactY = new Float32Array(m * DIGIT_CLASSES).fill(-1);
    const buffers = compactBuffers(train, m);
    const ink = indexInk(train);
    // Twice into the same buffers: the second batch must not keep anything of the first.
    for (const start of [0, 140]) {
      fillBatch(train, indices, start, m, dense, denseY);
      const compact = fillCompactBatch(train, ink, indices, start, m, buffers, compactY);
      const inUse = Array.from({ length: pixelsPerDigit }, (_, p) => p).filter((p) =>
        Array.from({ length: m }, (_, i) => dense[i * pixelsPerDigit + p]).some((v) => v !== 0),
      );
      expect(Array.from(compact.pixels)).toEqual(inUse);
      expect(compact).toMatchObject({ m, inputSize: pixelsPerDigit });
      const count = inUse.length;
      for (let i = 0; i < m; i++) {
        for (let k = 0; k < count; k++) {
          expect(compact.x[i * count + k]).toBe(dense[i * pixelsPerDigit + inUse[k]]);
          expect(compact.xT[k * m + i]).toBe(dense[i * pixelsPerDigit + inUse[k]]);
        }
      }
      expect(compact.x.length).toBe(m * count);
      expect(Array.from(compactY)).toEqual(Array.from(denseY));
    }
  });

  it('refuses buffers too small for the batch or indices past the end', () => {
    const digits = syntheticDigits([4, 5]);
    const ink = indexInk(digits);
    const y = new Float32Array(20);
    expect(() => fillCompactBatch(digits, ink, [0, 1], 0, 2, compactBuffers(digits, 1), y)).toThrow(RangeError);
    expect(() => fillCompactBatch(digits, ink, [0, 1], 1, 2, compactBuffers(digits, 2), y)).toThrow(RangeError);
    expect(() => fillCompactBatch(digits, ink, [0, 2], 0, 2, compactBuffers(digits, 2), y)).toThrow(RangeError);
  });
});
