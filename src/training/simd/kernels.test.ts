import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormTraining } from '../batchNorm';
import { nonlinearity } from '../ops/activation';
import { uniformArray } from '../ops/testing';
import { MomentumSgd } from '../optimizer';
import { createRng } from '../rng';
import { distance, dot, moveAlong, squaredNorm } from '../santurkar';
import { ACTIVATION_CODE, Arena, kernelsUnavailable, type Block } from './kernels';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

type Activation = 'sigmoid' | 'tanh' | 'relu';
const ACTIVATIONS: Activation[] = ['sigmoid', 'tanh', 'relu'];

/**
 * [m, k, n]: widths of 1 and 3, a 257-wide edge, the step's own shapes, odd row counts, and every
 * remainder of the blocks (k and m modulo 4 and 3, n modulo 8 and 4).
 */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 3],
  [2, 257, 21],
  [5, 3, 257],
  [7, 100, 100],
  [60, 100, 10],
  [61, 23, 41],
  [13, 6, 13],
];

/** An arena holding a copy of each array (a number reserves that many zeros), committed. */
function arenaWith<T extends Record<string, Float32Array | Int32Array | number>>(
  arrays: T,
): { arena: Arena } & { [K in keyof T]: Block<T[K] extends Int32Array ? Int32Array : Float32Array> } {
  const arena = new Arena();
  const blocks: Record<string, Block<Float32Array | Int32Array>> = {};
  for (const [name, value] of Object.entries(arrays)) {
    blocks[name] = value instanceof Int32Array ? arena.i32(value.length) : arena.f32(typeof value === 'number' ? value : value.length);
  }
  arena.commit();
  for (const [name, value] of Object.entries(arrays)) if (typeof value !== 'number') blocks[name].view.set(value);
  return { arena, ...blocks } as never;
}

/** Largest |actual - expected| relative to the largest |expected| (at least 1). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst / scale).toBeLessThan(tolerance);
}

const read = (t: tf.Tensor) => t.dataSync() as Float32Array;

/** A sparse mini-batch: m examples of `width` pixels, each pixel ink with probability `density`. */
function sparseBatch(m: number, width: number, density: number, seed: number) {
  const uniform = createRng(seed);
  const dense = new Float32Array(m * width);
  const offsets = new Int32Array(m + 1);
  const pixels: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < width; p++) {
      if (uniform() < density) {
        const v = Math.fround(uniform());
        dense[i * width + p] = v;
        pixels.push(p);
        values.push(v);
      }
    }
    offsets[i + 1] = pixels.length;
  }
  // Regrouped by pixel, examples ascending within a pixel.
  const pixelList: number[] = [];
  const pixelOffsets = [0];
  const examples: number[] = [];
  const pixelValues: number[] = [];
  for (let p = 0; p < width; p++) {
    let any = false;
    for (let i = 0; i < m; i++) {
      if (dense[i * width + p] !== 0) {
        any = true;
        examples.push(i);
        pixelValues.push(dense[i * width + p]);
      }
    }
    if (any) {
      pixelList.push(p);
      pixelOffsets.push(examples.length);
    }
  }
  return {
    dense,
    offsets,
    pixels: Int32Array.from(pixels.length ? pixels : [0]),
    values: Float32Array.from(values.length ? values : [0]),
    pixelList: Int32Array.from(pixelList.length ? pixelList : [0]),
    pixelOffsets: Int32Array.from(pixelOffsets),
    examples: Int32Array.from(examples.length ? examples : [0]),
    pixelValues: Float32Array.from(pixelValues.length ? pixelValues : [0]),
    count: pixelList.length,
  };
}

describe('WebAssembly SIMD kernels', () => {
  it('compile here (Node has WebAssembly SIMD)', () => {
    expect(kernelsUnavailable()).toBeNull();
  });

  for (const [m, k, n] of SHAPES) {
    it(`denseForward: x W + b then each nonlinearity, as tfjs computes it, on [${m} x ${k}] x [${k} x ${n}]`, () => {
      const x = uniformArray(m * k, 1);
      const w = uniformArray(k * n, 2, -0.3, 0.3);
      const b = uniformArray(n, 3);
      const mem = arenaWith({ x, w, b, y: m * n });
      const linear = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(x, [m, k]), tf.tensor2d(w, [k, n])), tf.tensor1d(b)) as tf.Tensor2D);
      mem.arena.kernels.denseForward(mem.x.ptr, mem.w.ptr, 0, mem.b.ptr, mem.y.ptr, 0, m, k, n, ACTIVATION_CODE.identity);
      expectClose(mem.y.view, read(linear));
      for (const activation of ACTIVATIONS) {
        mem.arena.kernels.denseForward(mem.x.ptr, mem.w.ptr, 0, mem.b.ptr, mem.y.ptr, 0, m, k, n, ACTIVATION_CODE[activation]);
        expectClose(mem.y.view, read(tf.tidy(() => nonlinearity(activation, linear))));
      }
      // Without a bias (b = 0 as a pointer): x W alone.
      mem.arena.kernels.denseForward(mem.x.ptr, mem.w.ptr, 0, 0, mem.y.ptr, 0, m, k, n, ACTIVATION_CODE.identity);
      expectClose(mem.y.view, read(tf.tidy(() => tf.matMul(tf.tensor2d(x, [m, k]), tf.tensor2d(w, [k, n])))));
      linear.dispose();
    });

    it(`weightGradient: x^T dy, and plain SGD's w - x^T dy in place, on [${m} x ${k}], [${m} x ${n}]`, () => {
      const x = uniformArray(m * k, 4);
      const dy = uniformArray(m * n, 5);
      const w = uniformArray(k * n, 6);
      const mem = arenaWith({ x, dy, dw: k * n, w });
      const expected = read(tf.tidy(() => tf.matMul(tf.tensor2d(x, [m, k]), tf.tensor2d(dy, [m, n]), true, false)));
      mem.arena.kernels.weightGradient(mem.x.ptr, mem.dy.ptr, mem.dw.ptr, 0, m, k, n);
      expectClose(mem.dw.view, expected);
      mem.arena.kernels.weightGradient(mem.x.ptr, mem.dy.ptr, 0, mem.w.ptr, m, k, n);
      // The update subtracts the very products the gradient holds.
      expect(Array.from(mem.w.view)).toEqual(Array.from(w, (v, i) => Math.fround(v - mem.dw.view[i])));
    });

    it(`inputGradient: dy W^T on [${m} x ${n}] x [${k} x ${n}]^T`, () => {
      const dy = uniformArray(m * n, 7);
      const w = uniformArray(k * n, 8);
      const mem = arenaWith({ dy, w, dx: m * k });
      mem.arena.kernels.inputGradient(mem.dy.ptr, mem.w.ptr, mem.dx.ptr, m, k, n);
      expectClose(mem.dx.view, read(tf.tidy(() => tf.matMul(tf.tensor2d(dy, [m, n]), tf.tensor2d(w, [k, n]), false, true))));
    });
  }

  /** [m, k, n] for the epilogue: odd widths 1, 3, 5, 13 and 257, row counts off the blocks of four. */
  const EPILOGUE_SHAPES: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 3],
    [5, 13, 5],
    [6, 3, 13],
    [7, 100, 100],
    [2, 257, 257],
  ];
  const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

  for (const [m, k, n] of EPILOGUE_SHAPES) {
    it(`denseForward's epilogue: g(x W scale + shift) and its input into the tap, the bits of the product then noiseForward, [${m} x ${k}] x [${k} x ${n}]`, () => {
      const x = uniformArray(m * k, 29);
      const w = uniformArray(k * n, 30, -0.3, 0.3);
      const scale = uniformArray(n, 31, 0.5, 2);
      const shift = uniformArray(n, 32);
      const mem = arenaWith({ x, w, scale, shift, product: m * n, u: m * n, z: m * n, y: m * n, tap: m * n });
      const { kernels } = mem.arena;
      kernels.denseForward(mem.x.ptr, mem.w.ptr, 0, 0, mem.product.ptr, 0, m, k, n, ACTIVATION_CODE.identity);
      for (const activation of [...ACTIVATIONS, 'identity'] as const) {
        kernels.noiseForward(mem.product.ptr, mem.scale.ptr, mem.shift.ptr, mem.u.ptr, m, n, ACTIVATION_CODE.identity);
        kernels.noiseForward(mem.product.ptr, mem.scale.ptr, mem.shift.ptr, mem.z.ptr, m, n, ACTIVATION_CODE[activation]);
        kernels.denseForward(mem.x.ptr, mem.w.ptr, mem.scale.ptr, mem.shift.ptr, mem.y.ptr, mem.tap.ptr, m, k, n, ACTIVATION_CODE[activation]);
        expect(bits(mem.y.view)).toEqual(bits(mem.z.view));
        expect(bits(mem.tap.view)).toEqual(bits(mem.u.view));
      }
      // A bias alone (a shift without a scale): the tap holds x W + b, the output g of it.
      kernels.denseForward(mem.x.ptr, mem.w.ptr, 0, mem.shift.ptr, mem.u.ptr, 0, m, k, n, ACTIVATION_CODE.identity);
      kernels.activationForward(mem.u.ptr, mem.z.ptr, m * n, ACTIVATION_CODE.sigmoid);
      kernels.denseForward(mem.x.ptr, mem.w.ptr, 0, mem.shift.ptr, mem.y.ptr, mem.tap.ptr, m, k, n, ACTIVATION_CODE.sigmoid);
      expect(bits(mem.y.view)).toEqual(bits(mem.z.view));
      expect(bits(mem.tap.view)).toEqual(bits(mem.u.view));
    });

    it(`sparseForward's epilogue: the same bits as its product then noiseForward, ${m} examples of ${k} pixels, ${n} units`, () => {
      const batch = sparseBatch(m, k, 0.4, 3 * m + k + n);
      const w = uniformArray(k * n, 33, -0.3, 0.3);
      const scale = uniformArray(n, 34, 0.5, 2);
      const shift = uniformArray(n, 35);
      const mem = arenaWith({ ...batch, count: 1, w, scale, shift, product: m * n, u: m * n, z: m * n, y: m * n, tap: m * n });
      const { kernels } = mem.arena;
      const ink = [mem.offsets.ptr, mem.pixels.ptr, mem.values.ptr, mem.w.ptr] as const;
      kernels.sparseForward(...ink, 0, 0, mem.product.ptr, 0, m, n, ACTIVATION_CODE.identity);
      for (const activation of [...ACTIVATIONS, 'identity'] as const) {
        kernels.noiseForward(mem.product.ptr, mem.scale.ptr, mem.shift.ptr, mem.u.ptr, m, n, ACTIVATION_CODE.identity);
        kernels.noiseForward(mem.product.ptr, mem.scale.ptr, mem.shift.ptr, mem.z.ptr, m, n, ACTIVATION_CODE[activation]);
        kernels.sparseForward(...ink, mem.scale.ptr, mem.shift.ptr, mem.y.ptr, mem.tap.ptr, m, n, ACTIVATION_CODE[activation]);
        expect(bits(mem.y.view)).toEqual(bits(mem.z.view));
        expect(bits(mem.tap.view)).toEqual(bits(mem.u.view));
      }
    });
  }

  for (const [m, width, n] of [
    [1, 3, 1],
    [3, 20, 3],
    [5, 784, 257],
    [60, 784, 100],
    [9, 50, 10],
  ] as const) {
    it(`sparseForward and sparseWeightGradient: each example over its own ink match the dense products, ${m} examples of ${width} pixels, ${n} units`, () => {
      const batch = sparseBatch(m, width, 0.2, m + width + n);
      const w = uniformArray(width * n, 9, -0.3, 0.3);
      const b = uniformArray(n, 10);
      const dy = uniformArray(m * n, 11);
      // sparseWeightGradient reads each example as its row's byte offset in dy, as regroupByPixel writes it.
      const exampleRows = Int32Array.from(batch.examples, (i) => i * n * 4);
      const mem = arenaWith({ ...batch, exampleRows, count: 1, w, b, y: m * n, dy, dw: width * n, updated: w });
      const { kernels } = mem.arena;
      const x = tf.tensor2d(batch.dense, [m, width]);
      const linear = tf.tidy(() => tf.add(tf.matMul(x, tf.tensor2d(w, [width, n])), tf.tensor1d(b)) as tf.Tensor2D);
      kernels.sparseForward(mem.offsets.ptr, mem.pixels.ptr, mem.values.ptr, mem.w.ptr, 0, mem.b.ptr, mem.y.ptr, 0, m, n, ACTIVATION_CODE.identity);
      expectClose(mem.y.view, read(linear));
      kernels.sparseForward(mem.offsets.ptr, mem.pixels.ptr, mem.values.ptr, mem.w.ptr, 0, mem.b.ptr, mem.y.ptr, 0, m, n, ACTIVATION_CODE.sigmoid);
      expectClose(mem.y.view, read(tf.tidy(() => tf.sigmoid(linear))));

      const gradient = read(tf.tidy(() => tf.matMul(x, tf.tensor2d(dy, [m, n]), true, false)));
      kernels.sparseWeightGradient(
        mem.pixelList.ptr,
        mem.pixelOffsets.ptr,
        mem.exampleRows.ptr,
        mem.pixelValues.ptr,
        mem.dy.ptr,
        mem.dw.ptr,
        0,
        batch.count,
        n,
      );
      // Rows of blank pixels are not written: they stay 0, as their gradient is.
      expectClose(mem.dw.view, gradient);
      kernels.sparseWeightGradient(
        mem.pixelList.ptr,
        mem.pixelOffsets.ptr,
        mem.exampleRows.ptr,
        mem.pixelValues.ptr,
        mem.dy.ptr,
        0,
        mem.updated.ptr,
        batch.count,
        n,
      );
      expect(Array.from(mem.updated.view)).toEqual(Array.from(w, (v, i) => Math.fround(v - mem.dw.view[i])));
      tf.dispose([x, linear]);
    });
  }

  for (const [m, width, n] of [
    [1, 3, 1],
    [7, 20, 13],
    [60, 784, 100],
  ] as const) {
    it(`regroupByPixel: ${m} examples' ink of ${width} pixels regrouped by pixel, examples ascending as their rows' byte offsets in a gradient of ${n} units, its scratch left zeroed`, () => {
      const batch = sparseBatch(m, width, 0.2, 2 * m + width);
      const entries = batch.offsets[m];
      const mem = arenaWith({
        ...batch,
        counts: new Int32Array(width),
        pixelList: new Int32Array(width),
        pixelOffsets: new Int32Array(width + 1),
        exampleRows: new Int32Array(entries + 1),
        pixelValues: entries + 1,
      });
      const used = mem.arena.kernels.regroupByPixel(
        mem.offsets.ptr,
        mem.pixels.ptr,
        mem.values.ptr,
        m,
        n,
        width,
        mem.counts.ptr,
        mem.pixelList.ptr,
        mem.pixelOffsets.ptr,
        mem.exampleRows.ptr,
        mem.pixelValues.ptr,
      );
      expect(used).toBe(batch.count);
      expect(Array.from(mem.pixelList.view.subarray(0, used))).toEqual(Array.from(batch.pixelList.subarray(0, used)));
      expect(Array.from(mem.pixelOffsets.view.subarray(0, used + 1))).toEqual(Array.from(batch.pixelOffsets));
      expect(Array.from(mem.exampleRows.view.subarray(0, entries))).toEqual(Array.from(batch.examples.subarray(0, entries), (i) => i * n * 4));
      expect(Array.from(mem.pixelValues.view.subarray(0, entries))).toEqual(Array.from(batch.pixelValues.subarray(0, entries)));
      expect(mem.counts.view.every((c) => c === 0)).toBe(true);
    });
  }

  it("gatherBatch: the batch's digits' ink and labels from the packed ink, through steps over gaps wider than 255, a blank digit, a digit twice", () => {
    // Each digit's ink as [pixel, byte]; its packed entries are (step from the last pixel) << 8 | byte.
    const inkOf = [
      [
        [0, 7],
        [1, 255],
        [300, 128],
        [783, 1],
      ],
      [],
      [
        [5, 30],
        [6, 31],
      ],
      [[600, 200]],
    ];
    const packed = [
      // 300 - 1 = 255 + 44, 783 - 300 = 255 + 228.
      [(0 << 8) | 7, (1 << 8) | 255, 255 << 8, (44 << 8) | 128, 255 << 8, (228 << 8) | 1],
      [],
      [(5 << 8) | 30, (1 << 8) | 31],
      [255 << 8, 255 << 8, (90 << 8) | 200],
    ];
    const digitOffsets = new Int32Array(packed.length + 1);
    packed.forEach((entries, d) => {
      digitOffsets[d + 1] = digitOffsets[d] + entries.length;
    });
    const flat = packed.flat();
    const digitLabels = Int32Array.of(4, 9, 0, 2);
    const digits = Int32Array.of(3, 0, 1, 2, 0);
    const intensity = Float32Array.from({ length: 256 }, (_, byte) => byte / 255);
    const entries = digits.reduce((sum, d) => sum + inkOf[d].length, 0);
    const mem = arenaWith({
      digits,
      digitOffsets,
      ink: new Int32Array(Math.ceil(flat.length / 2)),
      intensity,
      digitLabels,
      offsets: new Int32Array(digits.length + 1),
      pixels: new Int32Array(entries),
      values: entries,
      labels: new Int32Array(digits.length),
    });
    new Uint16Array(mem.arena.kernels.memory.buffer, mem.ink.ptr, flat.length).set(flat);
    const k = mem.arena.kernels;
    const got = k.gatherBatch(
      mem.digits.ptr,
      digits.length,
      mem.digitOffsets.ptr,
      mem.ink.ptr,
      mem.intensity.ptr,
      mem.digitLabels.ptr,
      mem.offsets.ptr,
      mem.pixels.ptr,
      mem.values.ptr,
      mem.labels.ptr,
    );
    const expected = Array.from(digits, (d) => inkOf[d]);
    expect(got).toBe(entries);
    expect(Array.from(mem.offsets.view)).toEqual([0, 1, 5, 5, 7, 11]);
    expect(Array.from(mem.pixels.view)).toEqual(expected.flat().map(([pixel]) => pixel));
    expect(Array.from(mem.values.view)).toEqual(expected.flat().map(([, byte]) => intensity[byte]));
    expect(Array.from(mem.labels.view)).toEqual([2, 4, 9, 0, 4]);
  });

  it('activationForward: sigmoid, tanh and ReLU as tfjs computes them, from -100 to 100, and NaN stays NaN', () => {
    const u = Float32Array.from({ length: 1003 }, (_, i) => (i - 501) / 5);
    u[7] = Number.NaN;
    const mem = arenaWith({ u, z: u.length });
    for (const activation of ACTIVATIONS) {
      mem.arena.kernels.activationForward(mem.u.ptr, mem.z.ptr, u.length, ACTIVATION_CODE[activation]);
      const expected = read(tf.tidy(() => nonlinearity(activation, tf.tensor2d(u, [1, u.length]))));
      expect(mem.z.view[7]).toBeNaN();
      mem.z.view[7] = expected[7] = 0;
      expectClose(mem.z.view, expected, 1e-6);
    }
  });

  for (const [m, n] of [
    [1, 1],
    [3, 3],
    [60, 100],
    [7, 257],
  ]) {
    for (const activation of ACTIVATIONS) {
      it(`activationBackward: dz g'(u) read from z, and the bias gradient (column sums), ${activation} on [${m} x ${n}]`, () => {
        const u = uniformArray(m * n, 12, -3, 3);
        const dz = uniformArray(m * n, 13);
        const [z, du, db] = tf.tidy(() => {
          const ut = tf.tensor2d(u, [m, n]);
          const zt = nonlinearity(activation, ut);
          const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(nonlinearity(activation, v as tf.Tensor2D), tf.tensor2d(dz, [m, n]))))(ut);
          return [read(zt), read(grad), read(tf.sum(grad, 0))];
        });
        const mem = arenaWith({ dz, z, du: m * n, db: n });
        mem.arena.kernels.activationBackward(mem.dz.ptr, mem.z.ptr, mem.du.ptr, m, n, ACTIVATION_CODE[activation], mem.db.ptr);
        expectClose(mem.du.view, du, 1e-5);
        expectClose(mem.db.view, db, 1e-5);
      });
    }
  }

  for (const [m, n] of [
    [2, 1],
    [3, 3],
    [60, 100],
    [7, 257],
    [1000, 5],
  ]) {
    for (const activation of ACTIVATIONS) {
      it(`batchNormForward and batchNormBackward (Algorithm 1 fused with ${activation}) match tfjs and its autodiff on [${m} x ${n}]`, () => {
        const x = uniformArray(m * n, 14, -2, 3);
        const gamma = uniformArray(n, 15, 0.5, 1.5);
        const beta = uniformArray(n, 16);
        const dz = uniformArray(m * n, 17);
        const epsilon = 1e-5;
        const mem = arenaWith({ x, gamma, beta, xhat: m * n, z: m * n, mean: n, variance: n, inverseStd: n, dz, dx: m * n, dGamma: n, dBeta: n });
        const { kernels } = mem.arena;
        kernels.batchNormForward(
          mem.x.ptr,
          mem.gamma.ptr,
          mem.beta.ptr,
          mem.xhat.ptr,
          mem.z.ptr,
          mem.mean.ptr,
          mem.variance.ptr,
          mem.inverseStd.ptr,
          m,
          n,
          epsilon,
          ACTIVATION_CODE[activation],
        );
        const expected = tf.tidy(() => {
          const [xt, gt, bt] = [tf.tensor2d(x, [m, n]), tf.tensor1d(gamma), tf.tensor1d(beta)];
          const bn = batchNormTraining(xt, gt, bt, epsilon);
          const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
            tf.sum(
              tf.mul(
                nonlinearity(activation, batchNormTraining(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, epsilon).normalized),
                tf.tensor2d(dz, [m, n]),
              ),
            );
          const [dx, dg, db] = tf.grads(f)([xt, gt, bt]);
          return {
            z: read(nonlinearity(activation, bn.normalized)),
            xhat: read(bn.xhat),
            mean: read(bn.batchMean),
            variance: read(bn.batchVariance),
            dx: read(dx),
            dg: read(dg),
            db: read(db),
          };
        });
        expectClose(mem.z.view, expected.z, 1e-5);
        expectClose(mem.xhat.view, expected.xhat, 1e-5);
        expectClose(mem.mean.view, expected.mean, 1e-5);
        expectClose(mem.variance.view, expected.variance, 1e-5);
        kernels.batchNormBackward(
          mem.dz.ptr,
          mem.z.ptr,
          mem.xhat.ptr,
          mem.gamma.ptr,
          mem.inverseStd.ptr,
          mem.dx.ptr,
          mem.dGamma.ptr,
          mem.dBeta.ptr,
          m,
          n,
          ACTIVATION_CODE[activation],
          0,
        );
        // dx is a difference of sums of m terms: its error grows with m.
        expectClose(mem.dx.view, expected.dx, 1e-4);
        expectClose(mem.dGamma.view, expected.dg, 1e-5);
        expectClose(mem.dBeta.view, expected.db, 1e-5);
        // Accumulating (the ghost batches after the first) adds to the gradients already there.
        kernels.batchNormBackward(
          mem.dz.ptr,
          mem.z.ptr,
          mem.xhat.ptr,
          mem.gamma.ptr,
          mem.inverseStd.ptr,
          mem.dx.ptr,
          mem.dGamma.ptr,
          mem.dBeta.ptr,
          m,
          n,
          ACTIVATION_CODE[activation],
          1,
        );
        expectClose(
          mem.dBeta.view,
          Array.from(expected.db, (v) => 2 * v),
          1e-5,
        );
      });
    }
  }

  for (const [m, n] of [
    [1, 1],
    [3, 3],
    [60, 100],
    [7, 257],
  ]) {
    for (const activation of ACTIVATIONS) {
      it(`layerNormForward and layerNormBackward (LayerNorm fused with ${activation}) match tfjs and its autodiff on [${m} x ${n}]`, () => {
        const x = uniformArray(m * n, 21, -2, 3);
        const gamma = uniformArray(n, 22, 0.5, 1.5);
        const beta = uniformArray(n, 23);
        const dz = uniformArray(m * n, 24);
        const epsilon = 1e-5;
        const mem = arenaWith({ x, gamma, beta, xhat: m * n, z: m * n, inverseStd: m, dz, dx: m * n, dGamma: n, dBeta: n });
        const { kernels } = mem.arena;
        kernels.layerNormForward(
          mem.x.ptr,
          mem.gamma.ptr,
          mem.beta.ptr,
          mem.xhat.ptr,
          mem.z.ptr,
          mem.inverseStd.ptr,
          m,
          n,
          epsilon,
          ACTIVATION_CODE[activation],
        );
        const layerNorm = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const { mean, variance } = tf.moments(a, 1, true);
          return tf.add(tf.mul(tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, epsilon))), g), b) as tf.Tensor2D;
        };
        const expected = tf.tidy(() => {
          const [xt, gt, bt] = [tf.tensor2d(x, [m, n]), tf.tensor1d(gamma), tf.tensor1d(beta)];
          const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(nonlinearity(activation, layerNorm(a, g, b)), tf.tensor2d(dz, [m, n])));
          const [dx, dg, db] = tf.grads(f)([xt, gt, bt]);
          return { z: read(nonlinearity(activation, layerNorm(xt, gt, bt))), dx: read(dx), dg: read(dg), db: read(db) };
        });
        expectClose(mem.z.view, expected.z, 1e-5);
        kernels.layerNormBackward(
          mem.dz.ptr,
          mem.z.ptr,
          mem.xhat.ptr,
          mem.gamma.ptr,
          mem.inverseStd.ptr,
          mem.dx.ptr,
          mem.dGamma.ptr,
          mem.dBeta.ptr,
          m,
          n,
          ACTIVATION_CODE[activation],
        );
        expectClose(mem.dx.view, expected.dx, 1e-4);
        expectClose(mem.dGamma.view, expected.dg, 1e-5);
        expectClose(mem.dBeta.view, expected.db, 1e-5);
      });
    }
  }

  for (const [m, n] of [
    [1, 1],
    [3, 3],
    [60, 100],
    [7, 257],
  ]) {
    it(`noiseForward and noiseBackward: g(y scale + shift) and its gradient as tfjs and its autodiff give them, [${m} x ${n}]`, () => {
      const y = uniformArray(m * n, 25, -2, 2);
      const scale = uniformArray(n, 26, 1, 2);
      const shift = uniformArray(n, 27);
      const dz = uniformArray(m * n, 28);
      const mem = arenaWith({ y, scale, shift, z: m * n, dz, du: m * n });
      for (const activation of ACTIVATIONS) {
        const noisy = (v: tf.Tensor) => nonlinearity(activation, tf.add(tf.mul(v, tf.tensor1d(scale)), tf.tensor1d(shift)) as tf.Tensor2D);
        const [z, du] = tf.tidy(() => {
          const yt = tf.tensor2d(y, [m, n]);
          return [read(noisy(yt)), read(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(noisy(v), tf.tensor2d(dz, [m, n]))))(yt))];
        });
        mem.arena.kernels.noiseForward(mem.y.ptr, mem.scale.ptr, mem.shift.ptr, mem.z.ptr, m, n, ACTIVATION_CODE[activation]);
        expectClose(mem.z.view, z, 1e-5);
        mem.arena.kernels.noiseBackward(mem.dz.ptr, mem.z.ptr, mem.scale.ptr, mem.du.ptr, m, n, ACTIVATION_CODE[activation]);
        expectClose(mem.du.view, du, 1e-5);
      }
    });
  }

  for (const m of [1, 3, 60, 257]) {
    it(`softmaxCrossEntropy: the mean loss and (softmax - y) scale / m as tfjs's loss and its gradient, ${m} examples`, () => {
      const logits = uniformArray(m * 10, 18, -8, 8);
      const labels = Int32Array.from({ length: m }, (_, i) => (i * 7) % 10);
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const [loss, grad] = tf.tidy(() => {
        const { value, grad: g } = tf.valueAndGrad((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, l) as tf.Scalar)(tf.tensor2d(logits, [m, 10]));
        return [value.dataSync()[0], read(g)];
      });
      const mem = arenaWith({ logits, labels, dlogits: m * 10 });
      const scale = 0.1;
      const result = mem.arena.kernels.softmaxCrossEntropy(mem.logits.ptr, mem.labels.ptr, mem.dlogits.ptr, m, 10, scale);
      expect(result).toBeCloseTo(loss, 5);
      expectClose(
        mem.dlogits.view,
        Array.from(grad, (g) => g * scale),
        1e-6,
      );
      oneHot.dispose();
    });
  }

  for (const length of [1, 3, 257, 78_400]) {
    it(`subtract and momentumUpdate give MomentumSgd's weight-matrix updates bit for bit over ${length} values`, () => {
      const p = uniformArray(length, 19);
      const g = uniformArray(length, 20);
      const mem = arenaWith({ p, g, v: length });
      const { kernels } = mem.arena;
      const reference = new MomentumSgd();
      const shapes = [[1, length]];
      const expected = p.slice();
      reference.update([expected], [g], shapes, 0.1, 0, 0.1);
      kernels.subtract(mem.p.ptr, mem.g.ptr, length);
      expect(Array.from(mem.p.view)).toEqual(Array.from(expected));
      for (let step = 0; step < 3; step++) {
        reference.update([expected], [g], shapes, 0.05, 0.9);
        kernels.momentumUpdate(mem.p.ptr, mem.g.ptr, mem.v.ptr, length, 0.9, 0.05);
      }
      expect(Array.from(mem.p.view)).toEqual(Array.from(expected));
      expect(Array.from(mem.v.view)).toEqual(Array.from(reference.state()![0]));
    });
  }
});

describe("WebAssembly kernels of Santurkar et al.'s landscape (assembly/santurkar.ts)", () => {
  /** Values over many binades (2^-40 to 2^40, both signs), where float64 rounding of a product or a difference shows. */
  function spread(length: number, seed: number): Float32Array {
    const uniform = createRng(seed);
    return Float32Array.from({ length }, () => (uniform() - 0.5) * 2 ** Math.round(80 * uniform() - 40));
  }
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

  for (const length of [1, 3, 5, 13, 257, 78_400]) {
    it(`moveAlong, squaredNorm, dot, squaredDistance and squaredDistanceAndMove give santurkar.ts's JS results, and plainSgdMove MomentumSgd's plain step, bit for bit over ${length} values`, () => {
      const [w, g, there] = [spread(length, 31), spread(length, 32), spread(length, 33)];
      const mem = arenaWith({ w, g, there, out: length });
      const { kernels } = mem.arena;
      for (const eta of [0.025, 0.1, 0.4, 1e-7, 3.7]) {
        const expected = new Float32Array(length);
        moveAlong(w, g, expected, eta);
        kernels.moveAlong(mem.w.ptr, mem.g.ptr, mem.out.ptr, length, eta);
        expect(bits(mem.out.view)).toEqual(bits(expected));
      }
      expect(kernels.squaredNorm(mem.g.ptr, length, 0)).toBe(squaredNorm(g));
      expect(kernels.dot(mem.g.ptr, mem.there.ptr, length)).toBe(dot(g, there));
      expect(Math.sqrt(kernels.squaredDistance(mem.g.ptr, mem.there.ptr, length, 0))).toBe(distance(g, there));
      expect(kernels.squaredDistance(mem.g.ptr, mem.g.ptr, length, 0)).toBe(0);
      const moved = new Float32Array(length);
      moveAlong(w, g, moved, 0.3);
      mem.out.view.fill(0);
      expect(Math.sqrt(kernels.squaredDistanceAndMove(mem.g.ptr, mem.there.ptr, length, mem.w.ptr, mem.out.ptr, 0.3, 0))).toBe(distance(g, there));
      expect(bits(mem.out.view)).toEqual(bits(moved));
      // A sum over two spans goes on where the first ended: the whole array's, bit for bit.
      const half = Math.floor(length / 2);
      const first = kernels.squaredDistance(mem.g.ptr, mem.there.ptr, half, 0);
      expect(Math.sqrt(kernels.squaredDistance(mem.g.ptr + 4 * half, mem.there.ptr + 4 * half, length - half, first))).toBe(distance(g, there));
      expect(kernels.squaredNorm(mem.g.ptr + 4 * half, length - half, kernels.squaredNorm(mem.g.ptr, half, 0))).toBe(squaredNorm(g));
      for (const learningRate of [0.1, 0.37, 1]) {
        const stepped = w.slice();
        new MomentumSgd().update([stepped], [g], [[1, length]], learningRate, 0);
        kernels.plainSgdMove(mem.w.ptr, mem.g.ptr, mem.out.ptr, length, learningRate);
        expect(bits(mem.out.view)).toEqual(bits(stepped));
      }
    });
  }
});
