/**
 * The page's link: a Config as a query string a person can read and edit by hand, e.g.
 * `?v=2&lr=5&layers=4&bnB=1,1,0,1`.
 *
 * How a link keeps its meaning when defaults change:
 * `serialize` writes only the fields that differ from the defaults, plus `v=<URL_VERSION>`.
 * The defaults of every released version are frozen: whoever changes a default in
 * DEFAULT_CONFIG (or renames a key, or changes a value's format) bumps URL_VERSION and adds a
 * migration from the previous version. A migration rewrites an old link's keys and values into
 * the next version's, and writes the old default explicitly for every field whose default
 * changed, when the link leaves it out. `parse` runs the migrations from the link's version up
 * to the current one before it reads any field, so an old link replays the run it replayed when
 * it was shared. A link without `v` (typed by hand) is read as the current version.
 *
 * Versions:
 * - v1, the format this module was drafted with: arm B's normalization was one bit string
 *   `bn=111` (arm A was always plain), and epsilon defaulted to 1e-3, tfjs's and Keras's value.
 * - v2: both arms' normalization are configurable (`bnA`, `bnB`) for the partial-BN
 *   and Santurkar-style comparisons, written as comma lists `bnB=1,1,0` that stay readable as
 *   layers are added; epsilon defaults to 1e-5, small beside any unit's batch variance, as the
 *   paper's "constant added for numerical stability" intends.
 *   Adding a value or a field is not a change of format: noisy BN (`bnB=2,2,2`) and its strength
 *   (`noise`) came within v2 with no migration, since a v2 link written before them has no `2`
 *   in its lists and the noise acts on noisy layers only, so it replays the same run.
 * - v3: the lab trains on MNIST's full 60,000 training digits and measures test accuracy on
 *   its 10,000 test digits, where v1 and v2 used an 8,000/2,000 split of a 10,000-digit subset. The
 *   learning rate defaults to 0.1, where BN's lead holds over the whole 50,000 steps on the full data
 *   (0.5, v2's default, is written into older links). The data cannot be migrated: an older link
 *   keeps its settings and says in a notice that it now runs on the full data.
 * - v4 (current): noisy BN (digit 2) is Santurkar et al.'s, noise drawn for every example from a
 *   distribution per unit that changes at every step; v3's, one affine map per unit and step for
 *   the whole mini-batch, is digit 6 (`noisy-shared`), which older links' 2s become, so they
 *   replay the same run (no notice: nothing is lost).
 *
 * Hostile links never throw: unknown keys, bad numbers, NaN/Infinity, out-of-range sizes, broken
 * percent-encoding and huge values each give a Problem and a default or clamped value. When a
 * key is repeated the first occurrence wins, and the repetition is reported. `+` is kept as a
 * literal plus (no value here contains a space), so `eps=1e+3` means what it says.
 */
import { DEFAULT_CONFIG, FIELDS, formatValue, NORMALIZATIONS, parseValue, plainText, resizeNormalization, unknownKeyProblems, validateConfig } from './schema';
import type { Config, Field, Problem } from './schema';

export const URL_VERSION = 5;

/** Values longer than this (raw, before decoding) cannot be valid; they are rejected unread. */
const MAX_VALUE_LENGTH = 200;

/** One key of a link, as found: the key as written, its raw and decoded value, how often it came. */
interface Param {
  writtenKey: string;
  raw: string;
  /** null when the raw value is not valid percent-encoding. */
  text: string | null;
  count: number;
}

/** Params by lower-cased key; migrations rename entries in place. */
type Params = Map<string, Param>;

interface Migration {
  /** The version this step reads; it produces version `from + 1`. */
  from: number;
  migrate(params: Params): void;
  /** What an older link cannot keep, told to whoever opens it. */
  notice?: string;
}

/** Noisy BN's digit in links before v4, and the digit of that scheme (`noisy-shared`) since. */
const OLD_NOISY = '2';
const SHARED_NOISY = String(NORMALIZATIONS.indexOf('noisy-shared'));

/** Writes `value` for a field whose default changed, when the link leaves the field out. */
function keepOldDefault(params: Params, key: string, value: string): void {
  if (!params.has(key)) params.set(key, { writtenKey: key, raw: value, text: value, count: 1 });
}

const MIGRATIONS: readonly Migration[] = [
  {
    from: 1,
    migrate(params) {
      const bits = params.get('bn');
      if (bits) {
        params.delete('bn');
        if (!params.has('bnb')) {
          const text = bits.text !== null && /^[01]+$/.test(bits.text) ? bits.text.split('').join(',') : bits.text;
          params.set('bnb', { ...bits, text });
        }
      }
      // v1's epsilon default: a v1 link that omits eps meant 1e-3.
      keepOldDefault(params, 'eps', '0.001');
    },
  },
  {
    from: 2,
    migrate(params) {
      keepOldDefault(params, 'lr', '0.5');
    },
    notice:
      'This link was made when the lab trained on 8,000 digits and tested on 2,000 (a 10,000-digit subset of MNIST). ' +
      "It now trains on MNIST's full 60,000 training digits and tests on its 10,000 test digits, as the paper did, so its curves differ from the ones that were shared. " +
      'All its settings are kept (the learning rate it did not set is the old default, 0.5).',
  },
  {
    from: 3,
    migrate(params) {
      for (const key of ['bna', 'bnb']) {
        const list = params.get(key);
        if (list?.text)
          params.set(key, {
            ...list,
            text: list.text
              .split(',')
              .map((layer) => (layer === OLD_NOISY ? SHARED_NOISY : layer))
              .join(','),
          });
      }
    },
  },
  {
    from: 4,
    migrate(params) {
      // The SIMD step became the default; a v4 link that left `grad` out trained on the hand-written one.
      keepOldDefault(params, 'grad', 'handwritten');
    },
  },
];

function decode(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** The query part of a full URL, of "?a=b&c=d" or of "a=b&c=d"; the fragment is dropped. */
function queryOf(link: string): string {
  const trimmed = link.trim();
  const hash = trimmed.indexOf('#');
  const withoutHash = hash >= 0 ? trimmed.slice(0, hash) : trimmed;
  const question = withoutHash.indexOf('?');
  if (question >= 0) return withoutHash.slice(question + 1);
  // A URL or a path with no query carries no settings.
  if (/^[a-z][a-z0-9+.-]*:/i.test(withoutHash) || withoutHash.startsWith('/')) return '';
  return withoutHash;
}

function readParams(query: string): Params {
  const params: Params = new Map();
  for (const segment of query.split('&')) {
    if (segment === '') continue;
    const equals = segment.indexOf('=');
    const rawKey = equals >= 0 ? segment.slice(0, equals) : segment;
    const raw = equals >= 0 ? segment.slice(equals + 1) : '';
    const writtenKey = rawKey.length > MAX_VALUE_LENGTH ? rawKey : (decode(rawKey) ?? rawKey);
    const lower = writtenKey.toLowerCase();
    const seen = params.get(lower);
    if (seen) {
      seen.count += 1;
      continue;
    }
    const text = raw.length > MAX_VALUE_LENGTH ? null : decode(raw);
    params.set(lower, { writtenKey, raw, text, count: 1 });
  }
  return params;
}

function receivedText(param: Param): string {
  return plainText(param.text ?? param.raw);
}

function readVersion(params: Params, problems: Problem[]): number {
  const param = params.get('v');
  if (!param) return URL_VERSION;
  params.delete('v');
  const version = param.text !== null && /^\d{1,3}$/.test(param.text) ? Number(param.text) : NaN;
  const known = version >= 1 && version <= URL_VERSION;
  if (param.count > 1) {
    problems.push({
      field: null,
      key: plainText(param.writtenKey),
      received: receivedText(param),
      used: known ? String(version) : String(URL_VERSION),
      reason: `given ${param.count} times; the first is used`,
    });
  }
  if (known) return version;
  problems.push({
    field: null,
    key: plainText(param.writtenKey),
    received: receivedText(param),
    used: String(URL_VERSION),
    reason: `unknown link version; versions 1..${URL_VERSION} exist, read as the current one`,
  });
  return URL_VERSION;
}

function unreadableReason(param: Param): string {
  return param.raw.length > MAX_VALUE_LENGTH ? `longer than ${MAX_VALUE_LENGTH} characters` : 'not valid percent-encoding';
}

/**
 * A link (full URL, "?query" or "query") to a valid Config, the problems found in it, and the
 * notices of the migrations it went through (what an older link could not keep). Never throws;
 * linear in the length of the link.
 */
export function parse(link: string): { config: Config; problems: Problem[]; notices: string[] } {
  const problems: Problem[] = [];
  const notices: string[] = [];
  const params = readParams(queryOf(typeof link === 'string' ? link : ''));
  const version = readVersion(params, problems);
  for (const migration of MIGRATIONS) {
    if (migration.from < version) continue;
    migration.migrate(params);
    if (migration.notice) notices.push(migration.notice);
  }

  const candidate: Partial<Record<keyof Config, unknown>> = {};
  const given = new Map<keyof Config, Param>();
  const textProblems = new Map<keyof Config, Problem>();
  for (const field of FIELDS) {
    const param = params.get(field.key.toLowerCase());
    if (!param) continue;
    params.delete(field.key.toLowerCase());
    given.set(field.name, param);
    const parsed = param.text === null ? { reason: unreadableReason(param) } : parseValue(field, param.text);
    if ('value' in parsed) {
      candidate[field.name] = parsed.value;
    } else {
      textProblems.set(field.name, problemOf(field, param, parsed.reason, DEFAULT_CONFIG[field.name]));
    }
  }

  const { config, problems: rangeProblems } = validateConfig(candidate);
  const fieldProblems = new Map<keyof Config, Problem>(textProblems);
  // validateConfig reports only fields present in the candidate, so each range problem has its param.
  for (const problem of rangeProblems) {
    const field = FIELDS.find((entry) => entry.name === problem.field);
    const param = field && given.get(field.name);
    if (field && param) fieldProblems.set(field.name, problemOf(field, param, problem.reason, config[field.name]));
  }
  for (const field of FIELDS) {
    const param = given.get(field.name);
    if (!param) continue;
    const problem = fieldProblems.get(field.name);
    // What replaced an unreadable value is known only after validation (a default list is resized to `layers`).
    if (problem) problem.used = formatValue(field, config[field.name]);
    if (param.count > 1) {
      const duplicate = `given ${param.count} times; the first is used`;
      if (problem) problem.reason += `; ${duplicate}`;
      else fieldProblems.set(field.name, problemOf(field, param, duplicate, config[field.name]));
    }
    const final = fieldProblems.get(field.name);
    if (final) problems.push(final);
  }

  const unknown = [...params.values()];
  problems.push(
    ...unknownKeyProblems(
      unknown.map((param) => param.writtenKey),
      (index) => receivedText(unknown[index]),
    ),
  );
  return { config, problems, notices };
}

function problemOf(field: Field, param: Param, reason: string, used: Config[keyof Config]): Problem {
  return {
    field: field.name,
    key: plainText(param.writtenKey),
    received: receivedText(param),
    used: formatValue(field, used),
    reason,
  };
}

/**
 * A Config as a query string without "?": `v=<URL_VERSION>` and the fields that differ from the
 * defaults. A normalization list equal to the arm's default resized to `layers` is left out too,
 * since parse resizes the default in the same way.
 */
export function serialize(config: Config): string {
  const pairs = [`v=${URL_VERSION}`];
  for (const field of FIELDS) {
    const text = formatValue(field, config[field.name]);
    const fallback =
      field.kind === 'normalization' ? resizeNormalization(DEFAULT_CONFIG[field.name], config.hiddenLayers, field.fill) : DEFAULT_CONFIG[field.name];
    if (text !== formatValue(field, fallback)) {
      pairs.push(`${field.key}=${encodeURIComponent(text).replace(/%2C/g, ',')}`);
    }
  }
  return pairs.join('&');
}
