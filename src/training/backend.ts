/**
 * Choosing the tfjs backend explicitly: where WebGPU initialises on a software adapter tfjs
 * would pick it by default and train far slower than wasm.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { Backend } from '../config/schema';

export interface BackendChoice {
  /** The backend in use, recorded with every result. */
  backend: string;
  /** Why the requested backend is not the one in use, if it is not. */
  fallbackReason: string | null;
}

/**
 * Activates `requested`, falling back to `cpu` (always available) with the reason. `wasmDir`, the
 * folder the wasm binaries are served from, lets a failed wasm start name the file it needed.
 */
export async function useBackend(requested: Backend, wasmDir?: string): Promise<BackendChoice> {
  let fallbackReason: string | null = null;
  try {
    // Loaded only when asked for: it is large, and where there is no GPU adapter it cannot start.
    if (requested === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
    if (await tf.setBackend(requested)) {
      await tf.ready();
      return { backend: tf.getBackend(), fallbackReason };
    }
    fallbackReason = (requested === 'wasm' && wasmDir !== undefined && (await wasmFailure(wasmDir))) || `the ${requested} backend did not initialise here`;
  } catch (error) {
    fallbackReason = `the ${requested} backend failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { backend: tf.getBackend(), fallbackReason };
}

/** The binary the wasm backend loads here: tfjs picks one of three by what the platform supports. */
export async function wasmBinaryName(): Promise<string> {
  const [simd, threads] = await Promise.all([tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
  if (simd && threads) return 'tfjs-backend-wasm-threaded-simd.wasm';
  return simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
}

/**
 * Why the wasm backend did not start, naming its binary: tfjs itself only says it did not
 * initialise. Asks the server for the file again to tell a missing one from one that would not run.
 */
export async function wasmFailure(wasmDir: string, fetchFile: typeof fetch = fetch): Promise<string> {
  const url = wasmDir + (await wasmBinaryName());
  try {
    const response = await fetchFile(url, { method: 'HEAD', cache: 'no-store' });
    if (!response.ok) return `the wasm backend could not load ${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    return `the wasm backend did not initialise from ${url}, which the server does serve`;
  } catch (error) {
    return `the wasm backend could not fetch ${url} (${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * Copies a float32 tensor's values into `target`, which has its size, and returns it. On wasm
 * straight from the backend's heap: dataSync allocates a fresh copy each time, and in a browser
 * worker a training step's allocations cost more than its copying (network.ts, StepBuffers).
 */
export function readInto(tensor: tf.Tensor, target: Float32Array): Float32Array {
  if (tensor.size !== target.length) throw new Error(`readInto: a tensor of ${tensor.size} values does not fit ${target.length} floats`);
  target.set(peek(tensor));
  return target;
}

/**
 * A float32 tensor's values, on wasm without a copy: a view of the backend's heap. Read it before
 * the next tfjs call, which may grow the heap and leave the view empty; to keep values, readInto.
 */
export function peek(tensor: tf.Tensor): Float32Array {
  if (tensor.dtype !== 'float32') throw new Error(`peek: a ${tensor.dtype} tensor is not float32`);
  const backend = heapBackend();
  return backend ? backend.typedArrayFromHeap(tensor) : (tensor.dataSync() as Float32Array);
}

/**
 * Whether peek reads a tensor where it lies (wasm) rather than downloading a copy: on webgl every
 * read waits for the GPU, so work that pays only when reads are free must ask first.
 */
export function peeksInPlace(): boolean {
  return heapBackend() !== null;
}

type HeapBackend = { typedArrayFromHeap(info: tf.TensorInfo): Float32Array };

function heapBackend(): HeapBackend | null {
  const backend = tf.backend() as Partial<HeapBackend>;
  return typeof backend.typedArrayFromHeap === 'function' ? (backend as HeapBackend) : null;
}
