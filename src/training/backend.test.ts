import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from './backend';

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
