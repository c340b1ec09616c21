/**
 * The one config schema: what reads the tables of fields.ts. Every field of an experiment and
 * every normalization is written once there; the URL, the controls, the worker, the command line
 * and the tests read them through this file, which parses, formats and validates values.
 *
 * Parsing (URL, flags) and validation walk `FIELDS`, so a field added to the table is accepted
 * everywhere at once. Unlike tensorflow/playground's State.PROPS it rejects NaN and Infinity,
 * accepts only the listed enum values and enforces ranges, because a hand-edited link must never
 * freeze a tab or exhaust its memory (units=10000, layers=1000).
 */
import {
  DEFAULT_CONFIG,
  FIELDS,
  NORMALIZATION_DIGITS,
  NORMALIZATION_INFO,
  NORMALIZATIONS,
  type Config,
  type Field,
  type IntegerField,
  type Normalization,
  type NormalizationListField,
  type NormalizationOp,
  type NumberField,
} from './fields';

export {
  DEFAULT_CONFIG,
  FIELDS,
  NORMALIZATION_INFO,
  NORMALIZATIONS,
  type Activation,
  type Backend,
  type Config,
  type DistributionView,
  type Field,
  type InferenceStatistics,
  type Normalization,
  type NormalizationOp,
} from './fields';

/** Whether a layer normalizes at all (BN in any form, or LayerNorm). */
export function isBatchNormalized(layer: Normalization): boolean {
  return layer !== 'none';
}

/** Whether a layer normalizes with batch statistics: training mode and inference mode differ, and inference needs population statistics. */
export function usesBatchStatistics(layer: Normalization): boolean {
  return NORMALIZATION_INFO[layer].batchStatistics;
}

/** Whether a layer's normalization has the op, before or after its nonlinearity. */
export function hasOp(layer: Normalization, op: NormalizationOp): boolean {
  const { before, after } = NORMALIZATION_INFO[layer];
  return before.includes(op) || after.includes(op);
}

const FIELD_BY_NAME = new Map<keyof Config, Field>(FIELDS.map((field) => [field.name, field]));

export function fieldByName(name: keyof Config): Field {
  const field = FIELD_BY_NAME.get(name);
  if (!field) throw new Error(`no field ${name} in the schema`);
  return field;
}

/**
 * A value that could not be used as given. `received` is plain text: render it as text (React,
 * textContent), never as HTML; control and bidi-override characters are replaced, and it is cut
 * to about 40 characters, so a hostile link cannot flood or spoof the notice that shows it.
 */
export interface Problem {
  /** The config field concerned, or null when the key names no field (or is the version `v`). */
  field: keyof Config | null;
  /** The key as it was written (URL key, flag or property name). */
  key: string;
  received: string;
  /** What was used instead, as text ("ignored" for unknown keys). */
  used: string;
  reason: string;
}

export const RECEIVED_MAX_LENGTH = 40;

// C0/C1 controls, lone surrogates, and bidi embedding/override/isolate marks (text spoofing).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds, to strip them from text shown to the user
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Raw input as short, safe plain text for a Problem; linear in the first few hundred characters only. */
export function plainText(text: string, maxLength = RECEIVED_MAX_LENGTH): string {
  // A code point is at most 2 UTF-16 units, so 4x the units always holds more than maxLength.
  const head = Array.from(text.slice(0, maxLength * 4)).slice(0, maxLength + 1);
  const cut = head.length > maxLength;
  const visible = (cut ? head.slice(0, maxLength) : head).join('').replace(UNSAFE_TEXT, '\ufffd');
  return cut ? `${visible}…` : visible;
}

// String() throws on objects without a prototype and prints a function's source: name them instead.
function primitiveText(raw: unknown): string {
  if (typeof raw === 'function') return '(a function)';
  if (raw !== null && typeof raw === 'object') return Array.isArray(raw) ? '(a list)' : '(an object)';
  return String(raw);
}

function describeReceived(raw: unknown): string {
  if (Array.isArray(raw)) {
    const shown = raw.slice(0, RECEIVED_MAX_LENGTH).map(primitiveText);
    return plainText(`[${shown.join(',')}${raw.length > shown.length ? ',' : ''}]`);
  }
  return plainText(primitiveText(raw));
}

/** Numbers as people and links write them: shortest round-trip form, no "-0". */
function formatNumber(value: number): string {
  return String(value === 0 ? 0 : value);
}

/** The text form of a value in links and flags: numbers, enum words, lists like `1,0,2` (a digit per layer: its index in NORMALIZATIONS). */
export function formatValue(field: Field, value: Config[keyof Config]): string {
  if (field.kind === 'normalization') {
    return (value as Normalization[]).map((layer) => String(NORMALIZATIONS.indexOf(layer))).join(',');
  }
  return typeof value === 'number' ? formatNumber(value) : String(value);
}

// A dot must be followed by digits or end the mantissa; no alternative can match the same digits
// two ways, so a long run of digits cannot make the match backtrack quadratically.
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * Text (from a link or a flag) to a typed value, without range checks: those are
 * validateConfig's. Strict: "NaN", "Infinity", "0x10", "" and " 1" are not numbers.
 */
export function parseValue(field: Field, text: string): { value: Config[keyof Config] } | { reason: string } {
  switch (field.kind) {
    case 'integer':
    case 'number': {
      if (!NUMBER_TEXT.test(text)) return { reason: 'not a number' };
      const value = Number(text);
      return Number.isFinite(value) ? { value } : { reason: 'not a finite number' };
    }
    case 'enum': {
      const value = text.toLowerCase();
      return field.values.includes(value) ? { value: value as Config[keyof Config] } : { reason: `not one of ${field.values.join(', ')}` };
    }
    case 'normalization': {
      const layers = text.split(',');
      if (!layers.every((layer) => /^\d$/.test(layer) && Number(layer) < NORMALIZATIONS.length)) {
        return { reason: `expected a digit per hidden layer, comma-separated, e.g. 1,1,1: ${NORMALIZATION_DIGITS}` };
      }
      return { value: layers.map((layer) => NORMALIZATIONS[Number(layer)]) };
    }
  }
}

/** The allowed values in words, for help texts and error messages: "integer 1..6". */
export function describeAllowed(field: Field): string {
  switch (field.kind) {
    case 'integer': {
      const below = field.below ? `, below ${fieldByName(field.below).label.toLowerCase()}` : '';
      const divides = field.divides ? `, 0 or a divisor of ${fieldByName(field.divides).label.toLowerCase()}` : '';
      return `integer ${formatNumber(field.min)}..${formatNumber(field.max)}${below}${divides}`;
    }
    case 'number':
      return `number ${formatNumber(field.min)}..${formatNumber(field.max)}`;
    case 'enum':
      return field.values.join(' | ');
    case 'normalization':
      return `a digit per hidden layer, e.g. 1,0,2: ${NORMALIZATION_DIGITS}`;
  }
}

/**
 * An arm's normalization as a short label (layers from 1), in the order of the normalization
 * table: "no BN", "BN on all", "BN on 1, 3", "noisy BN on all", "BN on all, noisy on 2",
 * "BN on 1, LayerNorm on 2", "BN after g on all", "ghost BN on 2". A variant's layers (noisy BN's)
 * count among its base's.
 */
export function describeNormalization(layers: readonly Normalization[]): string {
  const numbers = (kinds: readonly Normalization[]) => layers.flatMap((layer, index) => (kinds.includes(layer) ? [index + 1] : []));
  const which = (list: number[]) => (list.length === layers.length ? 'all' : list.join(', '));
  const bases = NORMALIZATIONS.filter((kind) => isBatchNormalized(kind) && NORMALIZATION_INFO[kind].variantOf === undefined);
  const parts = bases.flatMap((base) => {
    const variants = NORMALIZATIONS.filter((kind) => NORMALIZATION_INFO[kind].variantOf === base);
    const all = numbers([base, ...variants]);
    const used = variants.map((kind) => ({ label: NORMALIZATION_INFO[kind].shortLabel, list: numbers([kind]) })).filter(({ list }) => list.length > 0);
    const label = NORMALIZATION_INFO[base].shortLabel;
    if (all.length === 0) return [];
    if (used.length === 1 && used[0].list.length === all.length) return [`${used[0].label} ${label} on ${which(all)}`];
    return [`${label} on ${which(all)}`, ...used.map((variant) => `${variant.label} on ${variant.list.join(', ')}`)];
  });
  return parts.length > 0 ? parts.join(', ') : NORMALIZATION_INFO.none.shortLabel;
}

/** A normalization list cut or extended to `hiddenLayers` entries; new layers get `fill`. */
export function resizeNormalization(layers: readonly Normalization[], hiddenLayers: number, fill: Normalization): Normalization[] {
  return Array.from({ length: hiddenLayers }, (_, index) => layers[index] ?? fill);
}

interface Checked {
  value: Config[keyof Config];
  reasons: string[];
}

function checkNumeric(field: IntegerField | NumberField, raw: unknown, context: Config): Checked {
  const fallback = DEFAULT_CONFIG[field.name];
  if (typeof raw !== 'number') return { value: fallback, reasons: ['not a number'] };
  if (!Number.isFinite(raw)) return { value: fallback, reasons: ['not a finite number'] };
  const reasons: string[] = [];
  let value = raw;
  if (field.kind === 'integer' && !Number.isInteger(value)) {
    value = Math.round(value);
    reasons.push('not a whole number');
  }
  if (value < field.min) {
    value = field.min;
    reasons.push(`below the minimum ${formatNumber(field.min)}`);
  } else if (value > field.max) {
    value = field.max;
    reasons.push(`above the maximum ${formatNumber(field.max)}`);
  }
  if (field.kind === 'integer' && field.below && value >= context[field.below]) {
    value = context[field.below] - 1;
    reasons.push(`must be below ${fieldByName(field.below).label.toLowerCase()} (${formatNumber(context[field.below])})`);
  }
  if (field.kind === 'integer' && field.divides && value !== 0) {
    const whole = context[field.divides];
    const fitted = divisorAtMost(whole, value);
    if (fitted !== value) {
      value = fitted;
      reasons.push(`must be 0 or a divisor of ${fieldByName(field.divides).label.toLowerCase()} (${formatNumber(whole)}) of at least 2`);
    }
  }
  // -0 (from "-0" or Math.round(-0.2)) would print as 0 and compare unequal to 0 in tests.
  return { value: value === 0 ? 0 : value, reasons };
}

/** The largest divisor of `whole` from 2 to `value`, or `whole` itself when there is none (value 1, or a prime whole). */
function divisorAtMost(whole: number, value: number): number {
  for (let d = Math.min(value, whole); d >= 2; d--) if (whole % d === 0) return d;
  return whole;
}

function checkNormalization(field: NormalizationListField, raw: unknown, context: Config): Checked {
  const layers = context.hiddenLayers;
  if (!Array.isArray(raw)) {
    return { value: resizeNormalization(DEFAULT_CONFIG[field.name], layers, field.fill), reasons: ['not a list'] };
  }
  const reasons: string[] = [];
  const known = (layer: unknown): layer is Normalization => NORMALIZATIONS.includes(layer as Normalization);
  const invalid = raw.findIndex((layer) => !known(layer));
  const cleaned = raw.slice(0, layers).map((layer): Normalization => (known(layer) ? layer : field.fill));
  if (invalid >= 0) reasons.push(`layer ${invalid + 1} is none of ${NORMALIZATIONS.join(', ')}`);
  if (raw.length !== layers) {
    reasons.push(`has ${raw.length} entries for ${layers} hidden layers (extra layers dropped, missing ones get ${field.fill})`);
  }
  return { value: resizeNormalization(cleaned, layers, field.fill), reasons };
}

function checkField(field: Field, raw: unknown, context: Config): Checked {
  switch (field.kind) {
    case 'integer':
    case 'number':
      return checkNumeric(field, raw, context);
    case 'enum':
      return typeof raw === 'string' && field.values.includes(raw)
        ? { value: raw as Config[keyof Config], reasons: [] }
        : { value: DEFAULT_CONFIG[field.name], reasons: [`not one of ${field.values.join(', ')}`] };
    case 'normalization':
      return checkNormalization(field, raw, context);
  }
}

/** How many unknown keys are reported one by one before the rest are counted in one problem. */
const UNKNOWN_KEYS_REPORTED = 10;

/** Problems for keys that name no field: a hostile input with thousands of them gets 11 problems, not thousands. */
export function unknownKeyProblems(keys: readonly string[], receivedAt: (index: number) => string): Problem[] {
  const problems: Problem[] = keys.slice(0, UNKNOWN_KEYS_REPORTED).map((key, index) => ({
    field: null,
    key: plainText(key),
    received: receivedAt(index),
    used: 'ignored',
    reason: 'no such setting',
  }));
  if (keys.length > UNKNOWN_KEYS_REPORTED) {
    problems.push({
      field: null,
      key: '…',
      received: `${keys.length - UNKNOWN_KEYS_REPORTED} more keys`,
      used: 'ignored',
      reason: 'no such settings',
    });
  }
  return problems;
}

/**
 * Any value to a valid Config: missing fields take their default, wrong types and NaN/Infinity
 * fall back to the default, out-of-range numbers are clamped, fractional integers rounded,
 * normalization lists resized to `hiddenLayers`, and cross-field rules applied
 * (trackedUnit < hiddenUnits). Never throws; one Problem per field that could not be used as
 * given, plus one per unknown property. validateConfig(validateConfig(x).config) has no problems.
 */
export function validateConfig(candidate: unknown): { config: Config; problems: Problem[] } {
  const config: Config = { ...DEFAULT_CONFIG };
  if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) {
    for (const field of FIELDS) {
      if (field.kind === 'normalization') config[field.name] = [...DEFAULT_CONFIG[field.name]];
    }
    const problem: Problem = { field: null, key: '', received: describeReceived(candidate), used: 'the defaults', reason: 'not a config object' };
    return { config, problems: [problem] };
  }
  const record = candidate as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const field of FIELDS) {
    const present = Object.hasOwn(record, field.name) && record[field.name] !== undefined;
    // An absent field takes its default, fitted silently to the fields before it (a default
    // normalization list resized to hiddenLayers is not the user's mistake).
    const checked = checkField(field, present ? record[field.name] : DEFAULT_CONFIG[field.name], config);
    (config as unknown as Record<string, unknown>)[field.name] = field.kind === 'normalization' ? [...(checked.value as Normalization[])] : checked.value;
    if (present && checked.reasons.length > 0) {
      problems.push({
        field: field.name,
        key: field.name,
        received: describeReceived(record[field.name]),
        used: formatValue(field, checked.value),
        reason: checked.reasons.join('; '),
      });
    }
  }
  const unknown = Object.keys(record).filter((key) => !FIELD_BY_NAME.has(key as keyof Config));
  problems.push(...unknownKeyProblems(unknown, (index) => describeReceived(record[unknown[index]])));
  return { config, problems };
}

/**
 * A change made by a control (or a flag) applied to a valid config. When the change sets
 * hiddenLayers, the normalization lists it does not set are resized silently (new layers take
 * the arm's default) rather than reported, since resizing them is what changing the depth means.
 */
export function updateConfig(config: Config, changes: Partial<Config>): { config: Config; problems: Problem[] } {
  const merged: Config = { ...config, ...changes };
  if (changes.hiddenLayers !== undefined) {
    const layers = checkField(fieldByName('hiddenLayers'), changes.hiddenLayers, merged).value as number;
    for (const field of FIELDS) {
      if (field.kind === 'normalization' && changes[field.name] === undefined) {
        merged[field.name] = resizeNormalization(config[field.name], layers, field.fill);
      }
    }
  }
  return validateConfig(merged);
}
