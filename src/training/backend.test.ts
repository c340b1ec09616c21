import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { peeksInPlace, readInto, useBackend } from './backend';

describe('useBackend', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  it('starts the wasm backend when asked, with no fallback', async () => {
    expect(await useBackend('wasm')).toEqual({ backend: 'wasm', fallbackReason: null });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('falls back to cpu, saying why, where the requested backend cannot start (no GPU in Node)', async () => {
    const choice = await useBackend('webgl');
    expect(choice.backend).toBe('cpu');
    expect(choice.fallbackReason).toMatch(/webgl/);
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('readInto', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`copies a tensor's values into the given array on ${backend}, which keeps them once the tensor's memory is reused`, async () => {
      await useBackend(backend);
      const target = new Float32Array(6);
      const read = tf.tidy(() => readInto(tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor2d([1, 0, 0, 2], [2, 2])), target));
      expect(read).toBe(target);
      // Tensors of the same size take the freed memory over.
      tf.tidy(() => Array.from({ length: 10 }, () => tf.fill([3, 2], 7)).forEach((t) => t.dataSync()));
      expect(Array.from(target)).toEqual([1, 4, 3, 8, 5, 12]);
    });
  }

  it('refuses a target of another size or a tensor of another type', () => {
    tf.tidy(() => {
      expect(() => readInto(tf.zeros([2, 3]), new Float32Array(5))).toThrow(/6 values does not fit 5 floats/);
      expect(() => readInto(tf.zeros([2], 'int32'), new Float32Array(2))).toThrow(/int32/);
    });
  });
});

describe('peeksInPlace', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  it('says wasm tensors are read where they lie and cpu tensors (like webgl ones) through a download', async () => {
    await useBackend('wasm');
    expect(peeksInPlace()).toBe(true);
    await useBackend('cpu');
    expect(peeksInPlace()).toBe(false);
  });
});
