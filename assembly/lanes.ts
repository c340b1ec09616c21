// Lane conversions the kernels of several files share (kernels.ts, santurkar.ts, statistics.ts): imported, not
// exported from the module, and inlined where used.

/** Lanes 0-1 of a float32 vector as float64: exactly the values JS reads from a Float32Array. */
// @ts-ignore: decorator
@inline export function low64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Lanes 2-3 of a float32 vector as float64. */
// @ts-ignore: decorator
@inline export function high64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}
