import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dense } from './dense';
import { checkGradients, expectClose, finiteDifferences, handWritten, uniformArray, type OpCase } from './testing';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

function denseCase(hasBias: boolean, readsData: boolean, m = 6, fanIn = 7, fanOut = 5): OpCase {
  const op = new Dense('dense', fanIn, fanOut, uniformArray(fanIn * fanOut, 1), hasBias, readsData);
  const params = op.parameters.map((p, k) => (k === 0 ? p.values : uniformArray(fanOut, 2)));
  return {
    op,
    m,
    inUnits: fanIn,
    outUnits: fanOut,
    params,
    float64: (x, [w, b]) =>
      Float64Array.from({ length: m * fanOut }, (_, at) => {
        const [i, j] = [Math.floor(at / fanOut), at % fanOut];
        let sum = b ? b[j] : 0;
        for (let k = 0; k < fanIn; k++) sum += x[i * fanIn + k] * w[k * fanOut + j];
        return sum;
      }),
  };
}

describe('Dense', () => {
  for (const hasBias of [true, false]) {
    it(`gradients of x W${hasBias ? ' + b' : ''} match float64 finite differences and autodiff, the input's included`, () => {
      const c = denseCase(hasBias, false);
      checkGradients(c, uniformArray(c.m * c.inUnits, 3), uniformArray(c.m * c.outUnits, 4));
    });
  }

  it('as the first layer gives no input gradient, and on blank pixels a zero weight gradient without multiplying over them', () => {
    const c = denseCase(true, true, 6, 10, 5);
    // Pixels 0, 3 and 7 blank in every example: 3 of 10, more than the fifth that makes leaving them out pay.
    const blank = [0, 3, 7];
    const x = uniformArray(c.m * c.inUnits, 5, 0, 1).map((v, at) => (blank.includes(at % c.inUnits) ? 0 : v));
    const dy = uniformArray(c.m * c.outUnits, 6);
    const data = tf.tensor2d(x, [c.m, c.inUnits]);
    const mine = handWritten(c, x, dy, { data } as never);
    data.dispose();
    expect(mine.dx).toBeNull();
    const numeric = finiteDifferences(c, x, dy);
    expectClose(mine.dParams[0], numeric.dParams[0], 1e-4, 'weights');
    expectClose(mine.dParams[1], numeric.dParams[1], 1e-4, 'bias');
    for (const pixel of blank) for (let j = 0; j < c.outUnits; j++) expect(mine.dParams[0][pixel * c.outUnits + j]).toBe(0);
    expect(Array.from(c.op.gradientRows!(0)!)).toEqual([1, 2, 4, 5, 6, 8, 9]);
  });

  it('drops its bias parameter when a normalization brings its own shift', () => {
    expect(new Dense('l', 3, 2, new Float32Array(6), false, false).parameters.map((p) => p.name)).toEqual(['l/weights']);
    expect(new Dense('l', 3, 2, new Float32Array(6), true, false).parameters.map((p) => [p.name, p.shape])).toEqual([
      ['l/weights', [3, 2]],
      ['l/bias', [2]],
    ]);
  });
});
