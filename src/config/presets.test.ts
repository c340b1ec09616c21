import { describe, expect, it } from 'vitest';
import { matchesPreset, PRESETS } from './presets';
import { DEFAULT_CONFIG } from './schema';
import { parse } from './url';

const configOf = (id: string) => parse(PRESETS.find((preset) => preset.id === id)!.query).config;

describe('presets', () => {
  it('are links that parse back without problems, each to a different config', () => {
    const configs = PRESETS.map((preset) => {
      const { config, problems } = parse(preset.query);
      expect(problems).toEqual([]);
      return JSON.stringify(config);
    });
    expect(new Set(configs).size).toBe(PRESETS.length);
    expect(new Set(PRESETS.map((preset) => preset.id)).size).toBe(PRESETS.length);
  });

  it('"Paper, Figure 1" is the defaults', () => {
    expect(configOf('paper-figure-1')).toEqual(DEFAULT_CONFIG);
  });

  it('"A learning rate 10x higher" changes only the learning rate, to ten times the default', () => {
    expect(configOf('learning-rate-10x')).toEqual({ ...DEFAULT_CONFIG, learningRate: DEFAULT_CONFIG.learningRate * 10 });
  });

  it('"Larger init" changes only the initial weight scale, to more than the default', () => {
    const { initSigma, ...rest } = configOf('large-init-saturation');
    const { initSigma: defaultSigma, ...defaultRest } = DEFAULT_CONFIG;
    expect(initSigma).toBeGreaterThan(defaultSigma);
    expect(rest).toEqual(defaultRest);
  });

  it('"BN on the last hidden layer only" normalizes only the last layer of arm B', () => {
    const config = configOf('bn-last-layer-only');
    expect(config.normalizationB).toEqual(['none', 'none', 'batchnorm']);
    expect(config.normalizationA).toEqual(DEFAULT_CONFIG.normalizationA);
  });

  it('"Santurkar et al.: is it the shift?" sets arm A to BN and arm B to noisy BN on every layer, nothing else', () => {
    const config = configOf('santurkar-noisy-bn');
    expect(config).toEqual({ ...DEFAULT_CONFIG, normalizationA: ['batchnorm', 'batchnorm', 'batchnorm'], normalizationB: ['noisy', 'noisy', 'noisy'] });
    expect(PRESETS.find((preset) => preset.id === 'santurkar-noisy-bn')!.query).toContain('bnB=2,2,2');
  });

  it('"Santurkar et al.: plain net against noisy BN" keeps arm A plain and gives arm B noisy BN on every layer, nothing else', () => {
    const config = configOf('santurkar-plain-vs-noisy');
    expect(config).toEqual({ ...DEFAULT_CONFIG, normalizationA: ['none', 'none', 'none'], normalizationB: ['noisy', 'noisy', 'noisy'] });
  });

  it('"LayerNorm against BN" sets arm A to LayerNorm and arm B to BN on every layer, nothing else', () => {
    expect(configOf('layernorm-vs-bn')).toEqual({
      ...DEFAULT_CONFIG,
      normalizationA: ['layernorm', 'layernorm', 'layernorm'],
      normalizationB: ['batchnorm', 'batchnorm', 'batchnorm'],
    });
  });

  it('"BN before or after the nonlinearity" sets arm A to BN before and arm B to BN after it on every layer, nothing else', () => {
    expect(configOf('bn-before-after')).toEqual({
      ...DEFAULT_CONFIG,
      normalizationA: ['batchnorm', 'batchnorm', 'batchnorm'],
      normalizationB: ['batchnorm-after', 'batchnorm-after', 'batchnorm-after'],
    });
    expect(PRESETS.find((preset) => preset.id === 'bn-before-after')!.query).toContain('bnB=4,4,4');
  });

  it('"Small batches: BN against ghost BN" gives arm B ghost BN over virtual batches of a few examples inside the same mini-batches', () => {
    const config = configOf('small-batches-ghost-bn');
    expect(config.normalizationA).toEqual(['batchnorm', 'batchnorm', 'batchnorm']);
    expect(config.normalizationB).toEqual(['ghost-batchnorm', 'ghost-batchnorm', 'ghost-batchnorm']);
    expect(config.batchSize).toBe(DEFAULT_CONFIG.batchSize);
    expect(config.ghostBatchSize).toBeGreaterThanOrEqual(2);
    expect(config.ghostBatchSize).toBeLessThan(config.batchSize / 4);
    expect(config.batchSize % config.ghostBatchSize).toBe(0);
  });

  it('have a title and a description to show in the picker', () => {
    for (const preset of PRESETS) {
      expect(preset.title.length).toBeGreaterThan(0);
      expect(preset.description).toMatch(/\.$/);
    }
  });

  it("each matches its own config and no other preset's, whatever the view, and not once a field is changed", () => {
    for (const preset of PRESETS) {
      const config = parse(preset.query).config;
      expect(PRESETS.filter((other) => matchesPreset(other, config)).map((other) => other.id)).toEqual([preset.id]);
      expect(matchesPreset(preset, { ...config, distributionView: 'pooled', lossScale: 'linear' })).toBe(true);
      expect(matchesPreset(preset, { ...config, seed: config.seed + 1 })).toBe(false);
    }
  });
});
