/**
 * The one config schema. Every field of an experiment lives here with its default; the URL,
 * the controls, the worker, the command line and the tests all read this file.
 *
 * `FIELDS` is the single table: name, URL key, kind, bounds or allowed values, label, help text
 * and units. Parsing (URL, flags) and validation are driven by it, so a field added here is
 * accepted everywhere at once. Unlike tensorflow/playground's State.PROPS it rejects NaN and
 * Infinity, accepts only the listed enum values and enforces ranges, because a hand-edited link
 * must never freeze a tab or exhaust its memory (units=10000, layers=1000).
 */

export type Activation = 'sigmoid' | 'tanh' | 'relu';
/**
 * Per hidden layer, how it normalizes:
 * - `batchnorm`: BN before the nonlinearity, g(BN(Wx)), the paper's placement (Algorithm 1);
 * - `noisy`: BN followed, in training mode only, by a random affine map per unit that changes at
 *   every step (Santurkar et al. 2018's "noisy BN", see noise.ts), so the layer's input
 *   distribution shifts all the time although BN is there; inference mode is plain BN;
 * - `layernorm`: Ba et al. 2016's LayerNorm, each example over its own layer's units, the same
 *   in training and inference; it is not BN (no batch statistics);
 * - `batchnorm-after`: BN after the nonlinearity, BN(g(Wx + b)) feeding the next layer, the
 *   placement many practitioners use; the input to the nonlinearity is then Wx + b;
 * - `ghost-batchnorm`: Hoffer et al. 2017's ghost batch normalization, BN before the
 *   nonlinearity whose statistics come from virtual batches of `ghostBatchSize` examples inside
 *   the mini-batch rather than from the whole of it.
 */
export type Normalization = 'none' | 'batchnorm' | 'noisy' | 'layernorm' | 'batchnorm-after' | 'ghost-batchnorm';

/** The normalizations in the order of their digit in links and flags: 0, 1, 2, ... */
export const NORMALIZATIONS: readonly Normalization[] = ['none', 'batchnorm', 'noisy', 'layernorm', 'batchnorm-after', 'ghost-batchnorm'];

export interface NormalizationInfo {
  /** Its name in a choice of the layer's normalization. */
  label: string;
  /** The input to the layer's nonlinearity, in the paper's notation. */
  nonlinearityInput: string;
  /** Whether it normalizes with the mini-batch's statistics, so that training and inference mode differ. */
  batchStatistics: boolean;
}

export const NORMALIZATION_INFO: Readonly<Record<Normalization, NormalizationInfo>> = {
  none: { label: 'no normalization', nonlinearityInput: 'Wx + b', batchStatistics: false },
  batchnorm: { label: 'BN before the nonlinearity', nonlinearityInput: 'BN(Wx)', batchStatistics: true },
  noisy: { label: 'noisy BN (Santurkar et al.)', nonlinearityInput: 'BN(Wx)·s + b', batchStatistics: true },
  layernorm: { label: 'LayerNorm (Ba et al.)', nonlinearityInput: 'LN(Wx)', batchStatistics: false },
  'batchnorm-after': { label: 'BN after the nonlinearity', nonlinearityInput: 'Wx + b', batchStatistics: true },
  'ghost-batchnorm': { label: 'ghost BN (Hoffer et al.)', nonlinearityInput: 'BN(Wx)', batchStatistics: true },
};

/** "0 none, 1 BN before the nonlinearity, ...": every digit of a normalization list, for help texts and messages. */
const NORMALIZATION_DIGITS = NORMALIZATIONS.map((n, digit) => `${digit} ${NORMALIZATION_INFO[n].label}`).join(', ');

/** Whether a layer normalizes at all (BN in any form, or LayerNorm). */
export function isBatchNormalized(layer: Normalization): boolean {
  return layer !== 'none';
}

/** Whether a layer normalizes with batch statistics: training mode and inference mode differ, and inference needs population statistics. */
export function usesBatchStatistics(layer: Normalization): boolean {
  return NORMALIZATION_INFO[layer].batchStatistics;
}
/**
 * How a BN layer normalizes at inference (test accuracy, probe distributions):
 * `population` is Algorithm 2 (mean of batch means, m/(m-1) x mean of batch variances over
 * recent training mini-batches); `moving` is exponential moving averages updated every step.
 */
export type InferenceStatistics = 'population' | 'moving';
/** Backends the trainer may ask tfjs for; `wasm` is the fastest measured here. */
export type Backend = 'wasm' | 'cpu' | 'webgl' | 'webgpu';
/**
 * How training steps get their gradients: the hand-written backward pass (fast on wasm), or tfjs's
 * automatic differentiation of a plainly written forward pass (the naive reference; the same
 * numbers to float32 rounding, several times slower), or the hand-written step in WebAssembly
 * SIMD kernels (training/simd, the fastest; where they cannot run, the hand-written step, with a
 * notice).
 */
export type Gradients = 'handwritten' | 'autodiff' | 'simd';
/** Which distribution of a layer the panels show: the tracked unit's input, or all units pooled. */
export type DistributionView = 'unit' | 'pooled';
export type LossScale = 'log' | 'linear';
/** A display switch written as `0` or `1` in links, as tensorflow/playground's `*_hide` flags are. */
export type Switch = '0' | '1';

export interface Config {
  /** Seeds the initial weights (shared by both arms) and the mini-batch order. */
  seed: number;
  /** Total training steps of a run (the paper trains 50,000). */
  steps: number;
  hiddenLayers: number;
  hiddenUnits: number;
  activation: Activation;
  /** Standard deviation of the Gaussian initial weights (the paper: "small random Gaussian"). */
  initSigma: number;
  learningRate: number;
  /** Classical momentum; 0 is plain SGD. */
  momentum: number;
  batchSize: number;
  /**
   * Ghost BN's virtual batch size V (Hoffer et al. 2017): a ghost BN layer normalizes each group of
   * V consecutive examples of the mini-batch with that group's statistics. 0: the whole mini-batch.
   * A divisor of the batch size.
   */
  ghostBatchSize: number;
  /** Added to the mini-batch variance before the square root in BN. */
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  /** Decay of the moving averages when `inferenceStatistics` is `moving`. */
  movingAverageDecay: number;
  /** Training mini-batches averaged for Algorithm 2's population statistics. */
  populationBatches: number;
  /** Record metrics every k steps. */
  metricsInterval: number;
  /** Held-out test digits on which the distributions of the nonlinearity's inputs are measured. */
  probeSize: number;
  /** The paper's "typical activation": the unit of each hidden layer whose input is tracked. */
  trackedUnit: number;
  /** Per hidden layer normalization of arm A (default: none) and arm B (default: BN everywhere). */
  normalizationA: Normalization[];
  normalizationB: Normalization[];
  /** Strength n of the noise after noisy BN layers: per unit and step, shift ~ U(-n, n), scale ~ U(1, 1 + n). */
  noiseStrength: number;
  backend: Backend;
  gradients: Gradients;
  /** How the panels show the run: part of a shared link, but not of what the run computes. */
  distributionView: DistributionView;
  lossScale: LossScale;
  /** Classroom mode: the settings hidden and Figure 1 enlarged, for a projector. */
  present: Switch;
  /** Start training as soon as the page has loaded, so a projected link needs no click. */
  autoplay: Switch;
}

/**
 * Changing a default changes what every link that omits the field means: see the versioning
 * rule in url.ts (bump URL_VERSION and add a migration that writes the old default).
 */
export const DEFAULT_CONFIG: Config = {
  seed: 1,
  steps: 50_000,
  hiddenLayers: 3,
  hiddenUnits: 100,
  activation: 'sigmoid',
  // "Small random Gaussian" (the paper). At 0.1 the plain network's sigmoid inputs start near 0
  // (where the sigmoid is nearly linear) and then spread and drift as the layers below learn,
  // while the plain net learns slowly at first (gradients shrink through each sigmoid): both of
  // Figure 1's findings appear within the first 500 steps. At 1 the first layer saturates at once.
  initSigma: 0.1,
  // Plain SGD at 0.1: on the full 60,000 digits BN's test accuracy stays ahead over the whole
  // 50,000 steps while the plain arm's last-layer inputs drift (at 0.5 the plain arm draws level
  // within a few thousand steps). 1 (the "10x" preset) is where the plain arm stalls and BN trains.
  learningRate: 0.1,
  momentum: 0,
  batchSize: 60,
  ghostBatchSize: 0,
  epsilon: 1e-5,
  inferenceStatistics: 'population',
  movingAverageDecay: 0.99,
  populationBatches: 10,
  metricsInterval: 100,
  probeSize: 1000,
  trackedUnit: 0,
  normalizationA: ['none', 'none', 'none'],
  normalizationB: ['batchnorm', 'batchnorm', 'batchnorm'],
  // At 1 a BN unit's input (about N(0, 1) at the start) gets a mean anywhere in -1..1 and a standard
  // deviation anywhere in 1..2, redrawn every step: a shift the percentile bands show plainly.
  noiseStrength: 1,
  backend: 'wasm',
  gradients: 'handwritten',
  distributionView: 'unit',
  lossScale: 'log',
  present: '0',
  autoplay: '0',
};

type NamesOfType<T> = { [K in keyof Config]: Config[K] extends T ? K : never }[keyof Config];
export type NumericFieldName = NamesOfType<number>;
export type EnumFieldName = NamesOfType<string>;
export type NormalizationFieldName = NamesOfType<Normalization[]>;

interface FieldBase {
  /** Short, human-readable key in links (`lr=0.5`); matched case-insensitively when parsing. */
  key: string;
  /** Text of the control in the UI. */
  label: string;
  /** One sentence for the control's tooltip and the command-line help. */
  help: string;
  /** Unit shown after the value, where the number counts something. */
  unit?: string;
  /**
   * Whether changing the field restarts the run: every field that changes what a run computes or
   * when it measures does, since a run must stay a pure function of its config. Display fields
   * (how the panels show the run) do not.
   */
  restartsRun: boolean;
}

export interface IntegerField extends FieldBase {
  kind: 'integer';
  name: NumericFieldName;
  min: number;
  max: number;
  /** Cross-field bound: the value must be below this field's value (trackedUnit < hiddenUnits). */
  below?: NumericFieldName;
  /** Cross-field bound: the value, unless 0, must be a divisor of this field's value, at least 2 (ghostBatchSize of batchSize). */
  divides?: NumericFieldName;
}

export interface NumberField extends FieldBase {
  kind: 'number';
  name: NumericFieldName;
  min: number;
  max: number;
  /** How a slider should map its position: `log` for ranges spanning decades. */
  scale: 'linear' | 'log';
}

export interface EnumField extends FieldBase {
  kind: 'enum';
  name: EnumFieldName;
  values: readonly string[];
  /** Text of each value in a select control. */
  valueLabels: Readonly<Record<string, string>>;
}

/** One entry per hidden layer; always exactly `hiddenLayers` entries long. */
export interface NormalizationListField extends FieldBase {
  kind: 'normalization';
  name: NormalizationFieldName;
  /** What a layer of this arm gets when the list grows with `hiddenLayers`. */
  fill: Normalization;
}

export type Field = IntegerField | NumberField | EnumField | NormalizationListField;

/**
 * The table. Order matters: a field comes after the fields its bounds depend on
 * (hiddenUnits before trackedUnit, hiddenLayers before the normalization lists).
 */
export const FIELDS: readonly Field[] = [
  {
    name: 'seed',
    key: 'seed',
    kind: 'integer',
    min: 0,
    max: 4_294_967_295,
    restartsRun: true,
    label: 'Seed',
    help: 'Seeds the initial weights shared by both arms and the order of the mini-batches, so the same link replays the same run.',
  },
  {
    name: 'steps',
    key: 'steps',
    kind: 'integer',
    min: 1,
    max: 200_000,
    unit: 'steps',
    restartsRun: true,
    label: 'Training steps',
    help: 'Mini-batch updates each arm makes (the paper trains 50,000).',
  },
  {
    name: 'hiddenLayers',
    key: 'layers',
    kind: 'integer',
    min: 1,
    max: 6,
    unit: 'layers',
    restartsRun: true,
    label: 'Hidden layers',
    help: 'Fully connected hidden layers of both networks (the paper uses 3).',
  },
  {
    name: 'hiddenUnits',
    key: 'units',
    kind: 'integer',
    min: 2,
    max: 256,
    unit: 'units',
    restartsRun: true,
    label: 'Units per layer',
    help: 'Width of every hidden layer (the paper uses 100).',
  },
  {
    name: 'activation',
    key: 'act',
    kind: 'enum',
    values: ['sigmoid', 'tanh', 'relu'],
    restartsRun: true,
    valueLabels: { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'ReLU' },
    label: 'Nonlinearity',
    help: "The nonlinearity after each hidden layer; the paper's experiment uses the sigmoid, whose saturation BN is meant to prevent.",
  },
  {
    name: 'initSigma',
    key: 'sigma',
    kind: 'number',
    min: 1e-4,
    max: 10,
    scale: 'log',
    restartsRun: true,
    label: 'Initial weight σ',
    help: 'Standard deviation of the Gaussian initial weights, which the paper only calls small; larger values push the sigmoids into saturation.',
  },
  {
    name: 'learningRate',
    key: 'lr',
    kind: 'number',
    min: 1e-5,
    max: 100,
    scale: 'log',
    restartsRun: true,
    label: 'Learning rate',
    help: 'SGD step size of both arms (the paper does not give it); absurd rates are allowed, so divergence can be seen.',
  },
  {
    name: 'momentum',
    key: 'mom',
    kind: 'number',
    min: 0,
    max: 0.99,
    scale: 'linear',
    restartsRun: true,
    label: 'Momentum',
    help: 'Classical momentum of the SGD update; 0 is plain SGD.',
  },
  {
    name: 'batchSize',
    key: 'batch',
    kind: 'integer',
    min: 2,
    max: 1000,
    unit: 'examples',
    restartsRun: true,
    label: 'Batch size',
    help: 'Training examples per mini-batch (the paper uses 60); BN needs at least 2 to have a variance.',
  },
  {
    name: 'ghostBatchSize',
    key: 'ghost',
    kind: 'integer',
    min: 0,
    max: 1000,
    divides: 'batchSize',
    unit: 'examples',
    restartsRun: true,
    label: 'Ghost batch size',
    help: 'Examples per virtual batch of ghost BN layers (Hoffer et al. 2017), whose statistics come from each group of that many examples of the mini-batch; 0 is the whole mini-batch, otherwise a divisor of the batch size.',
  },
  {
    name: 'epsilon',
    key: 'eps',
    kind: 'number',
    min: 1e-8,
    max: 1,
    scale: 'log',
    restartsRun: true,
    label: 'BN ε',
    help: 'Constant added to the mini-batch variance before its square root in BN (the paper does not give it).',
  },
  {
    name: 'inferenceStatistics',
    key: 'infer',
    kind: 'enum',
    values: ['population', 'moving'],
    restartsRun: true,
    valueLabels: { population: 'Population (Algorithm 2)', moving: 'Moving averages' },
    label: 'Inference statistics',
    help: "What a BN layer normalizes with at test time: Algorithm 2's population statistics or exponential moving averages.",
  },
  {
    name: 'movingAverageDecay',
    key: 'decay',
    kind: 'number',
    min: 0,
    max: 0.9999,
    scale: 'linear',
    restartsRun: true,
    label: 'Moving-average decay',
    help: 'Weight kept by the old value at each update of the moving averages, used when inference uses moving averages.',
  },
  {
    name: 'populationBatches',
    key: 'popBatches',
    kind: 'integer',
    min: 1,
    max: 100,
    unit: 'mini-batches',
    restartsRun: true,
    label: 'Population batches',
    help: 'Recent training mini-batches whose means and variances Algorithm 2 averages into the population statistics.',
  },
  {
    name: 'metricsInterval',
    key: 'every',
    kind: 'integer',
    min: 1,
    max: 10_000,
    unit: 'steps',
    restartsRun: true,
    label: 'Measure every',
    help: 'Steps between two measurements of accuracy and distributions; smaller is finer but slower.',
  },
  {
    name: 'probeSize',
    key: 'probe',
    kind: 'integer',
    min: 100,
    max: 2000,
    unit: 'digits',
    restartsRun: true,
    label: 'Probe digits',
    help: "Held-out test digits on which the distributions of the nonlinearity's inputs are measured.",
  },
  {
    name: 'trackedUnit',
    key: 'unit',
    kind: 'integer',
    min: 0,
    max: 255,
    below: 'hiddenUnits',
    restartsRun: true,
    label: 'Tracked unit',
    help: "Index, from 0, of the unit in each hidden layer whose input is plotted: the paper's typical activation.",
  },
  {
    name: 'normalizationA',
    key: 'bnA',
    kind: 'normalization',
    fill: 'none',
    restartsRun: true,
    label: 'Arm A: normalization per layer',
    help: `Per hidden layer of arm A: ${NORMALIZATION_DIGITS} (default none: the baseline).`,
  },
  {
    name: 'normalizationB',
    key: 'bnB',
    kind: 'normalization',
    fill: 'batchnorm',
    restartsRun: true,
    label: 'Arm B: normalization per layer',
    help: `Per hidden layer of arm B: ${NORMALIZATION_DIGITS} (default all BN: the paper's BN network).`,
  },
  {
    name: 'noiseStrength',
    key: 'noise',
    kind: 'number',
    min: 0,
    max: 5,
    scale: 'linear',
    restartsRun: true,
    label: 'Noise after noisy BN',
    help: "Strength n of noisy BN (Santurkar et al.): each step, every unit's BN output y becomes y·s + b with s drawn from U(1, 1+n) and b from U(-n, n), training only.",
  },
  {
    name: 'backend',
    key: 'backend',
    kind: 'enum',
    values: ['wasm', 'cpu', 'webgl', 'webgpu'],
    restartsRun: true,
    valueLabels: { wasm: 'WebAssembly', cpu: 'CPU (plain JS)', webgl: 'WebGL', webgpu: 'WebGPU' },
    label: 'Backend',
    help: 'The tfjs backend the worker trains on; wasm is the fastest measured, and results differ slightly between backends.',
  },
  {
    name: 'gradients',
    key: 'grad',
    kind: 'enum',
    values: ['handwritten', 'autodiff', 'simd'],
    restartsRun: true,
    valueLabels: { handwritten: 'Hand-written (fast)', autodiff: 'tfjs autodiff (reference)', simd: 'WebAssembly SIMD (fastest)' },
    label: 'Gradients',
    help: 'The hand-written backward pass, or tfjs automatic differentiation of the same network (the same curves, several times slower), or the hand-written step in WebAssembly SIMD (the same curves to float32 rounding, faster still).',
  },
  {
    name: 'distributionView',
    key: 'view',
    kind: 'enum',
    values: ['unit', 'pooled'],
    restartsRun: false,
    valueLabels: { unit: 'the tracked unit', pooled: 'all units of the layer, pooled' },
    label: 'Distribution of',
    help: "Whether the distribution panels show the tracked unit's input to the nonlinearity or all units of the layer pooled.",
  },
  {
    name: 'lossScale',
    key: 'loss',
    kind: 'enum',
    values: ['log', 'linear'],
    restartsRun: false,
    valueLabels: { log: 'log scale', linear: 'linear scale' },
    label: 'Loss axis',
    help: 'The scale of the training loss axis.',
  },
  {
    name: 'present',
    key: 'present',
    kind: 'enum',
    values: ['0', '1'],
    restartsRun: false,
    valueLabels: { 0: 'off', 1: 'on' },
    label: 'Presentation',
    help: 'Classroom mode: 1 hides the settings and enlarges Figure 1 for a projector; "Exit presentation" brings them back.',
  },
  {
    name: 'autoplay',
    key: 'autoplay',
    kind: 'enum',
    values: ['0', '1'],
    restartsRun: false,
    valueLabels: { 0: 'off', 1: 'on' },
    label: 'Play on load',
    help: 'With 1 the page starts training as soon as it has loaded the data, with no click.',
  },
];

export const FIELD_BY_NAME = new Map<keyof Config, Field>(FIELDS.map((field) => [field.name, field]));

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
export function formatNumber(value: number): string {
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
 * An arm's normalization as a short label (layers from 1): "no BN", "BN on all", "BN on 1, 3",
 * "noisy BN on all", "BN on all, noisy on 2", "BN on 1, LayerNorm on 2", "BN after g on all",
 * "ghost BN on 2". A noisy layer counts among the BN layers.
 */
export function describeNormalization(layers: readonly Normalization[]): string {
  const numbers = (kinds: readonly Normalization[]) => layers.flatMap((layer, index) => (kinds.includes(layer) ? [index + 1] : []));
  const normalized = numbers(['batchnorm', 'noisy']);
  const noisy = numbers(['noisy']);
  const which = (list: number[]) => (list.length === layers.length ? 'all' : list.join(', '));
  const batchNorm =
    normalized.length === 0
      ? null
      : noisy.length === 0
        ? `BN on ${which(normalized)}`
        : noisy.length === normalized.length
          ? `noisy BN on ${which(noisy)}`
          : `BN on ${which(normalized)}, noisy on ${noisy.join(', ')}`;
  const others = (['batchnorm-after', 'ghost-batchnorm', 'layernorm'] as const).map((kind) => {
    const list = numbers([kind]);
    const name = { 'batchnorm-after': 'BN after g', 'ghost-batchnorm': 'ghost BN', layernorm: 'LayerNorm' }[kind];
    return list.length > 0 ? `${name} on ${which(list)}` : null;
  });
  const parts = [batchNorm, ...others].filter((part) => part !== null);
  return parts.length > 0 ? parts.join(', ') : 'no BN';
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
export const UNKNOWN_KEYS_REPORTED = 10;

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
