/**
 * Memory of the page and of its training workers, read through the Chrome DevTools Protocol.
 *
 * Playwright opens CDP sessions on pages and frames only, so the workers are reached through the
 * page's session with non-flattened auto-attach: each dedicated worker becomes a child session whose
 * commands travel inside `Target.sendMessageToTarget`. tf.memory() of a worker is read from the tfjs
 * engine that tfjs itself keeps on the worker's global scope (`self._tfengine`), so the product needs
 * no hook for it. The digits' memory is what V8 reports as array-buffer backing stores: on the page
 * the digit file, in each worker its copy of it (unless shared), the shuffled test digits and the ink
 * index. tfjs's wasm memory is not among them; `wasmMemoryBytes` reports it.
 */
import type { CDPSession, Page } from 'playwright-core';

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

export class MemoryReader {
  private readonly workerSessions: string[] = [];
  private readonly pending = new Map<number, Pending>();
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
      const message = JSON.parse(event.message) as { id?: number; result?: unknown; error?: { message: string } };
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

  private async workerMemory(sessionId: string): Promise<WorkerMemory> {
    await this.inWorker(sessionId, 'HeapProfiler.collectGarbage');
    const heap = await this.inWorker<HeapUsageAnswer>(sessionId, 'Runtime.getHeapUsage');
    const evaluated = await this.inWorker<{ result: { value?: TfMemory | null } }>(sessionId, 'Runtime.evaluate', {
      expression: TF_MEMORY_EXPRESSION,
      returnByValue: true,
    });
    return { heap: heapUsage(heap), tf: evaluated.result.value ?? null };
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
