// Santurkar et al.'s measures (src/training/santurkar.ts) in the module: the landscape's moves
// W - eta g, ICS's plain-SGD update and the float64 sums over every parameter, on arrays the host
// laid out.
//
// Each result has the bits the JS functions give: the move is rounded as JS rounds
// `w[i] - eta * g[i]` (float64 product and difference, then float32 on the store), which SIMD does
// lane by lane; the sums add one float64 term after another in index order, as the JS loops do,
// so they stay scalar (lanes would add in another order). A sum goes on from `from`, so that the
// host can sum an array over several spans, skipping terms it knows to be exactly zero.

import { high64, low64 } from './lanes';

/** Four floats' w - eta g, each rounded as JS rounds it. */
// @ts-ignore: decorator
@inline function move4(wv: v128, gv: v128, step: v128): v128 {
  const low = f64x2.sub(low64(wv), f64x2.mul(step, low64(gv)));
  const high = f64x2.sub(high64(wv), f64x2.mul(step, high64(gv)));
  return i32x4.shuffle(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
}

// @ts-ignore: decorator
@inline function move1(w: f32, g: f32, eta: f64): f32 {
  return <f32>(<f64>w - eta * <f64>g);
}

/** out[i] = w[i] - eta g[i] for `count` floats: a point along -g at step size eta. */
export function moveAlong(w: usize, g: usize, out: usize, count: i32, eta: f64): void {
  const step = f64x2.splat(eta);
  let at = 0;
  for (; at + 4 <= count; at += 4) {
    const ptr = <usize>at << 2;
    v128.store(out + ptr, move4(v128.load(w + ptr), v128.load(g + ptr), step));
  }
  for (; at < count; at++) {
    const ptr = <usize>at << 2;
    store<f32>(out + ptr, move1(load<f32>(w + ptr), load<f32>(g + ptr), eta));
  }
}

/** from + the sum of a[i]^2 over `count` floats, in float64. */
export function squaredNorm(a: usize, count: i32, from: f64): f64 {
  let sum = from;
  for (let at = 0; at < count; at++) {
    const v = <f64>load<f32>(a + (<usize>at << 2));
    sum += v * v;
  }
  return sum;
}

/**
 * squaredDistance(a, b, count, from), and moveAlong(w, a, out, count, eta) in the same loop: the
 * walk's next point is written while the sum, one float64 addition waiting for the last, leaves
 * the core idle.
 */
export function squaredDistanceAndMove(a: usize, b: usize, count: i32, w: usize, out: usize, eta: f64, from: f64): f64 {
  const step = f64x2.splat(eta);
  let sum = from;
  let at = 0;
  for (; at + 4 <= count; at += 4) {
    const ptr = <usize>at << 2;
    const av = v128.load(a + ptr);
    const bv = v128.load(b + ptr);
    v128.store(out + ptr, move4(v128.load(w + ptr), av, step));
    const dLow = f64x2.sub(low64(av), low64(bv));
    const dHigh = f64x2.sub(high64(av), high64(bv));
    const low = f64x2.mul(dLow, dLow);
    const high = f64x2.mul(dHigh, dHigh);
    // In index order, as the scalar loop adds them.
    sum += f64x2.extract_lane(low, 0);
    sum += f64x2.extract_lane(low, 1);
    sum += f64x2.extract_lane(high, 0);
    sum += f64x2.extract_lane(high, 1);
  }
  for (; at < count; at++) {
    const ptr = <usize>at << 2;
    const av = load<f32>(a + ptr);
    store<f32>(out + ptr, move1(load<f32>(w + ptr), av, eta));
    const d = <f64>av - <f64>load<f32>(b + ptr);
    sum += d * d;
  }
  return sum;
}

/** from + the sum of (a[i] - b[i])^2 over `count` floats, in float64: ||a - b||^2 before its square root. */
export function squaredDistance(a: usize, b: usize, count: i32, from: f64): f64 {
  let sum = from;
  for (let at = 0; at < count; at++) {
    const ptr = <usize>at << 2;
    const d = <f64>load<f32>(a + ptr) - <f64>load<f32>(b + ptr);
    sum += d * d;
  }
  return sum;
}

/** The sum of a[i] b[i] over `count` floats, in float64. */
export function dot(a: usize, b: usize, count: i32): f64 {
  let sum: f64 = 0;
  for (let at = 0; at < count; at++) {
    const ptr = <usize>at << 2;
    sum += <f64>load<f32>(a + ptr) * <f64>load<f32>(b + ptr);
  }
  return sum;
}

/**
 * out = w - rate g for `count` floats, every product and difference rounded as float32: the
 * parameters plain SGD (MomentumSgd's recipe) would step to, which ICS's G'_i is taken after.
 */
export function plainSgdMove(w: usize, g: usize, out: usize, count: i32, rate: f32): void {
  const r = f32x4.splat(rate);
  let at = 0;
  for (; at + 4 <= count; at += 4) {
    const ptr = <usize>at << 2;
    v128.store(out + ptr, f32x4.sub(v128.load(w + ptr), f32x4.mul(r, v128.load(g + ptr))));
  }
  for (; at < count; at++) {
    const ptr = <usize>at << 2;
    store<f32>(out + ptr, load<f32>(w + ptr) - rate * load<f32>(g + ptr));
  }
}
