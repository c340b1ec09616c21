// The training step's hot loops in WebAssembly SIMD (AssemblyScript), compiled by
// scripts/build-simd.ts into src/training/simd/kernelsWasm.ts. Every pointer is a byte offset into
// the module's memory, where the host (src/training/simd/simdStep.ts) lays out the parameters,
// their gradients and the step's buffers; matrices are row-major float32. Nothing here allocates.
//
// Plain SIMD only, no relaxed SIMD: every product and sum is rounded as float32 in an order fixed
// by the code, never fused, so a run gives the same bits on every machine. Each output of a product
// is one sequence of multiply-adds whatever block it falls in; a block narrower than 4 columns loads
// its lanes one by one into a vector and runs the same arithmetic.

import { high64, low64 } from './lanes';

const ZERO: v128 = f32x4.splat(0);

/** Activations, as the host numbers them. */
const SIGMOID = 0;
const TANH = 1;
const RELU = 2;
const IDENTITY = 3;

/** The first `count` (1 to 3) floats at ptr in the low lanes, zeros above. */
// @ts-ignore: decorator
@inline function loadPart(ptr: usize, count: i32): v128 {
  let v = f32x4.replace_lane(ZERO, 0, load<f32>(ptr));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(ptr, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(ptr, 8));
  return v;
}

/** Stores the low `count` (1 to 3) lanes of v at ptr. */
// @ts-ignore: decorator
@inline function storePart(ptr: usize, v: v128, count: i32): void {
  store<f32>(ptr, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(ptr, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(ptr, f32x4.extract_lane(v, 2), 8);
}

// @ts-ignore: decorator
@inline function loadAny(ptr: usize, count: i32): v128 {
  return count >= 4 ? v128.load(ptr) : loadPart(ptr, count);
}

// @ts-ignore: decorator
@inline function storeAny(ptr: usize, v: v128, count: i32): void {
  if (count >= 4) v128.store(ptr, v);
  else storePart(ptr, v, count);
}

// @ts-ignore: decorator
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** 1.5 * 2^23: a float of integral value n below 2^22 in magnitude, plus this, holds n + 0x400000 in its low mantissa bits. */
const INTEGER_BITS: f32 = 12582912;

/**
 * e^x, four at a time: x = n ln 2 + r with |r| <= ln 2 / 2 (Cody-Waite, ln 2 in two parts), e^r
 * by Cephes' degree-6 polynomial (within 2 ulp), 2^n built in the exponent bits. x is clamped to
 * where the result is a normal float; NaN stays NaN (pmax and pmin return their first operand
 * when a comparison fails). pmin/pmax, and n's bits read from n + 1.5 * 2^23, rather than
 * min/max and trunc_sat: the same values for every x, in one instruction each where the
 * NaN-propagating forms take several.
 */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.33654)), f32x4.splat(88.37626));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(f32x4.splat(1.3981999507e-3), p, r);
  p = madd(f32x4.splat(8.3334519073e-3), p, r);
  p = madd(f32x4.splat(4.1665795894e-2), p, r);
  p = madd(f32x4.splat(1.6666665459e-1), p, r);
  p = madd(f32x4.splat(5.0000001201e-1), p, r);
  const er = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const integer = i32x4.sub(f32x4.add(n, f32x4.splat(INTEGER_BITS)), f32x4.splat(INTEGER_BITS));
  const scale = i32x4.shl(i32x4.add(integer, i32x4.splat(127)), 23);
  return f32x4.mul(er, scale);
}

/** The nonlinearity g(u) of `activation`, four at a time. */
// @ts-ignore: decorator
@inline function activate(u: v128, activation: i32): v128 {
  if (activation == SIGMOID) return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(u))));
  if (activation == TANH) {
    // tanh(u) = 2 sigmoid(2u) - 1.
    const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.mul(u, f32x4.splat(-2)))));
    return f32x4.sub(f32x4.mul(s, f32x4.splat(2)), f32x4.splat(1));
  }
  if (activation == RELU) return f32x4.max(u, ZERO);
  return u;
}

/** dLoss/du from dLoss/dz and z = g(u): the derivative read from the output, as the JS ops do. */
// @ts-ignore: decorator
@inline function derive(dz: v128, z: v128, activation: i32): v128 {
  if (activation == SIGMOID) return f32x4.mul(f32x4.mul(dz, z), f32x4.sub(f32x4.splat(1), z));
  if (activation == TANH) return f32x4.mul(dz, f32x4.sub(f32x4.splat(1), f32x4.mul(z, z)));
  if (activation == RELU) return v128.and(dz, f32x4.gt(z, ZERO));
  return dz;
}

/** z = g(u) for `count` floats (z may be u). */
export function activationForward(u: usize, z: usize, count: i32, activation: i32): void {
  for (let at = 0; at < count; at += 4) {
    const ptr = <usize>at << 2;
    storeAny(z + ptr, activate(loadAny(u + ptr, count - at), activation), count - at);
  }
}

/**
 * du = dz g'(u), read from z, for [m, n]; where `bias` is not 0, also the bias gradient, the
 * column sums of du (rows in order). Twelve columns at a time, then four: three column sums in
 * flight, where one alone waits on each addition before the next row's. du may be dz.
 */
export function activationBackward(dz: usize, z: usize, du: usize, m: i32, n: i32, activation: i32, bias: usize): void {
  const rowBytes = <usize>n << 2;
  let j = 0;
  for (; j + 12 <= n; j += 12) {
    let sum0 = ZERO, sum1 = ZERO, sum2 = ZERO;
    let at = <usize>j << 2;
    for (let i = 0; i < m; i++) {
      const d0 = derive(v128.load(dz + at), v128.load(z + at), activation);
      const d1 = derive(v128.load(dz + at, 16), v128.load(z + at, 16), activation);
      const d2 = derive(v128.load(dz + at, 32), v128.load(z + at, 32), activation);
      v128.store(du + at, d0); v128.store(du + at, d1, 16); v128.store(du + at, d2, 32);
      sum0 = f32x4.add(sum0, d0); sum1 = f32x4.add(sum1, d1); sum2 = f32x4.add(sum2, d2);
      at += rowBytes;
    }
    if (bias != 0) {
      const b = bias + (<usize>j << 2);
      v128.store(b, sum0); v128.store(b, sum1, 16); v128.store(b, sum2, 32);
    }
  }
  for (; j < n; j += 4) {
    const cols = n - j;
    let sum = ZERO;
    for (let i = 0; i < m; i++) {
      const ptr = (<usize>(i * n + j)) << 2;
      const d = derive(loadAny(dz + ptr, cols), loadAny(z + ptr, cols), activation);
      storeAny(du + ptr, d, cols);
      sum = f32x4.add(sum, d);
    }
    if (bias != 0) storeAny(bias + (<usize>j << 2), sum, cols);
  }
}

/**
 * The epilogue of one vector of a product's outputs, columns at byte jb: u = acc scale + shift
 * (each where its pointer is not 0: a bias is a shift without a scale, BN's inference map both),
 * stored at tap where it is not 0 (the input to the nonlinearity, measured), then g(u) at y. The
 * same float32 operations as the product stored and then noiseForward, so the bits are the same.
 */
// @ts-ignore: decorator
@inline function emit(acc: v128, scale: usize, shift: usize, jb: usize, y: usize, tap: usize, activation: i32, cols: i32): void {
  let u = acc;
  if (scale != 0) u = f32x4.mul(u, loadAny(scale + jb, cols));
  if (shift != 0) u = f32x4.add(u, loadAny(shift + jb, cols));
  if (tap != 0) storeAny(tap + jb, u, cols);
  storeAny(y + jb, activate(u, activation), cols);
}

/**
 * y[m, n] = g(x[m, k] w[k, n] scale + shift), scale and shift per column where their pointers
 * are not 0 (see emit; g the identity for IDENTITY), and the input to g into tap [m, n] where it
 * is not 0. Four rows by twelve columns at a time (twelve accumulators: each row of w loaded once
 * feeds four rows of x), reading w where it lies (no packing). Rows past m repeat the last row
 * and are not stored, so a block's arithmetic never branches.
 */
export function denseForward(
  x: usize, w: usize, scale: usize, shift: usize, y: usize, tap: usize, m: i32, k: i32, n: i32, activation: i32,
): void {
  const rowBytes = <usize>n << 2;
  const xBytes = <usize>k << 2;
  for (let i = 0; i < m; i += 4) {
    const rows = m - i;
    const x0 = x + <usize>i * xBytes;
    const x1 = rows > 1 ? x0 + xBytes : x0;
    const x2 = rows > 2 ? x1 + xBytes : x1;
    const x3 = rows > 3 ? x2 + xBytes : x2;
    const y0 = y + <usize>i * rowBytes;
    const y1 = y0 + rowBytes, y2 = y1 + rowBytes, y3 = y2 + rowBytes;
    const t0 = tap != 0 ? tap + <usize>i * rowBytes : 0;
    const t1 = tap != 0 ? t0 + rowBytes : 0, t2 = tap != 0 ? t1 + rowBytes : 0, t3 = tap != 0 ? t2 + rowBytes : 0;
    let j = 0;
    for (; j + 12 <= n; j += 12) {
      let a0 = ZERO, a1 = ZERO, a2 = ZERO;
      let c0 = ZERO, c1 = ZERO, c2 = ZERO;
      let e0 = ZERO, e1 = ZERO, e2 = ZERO;
      let f0 = ZERO, f1 = ZERO, f2 = ZERO;
      let wp = w + (<usize>j << 2);
      for (let kb: usize = 0; kb < xBytes; kb += 4) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32);
        const s = f32x4.splat(load<f32>(x0 + kb));
        a0 = madd(a0, s, w0); a1 = madd(a1, s, w1); a2 = madd(a2, s, w2);
        const t = f32x4.splat(load<f32>(x1 + kb));
        c0 = madd(c0, t, w0); c1 = madd(c1, t, w1); c2 = madd(c2, t, w2);
        const u = f32x4.splat(load<f32>(x2 + kb));
        e0 = madd(e0, u, w0); e1 = madd(e1, u, w1); e2 = madd(e2, u, w2);
        const v = f32x4.splat(load<f32>(x3 + kb));
        f0 = madd(f0, v, w0); f1 = madd(f1, v, w1); f2 = madd(f2, v, w2);
        wp += rowBytes;
      }
      const jb = <usize>j << 2;
      emit(a0, scale, shift, jb, y0, t0, activation, 4); emit(a1, scale, shift, jb + 16, y0, t0, activation, 4);
      emit(a2, scale, shift, jb + 32, y0, t0, activation, 4);
      if (rows > 1) {
        emit(c0, scale, shift, jb, y1, t1, activation, 4); emit(c1, scale, shift, jb + 16, y1, t1, activation, 4);
        emit(c2, scale, shift, jb + 32, y1, t1, activation, 4);
      }
      if (rows > 2) {
        emit(e0, scale, shift, jb, y2, t2, activation, 4); emit(e1, scale, shift, jb + 16, y2, t2, activation, 4);
        emit(e2, scale, shift, jb + 32, y2, t2, activation, 4);
      }
      if (rows > 3) {
        emit(f0, scale, shift, jb, y3, t3, activation, 4); emit(f1, scale, shift, jb + 16, y3, t3, activation, 4);
        emit(f2, scale, shift, jb + 32, y3, t3, activation, 4);
      }
    }
    for (; j < n; j += 4) {
      const cols = n - j;
      let a = ZERO, c = ZERO, e = ZERO, f = ZERO;
      let wp = w + (<usize>j << 2);
      for (let kb: usize = 0; kb < xBytes; kb += 4) {
        const wv = loadAny(wp, cols);
        a = madd(a, f32x4.splat(load<f32>(x0 + kb)), wv);
        c = madd(c, f32x4.splat(load<f32>(x1 + kb)), wv);
        e = madd(e, f32x4.splat(load<f32>(x2 + kb)), wv);
        f = madd(f, f32x4.splat(load<f32>(x3 + kb)), wv);
        wp += rowBytes;
      }
      const jb = <usize>j << 2;
      emit(a, scale, shift, jb, y0, t0, activation, cols);
      if (rows > 1) emit(c, scale, shift, jb, y1, t1, activation, cols);
      if (rows > 2) emit(e, scale, shift, jb, y2, t2, activation, cols);
      if (rows > 3) emit(f, scale, shift, jb, y3, t3, activation, cols);
    }
  }
}

/**
 * The first layer over each example's own ink: y[i, :] = g(sum over e in [offsets[i],
 * offsets[i + 1]) of values[e] w[pixels[e], :], times scale, plus shift), as denseForward's
 * epilogue (the tap too). `offsets` (m + 1) and `pixels` are int32, the pixels of an example
 * ascending, so each sum runs in the order of the dense product.
 */
export function sparseForward(
  offsets: usize, pixels: usize, values: usize, w: usize, scale: usize, shift: usize, y: usize, tap: usize, m: i32, n: i32, activation: i32,
): void {
  const rowBytes = <usize>n << 2;
  for (let i = 0; i < m; i++) {
    const from = load<i32>(offsets + (<usize>i << 2));
    const to = load<i32>(offsets + (<usize>i << 2), 4);
    const yi = y + (<usize>(i * n) << 2);
    const ti = tap != 0 ? tap + (<usize>(i * n) << 2) : 0;
    let j = 0;
    for (; j + 20 <= n; j += 20) {
      let a0 = ZERO, a1 = ZERO, a2 = ZERO, a3 = ZERO, a4 = ZERO;
      const wj = w + (<usize>j << 2);
      for (let e = from; e < to; e++) {
        const s = f32x4.splat(load<f32>(values + (<usize>e << 2)));
        const wp = wj + <usize>load<i32>(pixels + (<usize>e << 2)) * rowBytes;
        a0 = madd(a0, s, v128.load(wp)); a1 = madd(a1, s, v128.load(wp, 16)); a2 = madd(a2, s, v128.load(wp, 32));
        a3 = madd(a3, s, v128.load(wp, 48)); a4 = madd(a4, s, v128.load(wp, 64));
      }
      const jb = <usize>j << 2;
      emit(a0, scale, shift, jb, yi, ti, activation, 4); emit(a1, scale, shift, jb + 16, yi, ti, activation, 4);
      emit(a2, scale, shift, jb + 32, yi, ti, activation, 4); emit(a3, scale, shift, jb + 48, yi, ti, activation, 4);
      emit(a4, scale, shift, jb + 64, yi, ti, activation, 4);
    }
    for (; j < n; j += 4) {
      const cols = n - j;
      let a = ZERO;
      const wj = w + (<usize>j << 2);
      for (let e = from; e < to; e++) {
        const wp = wj + <usize>load<i32>(pixels + (<usize>e << 2)) * rowBytes;
        a = madd(a, f32x4.splat(load<f32>(values + (<usize>e << 2))), loadAny(wp, cols));
      }
      emit(a, scale, shift, <usize>j << 2, yi, ti, activation, cols);
    }
  }
}

/**
 * The first layer's weight gradient regrouped by pixel: for each of the `count` pixels in use,
 * pixelList[g], its row sum over e in [pixelOffsets[g], pixelOffsets[g + 1]) of values[e] times
 * the row of dy at byte offset exampleRows[e] (examples ascending). regroupByPixel writes an
 * example's row offset rather than its index: the multiplication by the row's width is done once
 * an entry there, not once an entry and block of columns here. Where `w` is 0 the row goes into
 * dw; otherwise (plain SGD, dy already times the learning rate) w's row becomes w - row, so each
 * row of w is read and written once.
 */
export function sparseWeightGradient(pixelList: usize, pixelOffsets: usize, exampleRows: usize, values: usize, dy: usize, dw: usize, w: usize, count: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  for (let g = 0; g < count; g++) {
    const from = load<i32>(pixelOffsets + (<usize>g << 2));
    const to = load<i32>(pixelOffsets + (<usize>g << 2), 4);
    const row = <usize>load<i32>(pixelList + (<usize>g << 2)) * rowBytes;
    let j = 0;
    for (; j + 20 <= n; j += 20) {
      let a0 = ZERO, a1 = ZERO, a2 = ZERO, a3 = ZERO, a4 = ZERO;
      const dj = dy + (<usize>j << 2);
      for (let e = from; e < to; e++) {
        const s = v128.load32_splat(values + (<usize>e << 2));
        const dp = dj + <usize>load<i32>(exampleRows + (<usize>e << 2));
        a0 = madd(a0, s, v128.load(dp)); a1 = madd(a1, s, v128.load(dp, 16)); a2 = madd(a2, s, v128.load(dp, 32));
        a3 = madd(a3, s, v128.load(dp, 48)); a4 = madd(a4, s, v128.load(dp, 64));
      }
      const at = row + (<usize>j << 2);
      if (w == 0) {
        v128.store(dw + at, a0); v128.store(dw + at, a1, 16); v128.store(dw + at, a2, 32); v128.store(dw + at, a3, 48); v128.store(dw + at, a4, 64);
      } else {
        const p = w + at;
        v128.store(p, f32x4.sub(v128.load(p), a0)); v128.store(p, f32x4.sub(v128.load(p, 16), a1), 16);
        v128.store(p, f32x4.sub(v128.load(p, 32), a2), 32); v128.store(p, f32x4.sub(v128.load(p, 48), a3), 48);
        v128.store(p, f32x4.sub(v128.load(p, 64), a4), 64);
      }
    }
    for (; j < n; j += 4) {
      const cols = n - j;
      let a = ZERO;
      const dj = dy + (<usize>j << 2);
      for (let e = from; e < to; e++) {
        const dp = dj + <usize>load<i32>(exampleRows + (<usize>e << 2));
        a = madd(a, v128.load32_splat(values + (<usize>e << 2)), loadAny(dp, cols));
      }
      const at = row + (<usize>j << 2);
      if (w == 0) storeAny(dw + at, a, cols);
      else storeAny(w + at, f32x4.sub(loadAny(w + at, cols), a), cols);
    }
  }
}

/**
 * dw[k, n] = x[m, k]^T dy[m, n], each sum over the examples in order; four rows of dw by eight
 * columns at a time (per example, two loads of dy feed four splats of x: measured faster than
 * twelve columns, whose twelve accumulators leave too few registers). Rows past k repeat the
 * last row and are not stored, so a block's arithmetic never branches. Where `w` is not 0, w
 * becomes w - dw instead (plain SGD, dy already times the learning rate) and dw is not written.
 */
export function weightGradient(x: usize, dy: usize, dw: usize, w: usize, m: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const xRow = <usize>k << 2;
  for (let kk = 0; kk < k; kk += 4) {
    const rows = k - kk;
    const x0 = x + (<usize>kk << 2);
    const x1 = rows > 1 ? x0 + 4 : x0;
    const x2 = rows > 2 ? x1 + 4 : x1;
    const x3 = rows > 3 ? x2 + 4 : x2;
    const out0 = (w == 0 ? dw : w) + <usize>kk * rowBytes;
    const out1 = out0 + rowBytes, out2 = out1 + rowBytes, out3 = out2 + rowBytes;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      let a0 = ZERO, a1 = ZERO, c0 = ZERO, c1 = ZERO, e0 = ZERO, e1 = ZERO, f0 = ZERO, f1 = ZERO;
      let dp = dy + (<usize>j << 2);
      let xo: usize = 0;
      for (let i = 0; i < m; i++) {
        const d0 = v128.load(dp), d1 = v128.load(dp, 16);
        const s = v128.load32_splat(x0 + xo);
        a0 = madd(a0, s, d0); a1 = madd(a1, s, d1);
        const t = v128.load32_splat(x1 + xo);
        c0 = madd(c0, t, d0); c1 = madd(c1, t, d1);
        const u = v128.load32_splat(x2 + xo);
        e0 = madd(e0, u, d0); e1 = madd(e1, u, d1);
        const v = v128.load32_splat(x3 + xo);
        f0 = madd(f0, v, d0); f1 = madd(f1, v, d1);
        dp += rowBytes;
        xo += xRow;
      }
      const jb = <usize>j << 2;
      writeGradient(out0 + jb, a0, 4, w); writeGradient(out0 + jb + 16, a1, 4, w);
      if (rows > 1) { writeGradient(out1 + jb, c0, 4, w); writeGradient(out1 + jb + 16, c1, 4, w); }
      if (rows > 2) { writeGradient(out2 + jb, e0, 4, w); writeGradient(out2 + jb + 16, e1, 4, w); }
      if (rows > 3) { writeGradient(out3 + jb, f0, 4, w); writeGradient(out3 + jb + 16, f1, 4, w); }
    }
    for (; j < n; j += 4) {
      const cols = n - j;
      let a = ZERO, c = ZERO, e = ZERO, f = ZERO;
      let dp = dy + (<usize>j << 2);
      let xo: usize = 0;
      for (let i = 0; i < m; i++) {
        const d = loadAny(dp, cols);
        a = madd(a, v128.load32_splat(x0 + xo), d);
        c = madd(c, v128.load32_splat(x1 + xo), d);
        e = madd(e, v128.load32_splat(x2 + xo), d);
        f = madd(f, v128.load32_splat(x3 + xo), d);
        dp += rowBytes;
        xo += xRow;
      }
      const jb = <usize>j << 2;
      writeGradient(out0 + jb, a, cols, w);
      if (rows > 1) writeGradient(out1 + jb, c, cols, w);
      if (rows > 2) writeGradient(out2 + jb, e, cols, w);
      if (rows > 3) writeGradient(out3 + jb, f, cols, w);
    }
  }
}

/** `cols` (1 to 4) columns of a weight gradient into dw at p, or (where `w` is not 0) subtracted from w at p. */
// @ts-ignore: decorator
@inline function writeGradient(p: usize, g: v128, cols: i32, w: usize): void {
  storeAny(p, w == 0 ? g : f32x4.sub(loadAny(p, cols), g), cols);
}

// @ts-ignore: decorator
@inline function horizontalSum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * The lanes' sums of a, b, c and d in one vector, each (v0 + v1) + (v2 + v3) as horizontalSum
 * adds them: four outputs summed in three additions and stored at once, not one by one.
 */
// @ts-ignore: decorator
@inline function horizontalSums(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 2, 4, 6), v128.shuffle<f32>(a, b, 1, 3, 5, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 2, 4, 6), v128.shuffle<f32>(c, d, 1, 3, 5, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

/**
 * dx[m, k] = dy[m, n] w[k, n]^T: each output the dot product of a row of dy and a row of w, in
 * four lanes over the columns (the last, partial group of columns zero-filled), then the lanes
 * summed; two rows of dy by four rows of w at a time (three rows of dy, twelve accumulators,
 * measured slower).
 */
export function inputGradient(dy: usize, w: usize, dx: usize, m: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const whole = <usize>(n & ~3) << 2;
  const rest = n & 3;
  for (let i = 0; i < m; i += 2) {
    const two = i + 1 < m;
    const d0 = dy + <usize>i * rowBytes;
    const d1 = two ? d0 + rowBytes : d0;
    const out0 = dx + (<usize>(i * k) << 2);
    const out1 = out0 + (<usize>k << 2);
    let kk = 0;
    for (; kk + 4 <= k; kk += 4) {
      const w0 = w + <usize>kk * rowBytes;
      const w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
      let a0 = ZERO, a1 = ZERO, a2 = ZERO, a3 = ZERO;
      let c0 = ZERO, c1 = ZERO, c2 = ZERO, c3 = ZERO;
      let jb: usize = 0;
      for (; jb < whole; jb += 16) {
        const s = v128.load(d0 + jb), t = v128.load(d1 + jb);
        const v0 = v128.load(w0 + jb), v1 = v128.load(w1 + jb), v2 = v128.load(w2 + jb), v3 = v128.load(w3 + jb);
        a0 = madd(a0, s, v0); a1 = madd(a1, s, v1); a2 = madd(a2, s, v2); a3 = madd(a3, s, v3);
        c0 = madd(c0, t, v0); c1 = madd(c1, t, v1); c2 = madd(c2, t, v2); c3 = madd(c3, t, v3);
      }
      if (rest > 0) {
        const s = loadPart(d0 + jb, rest), t = loadPart(d1 + jb, rest);
        const v0 = loadPart(w0 + jb, rest), v1 = loadPart(w1 + jb, rest), v2 = loadPart(w2 + jb, rest), v3 = loadPart(w3 + jb, rest);
        a0 = madd(a0, s, v0); a1 = madd(a1, s, v1); a2 = madd(a2, s, v2); a3 = madd(a3, s, v3);
        c0 = madd(c0, t, v0); c1 = madd(c1, t, v1); c2 = madd(c2, t, v2); c3 = madd(c3, t, v3);
      }
      const kb = <usize>kk << 2;
      v128.store(out0 + kb, horizontalSums(a0, a1, a2, a3));
      if (two) v128.store(out1 + kb, horizontalSums(c0, c1, c2, c3));
    }
    for (; kk < k; kk++) {
      const w0 = w + <usize>kk * rowBytes;
      let a = ZERO, c = ZERO;
      let jb: usize = 0;
      for (; jb < whole; jb += 16) {
        const v = v128.load(w0 + jb);
        a = madd(a, v128.load(d0 + jb), v);
        c = madd(c, v128.load(d1 + jb), v);
      }
      if (rest > 0) {
        const v = loadPart(w0 + jb, rest);
        a = madd(a, loadPart(d0 + jb, rest), v);
        c = madd(c, loadPart(d1 + jb, rest), v);
      }
      store<f32>(out0 + (<usize>kk << 2), horizontalSum(a));
      if (two) store<f32>(out1 + (<usize>kk << 2), horizontalSum(c));
    }
  }
}

/**
 * The mini-batch's ink from the training digits' ink laid out once in memory: for the m digits
 * at `digits` (int32), each one's entries into offsets [m + 1], pixels and values, and its label.
 * A digit d's ink is the uint16 entries [digitOffsets[d], digitOffsets[d + 1]) of `ink`, each the
 * step from the previous pixel (from pixel 0) in the high byte and the pixel's byte in the low
 * one; a byte of 0 is only a step, for gaps wider than 255. `intensity` maps a byte to its float
 * (256 floats), `digitLabels` is one int32 per digit. Returns the batch's entries.
 */
export function gatherBatch(
  digits: usize, m: i32, digitOffsets: usize, ink: usize, intensity: usize, digitLabels: usize,
  offsets: usize, pixels: usize, values: usize, labels: usize,
): i32 {
  let e = 0;
  for (let i = 0; i < m; i++) {
    const digit = <usize>load<i32>(digits + (<usize>i << 2)) << 2;
    store<i32>(offsets + (<usize>i << 2), e);
    store<i32>(labels + (<usize>i << 2), load<i32>(digitLabels + digit));
    const to = ink + (<usize>load<u32>(digitOffsets + digit, 4) << 1);
    let pixel = 0;
    for (let at = ink + (<usize>load<u32>(digitOffsets + digit) << 1); at < to; at += 2) {
      const entry = <i32>load<u16>(at);
      pixel += entry >> 8;
      const byte = entry & 255;
      // Written whatever the byte; a step without ink leaves e where it is, to be overwritten.
      store<i32>(pixels + (<usize>e << 2), pixel);
      store<f32>(values + (<usize>e << 2), load<f32>(intensity + (<usize>byte << 2)));
      e += <i32>(byte != 0);
    }
  }
  store<i32>(offsets + (<usize>m << 2), e);
  return e;
}

/**
 * The mini-batch's ink regrouped by pixel, for sparseWeightGradient: from each example's entries
 * (offsets [m + 1] into pixels and values), the pixels in use ascending into pixelList, and for
 * each the examples that have ink there (ascending) and their values, from pixelOffsets[g]; an
 * example is written as the byte offset of its row in the first layer's dLoss/d(Wx) [m, n].
 * `counts` holds one zeroed int32 per pixel of a digit and is left zeroed. Returns how many
 * pixels are in use.
 */
export function regroupByPixel(
  offsets: usize, pixels: usize, values: usize, m: i32, n: i32, pixelsPerDigit: i32, counts: usize,
  pixelList: usize, pixelOffsets: usize, exampleRows: usize, pixelValues: usize,
): i32 {
  const entries = load<i32>(offsets + (<usize>m << 2));
  for (let e = 0; e < entries; e++) {
    const at = counts + (<usize>load<i32>(pixels + (<usize>e << 2)) << 2);
    store<i32>(at, load<i32>(at) + 1);
  }
  let used = 0;
  let running = 0;
  for (let p = 0; p < pixelsPerDigit; p++) {
    const at = counts + (<usize>p << 2);
    const count = load<i32>(at);
    if (count == 0) continue;
    store<i32>(pixelList + (<usize>used << 2), p);
    store<i32>(pixelOffsets + (<usize>used << 2), running);
    used++;
    // From here on the pixel's next free slot.
    store<i32>(at, running);
    running += count;
  }
  store<i32>(pixelOffsets + (<usize>used << 2), running);
  for (let i = 0; i < m; i++) {
    const row = (i * n) << 2;
    const to = load<i32>(offsets + (<usize>i << 2), 4);
    for (let e = load<i32>(offsets + (<usize>i << 2)); e < to; e++) {
      const at = counts + (<usize>load<i32>(pixels + (<usize>e << 2)) << 2);
      const slot = <usize>load<i32>(at) << 2;
      store<i32>(at, load<i32>(at) + 1);
      store<i32>(exampleRows + slot, row);
      store<f32>(pixelValues + slot, load<f32>(values + (<usize>e << 2)));
    }
  }
  for (let g = 0; g < used; g++) store<i32>(counts + (<usize>load<i32>(pixelList + (<usize>g << 2)) << 2), 0);
  return used;
}

/** Two float64 vectors (lanes 0-1, 2-3) rounded into one float32 vector. */
// @ts-ignore: decorator
@inline function round32(low: v128, high: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
}

/**
 * Algorithm 1 on x [m, n] (the rows of one mini-batch or one ghost batch), fused with the
 * nonlinearity: per unit the batch mean and biased variance, xhat = (x - mean) / sqrt(variance +
 * epsilon), y = gamma xhat + beta, z = g(y). The sums run over the rows in order in float64 and
 * the statistics are rounded to float32 before use, as the JS op computes them: a layer whose
 * inputs grow huge (its weights scale freely under BN) overflows no partial sum. Writes xhat, z,
 * and per unit mean, variance and 1 / sqrt(variance + epsilon).
 */
export function batchNormForward(
  x: usize, gamma: usize, beta: usize, xhat: usize, z: usize, mean: usize, variance: usize, inverseStd: usize,
  m: i32, n: i32, epsilon: f32, activation: i32,
): void {
  const count = f64x2.splat(<f64>m);
  for (let j = 0; j < n; j += 4) {
    const cols = n - j;
    const jb = <usize>j << 2;
    let sumLow = f64x2.splat(0), sumHigh = f64x2.splat(0);
    for (let i = 0; i < m; i++) {
      const v = loadAny(x + (<usize>(i * n) << 2) + jb, cols);
      sumLow = f64x2.add(sumLow, low64(v));
      sumHigh = f64x2.add(sumHigh, high64(v));
    }
    const mu = round32(f64x2.div(sumLow, count), f64x2.div(sumHigh, count));
    const muLow = low64(mu), muHigh = high64(mu);
    let squaresLow = f64x2.splat(0), squaresHigh = f64x2.splat(0);
    for (let i = 0; i < m; i++) {
      const v = loadAny(x + (<usize>(i * n) << 2) + jb, cols);
      const cLow = f64x2.sub(low64(v), muLow), cHigh = f64x2.sub(high64(v), muHigh);
      squaresLow = f64x2.add(squaresLow, f64x2.mul(cLow, cLow));
      squaresHigh = f64x2.add(squaresHigh, f64x2.mul(cHigh, cHigh));
    }
    const sigma2 = round32(f64x2.div(squaresLow, count), f64x2.div(squaresHigh, count));
    const scale = f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(sigma2, f32x4.splat(epsilon))));
    const g = loadAny(gamma + jb, cols), b = loadAny(beta + jb, cols);
    for (let i = 0; i < m; i++) {
      const at = (<usize>(i * n) << 2) + jb;
      const h = f32x4.mul(f32x4.sub(loadAny(x + at, cols), mu), scale);
      storeAny(xhat + at, h, cols);
      storeAny(z + at, activate(madd(b, g, h), activation), cols);
    }
    storeAny(mean + jb, mu, cols);
    storeAny(variance + jb, sigma2, cols);
    storeAny(inverseStd + jb, scale, cols);
  }
}

/**
 * The backward pass of batchNormForward from dLoss/dz: dy = dz g'(y) read from z, then
 * dbeta = sum dy, dgamma = sum dy xhat (in float64, rounded once), dx = gamma / sqrt(variance +
 * epsilon) (dy - dbeta / m - xhat dgamma / m). dx may be dz. Where `accumulate` is 1 the
 * parameter gradients are added to dGamma and dBeta (the ghost batches after the first).
 */
export function batchNormBackward(
  dz: usize, z: usize, xhat: usize, gamma: usize, inverseStd: usize, dx: usize, dGamma: usize, dBeta: usize,
  m: i32, n: i32, activation: i32, accumulate: i32,
): void {
  const count = f32x4.splat(<f32>m);
  for (let j = 0; j < n; j += 4) {
    const cols = n - j;
    const jb = <usize>j << 2;
    let dyLow = f64x2.splat(0), dyHigh = f64x2.splat(0), dyXhatLow = f64x2.splat(0), dyXhatHigh = f64x2.splat(0);
    for (let i = 0; i < m; i++) {
      const at = (<usize>(i * n) << 2) + jb;
      const d = derive(loadAny(dz + at, cols), loadAny(z + at, cols), activation);
      storeAny(dx + at, d, cols);
      const h = loadAny(xhat + at, cols);
      const dLow = low64(d), dHigh = high64(d);
      dyLow = f64x2.add(dyLow, dLow);
      dyHigh = f64x2.add(dyHigh, dHigh);
      dyXhatLow = f64x2.add(dyXhatLow, f64x2.mul(dLow, low64(h)));
      dyXhatHigh = f64x2.add(dyXhatHigh, f64x2.mul(dHigh, high64(h)));
    }
    let sumDy = round32(dyLow, dyHigh), sumDyXhat = round32(dyXhatLow, dyXhatHigh);
    const meanDy = f32x4.div(sumDy, count), meanDyXhat = f32x4.div(sumDyXhat, count);
    const scale = f32x4.mul(loadAny(gamma + jb, cols), loadAny(inverseStd + jb, cols));
    for (let i = 0; i < m; i++) {
      const at = (<usize>(i * n) << 2) + jb;
      const centered = f32x4.sub(f32x4.sub(loadAny(dx + at, cols), meanDy), f32x4.mul(loadAny(xhat + at, cols), meanDyXhat));
      storeAny(dx + at, f32x4.mul(scale, centered), cols);
    }
    if (accumulate != 0) {
      sumDy = f32x4.add(loadAny(dBeta + jb, cols), sumDy);
      sumDyXhat = f32x4.add(loadAny(dGamma + jb, cols), sumDyXhat);
    }
    storeAny(dBeta + jb, sumDy, cols);
    storeAny(dGamma + jb, sumDyXhat, cols);
  }
}

/**
 * Santurkar et al.'s noise after BN, then the nonlinearity: z = g(y scale + shift) for y [m, n],
 * scale and shift per unit (this step's draw).
 */
export function noiseForward(y: usize, scale: usize, shift: usize, z: usize, m: i32, n: i32, activation: i32): void {
  for (let j = 0; j < n; j += 4) {
    const cols = n - j;
    const jb = <usize>j << 2;
    const s = loadAny(scale + jb, cols), b = loadAny(shift + jb, cols);
    for (let i = 0; i < m; i++) {
      const at = (<usize>(i * n) << 2) + jb;
      storeAny(z + at, activate(madd(b, loadAny(y + at, cols), s), activation), cols);
    }
  }
}

/** The backward pass of noiseForward: du = dz g'(u) scale, read from z. du may be dz. */
export function noiseBackward(dz: usize, z: usize, scale: usize, du: usize, m: i32, n: i32, activation: i32): void {
  for (let j = 0; j < n; j += 4) {
    const cols = n - j;
    const jb = <usize>j << 2;
    const s = loadAny(scale + jb, cols);
    for (let i = 0; i < m; i++) {
      const at = (<usize>(i * n) << 2) + jb;
      storeAny(du + at, f32x4.mul(derive(loadAny(dz + at, cols), loadAny(z + at, cols), activation), s), cols);
    }
  }
}

/**
 * LayerNorm (Ba et al. 2016) fused with the nonlinearity: each example of x [m, n] normalized over
 * its own units, y = gamma xhat + beta, z = g(y). The mean and variance are float64 sums (in two
 * lanes over the columns, the last columns one by one) rounded to float32, as the JS op computes
 * them. Writes xhat, z and per example 1 / sqrt(variance + epsilon).
 */
export function layerNormForward(x: usize, gamma: usize, beta: usize, xhat: usize, z: usize, inverseStd: usize, m: i32, n: i32, epsilon: f32, activation: i32): void {
  const whole = n & ~3;
  for (let i = 0; i < m; i++) {
    const row = x + (<usize>(i * n) << 2);
    let sumLow = f64x2.splat(0), sumHigh = f64x2.splat(0);
    for (let j = 0; j < whole; j += 4) {
      const v = v128.load(row + (<usize>j << 2));
      sumLow = f64x2.add(sumLow, low64(v));
      sumHigh = f64x2.add(sumHigh, high64(v));
    }
    const sums = f64x2.add(sumLow, sumHigh);
    let sum = f64x2.extract_lane(sums, 0) + f64x2.extract_lane(sums, 1);
    for (let j = whole; j < n; j++) sum += <f64>load<f32>(row + (<usize>j << 2));
    const mean = <f32>(sum / <f64>n);
    const meanLanes = f64x2.splat(<f64>mean);
    let squaresLow = f64x2.splat(0), squaresHigh = f64x2.splat(0);
    for (let j = 0; j < whole; j += 4) {
      const v = v128.load(row + (<usize>j << 2));
      const cLow = f64x2.sub(low64(v), meanLanes), cHigh = f64x2.sub(high64(v), meanLanes);
      squaresLow = f64x2.add(squaresLow, f64x2.mul(cLow, cLow));
      squaresHigh = f64x2.add(squaresHigh, f64x2.mul(cHigh, cHigh));
    }
    const squareSums = f64x2.add(squaresLow, squaresHigh);
    let squares = f64x2.extract_lane(squareSums, 0) + f64x2.extract_lane(squareSums, 1);
    for (let j = whole; j < n; j++) {
      const c = <f64>load<f32>(row + (<usize>j << 2)) - <f64>mean;
      squares += c * c;
    }
    const scale = <f32>(1 / Math.sqrt(<f64><f32>(squares / <f64>n) + <f64>epsilon));
    store<f32>(inverseStd + (<usize>i << 2), scale);
    const mu = f32x4.splat(mean);
    const sv = f32x4.splat(scale);
    for (let j = 0; j < n; j += 4) {
      const cols = n - j;
      const jb = <usize>j << 2;
      const at = (<usize>(i * n) << 2) + jb;
      const h = f32x4.mul(f32x4.sub(loadAny(x + at, cols), mu), sv);
      storeAny(xhat + at, h, cols);
      storeAny(z + at, activate(madd(loadAny(beta + jb, cols), loadAny(gamma + jb, cols), h), activation), cols);
    }
  }
}

/**
 * The backward pass of layerNormForward from dLoss/dz: dy = dz g'(y) read from z; per example,
 * with dxhat = gamma dy, dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sqrt(variance +
 * epsilon); dgamma = sum over examples of dy xhat, dbeta of dy. dx may be dz.
 */
export function layerNormBackward(
  dz: usize, z: usize, xhat: usize, gamma: usize, inverseStd: usize, dx: usize, dGamma: usize, dBeta: usize,
  m: i32, n: i32, activation: i32,
): void {
  const count = <f32>n;
  for (let j = 0; j < n; j += 4) {
    storeAny(dGamma + (<usize>j << 2), ZERO, n - j);
    storeAny(dBeta + (<usize>j << 2), ZERO, n - j);
  }
  for (let i = 0; i < m; i++) {
    const rowBytes = <usize>(i * n) << 2;
    let sumDxhat = ZERO, sumDxhatXhat = ZERO;
    for (let j = 0; j < n; j += 4) {
      const cols = n - j;
      const jb = <usize>j << 2;
      const at = rowBytes + jb;
      const dy = derive(loadAny(dz + at, cols), loadAny(z + at, cols), activation);
      storeAny(dx + at, dy, cols);
      const h = loadAny(xhat + at, cols);
      const dxhat = f32x4.mul(loadAny(gamma + jb, cols), dy);
      sumDxhat = f32x4.add(sumDxhat, dxhat);
      sumDxhatXhat = madd(sumDxhatXhat, dxhat, h);
      storeAny(dGamma + jb, madd(loadAny(dGamma + jb, cols), dy, h), cols);
      storeAny(dBeta + jb, f32x4.add(loadAny(dBeta + jb, cols), dy), cols);
    }
    const meanDxhat = f32x4.splat(horizontalSum(sumDxhat) / count);
    const meanDxhatXhat = f32x4.splat(horizontalSum(sumDxhatXhat) / count);
    const scale = f32x4.splat(load<f32>(inverseStd + (<usize>i << 2)));
    for (let j = 0; j < n; j += 4) {
      const cols = n - j;
      const jb = <usize>j << 2;
      const at = rowBytes + jb;
      const dxhat = f32x4.mul(loadAny(gamma + jb, cols), loadAny(dx + at, cols));
      const centered = f32x4.sub(f32x4.sub(dxhat, meanDxhat), f32x4.mul(loadAny(xhat + at, cols), meanDxhatXhat));
      storeAny(dx + at, f32x4.mul(scale, centered), cols);
    }
  }
}

/**
 * Mean softmax cross-entropy of logits [m, classes] against `labels` (int32 class per example),
 * in float64; dlogits = (softmax - onehot) scale / m, rounded to float32. Returns the loss.
 */
export function softmaxCrossEntropy(logits: usize, labels: usize, dlogits: usize, m: i32, classes: i32, scale: f64): f64 {
  const factor = scale / <f64>m;
  let total: f64 = 0;
  for (let i = 0; i < m; i++) {
    const row = logits + (<usize>(i * classes) << 2);
    const out = dlogits + (<usize>(i * classes) << 2);
    const label = load<i32>(labels + (<usize>i << 2));
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, <f64>load<f32>(row + (<usize>c << 2)));
    let sumExp: f64 = 0;
    for (let c = 0; c < classes; c++) sumExp += Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - max);
    const logSumExp = Math.log(sumExp);
    for (let c = 0; c < classes; c++) {
      const logSoftmax = <f64>load<f32>(row + (<usize>c << 2)) - max - logSumExp;
      const target: f64 = c == label ? 1 : 0;
      total -= target * logSoftmax;
      store<f32>(out + (<usize>c << 2), <f32>((Math.exp(logSoftmax) - target) * factor));
    }
  }
  return total / <f64>m;
}

/** p -= g for `count` floats: plain SGD with gradients already times the learning rate. */
export function subtract(p: usize, g: usize, count: i32): void {
  for (let at = 0; at < count; at += 4) {
    const ptr = <usize>at << 2;
    storeAny(p + ptr, f32x4.sub(loadAny(p + ptr, count - at), loadAny(g + ptr, count - at)), count - at);
  }
}

/** Classical momentum for `count` floats: v = momentum v + g, then p -= learningRate v. */
export function momentumUpdate(p: usize, g: usize, v: usize, count: i32, momentum: f32, learningRate: f32): void {
  const mu = f32x4.splat(momentum);
  const rate = f32x4.splat(learningRate);
  for (let at = 0; at < count; at += 4) {
    const ptr = <usize>at << 2;
    const rest = count - at;
    const velocity = madd(loadAny(g + ptr, rest), mu, loadAny(v + ptr, rest));
    storeAny(v + ptr, velocity, rest);
    storeAny(p + ptr, f32x4.sub(loadAny(p + ptr, rest), f32x4.mul(rate, velocity)), rest);
  }
}

/** Where the module's own data ends: the host lays out its buffers above it. */
export function heapBase(): usize {
  return __heap_base;
}

// Kernels of files of their own: Santurkar et al.'s measures' moves and sums, a record's distribution statistics.
export * from './santurkar';
export * from './statistics';
