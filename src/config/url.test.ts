import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, FIELDS, NORMALIZATIONS, RECEIVED_MAX_LENGTH, validateConfig, type Config } from './schema';
import { URL_VERSION, parse, serialize } from './url';

/** Any valid Config, drawn from the table's own bounds. */
/** 0 or one of batchSize's divisors of at least 2, chosen by `draw`. */
function ghostFor(batchSize: number, draw: number): number {
  const choices = [0, ...Array.from({ length: batchSize - 1 }, (_, k) => k + 2).filter((d) => batchSize % d === 0)];
  return choices[draw % choices.length];
}

const validConfig: fc.Arbitrary<Config> = fc
  .record({
    hiddenLayers: fc.integer({ min: 1, max: 6 }),
    hiddenUnits: fc.integer({ min: 2, max: 256 }),
    rest: fc.record(
      Object.fromEntries(
        FIELDS.filter((field) => !['hiddenLayers', 'hiddenUnits', 'trackedUnit'].includes(field.name) && field.kind !== 'normalization').map((field) => {
          switch (field.kind) {
            case 'integer':
              return [field.name, fc.integer({ min: field.min, max: field.max })];
            case 'number':
              // + 0 turns -0 into 0: a link cannot tell them apart.
              return [field.name, fc.double({ min: field.min, max: field.max, noNaN: true }).map((value) => value + 0)];
            default:
              return [field.name, fc.constantFrom(...(field.kind === 'enum' ? field.values : []))];
          }
        }),
      ),
    ),
    unitFraction: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    layersA: fc.array(fc.constantFrom(...NORMALIZATIONS), { minLength: 6, maxLength: 6 }),
    layersB: fc.array(fc.constantFrom(...NORMALIZATIONS), { minLength: 6, maxLength: 6 }),
  })
  .map(({ hiddenLayers, hiddenUnits, rest, unitFraction, layersA, layersB }) => ({
    ...(rest as unknown as Config),
    // 0, or a divisor of the batch size of at least 2, picked by the drawn value.
    ghostBatchSize: ghostFor((rest as unknown as Config).batchSize, (rest as unknown as Config).ghostBatchSize),
    hiddenLayers,
    hiddenUnits,
    trackedUnit: Math.floor(unitFraction * hiddenUnits),
    normalizationA: layersA.slice(0, hiddenLayers),
    normalizationB: layersB.slice(0, hiddenLayers),
  }));

const problemKeys = (link: string) => parse(link).problems.map((problem) => problem.key);

describe('serialize and parse', () => {
  it('round-trips every valid config exactly, with no problems', () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        expect(validateConfig(config).problems).toEqual([]);
        expect(parse(serialize(config))).toEqual({ config, problems: [], notices: [] });
      }),
      { numRuns: 500 },
    );
  });

  it('writes only the version for the defaults, and only what differs otherwise, in readable form', () => {
    expect(serialize(DEFAULT_CONFIG)).toBe(`v=${URL_VERSION}`);
    const config: Config = {
      ...DEFAULT_CONFIG,
      hiddenLayers: 4,
      normalizationA: ['none', 'none', 'none', 'none'],
      normalizationB: ['batchnorm', 'none', 'batchnorm', 'batchnorm'],
      epsilon: 1e-7,
    };
    expect(serialize(config)).toBe(`v=${URL_VERSION}&layers=4&eps=1e-7&bnB=1,0,1,1`);
  });

  it('reads LayerNorm as 3 and writes it back, while older links (digits 0-2) replay as before', () => {
    const { config, problems } = parse('bnA=3,3,3&bnB=1,2,0');
    expect(problems).toEqual([]);
    expect(config.normalizationA).toEqual(['layernorm', 'layernorm', 'layernorm']);
    expect(config.normalizationB).toEqual(['batchnorm', 'noisy', 'none']);
    expect(serialize(config)).toBe(`v=${URL_VERSION}&bnA=3,3,3&bnB=1,2,0`);
  });

  it('leaves out a normalization list equal to the default resized to the depth', () => {
    expect(serialize({ ...DEFAULT_CONFIG, hiddenLayers: 5, normalizationA: Array(5).fill('none'), normalizationB: Array(5).fill('batchnorm') })).toBe(
      `v=${URL_VERSION}&layers=5`,
    );
  });

  it('accepts a full URL, "?query" and a bare query, ignoring the fragment', () => {
    const expected = { ...DEFAULT_CONFIG, seed: 7, activation: 'tanh' as const };
    for (const link of ['https://example.org/lab/?seed=7&act=tanh#panel', '?seed=7&act=tanh', 'seed=7&act=tanh', '  seed=7&act=TANH  ']) {
      expect(parse(link)).toEqual({ config: expected, problems: [], notices: [] });
    }
    expect(parse('https://example.org/lab/')).toEqual({ config: DEFAULT_CONFIG, problems: [], notices: [] });
    expect(parse('')).toEqual({ config: DEFAULT_CONFIG, problems: [], notices: [] });
  });

  it('reads keys case-insensitively and "+" as a literal plus', () => {
    expect(parse('LR=1e+1&BNB=0,1,1').config).toMatchObject({ learningRate: 10, normalizationB: ['none', 'batchnorm', 'batchnorm'] });
  });
});

describe('hostile links', () => {
  it('clamps units=10000 to 256 and names units', () => {
    const { config, problems } = parse('units=10000');
    expect(config.hiddenUnits).toBe(256);
    expect(problems).toEqual([{ field: 'hiddenUnits', key: 'units', received: '10000', used: '256', reason: 'above the maximum 256' }]);
  });

  it('clamps layers=1000 to 6 and fits both arms to 6 layers', () => {
    const { config, problems } = parse('layers=1000');
    expect(config.hiddenLayers).toBe(6);
    expect(config.normalizationB).toHaveLength(6);
    expect(problems.map((problem) => problem.key)).toEqual(['layers']);
  });

  it('replaces a script fragment by the default and shows it shortened as plain text', () => {
    const script = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>';
    const { config, problems } = parse(`act=${encodeURIComponent(script)}`);
    expect(config.activation).toBe(DEFAULT_CONFIG.activation);
    expect(problems).toHaveLength(1);
    expect(problems[0].key).toBe('act');
    expect(problems[0].received).toBe(`${script.slice(0, RECEIVED_MAX_LENGTH)}…`);
    expect(problems[0].used).toBe(DEFAULT_CONFIG.activation);
  });

  it('keeps the first of a repeated key and reports the repetition', () => {
    const { config, problems } = parse('seed=5&seed=9&SEED=11');
    expect(config.seed).toBe(5);
    expect(problems).toEqual([{ field: 'seed', key: 'seed', received: '5', used: '5', reason: 'given 3 times; the first is used' }]);
    expect(parse('seed=abc&seed=9').problems).toEqual([
      { field: 'seed', key: 'seed', received: 'abc', used: String(DEFAULT_CONFIG.seed), reason: 'not a number; given 2 times; the first is used' },
    ]);
  });

  it('survives broken percent-encoding in values and keys', () => {
    const { config, problems } = parse('lr=%E0%A4%A&%E0%A4%A=1&seed=%');
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(problems.map((problem) => [problem.key, problem.reason])).toEqual([
      ['seed', 'not valid percent-encoding'],
      ['lr', 'not valid percent-encoding'],
      ['%E0%A4%A', 'no such setting'],
    ]);
    expect(problems[1].received).toBe('%E0%A4%A');
  });

  it('rejects NaN, Infinity and negative sizes per field', () => {
    const { config, problems } = parse('lr=NaN&sigma=Infinity&batch=-5&steps=1e999&probe=-0');
    expect(config).toMatchObject({
      learningRate: DEFAULT_CONFIG.learningRate,
      initSigma: DEFAULT_CONFIG.initSigma,
      batchSize: 2,
      steps: DEFAULT_CONFIG.steps,
      probeSize: 100,
    });
    expect(problems.map((problem) => problem.key)).toEqual(['steps', 'sigma', 'lr', 'batch', 'probe']);
  });

  it('rejects a 100 KB value without reading it', () => {
    const { config, problems } = parse(`lr=${'9'.repeat(100_000)}&seed=3`);
    expect(config).toEqual({ ...DEFAULT_CONFIG, seed: 3 });
    expect(problems).toEqual([
      {
        field: 'learningRate',
        key: 'lr',
        received: `${'9'.repeat(RECEIVED_MAX_LENGTH)}…`,
        used: String(DEFAULT_CONFIG.learningRate),
        reason: 'longer than 200 characters',
      },
    ]);
  });

  it('parses a 100 KB link of 10,000 keys, reporting ten unknown keys and a count of the rest', () => {
    const link = Array.from({ length: 10_000 }, (_, index) => `k${index}=${index}`).join('&');
    expect(link.length).toBeGreaterThan(90_000);
    const { config, problems } = parse(link);
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(problems).toHaveLength(11);
    expect(problems[10].received).toBe('9990 more keys');
  });

  it('keeps the tracked unit below the units, and the BN lists as long as the layers', () => {
    expect(parse('units=10&unit=50').problems).toEqual([
      { field: 'trackedUnit', key: 'unit', received: '50', used: '9', reason: 'must be below units per layer (10)' },
    ]);
    const { config, problems } = parse('layers=2&bnB=1,0,1');
    expect(config.normalizationB).toEqual(['batchnorm', 'none']);
    expect(problems.map((problem) => problem.key)).toEqual(['bnB']);
  });

  it('shows unicode as it was written, and reports an unknown version', () => {
    const { config, problems } = parse('act=%F0%9F%98%80%E2%80%AEsig&v=99&caf%C3%A9=1');
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(problems.map((problem) => [problem.key, problem.received])).toEqual([
      ['v', '99'],
      ['act', '😀\ufffdsig'],
      ['café', '1'],
    ]);
  });

  it('never throws on random and hostile strings; the result validates unchanged and bad fields get one problem each', () => {
    const fieldKeys = FIELDS.map((field) => field.key);
    const hostileValue = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('NaN', 'Infinity', '-1', '1e999', '1e-400', '10000', '-0', '%', '%E0%A4%A', '%00', '<script>', '1,1,1,1,1,1,1', '', '=', '&'),
      fc.double().map(String),
      fc.integer().map(String),
      fc.nat({ max: 5000 }).map((length) => 'x'.repeat(length)),
    );
    const hostileKey = fc.oneof(fc.constantFrom(...fieldKeys, 'v', 'bn', 'V', 'LR'), fc.string());
    const hostileLink = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.array(fc.tuple(hostileKey, hostileValue), { maxLength: 30 }).map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join('&')),
      fc
        .array(fc.tuple(hostileKey, hostileValue), { maxLength: 30 })
        .map((pairs) => `?${pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&')}`),
    );
    fc.assert(
      fc.property(fc.oneof(hostileLink, fc.constant('?v=1'), fc.constant('?v=2')), (link) => {
        const { config, problems } = parse(link);
        expect(validateConfig(config)).toEqual({ config, problems: [] });
        const reported = problems.filter((problem) => problem.field !== null).map((problem) => problem.field);
        expect(new Set(reported).size).toBe(reported.length);
        for (const problem of problems) {
          expect([...problem.received].length).toBeLessThanOrEqual(RECEIVED_MAX_LENGTH + 1);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for the control characters the parser must strip
          expect(problem.received).not.toMatch(/[\u0000-\u001f\u202a-\u202e]/);
        }
        // Every field whose value differs from its default was written in the link, or fitted to one that was.
        const withoutFragment = link.split('#')[0];
        const query = withoutFragment.slice(withoutFragment.indexOf('?') + 1);
        const linkKeys = new Set(query.split('&').map((pair) => pair.split('=')[0].toLowerCase()));
        // An older link is migrated: its version's defaults are written into it (found by fast-check: "?v=1").
        const version = query
          .split('&')
          .find((pair) => pair.split('=')[0].toLowerCase() === 'v')
          ?.split('=')[1];
        const oldDefaults = [...(version === '1' ? ['epsilon'] : []), ...(version === '1' || version === '2' ? ['learningRate'] : [])];
        // Every link before v5 trained on the hand-written step unless it said otherwise.
        if (version !== undefined && Number(version) >= 1 && Number(version) < 5) oldDefaults.push('gradients');
        for (const field of FIELDS) {
          if (JSON.stringify(config[field.name]) !== JSON.stringify(DEFAULT_CONFIG[field.name]) && field.kind !== 'normalization') {
            const fitted = field.name === 'trackedUnit' || oldDefaults.includes(field.name);
            expect(fitted || [...linkKeys].some((key) => key.includes(field.key.toLowerCase()))).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reports every field that was given a bad value, and only those', () => {
    const goodOrBad = fc.record(
      Object.fromEntries(
        // Not the fields bound by another (trackedUnit, ghostBatchSize): their maximum is not always good.
        FIELDS.filter((field) => field.name !== 'trackedUnit' && field.name !== 'ghostBatchSize' && field.kind !== 'normalization').map((field) => [
          field.key,
          fc.constantFrom<'good' | 'bad' | 'absent'>('good', 'bad', 'absent'),
        ]),
      ),
    );
    fc.assert(
      fc.property(goodOrBad, (choices) => {
        const pairs = Object.entries(choices).flatMap(([key, choice]) => {
          const field = FIELDS.find((entry) => entry.key === key)!;
          if (choice === 'absent') return [];
          if (choice === 'bad') return [`${key}=${field.kind === 'enum' ? 'bogus' : 'NaN'}`];
          return [
            `${key}=${field.kind === 'enum' ? field.values[field.values.length - 1] : field.kind === 'integer' || field.kind === 'number' ? field.max : ''}`,
          ];
        });
        const bad = Object.entries(choices)
          .filter(([, choice]) => choice === 'bad')
          .map(([key]) => key);
        expect(problemKeys(pairs.join('&')).sort()).toEqual(bad.sort());
      }),
      { numRuns: 300 },
    );
  });
});

describe('new normalizations and ghost batches', () => {
  it('round-trip BN after the nonlinearity (4), ghost BN (5) and the ghost batch size', () => {
    const { config, problems } = parse('bnA=3,3,3&bnB=4,5,4&ghost=4');
    expect(problems).toEqual([]);
    expect(config).toEqual({
      ...DEFAULT_CONFIG,
      normalizationA: ['layernorm', 'layernorm', 'layernorm'],
      normalizationB: ['batchnorm-after', 'ghost-batchnorm', 'batchnorm-after'],
      ghostBatchSize: 4,
    });
    expect(serialize(config)).toBe(`v=${URL_VERSION}&ghost=4&bnA=3,3,3&bnB=4,5,4`);
    expect(parse(serialize(config)).config).toEqual(config);
  });

  it('take a ghost batch size that does not divide the batch size as the largest divisor below it, and say so', () => {
    const { config, problems } = parse('batch=60&ghost=7');
    expect(config.ghostBatchSize).toBe(6);
    expect(problems).toEqual([expect.objectContaining({ field: 'ghostBatchSize', key: 'ghost', received: '7', used: '6' })]);
    expect(problems[0].reason).toMatch(/divisor of batch size \(60\)/);
    expect(parse('batch=7&ghost=3').config.ghostBatchSize).toBe(7);
    expect(parse('ghost=1').config.ghostBatchSize).toBe(60);
  });

  it('leave older links as they were: no ghost key means the whole mini-batch, digits 0, 1 and 3 keep their meaning, and noisy BN (2) stays the scheme it was', () => {
    const { config, problems } = parse('v=2&bnA=1,1,1&bnB=2,2,3');
    expect(problems).toEqual([]);
    expect(config.ghostBatchSize).toBe(0);
    expect(config.normalizationA).toEqual(['batchnorm', 'batchnorm', 'batchnorm']);
    expect(config.normalizationB).toEqual(['noisy-shared', 'noisy-shared', 'layernorm']);
  });

  it("read a v3 link's noisy BN (2) as the shared scheme it meant (now 6) and write it back so, with no notice; v4's 2 is Santurkar et al.'s per-example noise", () => {
    const old = parse('v=3&bnA=2,1,0&bnB=1,2,2&noise=0.5');
    expect(old.problems).toEqual([]);
    expect(old.notices).toEqual([]);
    expect(old.config.normalizationA).toEqual(['noisy-shared', 'batchnorm', 'none']);
    expect(old.config.normalizationB).toEqual(['batchnorm', 'noisy-shared', 'noisy-shared']);
    expect(serialize(old.config)).toBe(`v=${URL_VERSION}&bnA=6,1,0&bnB=1,6,6&noise=0.5&grad=handwritten`);
    expect(parse('v=4&bnB=2,2,2').config.normalizationB).toEqual(['noisy', 'noisy', 'noisy']);
    // A v3 link's broken list stays broken, and is reported as such.
    expect(parse('v=3&bnB=2,x,2').problems).toEqual([expect.objectContaining({ key: 'bnB' })]);
  });
});

describe('versions', () => {
  it('migrates a v1 link: the bit string `bn` becomes bnB, and a missing eps means the v1 default 1e-3', () => {
    const { config, problems } = parse('v=1&bn=101&lr=0.2');
    expect(problems).toEqual([]);
    expect(config).toEqual({
      ...DEFAULT_CONFIG,
      learningRate: 0.2,
      epsilon: 1e-3,
      normalizationB: ['batchnorm', 'none', 'batchnorm'],
      gradients: 'handwritten',
    });
    expect(serialize(config)).toBe(`v=${URL_VERSION}&lr=0.2&eps=0.001&bnB=1,0,1&grad=handwritten`);
  });

  it('migrates a v2 link: a missing lr means the v2 default 0.5, an explicit one is kept, and the link says it now runs on the full data', () => {
    const old = parse('v=2&sigma=1');
    expect(old.problems).toEqual([]);
    expect(old.config).toEqual({ ...DEFAULT_CONFIG, initSigma: 1, learningRate: 0.5, gradients: 'handwritten' });
    expect(serialize(old.config)).toBe(`v=${URL_VERSION}&sigma=1&lr=0.5&grad=handwritten`);
    expect(parse('v=2&lr=5').config.learningRate).toBe(5);
    expect(old.notices).toHaveLength(1);
    expect(old.notices[0]).toMatch(/60,000 training digits.*10,000 test digits/);
    expect(parse('v=1').notices).toEqual(old.notices);
  });

  it('gives a current link, or one without v, no notice', () => {
    expect(parse(`v=${URL_VERSION}&sigma=1`).notices).toEqual([]);
    expect(parse('sigma=1').notices).toEqual([]);
  });

  it('reports a repeated v like every other repeated key, and reads the first', () => {
    const { config, problems } = parse('v=2&v=3');
    expect(config.learningRate).toBe(0.5);
    expect(problems).toEqual([{ field: null, key: 'v', received: '2', used: '2', reason: 'given 2 times; the first is used' }]);
    expect(parse('v=x&V=3').problems.map((problem) => problem.reason)).toEqual([
      'given 2 times; the first is used',
      expect.stringMatching(/^unknown link version/),
    ]);
  });

  it('keeps an explicit eps of a v1 link and reports a bad v1 bit string under the key it was written with', () => {
    expect(parse('v=1&eps=0.01').config.epsilon).toBe(0.01);
    const { config, problems } = parse('v=1&bn=1x1');
    expect(config.normalizationB).toEqual(DEFAULT_CONFIG.normalizationB);
    expect(problems.map((problem) => [problem.field, problem.key, problem.received])).toEqual([['normalizationB', 'bn', '1x1']]);
  });

  it('reads a link without v as the current version, and v1 keys as unknown in a current link', () => {
    expect(parse('eps=0.01').config.epsilon).toBe(0.01);
    expect(parse('').config.epsilon).toBe(DEFAULT_CONFIG.epsilon);
    expect(problemKeys(`v=${URL_VERSION}&bn=111`)).toEqual(['bn']);
  });
});

describe('classroom links', () => {
  it('read present=1 and autoplay=1 and write them back, while a link without them is written as before', () => {
    const { config, problems } = parse(`v=${URL_VERSION}&lr=1&present=1&autoplay=1`);
    expect(problems).toEqual([]);
    expect([config.present, config.autoplay]).toEqual(['1', '1']);
    expect(serialize(config)).toBe(`v=${URL_VERSION}&lr=1&present=1&autoplay=1`);
    expect(serialize(parse(`v=${URL_VERSION}&lr=1`).config)).toBe(`v=${URL_VERSION}&lr=1`);
  });

  it('replace a bad switch by off and say so', () => {
    const { config, problems } = parse('present=2');
    expect(config.present).toBe('0');
    expect(problems.map((problem) => [problem.key, problem.received, problem.used])).toEqual([['present', '2', '0']]);
  });
});
