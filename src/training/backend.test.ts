import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { peeksInPlace, readInto, useBackend, wasmBinaryName, wasmFailure } from './backend';

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

describe('wasmFailure', () => {
  const flags = ['WASM_HAS_SIMD_SUPPORT', 'WASM_HAS_MULTITHREAD_SUPPORT'] as const;
  let saved: boolean[] = [];
  beforeAll(async () => {
    saved = await Promise.all(flags.map((flag) => tf.env().getAsync(flag) as Promise<boolean>));
  });
  afterEach(() => flags.forEach((flag, i) => tf.env().set(flag, saved[i])));

  function setSupport(simd: boolean, threads: boolean): void {
    tf.env().set('WASM_HAS_SIMD_SUPPORT', simd);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads);
  }

  it('names the binary tfjs loads for what the platform supports', async () => {
    setSupport(true, false);
    expect(await wasmBinaryName()).toBe('tfjs-backend-wasm-simd.wasm');
    setSupport(true, true);
    expect(await wasmBinaryName()).toBe('tfjs-backend-wasm-threaded-simd.wasm');
    setSupport(false, false);
    expect(await wasmBinaryName()).toBe('tfjs-backend-wasm.wasm');
  });

  it('says which file is missing and what the server answered, or that the file is there but did not run', async () => {
    setSupport(true, false);
    const asked: string[] = [];
    const answer =
      (status: number, statusText = '') =>
      async (url: string | URL | Request) => {
        asked.push(String(url));
        return new Response(null, { status, statusText });
      };
    expect(await wasmFailure('https://lab.test/tfjs-wasm/', answer(404, 'Not Found'))).toBe(
      'the wasm backend could not load https://lab.test/tfjs-wasm/tfjs-backend-wasm-simd.wasm: HTTP 404 Not Found',
    );
    expect(asked).toEqual(['https://lab.test/tfjs-wasm/tfjs-backend-wasm-simd.wasm']);
    expect(await wasmFailure('https://lab.test/tfjs-wasm/', answer(200))).toBe(
      'the wasm backend did not initialise from https://lab.test/tfjs-wasm/tfjs-backend-wasm-simd.wasm, which the server does serve',
    );
    const offline = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await wasmFailure('https://lab.test/tfjs-wasm/', offline)).toBe(
      'the wasm backend could not fetch https://lab.test/tfjs-wasm/tfjs-backend-wasm-simd.wasm (Failed to fetch)',
    );
  });
});
