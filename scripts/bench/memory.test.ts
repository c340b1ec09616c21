import { describe, expect, it } from 'vitest';
import { simdMemoryBytes } from './memory';

describe('simdMemoryBytes', () => {
  it("sums a worker's WebAssembly memories less tfjs's, found by its length", () => {
    expect(simdMemoryBytes([851_968, 16_777_216, 26_083_328], 16_777_216)).toBe(851_968 + 26_083_328);
  });

  it("leaves out only one memory when another has tfjs's length: the sum is the same whichever of the two is tfjs's", () => {
    expect(simdMemoryBytes([16_777_216, 16_777_216], 16_777_216)).toBe(16_777_216);
  });

  it('is every memory where tfjs has none (another backend), and unknown where none has the length tfjs reported', () => {
    expect(simdMemoryBytes([851_968], null)).toBe(851_968);
    expect(simdMemoryBytes([851_968, 24_248_320], 16_777_216)).toBeNull();
  });
});
