import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  FIELDS,
  describeAllowed,
  describeNormalization,
  fieldByName,
  formatValue,
  parseValue,
  plainText,
  updateConfig,
  validateConfig,
  type Config,
} from './schema';

describe('the field table', () => {
  it('has exactly one entry for every Config field, each with a distinct key', () => {
    expect(FIELDS.map((field) => field.name).sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
    const keys = FIELDS.map((field) => field.key.toLowerCase());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every field a label and a one-sentence help text; only the display fields leave the run alone', () => {
    for (const field of FIELDS) {
      expect(field.label.length).toBeGreaterThan(0);
      expect(field.help).toMatch(/^[A-Z].*\.$/);
    }
    expect(FIELDS.filter((field) => !field.restartsRun).map((field) => field.name)).toEqual(['distributionView', 'lossScale', 'present', 'autoplay']);
  });

  it('accepts its own defaults without a problem', () => {
    expect(validateConfig(DEFAULT_CONFIG)).toEqual({ config: DEFAULT_CONFIG, problems: [] });
  });

  it('bounds the sizes that could freeze a tab or exhaust memory', () => {
    const bounds = (name: keyof Config) => describeAllowed(fieldByName(name));
    expect(bounds('hiddenLayers')).toBe('integer 1..6');
    expect(bounds('hiddenUnits')).toBe('integer 2..256');
    expect(bounds('batchSize')).toBe('integer 2..1000');
    expect(bounds('steps')).toBe('integer 1..200000');
    expect(bounds('probeSize')).toBe('integer 100..2000');
    expect(bounds('learningRate')).toBe('number 0.00001..100');
  });
});

describe('validateConfig', () => {
  const problemsOf = (candidate: unknown) => validateConfig(candidate).problems;

  it('clamps an out-of-range size to its bound and names the field', () => {
    const { config, problems } = validateConfig({ hiddenUnits: 10_000, hiddenLayers: -3 });
    expect(config.hiddenUnits).toBe(256);
    expect(config.hiddenLayers).toBe(1);
    expect(problems.map((problem) => [problem.field, problem.used])).toEqual([
      ['hiddenLayers', '1'],
      ['hiddenUnits', '256'],
    ]);
    expect(problems[1].reason).toBe('above the maximum 256');
  });

  it('replaces NaN, Infinity and non-numbers by the default', () => {
    const { config, problems } = validateConfig({ steps: NaN, momentum: Infinity, batchSize: '60' });
    expect(config.steps).toBe(DEFAULT_CONFIG.steps);
    expect(config.momentum).toBe(DEFAULT_CONFIG.momentum);
    expect(config.batchSize).toBe(DEFAULT_CONFIG.batchSize);
    expect(problems.map((problem) => problem.field)).toEqual(['steps', 'momentum', 'batchSize']);
    expect(problems[0].received).toBe('NaN');
  });

  it('rounds a fractional integer field and says so', () => {
    const { config, problems } = validateConfig({ hiddenUnits: 50.6 });
    expect(config.hiddenUnits).toBe(51);
    expect(problems[0].reason).toBe('not a whole number');
  });

  it('allows absurd learning rates up to 100, since divergence is a result to show', () => {
    expect(validateConfig({ learningRate: 100 }).problems).toEqual([]);
    expect(validateConfig({ learningRate: 1000 }).config.learningRate).toBe(100);
  });

  it('keeps the tracked unit below the number of units, judged on the clamped width', () => {
    const narrow = validateConfig({ hiddenUnits: 10, trackedUnit: 50 });
    expect(narrow.config.trackedUnit).toBe(9);
    expect(narrow.problems).toEqual([{ field: 'trackedUnit', key: 'trackedUnit', received: '50', used: '9', reason: 'must be below units per layer (10)' }]);
    expect(validateConfig({ hiddenUnits: 10_000, trackedUnit: 200 }).config.trackedUnit).toBe(200);
  });

  it('resizes a given normalization list to the hidden layers and reports it', () => {
    const { config, problems } = validateConfig({ hiddenLayers: 5, normalizationB: ['none', 'batchnorm'] });
    expect(config.normalizationB).toEqual(['none', 'batchnorm', 'batchnorm', 'batchnorm', 'batchnorm']);
    expect(problems.map((problem) => problem.field)).toEqual(['normalizationB']);
  });

  it("fits the default normalization lists to the hidden layers silently, new layers taking the arm's default", () => {
    const { config, problems } = validateConfig({ hiddenLayers: 4 });
    expect(config.normalizationA).toEqual(['none', 'none', 'none', 'none']);
    expect(config.normalizationB).toEqual(['batchnorm', 'batchnorm', 'batchnorm', 'batchnorm']);
    expect(problems).toEqual([]);
  });

  it("replaces an unknown layer normalization by the arm's default", () => {
    const { config, problems } = validateConfig({ normalizationA: ['none', 'groupnorm', 'batchnorm'] });
    expect(config.normalizationA).toEqual(['none', 'none', 'batchnorm']);
    expect(problems[0].reason).toBe('layer 2 is none of none, batchnorm, noisy, layernorm, batchnorm-after, ghost-batchnorm, noisy-shared');
  });

  it('rejects an enum value outside the allowed ones', () => {
    const { config, problems } = validateConfig({ backend: 'cuda' });
    expect(config.backend).toBe(DEFAULT_CONFIG.backend);
    expect(problems[0]).toMatchObject({ field: 'backend', received: 'cuda', reason: 'not one of wasm, cpu, webgl, webgpu' });
  });

  it('reports unknown properties and a candidate that is not an object', () => {
    expect(problemsOf({ learningrate: 3 })).toEqual([{ field: null, key: 'learningrate', received: '3', used: 'ignored', reason: 'no such setting' }]);
    expect(validateConfig(null)).toEqual({
      config: DEFAULT_CONFIG,
      problems: [{ field: null, key: '', received: 'null', used: 'the defaults', reason: 'not a config object' }],
    });
  });

  it('reports at most ten unknown properties one by one and counts the rest', () => {
    const candidate = Object.fromEntries(Array.from({ length: 5000 }, (_, index) => [`junk${index}`, index]));
    const problems = problemsOf(candidate);
    expect(problems).toHaveLength(11);
    expect(problems[10].received).toBe('4990 more keys');
  });

  it('never throws, and what it returns it accepts unchanged', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.record({ hiddenLayers: fc.anything(), normalizationB: fc.anything(), trackedUnit: fc.anything() })),
        (candidate) => {
          const { config } = validateConfig(candidate);
          expect(validateConfig(config)).toEqual({ config, problems: [] });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('does not share list arrays with DEFAULT_CONFIG, so editing a result cannot change the defaults', () => {
    const { config } = validateConfig({});
    config.normalizationB[0] = 'none';
    expect(DEFAULT_CONFIG.normalizationB[0]).toBe('batchnorm');
  });
});

describe('updateConfig', () => {
  it("resizes the lists it was not given when the depth changes, keeping the user's layers", () => {
    const partial = { ...DEFAULT_CONFIG, normalizationB: ['none', 'batchnorm', 'none'] as Config['normalizationB'] };
    const deeper = updateConfig(partial, { hiddenLayers: 5 });
    expect(deeper.problems).toEqual([]);
    expect(deeper.config.normalizationB).toEqual(['none', 'batchnorm', 'none', 'batchnorm', 'batchnorm']);
    expect(updateConfig(partial, { hiddenLayers: 1 }).config.normalizationB).toEqual(['none']);
  });

  it('resizes to the clamped depth when the change is out of range', () => {
    const { config, problems } = updateConfig(DEFAULT_CONFIG, { hiddenLayers: 1000 });
    expect(config.normalizationA).toHaveLength(6);
    expect(problems.map((problem) => problem.field)).toEqual(['hiddenLayers']);
  });
});

describe('text values', () => {
  it('reads numbers strictly: no NaN, Infinity, hex or blanks', () => {
    const lr = fieldByName('learningRate');
    expect(parseValue(lr, '1e-3')).toEqual({ value: 0.001 });
    expect(parseValue(lr, '.5')).toEqual({ value: 0.5 });
    for (const bad of ['NaN', 'Infinity', '-Infinity', '0x10', '', ' 1', '1,5', '1e999', '--1']) {
      expect(parseValue(lr, bad)).toHaveProperty('reason');
    }
  });

  it('writes and reads a normalization list as a digit per layer (2: noisy BN, 3: LayerNorm, 4: BN after the nonlinearity, 5: ghost BN, 6: the noisy BN of older links)', () => {
    const bn = fieldByName('normalizationB');
    const all = ['batchnorm', 'none', 'noisy', 'layernorm', 'batchnorm-after', 'ghost-batchnorm', 'noisy-shared'] as const;
    expect(formatValue(bn, [...all])).toBe('1,0,2,3,4,5,6');
    expect(parseValue(bn, '1,0,2,3,4,5,6')).toEqual({ value: [...all] });
    for (const bad of ['1,7', '1,12', '1,-1', '1,']) expect(parseValue(bn, bad)).toHaveProperty('reason');
  });

  it('reads enum values case-insensitively', () => {
    expect(parseValue(fieldByName('activation'), 'ReLU')).toEqual({ value: 'relu' });
  });
});

describe('describeNormalization', () => {
  it('labels an arm by its BN layers, counted from 1', () => {
    expect(describeNormalization(['none', 'none', 'none'])).toBe('no BN');
    expect(describeNormalization(['batchnorm', 'batchnorm', 'batchnorm'])).toBe('BN on all');
    expect(describeNormalization(['batchnorm', 'none', 'batchnorm'])).toBe('BN on 1, 3');
    expect(describeNormalization(['noisy', 'noisy', 'noisy'])).toBe('noisy BN on all');
    expect(describeNormalization(['noisy', 'none', 'noisy'])).toBe('noisy BN on 1, 3');
    expect(describeNormalization(['batchnorm', 'noisy', 'batchnorm'])).toBe('BN on all, noisy on 2');
    expect(describeNormalization(['none', 'noisy', 'batchnorm'])).toBe('BN on 2, 3, noisy on 2');
    expect(describeNormalization(['noisy-shared', 'noisy', 'noisy-shared'])).toBe('noisy BN on all');
    expect(describeNormalization(['layernorm', 'layernorm', 'layernorm'])).toBe('LayerNorm on all');
    expect(describeNormalization(['batchnorm', 'layernorm', 'none'])).toBe('BN on 1, LayerNorm on 2');
    expect(describeNormalization(['batchnorm-after', 'batchnorm-after', 'batchnorm-after'])).toBe('BN after g on all');
    expect(describeNormalization(['batchnorm', 'ghost-batchnorm', 'batchnorm-after'])).toBe('BN on 1, BN after g on 3, ghost BN on 2');
  });
});

describe('plainText', () => {
  it('shortens long input to 40 characters and an ellipsis, whole characters only', () => {
    expect(plainText('x'.repeat(100_000))).toBe(`${'x'.repeat(40)}…`);
    expect(plainText('😀'.repeat(50))).toBe(`${'😀'.repeat(40)}…`);
    expect(plainText('short')).toBe('short');
  });

  it('replaces control, bidi-override and lone surrogate characters', () => {
    expect(plainText('a\nb\u202Ec\u0000d\ud800')).toBe('a\ufffdb\ufffdc\ufffdd\ufffd');
  });
});

describe('classroom fields', () => {
  it('leave a config without them as it was: presentation and play-on-load are off by default', () => {
    const { config, problems } = validateConfig({ learningRate: 1 });
    expect(problems).toEqual([]);
    expect([config.present, config.autoplay]).toEqual(['0', '0']);
  });

  it('accept only 0 and 1, and name the field and what was used for anything else', () => {
    expect(validateConfig({ present: '1', autoplay: '1' }).problems).toEqual([]);
    const { config, problems } = validateConfig({ present: 'yes' });
    expect(config.present).toBe('0');
    expect(problems).toEqual([{ field: 'present', key: 'present', received: 'yes', used: '0', reason: 'not one of 0, 1' }]);
  });
});
