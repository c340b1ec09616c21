import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKernels, KERNELS_MODULE, kernelsModuleText } from './build-simd';

describe('build-simd', () => {
  it('the committed src/training/simd/kernelsWasm.ts is what assembly/kernels.ts compiles to, byte for byte', async () => {
    const wasm = await compileKernels();
    expect(readFileSync(KERNELS_MODULE, 'utf8')).toBe(kernelsModuleText(wasm));
  });

  it('the module uses plain SIMD only: it validates where relaxed SIMD is off, and imports nothing', async () => {
    const wasm = await compileKernels();
    // Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd, which the tests do not pass.
    expect(WebAssembly.validate(wasm)).toBe(true);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(wasm))).toEqual([]);
  });
});
