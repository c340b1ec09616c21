/**
 * Command-line flags of the headless experiment, built from the same field table as the URL:
 * `npm run experiment -- --steps 5000 --seed 1 --learning-rate 0.5 --bn-a 0,0,0 --out run.json`.
 *
 * Each field's flag is the kebab-case of its name (`--learning-rate`); its URL key in kebab-case
 * is accepted too (`--lr`, `--bn-a`). Values take the URL's text form. Unlike a link, which is
 * repaired and reported, the command line is strict: an unknown flag, a missing value, a
 * non-number or an out-of-range value is an error naming the flag and what it allows, since a
 * batch run that silently trains something else wastes hours. `--url` applies a link first (its
 * problems are errors too); explicit flags then override it, in any order.
 */
import { DEFAULT_CONFIG, FIELDS, describeAllowed, formatValue, parseValue, updateConfig } from './schema';
import type { Config, Field, Problem } from './schema';
import { parse } from './url';

export type ParsedFlags = { config: Config; out?: string; help?: true } | { error: string };

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The flag of a field, without the leading dashes. */
export function flagOf(field: Field): string {
  return kebab(field.name);
}

function flagNames(field: Field): string[] {
  const names = [flagOf(field), kebab(field.key)];
  return names.filter((name, index) => names.indexOf(name) === index);
}

/** The fields a headless run reads; display fields (how panels show a run) have no flags. */
const RUN_FIELDS = FIELDS.filter((field) => field.restartsRun);

const FIELD_BY_FLAG = new Map<string, Field>(RUN_FIELDS.flatMap((field) => flagNames(field).map((name) => [name, field] as const)));

const OPTIONS = {
  url: { value: '<link>', help: 'Apply a page link or its query string first; the other flags override it.' },
  out: { value: '<file>', help: 'Write every record of both arms as JSON to this file.' },
  help: { value: '', help: 'Print this list and exit.' },
} as const;

function allowedText(field: Field): string {
  return `allowed: ${describeAllowed(field)}`;
}

function problemText(problem: Problem, name: string): string {
  return `${name} '${problem.received}': ${problem.reason}`;
}

/**
 * argv (without node and the script) to a Config, or the first error. `--help` (or `-h`)
 * anywhere returns `help: true` and ignores the rest, so help is reachable from a broken line.
 */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  if (argv.includes('--help') || argv.includes('-h')) return { config: DEFAULT_CONFIG, help: true };

  const values = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (!argument.startsWith('--') || argument === '--') return { error: `unexpected argument '${argument}': flags start with --` };
    const equals = argument.indexOf('=');
    const name = argument.slice(2, equals >= 0 ? equals : undefined);
    const field = FIELD_BY_FLAG.get(name);
    if (!field && !Object.hasOwn(OPTIONS, name)) return { error: `unknown flag --${name}` };
    const canonical = field ? flagOf(field) : name;
    if (values.has(canonical)) return { error: `--${name} is given twice` };
    let value: string;
    if (equals >= 0) {
      value = argument.slice(equals + 1);
    } else {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) {
        return { error: `--${name} needs a value${field ? ` (${allowedText(field)})` : ` ${OPTIONS[name as keyof typeof OPTIONS].value}`}` };
      }
      value = next;
      index++;
    }
    values.set(canonical, value);
  }

  let base = DEFAULT_CONFIG;
  const link = values.get('url');
  if (link !== undefined) {
    const { config, problems } = parse(link);
    if (problems.length > 0) {
      return { error: `--url: ${problems.map((problem) => problemText(problem, problem.key)).join('; ')}` };
    }
    base = config;
  }

  const changes: Partial<Record<keyof Config, unknown>> = {};
  for (const field of RUN_FIELDS) {
    const text = values.get(flagOf(field));
    if (text === undefined) continue;
    const parsed = parseValue(field, text);
    if ('reason' in parsed) return { error: `--${flagOf(field)} '${text}': ${parsed.reason} (${allowedText(field)})` };
    changes[field.name] = parsed.value;
  }
  const { config, problems } = updateConfig(base, changes as Partial<Config>);
  if (problems.length > 0) {
    // Only fields can fail here; one no flag set fails through a cross-field rule (--url's unit, a flag's units).
    const [problem] = problems;
    const field = FIELDS.find((entry) => entry.name === problem.field)!;
    const received = values.get(flagOf(field)) ?? problem.received;
    return { error: `${problemText({ ...problem, received }, `--${flagOf(field)}`)} (${allowedText(field)})` };
  }
  const out = values.get('out');
  return out === undefined ? { config } : { config, out };
}

/** Every flag with its value form, default, allowed values and help, from the field table. */
export function flagsHelp(): string {
  const entries = [
    ...Object.entries(OPTIONS).map(([name, option]) => ({ flag: `--${name} ${option.value}`.trimEnd(), summary: '', help: option.help })),
    ...RUN_FIELDS.map((field) => ({
      flag: `${flagNames(field)
        .map((name) => `--${name}`)
        .join(', ')} <${field.kind === 'normalization' ? 'list' : field.kind === 'enum' ? 'value' : field.kind}>`,
      summary: `default ${formatValue(field, DEFAULT_CONFIG[field.name])}${field.unit ? ` ${field.unit}` : ''}; ${allowedText(field)}`,
      help: field.help,
    })),
  ];
  const width = Math.max(...entries.map(({ flag }) => flag.length)) + 2;
  return [
    "Usage: npm run experiment -- [flags]   (a flag's value may also follow an =, as in --steps=5000)",
    '',
    ...entries.flatMap(({ flag, summary, help }) => (summary ? [`  ${flag.padEnd(width)}${summary}`, `      ${help}`] : [`  ${flag.padEnd(width)}${help}`])),
  ].join('\n');
}
