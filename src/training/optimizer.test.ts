import { describe, expect, it } from 'vitest';
import { MomentumSgd, ParameterMemory } from './optimizer';
import { createRng } from './rng';

const f32 = Math.fround;

describe('MomentumSgd', () => {
  it('with momentum 0 moves every parameter by -learningRate x its gradient, rounded to float32', () => {
    const sgd = new MomentumSgd();
    const p = [Float32Array.from([1, -2, 0.5, 3, 4, 5]), Float32Array.from([0.25])];
    const g = [Float32Array.from([0.1, 0.2, -0.3, 0, 1, -1]), Float32Array.from([2])];
    sgd.update(p, g, [[2, 3], [1]], 0.5, 0);
    expect(Array.from(p[0])).toEqual([1, -2, 0.5, 3, 4, 5].map((v, k) => f32(v - f32(f32(0.5) * f32([0.1, 0.2, -0.3, 0, 1, -1][k])))));
    expect(p[1][0]).toBe(-0.75);
    expect(sgd.state()).toBeNull();
  });

  it('takes gradients already scaled by the learning rate (gradientScale) as the update itself', () => {
    const sgd = new MomentumSgd();
    expect(sgd.gradientScale(0.3, 0)).toBe(0.3);
    expect(sgd.gradientScale(0.3, 0.9)).toBe(1);
    const p = [Float32Array.from([1, 2])];
    sgd.update(p, [Float32Array.from([0.125, -0.5])], [[1, 2]], 0.3, 0, 0.3);
    expect(Array.from(p[0])).toEqual([0.875, 2.5]);
  });

  it('updates only the rows in use when told the others have a zero gradient, to the same result', () => {
    const [all, hinted] = [new MomentumSgd(), new MomentumSgd()];
    const values = () => [Float32Array.from([1, 2, 3, 4, 5, 6])];
    const gradient = [Float32Array.from([0.5, 0.25, 0, 0, 1, 2])];
    const [a, b] = [values(), values()];
    all.update(a, gradient, [[3, 2]], 0.1, 0);
    hinted.update(b, gradient, [[3, 2]], 0.1, 0, 1, [Int32Array.from([0, 2])]);
    expect(b).toEqual(a);
  });

  it('with momentum keeps a velocity per parameter: v = momentum v + g, p = p - learningRate v', () => {
    const sgd = new MomentumSgd();
    const p = [Float32Array.from([1, 1]), Float32Array.from([1])];
    const shapes = [[1, 2], [1]];
    const g = () => [Float32Array.from([1, -1]), Float32Array.from([1])];
    sgd.update(p, g(), shapes, 0.1, 0.5);
    sgd.update(p, g(), shapes, 0.1, 0.5);
    // Velocities 1 then 1.5: p = 1 - 0.1 - 0.15.
    expect(p[0][0]).toBeCloseTo(0.75, 6);
    expect(p[0][1]).toBeCloseTo(1.25, 6);
    expect(p[1][0]).toBeCloseTo(0.75, 6);
    expect(Array.from(sgd.state()![0])).toEqual([1.5, -1.5]);
  });

  it('refuses gradients that do not match the parameters, and momentum on scaled gradients', () => {
    const sgd = new MomentumSgd();
    expect(() => sgd.update([new Float32Array(2)], [], [[2]], 0.1, 0)).toThrow(/0 gradients for 1 parameters/);
    expect(() => sgd.update([new Float32Array(2)], [new Float32Array(2)], [[2]], 0.1, 0.9, 0.1)).toThrow(/unscaled gradients/);
  });
});

describe('ParameterMemory', () => {
  it('gives zeroed, separate arrays of the asked lengths in one memory', () => {
    const memory = new ParameterMemory([5, 3]);
    const [a, b] = [memory.allocate(5), memory.allocate(3)];
    expect([a.length, b.length]).toEqual([5, 3]);
    expect(a.buffer).toBe(b.buffer);
    a.fill(7);
    expect(Array.from(b)).toEqual([0, 0, 0]);
  });

  it('updates arrays that live in it (by its WebAssembly kernel) bit for bit as plain arrays, rows and tails included', () => {
    const uniform = createRng(5);
    const shapes = [[7, 6], [13]];
    const values = shapes.map((shape) => Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => uniform() * 2 - 1));
    // Tiny gradients too: subnormal results must come out as the JS loop's.
    const gradients = values.map((v) => Float32Array.from(v, (_, k) => (k % 5 === 0 ? 1e-40 : uniform() - 0.5)));
    const memory = new ParameterMemory([...values, ...gradients].map((v) => v.length));
    // Node 20 and Chromium have WebAssembly SIMD: the kernel, not the fallback loop, is under test.
    expect(memory.simd).toBe(true);
    const inMemory = values.map((v) => {
      const view = memory.allocate(v.length);
      view.set(v);
      return view;
    });
    const gradientsInMemory = gradients.map((g) => {
      const view = memory.allocate(g.length);
      view.set(g);
      return view;
    });
    const plain = values.map((v) => v.slice());
    for (const rows of [[], [Int32Array.from([0, 3, 6]), null]]) {
      new MomentumSgd().update(inMemory, gradientsInMemory, shapes, 0.5, 0, 0.5, rows);
      new MomentumSgd().update(plain, gradients, shapes, 0.5, 0, 0.5, rows);
      expect(inMemory).toEqual(plain);
    }
    expect(inMemory[0]).not.toEqual(values[0]);
  });
});
