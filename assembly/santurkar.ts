// Santurkar et al.'s landscape along the gradient (src/training/santurkar.ts) in the module: the
// moves W - eta g and the float64 sums over every parameter, on arrays the host laid out.
//
// Each result has the bits the JS functions give: the move is rounded as JS rounds
// `w[i] - eta * g[i]` (float64 product and difference, then float32 on the store), which SIMD does
// lane by lane; the sums add one float64 term after another in index order, as the JS loops do,
// so they stay scalar (lanes would add in another order).

/** out[i] = w[i] - eta g[i] for `count` floats: a point along -g at step size eta. */
export function moveAlong(w: usize, g: usize, out: usize, count: i32, eta: f64): void {
  const step = f64x2.splat(eta);
  let at = 0;
  for (; at + 4 <= count; at += 4) {
    const ptr = <usize>at << 2;
    const wv = v128.load(w + ptr);
    const gv = v128.load(g + ptr);
    // Lanes 2 and 3 moved down, where promote reads.
    const wHigh = i32x4.shuffle(wv, wv, 2, 3, 0, 1);
    const gHigh = i32x4.shuffle(gv, gv, 2, 3, 0, 1);
    const low = f64x2.sub(f64x2.promote_low_f32x4(wv), f64x2.mul(step, f64x2.promote_low_f32x4(gv)));
    const high = f64x2.sub(f64x2.promote_low_f32x4(wHigh), f64x2.mul(step, f64x2.promote_low_f32x4(gHigh)));
    v128.store(out + ptr, i32x4.shuffle(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5));
  }
  for (; at < count; at++) {
    const ptr = <usize>at << 2;
    store<f32>(out + ptr, <f32>(<f64>load<f32>(w + ptr) - eta * <f64>load<f32>(g + ptr)));
  }
}

/** The sum of a[i]^2 over `count` floats, in float64. */
export function squaredNorm(a: usize, count: i32): f64 {
  let sum: f64 = 0;
  for (let at = 0; at < count; at++) {
    const v = <f64>load<f32>(a + (<usize>at << 2));
    sum += v * v;
  }
  return sum;
}

/** ||a - b|| over `count` floats, in float64. */
export function distance(a: usize, b: usize, count: i32): f64 {
  let sum: f64 = 0;
  for (let at = 0; at < count; at++) {
    const ptr = <usize>at << 2;
    const d = <f64>load<f32>(a + ptr) - <f64>load<f32>(b + ptr);
    sum += d * d;
  }
  return Math.sqrt(sum);
}
