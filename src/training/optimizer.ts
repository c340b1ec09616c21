/**
 * The update of mini-batch SGD with classical momentum, separate from the gradients (as optax's
 * transforms are from JAX's value_and_grad): v <- momentum v + g, then p <- p - learningRate v;
 * momentum 0 is plain SGD, p <- p - learningRate g. Parameters and gradients are flat float32
 * arrays. A weight matrix's update rounds every product and sum to float32, as tfjs's kernels
 * did when they ran it; a per-unit vector's (bias, gamma, beta) is computed in float64 and
 * rounded once per stored value, as its JS update always was: so runs, and the links that
 * replay them, stay bit for bit what they were. Both are exact recipes another kernel
 * (WebAssembly) can reproduce.
 */
export class MomentumSgd {
  /** One per parameter, created on the first step with momentum (plain SGD never needs them). */
  private velocities: Float32Array[] | null = null;

  /**
   * The factor lossAndGradients should apply to the gradients it hands to `update`: plain SGD
   * takes them already multiplied by the learning rate (folded into dLoss/dlogits, one multiply
   * per weight fewer); momentum needs the gradients themselves.
   */
  gradientScale(learningRate: number, momentum: number): number {
    return momentum === 0 ? learningRate : 1;
  }

  /**
   * One update of `params` in place from `gradients` (same order and sizes), which carry
   * `gradientScale`; `shapes` tells a weight matrix (2 dimensions) from a per-unit vector.
   * `rowsInUse[i]`, where given, lists the only rows of matrix i whose gradient may be non-zero
   * (lossAndGradients' hint for the first layer): plain SGD then touches only those.
   */
  update(
    params: readonly Float32Array[],
    gradients: readonly Float32Array[],
    shapes: readonly (readonly number[])[],
    learningRate: number,
    momentum: number,
    gradientScale = 1,
    rowsInUse: readonly (Int32Array | null)[] = [],
  ): void {
    if (gradients.length !== params.length || shapes.length !== params.length) throw new Error(`${gradients.length} gradients for ${params.length} parameters`);
    if (momentum === 0) {
      // Gradients scaled by the learning rate itself (0 included) are the update as they are.
      const rate = gradientScale === learningRate ? 1 : Math.fround(learningRate / gradientScale);
      params.forEach((p, i) => {
        const g = gradients[i];
        const rows = rowsInUse[i] ?? null;
        // A row whose gradient is 0 throughout (a pixel blank in the whole mini-batch) keeps its values: p - 0 is p.
        if (rows !== null) {
          const cols = shapes[i][1];
          for (let r = 0; r < rows.length; r++) subtractScaled(p, g, rate, rows[r] * cols, (rows[r] + 1) * cols);
        } else {
          subtractScaled(p, g, rate, 0, p.length);
        }
      });
      return;
    }
    if (gradientScale !== 1) throw new Error('momentum updates take unscaled gradients (gradientScale 1)');
    this.velocities ??= params.map((p) => new Float32Array(p.length));
    const mu = Math.fround(momentum);
    const rate = Math.fround(learningRate);
    params.forEach((p, i) => {
      const g = gradients[i];
      const v = this.velocities![i];
      if (shapes[i].length === 1) {
        for (let k = 0; k < p.length; k++) {
          v[k] = momentum * v[k] + g[k];
          p[k] -= learningRate * v[k];
        }
        return;
      }
      for (let k = 0; k < p.length; k++) {
        v[k] = Math.fround(mu * v[k]) + g[k];
        p[k] -= Math.fround(rate * v[k]);
      }
    });
  }

  /** The velocities (null before the first momentum step): the optimizer's whole state. */
  state(): readonly Float32Array[] | null {
    return this.velocities;
  }

  /** An optimizer whose state is copies of `velocities` (one per parameter): another kernel's optimizer, as this one would continue it. */
  static withVelocities(velocities: readonly Float32Array[]): MomentumSgd {
    const optimizer = new MomentumSgd();
    optimizer.velocities = velocities.map((v) => v.slice());
    return optimizer;
  }

  /** An optimizer in the same state whose updates leave this one's untouched: to ask what a step would do without taking it. */
  clone(): MomentumSgd {
    const copy = new MomentumSgd();
    copy.velocities = this.velocities?.map((v) => v.slice()) ?? null;
    return copy;
  }
}

/**
 * A WebAssembly module with one function, subtract(p, g, end): the floats at byte offset p
 * become p - g, four at a time (f32x4.sub), until p reaches `end`; its memory is imported.
 * Hand-assembled, so the build needs no toolchain; f32x4.sub rounds as a float32 subtraction
 * does, so the result is the JS loop's to the bit, in a fraction of its time. Its text:
 *
 *   (module
 *     (import "env" "memory" (memory 1))
 *     (func (export "subtract") (param $p i32) (param $g i32) (param $end i32)
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
 *         (v128.store (local.get $p) (f32x4.sub (v128.load (local.get $p)) (v128.load (local.get $g))))
 *         (local.set $p (i32.add (local.get $p) (i32.const 16)))
 *         (local.set $g (i32.add (local.get $g) (i32.const 16)))
 *         (br 0)))))
 */
const SUBTRACT_WASM = Uint8Array.of(
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x07,
  0x01,
  0x60,
  0x03,
  0x7f,
  0x7f,
  0x7f,
  0x00,
  0x02,
  0x0f,
  0x01,
  0x03,
  0x65,
  0x6e,
  0x76,
  0x06,
  0x6d,
  0x65,
  0x6d,
  0x6f,
  0x72,
  0x79,
  0x02,
  0x00,
  0x01,
  0x03,
  0x02,
  0x01,
  0x00,
  0x07,
  0x0c,
  0x01,
  0x08,
  0x73,
  0x75,
  0x62,
  0x74,
  0x72,
  0x61,
  0x63,
  0x74,
  0x00,
  0x00,
  0x0a,
  0x36,
  0x01,
  0x34,
  0x00,
  0x02,
  0x40,
  0x03,
  0x40,
  0x20,
  0x00,
  0x20,
  0x02,
  0x4f,
  0x0d,
  0x01,
  0x20,
  0x00,
  0x20,
  0x00,
  0xfd,
  0x00,
  0x02,
  0x00,
  0x20,
  0x01,
  0xfd,
  0x00,
  0x02,
  0x00,
  0xfd,
  0xe5,
  0x01,
  0xfd,
  0x0b,
  0x02,
  0x00,
  0x20,
  0x00,
  0x41,
  0x10,
  0x6a,
  0x21,
  0x00,
  0x20,
  0x01,
  0x41,
  0x10,
  0x6a,
  0x21,
  0x01,
  0x0c,
  0x00,
  0x0b,
  0x0b,
  0x0b,
);

let subtractModule: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is not available (the JS loop then does the work). */
function compiledSubtract(): WebAssembly.Module | null {
  if (subtractModule === undefined) {
    try {
      subtractModule = new WebAssembly.Module(SUBTRACT_WASM);
    } catch {
      subtractModule = null;
    }
  }
  return subtractModule;
}

const memories = new WeakMap<ArrayBufferLike, ParameterMemory>();

/**
 * Float32Arrays allocated in one WebAssembly memory of fixed size, so that the views stay valid
 * and a kernel can update them where they lie: the network's parameters and gradients live here,
 * and plain SGD's update runs there as SIMD.
 */
export class ParameterMemory {
  private readonly buffer: ArrayBuffer;
  private readonly subtractKernel: ((p: number, g: number, end: number) => void) | null;
  private next = 0;

  /** Room for arrays of these lengths, each 16-byte aligned. */
  constructor(lengths: readonly number[]) {
    const bytes = lengths.reduce((sum, length) => sum + Math.ceil(length / 4) * 16, 0);
    const pages = Math.max(1, Math.ceil(bytes / 65536));
    const module = compiledSubtract();
    if (module === null) {
      this.buffer = new ArrayBuffer(pages * 65536);
      this.subtractKernel = null;
    } else {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      this.buffer = memory.buffer;
      this.subtractKernel = instance.exports.subtract as (p: number, g: number, end: number) => void;
    }
    memories.set(this.buffer, this);
  }

  /** Whether the update runs in the WebAssembly kernel here (false where WebAssembly SIMD is missing). */
  get simd(): boolean {
    return this.subtractKernel !== null;
  }

  /** A zeroed array of `length` floats in this memory. */
  allocate(length: number): Float32Array {
    const view = new Float32Array(this.buffer, this.next, length);
    this.next += Math.ceil(length / 4) * 16;
    return view;
  }

  /** p[k] -= g[k] for k in [from, to) by the kernel, both in this memory; false where it cannot. */
  subtract(p: Float32Array, g: Float32Array, from: number, to: number): boolean {
    if (this.subtractKernel === null || g.buffer !== this.buffer) return false;
    const whole = from + ((to - from) & ~3);
    this.subtractKernel(p.byteOffset + from * 4, g.byteOffset + from * 4, p.byteOffset + whole * 4);
    for (let k = whole; k < to; k++) p[k] -= g[k];
    return true;
  }
}

/** p[k] -= rate * g[k] for k in [from, to), the product rounded to float32 (none when rate is 1). */
function subtractScaled(p: Float32Array, g: Float32Array, rate: number, from: number, to: number): void {
  let k = from;
  if (rate === 1 && memories.get(p.buffer)?.subtract(p, g, from, to)) return;
  if (rate === 1) {
    // Four at a time: the loop's own overhead is a good part of the time of a statement this small.
    for (; k + 4 <= to; k += 4) {
      p[k] -= g[k];
      p[k + 1] -= g[k + 1];
      p[k + 2] -= g[k + 2];
      p[k + 3] -= g[k + 3];
    }
    for (; k < to; k++) p[k] -= g[k];
  } else {
    for (; k < to; k++) p[k] -= Math.fround(rate * g[k]);
  }
}
