/**
 * What every op's test checks, in one place: an op's hand-written backward pass against float64
 * central finite differences of the op written independently in float64 (by the test), and
 * against tfjs autodiff of the op's own tfjs forward pass. The loss is sum(dy * op(x)) for a
 * random dy, so that every output's gradient counts.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { LayerNoise } from '../noise';
import { createRng } from '../rng';
import type { Op, Signal, StepContext } from './op';

export interface OpCase {
  op: Op;
  m: number;
  inUnits: number;
  outUnits: number;
  /** The op's parameter values (op.parameters' order). */
  params: Float32Array[];
  /** The op in float64, written from its definition: x [m, inUnits] to [m, outUnits]. */
  float64: (x: Float64Array, params: Float64Array[]) => Float64Array;
  noise?: LayerNoise | null;
}

export interface OpGradients {
  /** dLoss/dx, null where the op gives none (the data's). */
  dx: ArrayLike<number> | null;
  dParams: readonly ArrayLike<number>[];
}

export function uniformArray(length: number, seed: number, low = -1, high = 1): Float32Array {
  const uniform = createRng(seed);
  return Float32Array.from({ length }, () => low + (high - low) * uniform());
}

function context(c: OpCase): StepContext {
  c.op.firstParameter = 0;
  return { params: c.params, gradients: c.params.map((p) => new Float32Array(p.length)), noise: c.noise ?? null, requireNoise: true };
}

/** The op's training forward pass on x ([m, inUnits]), as an array. */
export function handWrittenForward(c: OpCase, x: Float32Array, input: Partial<Signal> = {}): Float32Array {
  let out: Float32Array | undefined;
  tf.tidy(() => {
    const signal = c.op.forward({ m: c.m, units: c.inUnits, tensor: null, array: x, ...input }, context(c));
    out = (signal.array ?? signal.tensor!.dataSync()).slice() as Float32Array;
  });
  return out!;
}

/** The op's hand-written gradients of sum(dy * op(x)); `input` overrides the forward pass's input signal (the data for a first layer). */
export function handWritten(c: OpCase, x: Float32Array, dy: Float32Array, input: Partial<Signal> = {}): OpGradients {
  let result: OpGradients | undefined;
  tf.tidy(() => {
    const step = context(c);
    c.op.forward({ m: c.m, units: c.inUnits, tensor: null, array: x, ...input }, step);
    const dx = c.op.backward({ values: dy, transposed: false }, step);
    result = { dx: dx ? (dx.transposed ? transposeBack(dx.values, c.m) : dx.values.slice()) : null, dParams: step.gradients };
  });
  return result!;
}

function transposeBack(values: Float32Array, m: number): Float32Array {
  const units = values.length / m;
  const out = new Float32Array(values.length);
  for (let i = 0; i < m; i++) for (let j = 0; j < units; j++) out[i * units + j] = values[j * m + i];
  return out;
}

/** Gradients of sum(dy * op(x)) by tfjs autodiff of forwardTensor in training mode. */
export function autodiff(c: OpCase, x: Float32Array, dy: Float32Array): OpGradients {
  let result: OpGradients | undefined;
  tf.tidy(() => {
    const inputs = [tf.tensor2d(x, [c.m, c.inUnits]), ...c.op.parameters.map((p, k) => tf.tensor(c.params[k], p.shape as number[]))];
    const weights = tf.tensor2d(dy, [c.m, c.outUnits]);
    const mode = { training: true, noise: c.noise ?? null, requireNoise: true };
    const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(c.op.forwardTensor(t[0] as tf.Tensor2D, t.slice(1), mode), weights)) as tf.Scalar)(inputs);
    result = { dx: grads[0].dataSync().slice(), dParams: grads.slice(1).map((g) => g.dataSync().slice()) };
  });
  return result!;
}

/** Central differences (h = 1e-6) of sum(dy * float64(x, params)) in float64. */
export function finiteDifferences(c: OpCase, x: Float32Array, dy: Float32Array): { dx: Float64Array; dParams: Float64Array[] } {
  const h = 1e-6;
  const x64 = Float64Array.from(x);
  const p64 = c.params.map((p) => Float64Array.from(p));
  const loss = () => c.float64(x64, p64).reduce((s, v, i) => s + v * dy[i], 0);
  const derivative = (values: Float64Array) =>
    Float64Array.from(values, (v, i) => {
      values[i] = v + h;
      const up = loss();
      values[i] = v - h;
      const down = loss();
      values[i] = v;
      return (up - down) / (2 * h);
    });
  return { dx: derivative(x64), dParams: p64.map(derivative) };
}

/**
 * Every value within `tolerance` x the largest |expected| of its array, and that largest value
 * not negligible (a gradient of 0 everywhere would prove nothing).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  expect(scale, `${label}: largest gradient`).toBeGreaterThan(1e-3);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i]), `${label}[${i}]`).toBeLessThan(tolerance * scale);
}

/** Hand-written gradients against finite differences and autodiff, with the tolerance float32 rounding leaves. */
export function checkGradients(c: OpCase, x: Float32Array, dy: Float32Array, tolerance = 1e-4): void {
  const mine = handWritten(c, x, dy);
  const numeric = finiteDifferences(c, x, dy);
  const tape = autodiff(c, x, dy);
  expectClose(mine.dx!, numeric.dx, tolerance, 'dx vs finite differences');
  expectClose(mine.dx!, tape.dx!, tolerance, 'dx vs autodiff');
  c.op.parameters.forEach((p, k) => {
    expectClose(mine.dParams[k], numeric.dParams[k], tolerance, `${p.name} vs finite differences`);
    expectClose(mine.dParams[k], tape.dParams[k], tolerance, `${p.name} vs autodiff`);
  });
}
