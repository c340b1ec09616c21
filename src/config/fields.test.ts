import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EnumField, FIELDS, NORMALIZATION_INFO, NORMALIZATIONS } from './fields';

describe('the normalization table', () => {
  it("keeps every normalization's link digit: links already shared mean what they meant, new ones go at the end", () => {
    expect(NORMALIZATIONS.slice(0, 6)).toEqual(['none', 'batchnorm', 'noisy', 'layernorm', 'batchnorm-after', 'ghost-batchnorm']);
  });

  it('gives every normalization but none at least one op, and makes variants only of normalizations that are not variants', () => {
    for (const normalization of NORMALIZATIONS) {
      const { before, after, variantOf } = NORMALIZATION_INFO[normalization];
      expect([normalization, before.length + after.length > 0]).toEqual([normalization, normalization !== 'none']);
      if (variantOf !== undefined) expect([normalization, NORMALIZATION_INFO[variantOf].variantOf]).toEqual([normalization, undefined]);
    }
  });
});

describe('the field table', () => {
  it("gives a config its properties in the table's order, the order of the JSON's config", () => {
    expect(Object.keys(DEFAULT_CONFIG)).toEqual(FIELDS.map((field) => field.name));
  });

  it('puts a cross-field bound after the integer field it names, so validation has that field checked first', () => {
    const bounded = FIELDS.flatMap((field, index) =>
      field.kind === 'integer' ? [field.below, field.divides].flatMap((other) => (other ? [{ index, other }] : [])) : [],
    );
    expect(bounded.length).toBeGreaterThan(0);
    for (const { index, other } of bounded) {
      const target = FIELDS.findIndex((field) => field.name === other);
      expect(target).toBeGreaterThanOrEqual(0);
      expect(target).toBeLessThan(index);
      expect(FIELDS[target].kind).toBe('integer');
    }
  });

  it("offers an enum's values as text in the order written, each with its label", () => {
    const enumField = (name: string) => FIELDS.find((field): field is EnumField => field.name === name && field.kind === 'enum');
    expect(enumField('activation')?.values).toEqual(['sigmoid', 'tanh', 'relu']);
    expect(enumField('backend')?.values).toEqual(['wasm', 'cpu', 'webgl', 'webgpu']);
    expect(enumField('present')?.values).toEqual(['0', '1']);
    expect(enumField('present')?.valueLabels).toEqual({ 0: 'off', 1: 'on' });
  });
});
