import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMnist, parseMnist, type MnistData } from '../training/data';
import { downloadDigits, type DownloadProgress } from './dataLoader';

/** A hang must fail the test, not stall the suite for vitest's two-minute default. */
const HANG_GUARD_MS = 15_000;

function digits(count: number): MnistData {
  return {
    count,
    rows: 28,
    cols: 28,
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    pixels: Uint8Array.from({ length: count * 784 }, (_, p) => (p * 31) % 256),
  };
}

/** A small file in the page's format: big enough to arrive in several chunks. */
const raw = encodeMnist({ train: digits(300), test: digits(50) });
const gzipped = gzipSync(raw);

describe('downloadDigits', () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      switch (request.url) {
        case '/data/mnist.bin':
          response.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': gzipped.length }).end(gzipped);
          break;
        case '/encoded/mnist.bin':
          // What a server that maps .gz to Content-Encoding sends: fetch gunzips it on the way.
          response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip', 'Content-Length': gzipped.length }).end(gzipped);
          break;
        case '/chunked/mnist.bin':
          response.writeHead(200, { 'Content-Type': 'application/gzip' });
          response.write(gzipped.subarray(0, 1000));
          response.end(gzipped.subarray(1000));
          break;
        case '/cut/mnist.bin':
          // The connection drops after a third of the announced bytes.
          response.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': gzipped.length });
          response.write(gzipped.subarray(0, Math.floor(gzipped.length / 3)), () => response.destroy());
          break;
        case '/html/mnist.bin':
          response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Single-page app fallback</title>');
          break;
        case '/old/mnist.bin': {
          const old = raw.slice();
          old[4] = 1;
          response.writeHead(200, { 'Content-Type': 'application/gzip' }).end(gzipSync(old));
          break;
        }
        default:
          response.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not found</h1>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function failure(path: string): Promise<string> {
    try {
      await downloadDigits(origin + path, () => {}, false);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`downloadDigits accepted ${path}`);
  }

  it('fetches, checks and returns the uncompressed file, reporting bytes read of Content-Length up to the whole', { timeout: HANG_GUARD_MS }, async () => {
    const progress: DownloadProgress[] = [];
    const bytes = await downloadDigits(`${origin}/data/mnist.bin`, (p) => progress.push(p), false);
    expect(Buffer.compare(bytes, raw)).toBe(0);
    expect(bytes.buffer).toBeInstanceOf(ArrayBuffer);
    expect(progress[0]).toEqual({ loadedBytes: 0, totalBytes: gzipped.length });
    expect(progress.at(-1)).toEqual({ loadedBytes: gzipped.length, totalBytes: gzipped.length });
    for (let i = 1; i < progress.length; i++) expect(progress[i].loadedBytes).toBeGreaterThanOrEqual(progress[i - 1].loadedBytes);
  });

  it('hands a copy of the response to keep, whole, and still trains when keeping it fails', { timeout: HANG_GUARD_MS }, async () => {
    let kept: Promise<ArrayBuffer> | null = null;
    const bytes = await downloadDigits(
      `${origin}/data/mnist.bin`,
      () => {},
      false,
      async (copy) => {
        kept = copy.arrayBuffer();
      },
    );
    expect(Buffer.compare(bytes, raw)).toBe(0);
    expect(Buffer.compare(Buffer.from(await kept!), gzipped)).toBe(0);
    const failing = await downloadDigits(
      `${origin}/data/mnist.bin`,
      () => {},
      false,
      async () => {
        throw new Error('QuotaExceededError');
      },
    );
    expect(Buffer.compare(failing, raw)).toBe(0);
  });

  it('keeps no copy of a failed download', { timeout: HANG_GUARD_MS }, async () => {
    let kept = 0;
    await expect(
      downloadDigits(
        `${origin}/missing/mnist.bin`,
        () => {},
        false,
        async () => void kept++,
      ),
    ).rejects.toThrow('HTTP 404');
    expect(kept).toBe(0);
  });

  it('puts the digits on a SharedArrayBuffer when asked, so both workers read one copy', { timeout: HANG_GUARD_MS }, async () => {
    const bytes = await downloadDigits(`${origin}/data/mnist.bin`, () => {}, true);
    expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(parseMnist(bytes, 'shared').train.count).toBe(300);
  });

  it('reports an unknown size (no Content-Length, or a body decoded on the way) as null', { timeout: HANG_GUARD_MS }, async () => {
    for (const path of ['/chunked/mnist.bin', '/encoded/mnist.bin']) {
      const progress: DownloadProgress[] = [];
      const bytes = await downloadDigits(origin + path, (p) => progress.push(p), false);
      expect(Buffer.compare(bytes, raw)).toBe(0);
      expect(progress.every((p) => p.totalBytes === null)).toBe(true);
      expect(progress.at(-1)!.loadedBytes).toBeGreaterThan(0);
    }
  });

  it('reports a missing file as HTTP 404, naming the URL', { timeout: HANG_GUARD_MS }, async () => {
    expect(await failure('/missing/mnist.bin')).toBe(`${origin}/missing/mnist.bin: could not fetch the MNIST digits: HTTP 404 Not Found`);
  });

  it('reports a server that is not there, naming the URL', { timeout: HANG_GUARD_MS }, async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/data/mnist.bin`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(downloadDigits(url, () => {}, false)).rejects.toThrow(`${url}: could not fetch the MNIST digits (`);
  });

  it('reports a download cut short with the bytes received of those announced', { timeout: HANG_GUARD_MS }, async () => {
    const third = Math.floor(gzipped.length / 3).toLocaleString('en-US');
    const total = gzipped.length.toLocaleString('en-US');
    expect(await failure('/cut/mnist.bin')).toMatch(new RegExp(`^${origin}/cut/mnist\\.bin: the download broke off after ${third} of ${total} bytes \\(`));
  });

  it('reports a page served in place of the file as a failed gunzip of the bytes received, not as a failed fetch', { timeout: HANG_GUARD_MS }, async () => {
    const message = await failure('/html/mnist.bin');
    expect(message).toMatch(new RegExp(`^${origin}/html/mnist\\.bin: gunzip failed on the 54 bytes received: not a readable gzip file`));
    expect(message).not.toMatch(/Failed to fetch/);
  });

  it('reports a file of an older format by its version', { timeout: HANG_GUARD_MS }, async () => {
    expect(await failure('/old/mnist.bin')).toMatch(new RegExp(`^${origin}/old/mnist\\.bin: format version 1, this page reads version 2`));
  });
});
