import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Activation } from '../../config/schema';
import { drawNoise, type LayerNoise } from '../noise';
import { createRng } from '../rng';
import { describeLayer } from '../statistics';
import { FINITE_SAMPLES, sigmoidInputs } from '../statisticsTesting';
import { Arena } from './kernels';
import { SimdStatistics } from './simdStatistics';

const ACTIVATIONS: Activation[] = ['sigmoid', 'tanh', 'relu'];

/** The shapes statistics.test.ts tries, and the ones where only the same algorithm gives the same bits (ties of -0 and 0). */
const SAMPLES: Record<string, (n: number, seed: number) => Float32Array> = {
  ...FINITE_SAMPLES,
  'infinities of a diverging layer': (n, seed) => {
    const uniform = createRng(seed);
    return sigmoidInputs(n, seed).map((value) => (uniform() < 0.01 ? (uniform() < 0.5 ? -Infinity : Infinity) : value));
  },
  'zeros of both signs': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, () => [-0, 0, 1, -1][Math.floor(uniform() * 4)]);
  },
  // The minimum (the maximum) is 0, met first as 0 (-0) and later as -0 (0), among values the buckets separate: the first met is the one kept.
  'zeros of both signs at the minimum': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, (_, i) => (i === 0 ? 0 : uniform() < 0.01 ? -0 : 10 * uniform() + 0.001));
  },
  'zeros of both signs at the maximum': (n, seed) => {
    const uniform = createRng(seed);
    return Float32Array.from({ length: n }, (_, i) => (i === 0 ? -0 : uniform() < 0.01 ? 0 : -10 * uniform() - 0.001));
  },
};

/** The record's JS path (statistics.ts) on a copy of `tap`, which it leaves as describeInPlace leaves it. */
function describedInJs(tap: Float32Array, units: number, noise: LayerNoise | null, activation: Activation, trackedUnit: number) {
  const probe = tap.slice();
  return { distributions: describeLayer(probe, units, noise, activation, trackedUnit), probe };
}

/** A SimdStatistics for taps of rows x units, and a tap in its memory holding `values`. */
function inModule(values: Float32Array, rows: number, units: number, m = 1) {
  const arena = new Arena();
  const statistics = new SimdStatistics(arena, rows, units, m);
  const tap = arena.f32(rows * units);
  arena.commit();
  tap.view.set(values);
  return { statistics, tap: tap.view };
}

/** toEqual tells -0 from 0 and NaN from a number: the same bits, or as near as JSON can tell. */
function expectSame(values: Float32Array, rows: number, units: number, noise: LayerNoise | null, activation: Activation, trackedUnit: number, m = 1) {
  const expected = describedInJs(values, units, noise, activation, trackedUnit);
  const { statistics, tap } = inModule(values, rows, units, m);
  const actual = statistics.describeLayer(tap, units, noise, activation, trackedUnit);
  expect(actual).toEqual(expected.distributions);
  // The same selection reorders the values the same way: the same bytes.
  expect(Buffer.from(tap.buffer, tap.byteOffset, tap.byteLength).equals(Buffer.from(expected.probe.buffer))).toBe(true);
}

describe('SimdStatistics.describeLayer', () => {
  it.each(Object.keys(SAMPLES))('describes the values as describeInPlace does, either side of the bucketing size: %s', (name) => {
    for (const n of [1, 2, 3, 5, 13, 257, 1000, 1499, 1500, 1501, 5000, 100_000]) {
      const values = SAMPLES[name](n, n);
      // One unit: the tracked unit's column is the layer.
      expectSame(values, n, 1, null, 'sigmoid', 0);
    }
  });

  it('describes any float32 values as describeInPlace does, infinities and -0 included', () => {
    fc.assert(
      fc.property(fc.float32Array({ noNaN: true, minLength: 1, maxLength: 4000 }), (values) => expectSame(values, values.length, 1, null, 'relu', 0)),
      { numRuns: 150 },
    );
  });

  it('counts the saturated inputs of every nonlinearity as saturationFraction does', () => {
    const values = Float32Array.from([-5, -4, -3, -2, -1, -0, 0, 1, 2, 3, 4, 5, Infinity, -Infinity, 1e-45]);
    for (const activation of ACTIVATIONS) expectSame(values, values.length, 1, null, activation, 0);
  });

  it.each([1, 3, 5, 13, 100, 257])('describes a tap of %i units, its tracked unit and its saturation, as the JS record does', (units) => {
    for (const rows of [1, 7, 1000]) {
      const values = sigmoidInputs(rows * units, rows + units);
      for (const activation of ACTIVATIONS) expectSame(values, rows, units, null, activation, (rows * 7) % units);
    }
  });

  it.each([1, 3, 5, 13, 100, 257])('adds noisy BN noise to a tap of %i units as applyNoise does, per example and shared', (units) => {
    const rows = 1000;
    const m = 60;
    const values = sigmoidInputs(rows * units, units);
    for (const kind of ['noisy', 'noisy-shared'] as const) {
      for (const strength of [0.5, 3]) {
        const [noise] = drawNoise([kind], units, strength, units, 17, m);
        expectSame(values, rows, units, noise, 'sigmoid', units - 1, m);
      }
    }
  });

  it('leaves the module refusing more percentiles or bins than its workspace holds, rather than writing past it', () => {
    const arena = new Arena();
    const workspace = arena.f32(arena.kernels.distributionWorkspaceBytes() / 4);
    const out = arena.f32(4096);
    arena.commit();
    const describe = (percentiles: number, bins: number) =>
      arena.kernels.describeDistribution(out.ptr, 4, out.ptr, percentiles, -10, 10, bins, 0, workspace.ptr, out.ptr);
    expect(describe(33, 40)).toBe(-1);
    expect(describe(9, 1025)).toBe(-1);
    expect(describe(32, 1024)).toBe(0);
  });

  it('rejects a tap outside the kernels memory', () => {
    const { statistics } = inModule(new Float32Array(6), 2, 3);
    expect(() => statistics.describeLayer(new Float32Array(6), 3, null, 'sigmoid', 0)).toThrow(/memory/);
  });
});
