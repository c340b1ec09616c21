import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeMnist,
  DIGIT_CLASSES,
  encodeMnist,
  compactBuffers,
  fillBatch,
  fillCompactBatch,
  indexInk,
  loadMnist,
  MNIST_PATH,
  splitMnist,
  TEST_FRACTION,
  type MnistData,
} from './data';

const shipped = new Uint8Array(readFileSync(new URL('../../public/' + MNIST_PATH, import.meta.url)));
/** A hang must fail the test, not stall the suite for vitest's two-minute default. */
const HANG_GUARD_MS = 15_000;

/** Small digits whose pixels encode their index, so a misplaced example is visible. */
function syntheticDigits(labels: number[], rows = 2, cols = 3): MnistData {
  const pixelsPerDigit = rows * cols;
  const pixels = Uint8Array.from({ length: labels.length * pixelsPerDigit }, (_, p) => (Math.floor(p / pixelsPerDigit) * 7 + p) % 256);
  return { count: labels.length, rows, cols, labels: Uint8Array.from(labels), pixels };
}

function digitPixels(data: MnistData, i: number): number[] {
  const n = data.rows * data.cols;
  return Array.from(data.pixels.subarray(i * n, (i + 1) * n));
}

async function decodeError(bytes: Uint8Array, fileName = 'data/mnist.bin.gz'): Promise<string> {
  try {
    await decodeMnist(bytes, fileName);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('decodeMnist accepted a defective file');
}

describe('decodeMnist', () => {
  it('reads back what encodeMnist wrote, gzipped or not', async () => {
    const digits = syntheticDigits([3, 0, 9, 9, 1]);
    for (const bytes of [gzipSync(encodeMnist(digits)), encodeMnist(digits)]) {
      const decoded = await decodeMnist(bytes, 'synthetic');
      expect([decoded.count, decoded.rows, decoded.cols]).toEqual([5, 2, 3]);
      expect(Array.from(decoded.labels)).toEqual([3, 0, 9, 9, 1]);
      expect(Array.from(decoded.pixels)).toEqual(Array.from(digits.pixels));
    }
  });

  it('reads the shipped file as 10,000 digits of 28x28 with every class present', async () => {
    const data = await decodeMnist(shipped, MNIST_PATH);
    expect([data.count, data.rows, data.cols, data.pixels.length]).toEqual([10_000, 28, 28, 7_840_000]);
    expect(new Set(data.labels).size).toBe(DIGIT_CLASSES);
  });

  it('rejects a truncated gzip stream with the file name and the reason', { timeout: HANG_GUARD_MS }, async () => {
    const message = await decodeError(shipped.subarray(0, 1000));
    expect(message).toMatch(/^data\/mnist\.bin\.gz: not a readable gzip file \(.*end of file/);
  });

  it('rejects a gzip stream with corrupted compressed bytes', { timeout: HANG_GUARD_MS }, async () => {
    const corrupt = shipped.slice();
    for (let i = 5_000; i < 5_100; i++) corrupt[i] ^= 0xa5;
    expect(await decodeError(corrupt)).toMatch(/^data\/mnist\.bin\.gz: not a readable gzip file/);
  });

  it('rejects bytes that are neither gzip nor the digit format', { timeout: HANG_GUARD_MS }, async () => {
    const html = new TextEncoder().encode('<!doctype html><title>Not found</title>');
    expect(await decodeError(html)).toMatch(/^data\/mnist\.bin\.gz: not a readable gzip file/);
  });

  it('rejects a whole gzip of too few bytes, saying how many were expected and found', { timeout: HANG_GUARD_MS }, async () => {
    const raw = gunzipSync(shipped);
    expect(await decodeError(gzipSync(raw.subarray(0, 1000)))).toBe(
      'data/mnist.bin.gz: truncated: expected 7,850,016 bytes of digits (10,000 of 28x28), got 1,000',
    );
    expect(await decodeError(gzipSync(raw.subarray(0, 10)))).toBe(
      'data/mnist.bin.gz: truncated: expected a 16-byte header, got 10 bytes',
    );
  });

  it('rejects trailing bytes after the last digit', { timeout: HANG_GUARD_MS }, async () => {
    const raw = encodeMnist(syntheticDigits([1, 2]));
    const longer = new Uint8Array(raw.length + 3);
    longer.set(raw);
    expect(await decodeError(gzipSync(longer))).toBe('data/mnist.bin.gz: trailing bytes: expected 30 bytes of digits (2 of 2x3), got 33');
  });

  it('rejects bad magic bytes, naming what it found', { timeout: HANG_GUARD_MS }, async () => {
    const raw = encodeMnist(syntheticDigits([1, 2]));
    raw.set([0x50, 0x4b, 0x03, 0x04], 0);
    expect(await decodeError(gzipSync(raw))).toBe(
      'data/mnist.bin.gz: not an MNIST digit file: bad magic bytes 50 4b 03 04 (expected "MNST")',
    );
  });

  it('rejects a format version it does not know', { timeout: HANG_GUARD_MS }, async () => {
    const raw = encodeMnist(syntheticDigits([1, 2]));
    raw[4] = 2;
    expect(await decodeError(gzipSync(raw))).toMatch(/^data\/mnist\.bin\.gz: format version 2, this page reads version 1/);
  });

  it('rejects a header that promises no digits', { timeout: HANG_GUARD_MS }, async () => {
    const raw = encodeMnist(syntheticDigits([1]));
    raw[12] = 0;
    expect(await decodeError(gzipSync(raw))).toMatch(/^data\/mnist\.bin\.gz: empty: header says 1 digits of 0x3 pixels/);
  });

  it('rejects a label outside 0..9, naming the label and the digit', { timeout: HANG_GUARD_MS }, async () => {
    const raw = gunzipSync(shipped);
    raw[16 + 4321] = 12;
    expect(await decodeError(gzipSync(raw, { level: 1 }))).toBe(
      'data/mnist.bin.gz: label 12 at digit 4,321 (labels must be 0 to 9)',
    );
  });
});

describe('loadMnist', () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/' + MNIST_PATH) {
        response.writeHead(200, { 'Content-Type': 'application/gzip' }).end(shipped);
      } else if (request.url === '/encoded/' + MNIST_PATH) {
        // What a server that maps .gz to Content-Encoding sends: the browser gunzips it in fetch.
        response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' }).end(shipped);
      } else {
        response.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not found</h1>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches and decodes the served file', { timeout: HANG_GUARD_MS }, async () => {
    const data = await loadMnist(`${origin}/${MNIST_PATH}`);
    expect(data.count).toBe(10_000);
  });

  it('accepts the file from a server that sends it with Content-Encoding: gzip', { timeout: HANG_GUARD_MS }, async () => {
    const data = await loadMnist(`${origin}/encoded/${MNIST_PATH}`);
    expect(data.count).toBe(10_000);
  });

  it('reports a missing file as HTTP 404, naming the URL', { timeout: HANG_GUARD_MS }, async () => {
    const url = `${origin}/missing/${MNIST_PATH}`;
    await expect(loadMnist(url)).rejects.toThrow(`${url}: could not fetch the MNIST digits: HTTP 404 Not Found`);
  });

  it('reports a server that is not there, naming the URL', { timeout: HANG_GUARD_MS }, async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/${MNIST_PATH}`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(loadMnist(url)).rejects.toThrow(`${url}: could not fetch the MNIST digits (`);
  });
});

describe('splitMnist', () => {
  it('holds out 2,000 of the 10,000 shipped digits, each class within a point of its overall share', async () => {
    const data = await decodeMnist(shipped, MNIST_PATH);
    const { train, test } = splitMnist(data);
    expect([train.count, test.count]).toEqual([8_000, 2_000]);
    const all = new Array<number>(DIGIT_CLASSES).fill(0);
    const held = new Array<number>(DIGIT_CLASSES).fill(0);
    for (const label of data.labels) all[label]++;
    for (const label of test.labels) held[label]++;
    expect(held).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    for (let digit = 0; digit < DIGIT_CLASSES; digit++) {
      expect(Math.abs(held[digit] / test.count - all[digit] / data.count)).toBeLessThan(0.01);
    }
  });

  it("takes each class's last fifth in file order as test and keeps every digit's pixels with its label", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: DIGIT_CLASSES - 1 }), { maxLength: 200 }), (labels) => {
        const data = syntheticDigits(labels);
        const { train, test } = splitMnist(data);
        const expectedTrain: number[] = [];
        const expectedTest: number[] = [];
        for (let digit = 0; digit < DIGIT_CLASSES; digit++) {
          const ofClass = labels.flatMap((label, i) => (label === digit ? [i] : []));
          const trainCount = ofClass.length - Math.round(ofClass.length * TEST_FRACTION);
          expectedTrain.push(...ofClass.slice(0, trainCount));
          expectedTest.push(...ofClass.slice(trainCount));
        }
        expectedTrain.sort((a, b) => a - b);
        expectedTest.sort((a, b) => a - b);
        for (const [split, expected] of [[train, expectedTrain], [test, expectedTest]] as const) {
          expect(split.count).toBe(expected.length);
          expect(Array.from(split.labels)).toEqual(expected.map((i) => labels[i]));
          expect(expected.map((_, k) => digitPixels(split, k))).toEqual(expected.map((i) => digitPixels(data, i)));
        }
      }),
    );
  });
});

describe('fillBatch', () => {
  it('writes the chosen digits in index order, pixels scaled to [0, 1] and labels one-hot', async () => {
    const { test } = splitMnist(await decodeMnist(shipped, MNIST_PATH));
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
  it("lists each digit's non-zero pixels, ascending, and no other", async () => {
    const { test } = splitMnist(await decodeMnist(shipped, MNIST_PATH));
    const ink = indexInk(test);
    expect(ink.offsets.length).toBe(test.count + 1);
    for (const digit of [0, 1, 777, test.count - 1]) {
      const expected = digitPixels(test, digit).flatMap((byte, pixel) => (byte !== 0 ? [pixel] : []));
      expect(Array.from(ink.pixels.subarray(ink.offsets[digit], ink.offsets[digit + 1]))).toEqual(expected);
    }
    expect(ink.offsets[test.count]).toBe(test.pixels.filter((byte) => byte !== 0).length);
  });
});

describe('fillCompactBatch', () => {
  it("holds fillBatch's mini-batch on exactly the pixels that are ink in some example, and its labels", async () => {
    const { train } = splitMnist(await decodeMnist(shipped, MNIST_PATH));
    const indices = Uint32Array.from({ length: 200 }, (_, i) => (i * 7919) % train.count);
    const [m, pixelsPerDigit] = [60, 784];
    const dense = new Float32Array(m * pixelsPerDigit);
    const denseY = new Float32Array(m * DIGIT_CLASSES);
    const compactY = new Float32Array(m * DIGIT_CLASSES).fill(-1);
    const buffers = compactBuffers(train, m);
    // Twice into the same buffers: the second batch must not keep anything of the first.
    for (const start of [0, 140]) {
      fillBatch(train, indices, start, m, dense, denseY);
      const compact = fillCompactBatch(train, indexInk(train), indices, start, m, buffers, compactY);
      const inUse = Array.from({ length: pixelsPerDigit }, (_, p) => p).filter((p) => Array.from({ length: m }, (_, i) => dense[i * pixelsPerDigit + p]).some((v) => v !== 0));
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
