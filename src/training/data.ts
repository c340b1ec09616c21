/**
 * Real MNIST digits: the binary format built by scripts/build-mnist.ts, its decoder, the fixed
 * train/test split and the filling of mini-batches. Runs unchanged in Node and in a worker.
 *
 * File layout (little-endian), gzipped:
 *   0  magic      4 bytes, ASCII "MNST"
 *   4  version    uint32
 *   8  count      uint32, digits in the file
 *  12  rows       uint16
 *  14  cols       uint16
 *  16  labels     uint8[count], each 0..9
 *  ..  pixels     uint8[count * rows * cols], row-major per digit, 0 = background, 255 = ink
 */

import type { CompactInput } from './network';

export interface MnistData {
  count: number;
  rows: number;
  cols: number;
  /** One digit class 0..9 per example. */
  labels: Uint8Array;
  /**
   * `count * rows * cols` intensities 0..255. Kept as bytes (7.8 MB for 10,000 digits rather than
   * 31 MB as floats); fillBatch scales them to [0, 1] only for the examples of one mini-batch.
   */
  pixels: Uint8Array;
}

/** Where the page serves the file, relative to its base URL (the build writes it under public/). */
export const MNIST_PATH = 'data/mnist.bin.gz';
export const DIGIT_CLASSES = 10;

const MAGIC = 'MNST';
const FORMAT_VERSION = 1;
const HEADER_BYTES = 16;

const formatCount = (n: number) => n.toLocaleString('en-US');

/** The uncompressed file for `data`; the inverse of decodeMnist before gzip. */
export function encodeMnist(data: MnistData): Uint8Array {
  const pixelsPerDigit = data.rows * data.cols;
  if (data.labels.length !== data.count || data.pixels.length !== data.count * pixelsPerDigit) {
    throw new Error(
      `encodeMnist: ${data.count} digits of ${data.rows}x${data.cols} need ${data.count} labels and ` +
        `${data.count * pixelsPerDigit} pixels, got ${data.labels.length} and ${data.pixels.length}`,
    );
  }
  const bytes = new Uint8Array(HEADER_BYTES + data.count + data.pixels.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, data.count, true);
  view.setUint16(12, data.rows, true);
  view.setUint16(14, data.cols, true);
  bytes.set(data.labels, HEADER_BYTES);
  bytes.set(data.pixels, HEADER_BYTES + data.count);
  return bytes;
}

async function gunzip(gzipped: Uint8Array, fileName: string): Promise<Uint8Array> {
  try {
    // Copying into a fresh ArrayBuffer makes it a valid BlobPart whatever buffer the caller's view
    // sits on (a SharedArrayBuffer is not); the file is 1.6 MB, read once.
    const stream = new Blob([gzipped.slice()]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${fileName}: not a readable gzip file (${reason})`);
  }
}

function hasPrefix(bytes: Uint8Array, prefix: ArrayLike<number>): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * Decodes the file's bytes as fetched. They are normally gzipped; a server that sends the file
 * with `Content-Encoding: gzip` (Vite's dev server does for `.gz` names, as do many static hosts)
 * has fetch gunzip it already, so bytes that begin with the format's own magic are taken as they are.
 *
 * Every defect throws an Error whose message starts with `fileName` and names what is wrong:
 * a model must never train on half a file or on labels outside 0..9.
 */
export async function decodeMnist(gzipped: Uint8Array, fileName: string): Promise<MnistData> {
  const magic = Array.from(MAGIC, (c) => c.charCodeAt(0));
  const bytes = hasPrefix(gzipped, magic) ? gzipped : await gunzip(gzipped, fileName);
  if (bytes.length < HEADER_BYTES) {
    throw new Error(`${fileName}: truncated: expected a ${HEADER_BYTES}-byte header, got ${formatCount(bytes.length)} bytes`);
  }
  if (!hasPrefix(bytes, magic)) {
    const found = Array.from(bytes.subarray(0, MAGIC.length), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${fileName}: not an MNIST digit file: bad magic bytes ${found} (expected "${MAGIC}")`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) {
    throw new Error(`${fileName}: format version ${version}, this page reads version ${FORMAT_VERSION}; rebuild it with npm run data`);
  }
  const count = view.getUint32(8, true);
  const rows = view.getUint16(12, true);
  const cols = view.getUint16(14, true);
  if (count === 0 || rows === 0 || cols === 0) {
    throw new Error(`${fileName}: empty: header says ${count} digits of ${rows}x${cols} pixels`);
  }
  const expected = HEADER_BYTES + count + count * rows * cols;
  if (bytes.length !== expected) {
    const defect = bytes.length < expected ? 'truncated' : 'trailing bytes';
    throw new Error(
      `${fileName}: ${defect}: expected ${formatCount(expected)} bytes of digits ` +
        `(${formatCount(count)} of ${rows}x${cols}), got ${formatCount(bytes.length)}`,
    );
  }
  const labels = bytes.subarray(HEADER_BYTES, HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= DIGIT_CLASSES) {
      throw new Error(`${fileName}: label ${labels[i]} at digit ${formatCount(i)} (labels must be 0 to ${DIGIT_CLASSES - 1})`);
    }
  }
  return { count, rows, cols, labels, pixels: bytes.subarray(HEADER_BYTES + count) };
}

/** Fetches and decodes the digit file; a missing file or a dead network names the URL. */
export async function loadMnist(url: string): Promise<MnistData> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${url}: could not fetch the MNIST digits (${reason})`);
  }
  if (!response.ok) {
    const status = `${response.status}${response.statusText ? ' ' + response.statusText : ''}`;
    throw new Error(`${url}: could not fetch the MNIST digits: HTTP ${status}`);
  }
  return decodeMnist(new Uint8Array(await response.arrayBuffer()), url);
}

/** Share of each digit's examples held out for testing. */
export const TEST_FRACTION = 0.2;

/**
 * The fixed train/test split: for each digit class, the last TEST_FRACTION of its examples in
 * file order (rounded to the nearest example) are test, the rest train. Stratifying by class keeps
 * each digit's share of the test set within a tenth of a point of its share of all 10,000, so test
 * accuracy is not skewed by an unlucky class mix; taking the tail rather than a random draw makes
 * the split the same for every seed, so runs with different seeds are scored on the same digits.
 *
 * On the shipped file (package `mnist` 1.1.0): 8,000 train and 2,000 test digits; test per digit
 * 0..9: 200, 225, 198, 206, 196, 173, 203, 214, 189, 196. Both halves keep file order (the
 * trainer shuffles with its seeded RNG) and are copies, so the decoded file can be dropped.
 */
export function splitMnist(data: MnistData): { train: MnistData; test: MnistData } {
  const perClass = new Array<number>(DIGIT_CLASSES).fill(0);
  for (let i = 0; i < data.count; i++) perClass[data.labels[i]]++;
  const trainPerClass = perClass.map((n) => n - Math.round(n * TEST_FRACTION));

  const seen = new Array<number>(DIGIT_CLASSES).fill(0);
  const isTest = new Uint8Array(data.count);
  let testCount = 0;
  for (let i = 0; i < data.count; i++) {
    const label = data.labels[i];
    if (seen[label]++ >= trainPerClass[label]) {
      isTest[i] = 1;
      testCount++;
    }
  }
  return {
    train: selectDigits(data, isTest, 0, data.count - testCount),
    test: selectDigits(data, isTest, 1, testCount),
  };
}

function selectDigits(data: MnistData, isTest: Uint8Array, want: number, count: number): MnistData {
  const pixelsPerDigit = data.rows * data.cols;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * pixelsPerDigit);
  let to = 0;
  for (let i = 0; i < data.count; i++) {
    if (isTest[i] !== want) continue;
    labels[to] = data.labels[i];
    pixels.set(data.pixels.subarray(i * pixelsPerDigit, (i + 1) * pixelsPerDigit), to * pixelsPerDigit);
    to++;
  }
  return { count, rows: data.rows, cols: data.cols, labels, pixels };
}

/** byte / 255 for every byte, as float32: one table lookup a pixel instead of a division. */
const PIXEL_INTENSITY = Float32Array.from({ length: 256 }, (_, byte) => byte / 255);

/**
 * Refuses a batch that reads past `indices`, names a digit `split` does not have, or does not fit
 * the arrays it is to be written to (x for all pixels of every example, yOneHot for 10 classes).
 */
function checkBatch(caller: string, split: MnistData, indices: ArrayLike<number>, start: number, count: number, x: Float32Array, yOneHot: Float32Array): void {
  checkLength(caller, 'x', x, count * split.rows * split.cols, count);
  checkLength(caller, 'yOneHot', yOneHot, count * DIGIT_CLASSES, count);
  if (start < 0 || start + count > indices.length) {
    throw new RangeError(`${caller}: examples ${start}..${start + count - 1} lie outside the ${indices.length} indices`);
  }
  for (let row = 0; row < count; row++) {
    const example = indices[start + row];
    if (!(example >= 0 && example < split.count)) {
      throw new RangeError(`${caller}: index ${example} at position ${start + row} is not a digit of this split (${split.count})`);
    }
  }
}

function checkLength(caller: string, name: string, array: ArrayLike<number>, needed: number, count: number): void {
  if (array.length < needed) throw new RangeError(`${caller}: ${count} examples need ${name} of ${needed}, got ${array.length}`);
}

function fillOneHot(split: MnistData, indices: ArrayLike<number>, start: number, count: number, yOneHot: Float32Array): void {
  yOneHot.fill(0, 0, count * DIGIT_CLASSES);
  for (let row = 0; row < count; row++) yOneHot[row * DIGIT_CLASSES + split.labels[indices[start + row]]] = 1;
}

/**
 * Writes examples `indices[start] .. indices[start + count - 1]` of `split` into preallocated
 * row-major arrays: `x` gets their pixels scaled to [0, 1] (count x rows*cols), `yOneHot` their
 * labels one-hot (count x 10). Nothing is allocated, so the trainer can call it every step.
 */
export function fillBatch(
  split: MnistData,
  indices: ArrayLike<number>,
  start: number,
  count: number,
  x: Float32Array,
  yOneHot: Float32Array,
): void {
  const pixelsPerDigit = split.rows * split.cols;
  checkBatch('fillBatch', split, indices, start, count, x, yOneHot);
  const { pixels } = split;
  for (let row = 0; row < count; row++) {
    const from = indices[start + row] * pixelsPerDigit;
    const to = row * pixelsPerDigit;
    for (let p = 0; p < pixelsPerDigit; p++) x[to + p] = PIXEL_INTENSITY[pixels[from + p]];
  }
  fillOneHot(split, indices, start, count, yOneHot);
}

/**
 * Where each digit's ink is: the indices of its non-zero pixels, ascending. About a fifth of an
 * MNIST digit's 784 pixels, so a mini-batch built from them touches a fifth of the pixels.
 */
export interface InkIndex {
  /** Digit i's ink is pixels[offsets[i]] .. pixels[offsets[i + 1] - 1]. */
  offsets: Uint32Array;
  pixels: Uint16Array;
}

export function indexInk(split: MnistData): InkIndex {
  const pixelsPerDigit = split.rows * split.cols;
  const offsets = new Uint32Array(split.count + 1);
  let total = 0;
  for (let i = 0; i < split.pixels.length; i++) if (split.pixels[i] !== 0) total++;
  const pixels = new Uint16Array(total);
  let at = 0;
  for (let digit = 0; digit < split.count; digit++) {
    const from = digit * pixelsPerDigit;
    for (let p = 0; p < pixelsPerDigit; p++) if (split.pixels[from + p] !== 0) pixels[at++] = p;
    offsets[digit + 1] = at;
  }
  return { offsets, pixels };
}

/** Preallocated arrays for fillCompactBatch, for mini-batches of up to `maxCount` digits of `split`. */
export interface CompactBuffers {
  pixels: Int32Array;
  x: Float32Array;
  xT: Float32Array;
  /** Per pixel, its column in x, or -1 where it is not in use. */
  column: Int32Array;
}

export function compactBuffers(split: MnistData, maxCount: number): CompactBuffers {
  const pixelsPerDigit = split.rows * split.cols;
  return {
    pixels: new Int32Array(pixelsPerDigit),
    x: new Float32Array(maxCount * pixelsPerDigit),
    xT: new Float32Array(maxCount * pixelsPerDigit),
    column: new Int32Array(pixelsPerDigit),
  };
}

/**
 * The same mini-batch as fillBatch, but only on the pixels that are ink in at least one of its
 * examples (network.ts, CompactInput), built from the ink index: ~9,000 pixels are touched for
 * 60 digits rather than 47,040, and the first layer's products need no scan of their own.
 */
export function fillCompactBatch(
  split: MnistData,
  ink: InkIndex,
  indices: ArrayLike<number>,
  start: number,
  count: number,
  buffers: CompactBuffers,
  yOneHot: Float32Array,
): CompactInput {
  const pixelsPerDigit = split.rows * split.cols;
  checkBatch('fillCompactBatch', split, indices, start, count, buffers.x, yOneHot);
  const { column } = buffers;
  column.fill(-1);
  for (let row = 0; row < count; row++) {
    const digit = indices[start + row];
    for (let at = ink.offsets[digit]; at < ink.offsets[digit + 1]; at++) column[ink.pixels[at]] = 0;
  }
  let used = 0;
  for (let p = 0; p < pixelsPerDigit; p++) {
    if (column[p] === 0) {
      column[p] = used;
      buffers.pixels[used++] = p;
    }
  }
  const x = buffers.x.subarray(0, count * used).fill(0);
  const xT = buffers.xT.subarray(0, count * used).fill(0);
  for (let row = 0; row < count; row++) {
    const digit = indices[start + row];
    const from = digit * pixelsPerDigit;
    for (let at = ink.offsets[digit]; at < ink.offsets[digit + 1]; at++) {
      const pixel = ink.pixels[at];
      const value = PIXEL_INTENSITY[split.pixels[from + pixel]];
      x[row * used + column[pixel]] = value;
      xT[column[pixel] * count + row] = value;
    }
  }
  fillOneHot(split, indices, start, count, yOneHot);
  return { m: count, inputSize: pixelsPerDigit, pixels: buffers.pixels.subarray(0, used), x, xT };
}
