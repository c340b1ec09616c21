import { describe, expect, it } from 'vitest';
import { flagsHelp, parseFlags } from './flags';
import { DEFAULT_CONFIG, FIELDS } from './schema';
import { serialize } from './url';

const errorOf = (argv: string[]) => {
  const parsed = parseFlags(argv);
  return 'error' in parsed ? parsed.error : undefined;
};

describe('parseFlags', () => {
  it('gives the defaults for no flags', () => {
    expect(parseFlags([])).toEqual({ config: DEFAULT_CONFIG });
  });

  it('reads every field by its kebab-case name or its URL key, with a space or =', () => {
    expect(
      parseFlags([
        '--steps',
        '5000',
        '--seed=1',
        '--learning-rate',
        '0.25',
        '--bn-a',
        '0,1,0',
        '--normalization-b=0,0,1',
        '--act',
        'tanh',
        '--pop-batches',
        '20',
        '--out',
        'run.json',
      ]),
    ).toEqual({
      config: {
        ...DEFAULT_CONFIG,
        steps: 5000,
        seed: 1,
        learningRate: 0.25,
        activation: 'tanh',
        populationBatches: 20,
        normalizationA: ['none', 'batchnorm', 'none'],
        normalizationB: ['none', 'none', 'batchnorm'],
      },
      out: 'run.json',
    });
  });

  it('applies --url first and lets explicit flags override it, whatever their order', () => {
    const link = `https://example.org/?${serialize({ ...DEFAULT_CONFIG, steps: 123, momentum: 0.9 })}`;
    expect(parseFlags(['--steps', '7', '--url', link])).toEqual({ config: { ...DEFAULT_CONFIG, steps: 7, momentum: 0.9 } });
  });

  it('resizes the BN lists when only the depth is given, and refuses a list that does not match it', () => {
    const parsed = parseFlags(['--hidden-layers', '5']);
    expect('config' in parsed && parsed.config.normalizationB).toEqual(Array(5).fill('batchnorm'));
    expect(errorOf(['--hidden-layers', '4', '--bn-a', '0,0,0'])).toMatch(/^--normalization-a '0,0,0': has 3 entries for 4 hidden layers/);
  });

  it('returns help without parsing the rest, so help is reachable from a broken command', () => {
    expect(parseFlags(['--bogus', '--help'])).toEqual({ config: DEFAULT_CONFIG, help: true });
    expect(parseFlags(['-h'])).toEqual({ config: DEFAULT_CONFIG, help: true });
  });

  it('names the flag and its allowed range for an out-of-range value', () => {
    expect(errorOf(['--hidden-units', '10000'])).toBe("--hidden-units '10000': above the maximum 256 (allowed: integer 2..256)");
    expect(errorOf(['--momentum', '-1'])).toBe("--momentum '-1': below the minimum 0 (allowed: number 0..0.99)");
    expect(errorOf(['--units', '50.5'])).toMatch(/^--hidden-units '50.5': not a whole number/);
  });

  it('names the flag and what it allows for a non-number or an unknown value', () => {
    expect(errorOf(['--steps', 'many'])).toBe("--steps 'many': not a number (allowed: integer 1..200000)");
    expect(errorOf(['--lr', 'NaN'])).toBe("--learning-rate 'NaN': not a number (allowed: number 0.00001..100)");
    expect(errorOf(['--backend', 'cuda'])).toBe("--backend 'cuda': not one of wasm, cpu, webgl, webgpu (allowed: wasm | cpu | webgl | webgpu)");
    expect(errorOf(['--bn-b', '1,1,7'])).toMatch(/^--normalization-b '1,1,7': expected a digit per hidden layer, .*4 BN after the nonlinearity, 5 ghost BN/);
  });

  it('rejects unknown flags, missing values, repeated flags and stray arguments', () => {
    expect(errorOf(['--learningrate', '1'])).toBe('unknown flag --learningrate');
    expect(errorOf(['--toString', '1'])).toBe('unknown flag --toString');
    expect(errorOf(['--steps'])).toBe('--steps needs a value (allowed: integer 1..200000)');
    expect(errorOf(['--steps', '--seed', '1'])).toBe('--steps needs a value (allowed: integer 1..200000)');
    expect(errorOf(['--out'])).toBe('--out needs a value <file>');
    expect(errorOf(['--lr', '1', '--learning-rate', '2'])).toBe('--learning-rate is given twice');
    expect(errorOf(['5000'])).toBe("unexpected argument '5000': flags start with --");
  });

  it('treats the problems of a --url link as errors', () => {
    expect(errorOf(['--url', '?units=10000&bogus=1'])).toBe("--url: units '10000': above the maximum 256; bogus '1': no such setting");
  });

  it('checks cross-field rules on the final config', () => {
    expect(errorOf(['--url', 'units=50&unit=40', '--hidden-units', '20'])).toMatch(/^--tracked-unit '40': must be below units per layer \(20\)/);
  });
});

describe('flagsHelp', () => {
  it('lists every field a run reads with its flag, default and allowed values; display fields have none', () => {
    const help = flagsHelp();
    expect(help).not.toMatch(/--distribution-view|--loss-scale/);
    for (const field of FIELDS.filter((entry) => entry.restartsRun)) {
      const flag = `--${field.name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
      const line = help.split('\n').find((text) => text.startsWith(`  ${flag},`) || text.startsWith(`  ${flag} `));
      expect(line, field.name).toBeDefined();
      expect(line).toContain('default ');
      expect(line).toContain('allowed: ');
    }
    expect(help).toContain('--hidden-units, --units <integer>');
    expect(help).toContain('--url <link>');
    expect(help).toContain('--out <file>');
  });
});
