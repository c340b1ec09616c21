/**
 * The WebAssembly SIMD kernels (assembly/kernels.ts, compiled into kernelsWasm.ts) and the memory
 * they work in. Compiled once per thread from bytes, synchronously: a worker or Node may, and the
 * page's strict CSP allows it ('wasm-unsafe-eval'). Each instance has its own memory, laid out
 * once by an Arena and never grown after, so the views into it stay valid.
 */
import { KERNELS_WASM_BASE64 } from './kernelsWasm';

/** The activations as the kernels number them. */
export const ACTIVATION_CODE = { sigmoid: 0, tanh: 1, relu: 2, identity: 3 } as const;

type Ptr = number;

/** The module's exports; every pointer is a byte offset into `memory`. */
export interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): Ptr;
  activationForward(u: Ptr, z: Ptr, count: number, activation: number): void;
  activationBackward(dz: Ptr, z: Ptr, du: Ptr, m: number, n: number, activation: number, bias: Ptr): void;
  /** y = g(x w scale + shift), scale and shift per column where not 0 (a bias is a shift alone), the input to g into tap where not 0. */
  denseForward(x: Ptr, w: Ptr, scale: Ptr, shift: Ptr, y: Ptr, tap: Ptr, m: number, k: number, n: number, activation: number): void;
  /** denseForward's y and tap for each example over its own ink. */
  sparseForward(offsets: Ptr, pixels: Ptr, values: Ptr, w: Ptr, scale: Ptr, shift: Ptr, y: Ptr, tap: Ptr, m: number, n: number, activation: number): void;
  sparseWeightGradient(pixelList: Ptr, pixelOffsets: Ptr, exampleRows: Ptr, values: Ptr, dy: Ptr, dw: Ptr, w: Ptr, count: number, n: number): void;
  gatherBatch(
    digits: Ptr,
    m: number,
    digitOffsets: Ptr,
    ink: Ptr,
    intensity: Ptr,
    digitLabels: Ptr,
    offsets: Ptr,
    pixels: Ptr,
    values: Ptr,
    labels: Ptr,
  ): number;
  regroupByPixel(
    offsets: Ptr,
    pixels: Ptr,
    values: Ptr,
    m: number,
    n: number,
    pixelsPerDigit: number,
    counts: Ptr,
    pixelList: Ptr,
    pixelOffsets: Ptr,
    exampleRows: Ptr,
    pixelValues: Ptr,
  ): number;
  weightGradient(x: Ptr, dy: Ptr, dw: Ptr, w: Ptr, m: number, k: number, n: number): void;
  inputGradient(dy: Ptr, w: Ptr, dx: Ptr, m: number, k: number, n: number): void;
  batchNormForward(
    x: Ptr,
    gamma: Ptr,
    beta: Ptr,
    xhat: Ptr,
    z: Ptr,
    mean: Ptr,
    variance: Ptr,
    inverseStd: Ptr,
    m: number,
    n: number,
    epsilon: number,
    activation: number,
  ): void;
  batchNormBackward(
    dz: Ptr,
    z: Ptr,
    xhat: Ptr,
    gamma: Ptr,
    inverseStd: Ptr,
    dx: Ptr,
    dGamma: Ptr,
    dBeta: Ptr,
    m: number,
    n: number,
    activation: number,
    accumulate: number,
  ): void;
  noiseForward(y: Ptr, scale: Ptr, shift: Ptr, z: Ptr, m: number, n: number, activation: number): void;
  noiseBackward(dz: Ptr, z: Ptr, scale: Ptr, du: Ptr, m: number, n: number, activation: number): void;
  layerNormForward(x: Ptr, gamma: Ptr, beta: Ptr, xhat: Ptr, z: Ptr, inverseStd: Ptr, m: number, n: number, epsilon: number, activation: number): void;
  layerNormBackward(dz: Ptr, z: Ptr, xhat: Ptr, gamma: Ptr, inverseStd: Ptr, dx: Ptr, dGamma: Ptr, dBeta: Ptr, m: number, n: number, activation: number): void;
  softmaxCrossEntropy(logits: Ptr, labels: Ptr, dlogits: Ptr, m: number, classes: number, scale: number): number;
  subtract(p: Ptr, g: Ptr, count: number): void;
  momentumUpdate(p: Ptr, g: Ptr, v: Ptr, count: number, momentum: number, learningRate: number): void;
  distributionWorkspaceBytes(): number;
  describeDistribution(
    values: Ptr,
    n: number,
    percentiles: Ptr,
    percentileCount: number,
    histogramMin: number,
    histogramMax: number,
    bins: number,
    activation: number,
    workspace: Ptr,
    out: Ptr,
  ): number;
  gatherColumn(matrix: Ptr, rows: number, units: number, unit: number, out: Ptr): void;
  applyNoise(y: Ptr, rows: number, units: number, scale: Ptr, shift: Ptr, shiftRows: number): void;
  moveAlong(w: Ptr, g: Ptr, out: Ptr, count: number, eta: number): void;
  squaredNorm(a: Ptr, count: number, from: number): number;
  squaredDistance(a: Ptr, b: Ptr, count: number, from: number): number;
  squaredDistanceAndMove(a: Ptr, b: Ptr, count: number, w: Ptr, out: Ptr, eta: number, from: number): number;
  dot(a: Ptr, b: Ptr, count: number): number;
  plainSgdMove(w: Ptr, g: Ptr, out: Ptr, count: number, rate: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
let failure = '';

function kernelsModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0)));
    } catch (error) {
      compiled = null;
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  return compiled;
}

/** Why the kernels cannot run here (no WebAssembly SIMD), or null where they can. */
export function kernelsUnavailable(): string | null {
  return kernelsModule() === null ? `WebAssembly SIMD is not available here (${failure})` : null;
}

/** An array laid out in an arena: its byte offset, and its view once the arena is committed. */
export interface Block<T extends Float32Array | Int32Array> {
  ptr: Ptr;
  length: number;
  view: T;
}

/**
 * Lays out arrays in one fresh kernel instance's memory (16-byte aligned, zeroed), then grows the
 * memory once to hold them all; views are made only then.
 */
export class Arena {
  readonly kernels: Kernels;
  private next: number;
  private readonly pending: { block: Block<Float32Array | Int32Array>; int: boolean }[] = [];
  private committed = false;

  constructor() {
    const module = kernelsModule();
    if (module === null) throw new Error(kernelsUnavailable()!);
    this.kernels = new WebAssembly.Instance(module, {}).exports as unknown as Kernels;
    this.next = Math.ceil(this.kernels.heapBase() / 16) * 16;
  }

  f32(length: number): Block<Float32Array> {
    return this.reserve(length, false) as Block<Float32Array>;
  }

  i32(length: number): Block<Int32Array> {
    return this.reserve(length, true) as Block<Int32Array>;
  }

  /** Grows the memory to hold every reserved array and makes their views. */
  commit(): void {
    if (this.committed) throw new Error('the arena is already committed');
    this.committed = true;
    const memory = this.kernels.memory;
    const pages = Math.ceil(this.next / 65536) - memory.buffer.byteLength / 65536;
    if (pages > 0) memory.grow(pages);
    for (const { block, int } of this.pending)
      block.view = int ? new Int32Array(memory.buffer, block.ptr, block.length) : new Float32Array(memory.buffer, block.ptr, block.length);
  }

  private reserve(length: number, int: boolean): Block<Float32Array | Int32Array> {
    if (this.committed) throw new Error('the arena is committed: no more arrays');
    const block = { ptr: this.next, length, view: new Float32Array(0) };
    this.next += Math.ceil(length / 4) * 16;
    this.pending.push({ block, int });
    return block;
  }
}
