/**
 * Memory of the page and of its training workers, read through the Chrome DevTools Protocol.
 *
 * Playwright opens CDP sessions on pages and frames only, so the workers are reached through the
 * page's session with non-flattened auto-attach: each dedicated worker becomes a child session whose
 * commands travel inside `Target.sendMessageToTarget`. tf.memory() of a worker is read from the tfjs
 * engine that tfjs itself keeps on the worker's global scope (`self._tfengine`), so the product needs
 * no hook for it. The digits' memory is what V8 reports as array-buffer backing stores: on the page
 * the digit file, in each worker its copy of it (unless shared), the shuffled test digits and the ink
 * index. tfjs's wasm memory is not among them; `wasmMemoryBytes` reports it. Nor are the memories of
 * the project's own WebAssembly SIMD kernels (the step's Arena, the parameters' memory): tfjs does
 * not know them and the product keeps no global handle on them, so `simdMemoryBytes` finds every
 * WebAssembly.Memory of the worker in a heap snapshot and leaves out tfjs's. (Runtime.queryObjects
 * would be lighter, but in Chromium 156 it crashes the renderer when run in a training worker.)
 */
import type { CDPSession, Page } from 'playwright-core';
import { wasmMemoryByteLengths, type HeapSnapshot } from './heapSnapshot';

export interface HeapUsage {
  /** Live JS heap after a forced garbage collection: what the run retains, not what awaits collection. */
  usedBytes: number;
  totalBytes: number;
  /** Array-buffer backing stores (outside the JS heap): where typed arrays keep their bytes; null if Chromium does not say. */
  arrayBufferBytes: number | null;
}

export interface TfMemory {
  backend: string | null;
  numTensors: number;
  numDataBuffers: number;
  numBytes: number;
  /** The wasm backend's linear memory (it grows and never shrinks); null on other backends. */
  wasmMemoryBytes: number | null;
}

export interface WorkerMemory {
  heap: HeapUsage;
  /** Null if the worker has no tfjs engine (yet). */
  tf: TfMemory | null;
  /**
   * Bytes of the worker's WebAssembly memories other than tfjs's: the SIMD kernels' own, laid out
   * once and never grown. Null if tfjs's memory could not be told apart (it grew between the readings).
   */
  simdMemoryBytes: number | null;
}

export interface MemorySnapshot {
  /** The step counter when the snapshot was taken. */
  step: number;
  page: HeapUsage;
  workers: WorkerMemory[];
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

const TF_MEMORY_EXPRESSION = `(() => {
  const engine = self._tfengine;
  if (!engine) return null;
  const memory = engine.memory();
  const heap = engine.registry?.wasm?.wasm?.HEAPU8;
  return { backend: engine.backendName ?? null, numTensors: memory.numTensors, numDataBuffers: memory.numDataBuffers,
           numBytes: memory.numBytes, wasmMemoryBytes: heap ? heap.byteLength : null };
})()`;

/** Runtime.getHeapUsage's answer; `backingStorageSize` is newer than playwright-core's protocol types. */
interface HeapUsageAnswer {
  usedSize: number;
  totalSize: number;
  backingStorageSize?: number;
}

function heapUsage(answer: HeapUsageAnswer): HeapUsage {
  return { usedBytes: answer.usedSize, totalBytes: answer.totalSize, arrayBufferBytes: answer.backingStorageSize ?? null };
}

const ATTACH_WAIT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 30_000;

/** The memories' bytes less tfjs's one (any of the same length: the sum is the same); null if none has its length. */
export function simdMemoryBytes(lengths: readonly number[], tfjsWasmBytes: number | null): number | null {
  const total = lengths.reduce((sum, length) => sum + length, 0);
  if (tfjsWasmBytes === null) return total;
  return lengths.includes(tfjsWasmBytes) ? total - tfjsWasmBytes : null;
}

export class MemoryReader {
  private readonly workerSessions: string[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Heap snapshot chunks as they arrive, per worker session. */
  private readonly snapshotChunks = new Map<string, string[]>();
  private nextId = 1;

  private constructor(private readonly session: CDPSession) {
    session.on('Target.attachedToTarget', (event) => {
      if (event.targetInfo.type === 'worker') this.workerSessions.push(event.sessionId);
    });
    session.on('Target.detachedFromTarget', (event) => {
      const index = this.workerSessions.indexOf(event.sessionId ?? '');
      if (index >= 0) this.workerSessions.splice(index, 1);
    });
    session.on('Target.receivedMessageFromTarget', (event) => {
      const message = JSON.parse(event.message) as {
        id?: number;
        method?: string;
        params?: { chunk?: string };
        result?: unknown;
        error?: { message: string };
      };
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk' && message.params?.chunk !== undefined)
        this.snapshotChunks.get(event.sessionId ?? '')?.push(message.params.chunk);
      const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiting || message.id === undefined) return;
      this.pending.delete(message.id);
      if (message.error) waiting.reject(new Error(message.error.message));
      else waiting.resolve(message.result);
    });
  }

  /** Attaches to the page and, as they exist now or appear later, to its dedicated workers. */
  static async attach(page: Page, expectedWorkers: number): Promise<MemoryReader> {
    const reader = new MemoryReader(await page.context().newCDPSession(page));
    await reader.session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    const deadline = Date.now() + ATTACH_WAIT_MS;
    while (reader.workerSessions.length < expectedWorkers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return reader;
  }

  private inWorker<T>(sessionId: string, method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} in a worker got no answer in ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  }

  private async pageHeap(): Promise<HeapUsage> {
    await this.session.send('HeapProfiler.collectGarbage');
    const usage = (await this.session.send('Runtime.getHeapUsage')) as HeapUsageAnswer;
    return heapUsage(usage);
  }

  /** The worker's heap snapshot (it collects garbage first). */
  private async heapSnapshot(sessionId: string): Promise<HeapSnapshot> {
    const chunks: string[] = [];
    this.snapshotChunks.set(sessionId, chunks);
    try {
      await this.inWorker(sessionId, 'HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      return JSON.parse(chunks.join('')) as HeapSnapshot;
    } finally {
      this.snapshotChunks.delete(sessionId);
    }
  }

  private async workerMemory(sessionId: string): Promise<WorkerMemory> {
    await this.inWorker(sessionId, 'HeapProfiler.collectGarbage');
    const heap = await this.inWorker<HeapUsageAnswer>(sessionId, 'Runtime.getHeapUsage');
    const memories = wasmMemoryByteLengths(await this.heapSnapshot(sessionId));
    const evaluated = await this.inWorker<{ result: { value?: TfMemory | null } }>(sessionId, 'Runtime.evaluate', {
      expression: TF_MEMORY_EXPRESSION,
      returnByValue: true,
    });
    const tf = evaluated.result.value ?? null;
    return { heap: heapUsage(heap), tf, simdMemoryBytes: simdMemoryBytes(memories, tf?.wasmMemoryBytes ?? null) };
  }

  async read(step: number): Promise<MemorySnapshot> {
    const page = await this.pageHeap();
    const workers: WorkerMemory[] = [];
    for (const sessionId of this.workerSessions) workers.push(await this.workerMemory(sessionId));
    return { step, page, workers };
  }

  async detach(): Promise<void> {
    await this.session.detach().catch(() => undefined);
  }
}
