/**
 * The page's one download of the MNIST digits: fetched once when the page opens, with progress,
 * checked here (so a bad file is named before any worker starts), and kept for every run of the
 * visit. Both workers get these bytes: shared where the page may share memory, copied where not.
 */
import { gunzipMnist, MNIST_CACHE, parseMnist } from '../training/data';

export interface DownloadProgress {
  loadedBytes: number;
  /** From Content-Length; null when the server sends none or the body arrives decoded (Content-Encoding). */
  totalBytes: number | null;
}

const formatCount = (n: number) => n.toLocaleString('en-US');

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The length of the body as the reader will deliver it, when the headers say. */
function expectedLength(response: Response): number | null {
  const encoding = response.headers.get('Content-Encoding');
  // With an encoding, Content-Length counts the encoded bytes but the reader yields decoded ones.
  if (encoding && encoding !== 'identity') return null;
  const length = Number(response.headers.get('Content-Length'));
  return response.headers.has('Content-Length') && Number.isInteger(length) && length >= 0 ? length : null;
}

async function readBody(response: Response, url: string, onProgress: (progress: DownloadProgress) => void): Promise<Uint8Array> {
  const totalBytes = expectedLength(response);
  const chunks: Uint8Array[] = [];
  let loadedBytes = 0;
  onProgress({ loadedBytes, totalBytes });
  if (response.body === null) throw new Error(`${url}: the response has no body (HTTP ${response.status})`);
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loadedBytes += value.length;
      onProgress({ loadedBytes, totalBytes });
    }
  } catch (error) {
    const of = totalBytes === null ? '' : ` of ${formatCount(totalBytes)}`;
    throw new Error(`${url}: the download broke off after ${formatCount(loadedBytes)}${of} bytes (${reasonOf(error)})`);
  }
  if (totalBytes !== null && loadedBytes !== totalBytes) {
    throw new Error(`${url}: truncated download: ${formatCount(loadedBytes)} of the ${formatCount(totalBytes)} bytes the server announced`);
  }
  const bytes = new Uint8Array(loadedBytes);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** Given a copy of the digit file's response as it arrives, stores it somewhere (offlineCopy). */
export type KeepCopy = (copy: Response) => Promise<void>;

/**
 * Fetches the digit file at `url`, reports progress, checks it (gunzip, header, length, labels)
 * and returns its uncompressed bytes: on a SharedArrayBuffer when `shared`, so both workers read
 * one copy. `keep`, where given, gets a copy of a successful response, read alongside this one.
 * Every failure throws an Error whose message starts with the URL and says what came back: the
 * network error, the HTTP status, the bytes received, or what the file's check found.
 */
export async function downloadDigits(
  url: string,
  onProgress: (progress: DownloadProgress) => void,
  shared: boolean,
  keep: KeepCopy | null = null,
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`${url}: could not fetch the MNIST digits (${reasonOf(error)})`);
  }
  if (!response.ok) {
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    throw new Error(`${url}: could not fetch the MNIST digits: HTTP ${status}`);
  }
  // Without a copy the page still trains; it only has to download the file again next time.
  keep?.(response.clone()).catch(() => {});
  const raw = await gunzipMnist(await readBody(response, url, onProgress), url);
  parseMnist(raw, url);
  if (!shared) return raw;
  const digits = new Uint8Array(new SharedArrayBuffer(raw.length));
  digits.set(raw);
  return digits;
}

/**
 * Where the page keeps the digit file for offline visits: the cache the service worker answers
 * the file's URL from (vite.config.ts). The worker does not precache the file, since on a first
 * visit that would be a second 11 MB download beside the page's own; a page the worker already
 * controls needs no copy (the worker caches what it fetches). Null where there is nothing to do.
 */
export function offlineCopy(): KeepCopy | null {
  const worker = globalThis.navigator?.serviceWorker;
  if (!('caches' in globalThis) || worker === undefined || worker.controller !== null) return null;
  return async (copy) => {
    const cache = await caches.open(MNIST_CACHE);
    await cache.put(copy.url, copy);
  };
}
