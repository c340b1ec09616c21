/**
 * The tables of the config, the only place where a field or a normalization is written.
 *
 * `FIELD_TABLE` holds every field of an experiment once: its doc comment, URL key, kind, default,
 * bounds or allowed values, label, help text and unit. The `Config` type, `DEFAULT_CONFIG`, the
 * enum types (`Activation`, `Backend`, ...) and `FIELDS` (what parsing, validation and the
 * controls walk, schema.ts) are derived from it, so a field added here is typed, defaulted,
 * parsed, validated, linked and offered as a flag at once.
 *
 * `NORMALIZATION_TABLE` holds every way a hidden layer can normalize once: its link digit (its
 * place in the table), labels, the input to the nonlinearity in the paper's notation, whether it
 * uses batch statistics, and the ops it puts around the nonlinearity. The network builds a layer
 * from those op names (src/training/ops/layers.ts, where the compiler asks for a builder of every
 * op name), so a normalization made of existing ops is one entry here, and a new op is one op file
 * plus its name in `NormalizationOp` and its builder in layers.ts.
 */

/**
 * The ops a normalization can put around a hidden layer's nonlinearity, by the names the
 * network's builder knows them by (src/training/ops):
 * - `batchNorm`: BN with the mini-batch's statistics in training, population statistics or
 *   moving averages in inference (Algorithm 1 and 2), gamma and beta replacing the dense bias;
 * - `ghostBatchNorm`: the same with the statistics of virtual batches of `ghostBatchSize`;
 * - `layerNorm`: each example over its own layer's units, gamma and beta replacing the bias;
 * - `noise`: the step's noise after BN in training mode only (Santurkar et al., noise.ts).
 */
export type NormalizationOp = 'batchNorm' | 'ghostBatchNorm' | 'layerNorm' | 'noise';

/** One normalization's entry; `Name` is any normalization of the table, for `variantOf`. */
interface NormalizationSpec<Name extends string> {
  /** Its name in a choice of the layer's normalization. */
  label: string;
  /** Its name in an arm's one-line summary ("BN on 1, 3"); a variant's qualifies its base's ("noisy" BN). */
  shortLabel: string;
  /** The normalization this one is a variant of, counted among its layers in an arm's summary. */
  variantOf?: Name;
  /** The input to the layer's nonlinearity, in the paper's notation. */
  nonlinearityInput: string;
  /** Whether it normalizes with the mini-batch's statistics, so that training and inference mode differ. */
  batchStatistics: boolean;
  /** The ops between the layer's dense op and its nonlinearity, in order. */
  before: readonly NormalizationOp[];
  /** The ops after the nonlinearity, whose output the next layer reads. */
  after: readonly NormalizationOp[];
}

/** The table as written, its `variantOf` checked against its own names. */
function normalizationTable<const T extends { [K in keyof T]: NormalizationSpec<keyof T & string> }>(table: T): T {
  return table;
}

/**
 * Per hidden layer, how it normalizes. A normalization's digit in links and flags is its place
 * here (0, 1, 2, ...), so a new one goes at the end: links already shared keep their meaning.
 */
const NORMALIZATION_TABLE = normalizationTable({
  /** g(Wx + b): the paper's baseline. */
  none: {
    label: 'no normalization',
    shortLabel: 'no BN',
    nonlinearityInput: 'Wx + b',
    batchStatistics: false,
    before: [],
    after: [],
  },
  /** BN before the nonlinearity, g(BN(Wx)), the paper's placement (Algorithm 1). */
  batchnorm: {
    label: 'BN before the nonlinearity',
    shortLabel: 'BN',
    nonlinearityInput: 'BN(Wx)',
    batchStatistics: true,
    before: ['batchNorm'],
    after: [],
  },
  /**
   * Santurkar et al. 2018's "noisy BN" (see noise.ts): BN followed, in training mode only, by
   * noise drawn for every example from a distribution per unit whose mean and variance change at
   * every step, so the layer's input distribution shifts all the time although BN is there;
   * inference mode is plain BN.
   */
  noisy: {
    label: 'noisy BN (Santurkar et al.)',
    shortLabel: 'noisy',
    variantOf: 'batchnorm',
    nonlinearityInput: 'BN(Wx) + ε',
    batchStatistics: true,
    before: ['batchNorm', 'noise'],
    after: [],
  },
  /**
   * Ba et al. 2016's LayerNorm, each example over its own layer's units, the same in training and
   * inference; it is not BN (no batch statistics).
   */
  layernorm: {
    label: 'LayerNorm (Ba et al.)',
    shortLabel: 'LayerNorm',
    nonlinearityInput: 'LN(Wx)',
    batchStatistics: false,
    before: ['layerNorm'],
    after: [],
  },
  /**
   * BN after the nonlinearity, BN(g(Wx + b)) feeding the next layer, the placement many
   * practitioners use; the input to the nonlinearity is then Wx + b (the dense op keeps its bias).
   */
  'batchnorm-after': {
    label: 'BN after the nonlinearity',
    shortLabel: 'BN after g',
    nonlinearityInput: 'Wx + b',
    batchStatistics: true,
    before: [],
    after: ['batchNorm'],
  },
  /**
   * Hoffer et al. 2017's ghost batch normalization, BN before the nonlinearity whose statistics
   * come from virtual batches of `ghostBatchSize` examples inside the mini-batch rather than from
   * the whole of it.
   */
  'ghost-batchnorm': {
    label: 'ghost BN (Hoffer et al.)',
    shortLabel: 'ghost BN',
    nonlinearityInput: 'BN(Wx)',
    batchStatistics: true,
    before: ['ghostBatchNorm'],
    after: [],
  },
  /**
   * The noisy BN of links before v4: one random affine map per unit and step shared by the whole
   * mini-batch (noise.ts), the shift without the per-example jitter.
   */
  'noisy-shared': {
    label: 'noisy BN, one map per step (links before v4)',
    shortLabel: 'shared-noise',
    variantOf: 'batchnorm',
    nonlinearityInput: 'BN(Wx)·s + b',
    batchStatistics: true,
    before: ['batchNorm', 'noise'],
    after: [],
  },
});

export type Normalization = keyof typeof NORMALIZATION_TABLE;

export type NormalizationInfo = NormalizationSpec<Normalization>;

export const NORMALIZATION_INFO: Readonly<Record<Normalization, NormalizationInfo>> = NORMALIZATION_TABLE;

/** The normalizations in the order of their digit in links and flags: 0, 1, 2, ... */
export const NORMALIZATIONS = Object.keys(NORMALIZATION_TABLE) as readonly Normalization[];

/** "0 none, 1 BN before the nonlinearity, ...": every digit of a normalization list, for help texts and messages. */
export const NORMALIZATION_DIGITS = NORMALIZATIONS.map((n, digit) => `${digit} ${NORMALIZATION_INFO[n].label}`).join(', ');

interface SpecBase {
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

/** `Integer` is any integer field of the table, for the cross-field bounds. */
interface IntegerSpec<Integer extends string> extends SpecBase {
  kind: 'integer';
  default: number;
  min: number;
  max: number;
  /** Cross-field bound: the value must be below this field's value (trackedUnit < hiddenUnits). */
  below?: Integer;
  /** Cross-field bound: the value, unless 0, must be a divisor of this field's value, at least 2 (ghostBatchSize of batchSize). */
  divides?: Integer;
}

interface NumberSpec extends SpecBase {
  kind: 'number';
  default: number;
  min: number;
  max: number;
  /** How a slider should map its position: `log` for ranges spanning decades. */
  scale: 'linear' | 'log';
}

/** `Value` is the field's allowed values, the keys of `values`. */
interface EnumSpec<Value extends PropertyKey> extends SpecBase {
  kind: 'enum';
  default: `${Value & (string | number)}`;
  /** Each allowed value with its text in a select control, in the order offered (JavaScript lists integer-like keys such as `0`, `1` first, ascending). */
  values: Readonly<Record<Value, string>>;
}

/** One entry per hidden layer; always exactly `hiddenLayers` entries long. */
interface NormalizationListSpec extends SpecBase {
  kind: 'normalization';
  default: readonly Normalization[];
  /** What a layer of this arm gets when the list grows with `hiddenLayers`. */
  fill: Normalization;
}

type IntegerNames<T> = { [K in keyof T]: T[K] extends { kind: 'integer' } ? K : never }[keyof T] & string;

/** What each entry of the table must be, by its kind: an enum's default among its values, a cross-field bound naming an integer field. */
type FieldSpecs<T> = {
  [K in keyof T]: T[K] extends { kind: 'enum'; values: infer Values }
    ? EnumSpec<keyof Values>
    : T[K] extends { kind: 'integer' }
      ? IntegerSpec<IntegerNames<T>>
      : T[K] extends { kind: 'number' }
        ? NumberSpec
        : NormalizationListSpec;
};

/** The table as written, each entry checked against its kind. */
function fieldTable<const T extends FieldSpecs<T>>(table: T): T {
  return table;
}

/**
 * The table. Order matters: a field comes after the fields its bounds depend on (hiddenUnits
 * before trackedUnit, hiddenLayers before the normalization lists), and it is the order of a
 * Config's properties (the JSON's `config`) and of the command line's help.
 *
 * Changing a default changes what every link that omits the field means: see the versioning
 * rule in url.ts (bump URL_VERSION and add a migration that writes the old default).
 */
const FIELD_TABLE = fieldTable({
  /** Seeds the initial weights (shared by both arms) and the mini-batch order. */
  seed: {
    key: 'seed',
    kind: 'integer',
    default: 1,
    min: 0,
    max: 4_294_967_295,
    restartsRun: true,
    label: 'Seed',
    help: 'Seeds the initial weights shared by both arms and the order of the mini-batches, so the same link replays the same run.',
  },
  /** Total training steps of a run (the paper trains 50,000). */
  steps: {
    key: 'steps',
    kind: 'integer',
    default: 50_000,
    min: 1,
    max: 200_000,
    unit: 'steps',
    restartsRun: true,
    label: 'Training steps',
    help: 'Mini-batch updates each arm makes (the paper trains 50,000).',
  },
  hiddenLayers: {
    key: 'layers',
    kind: 'integer',
    default: 3,
    min: 1,
    max: 6,
    unit: 'layers',
    restartsRun: true,
    label: 'Hidden layers',
    help: 'Fully connected hidden layers of both networks (the paper uses 3).',
  },
  hiddenUnits: {
    key: 'units',
    kind: 'integer',
    default: 100,
    min: 2,
    max: 256,
    unit: 'units',
    restartsRun: true,
    label: 'Units per layer',
    help: 'Width of every hidden layer (the paper uses 100).',
  },
  activation: {
    key: 'act',
    kind: 'enum',
    default: 'sigmoid',
    values: { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'ReLU' },
    restartsRun: true,
    label: 'Nonlinearity',
    help: "The nonlinearity after each hidden layer; the paper's experiment uses the sigmoid, whose saturation BN is meant to prevent.",
  },
  /** Standard deviation of the Gaussian initial weights (the paper: "small random Gaussian"). */
  initSigma: {
    key: 'sigma',
    kind: 'number',
    // "Small random Gaussian" (the paper). At 0.1 the plain network's sigmoid inputs start near 0
    // (where the sigmoid is nearly linear) and then spread and drift as the layers below learn,
    // while the plain net learns slowly at first (gradients shrink through each sigmoid): both of
    // Figure 1's findings appear within the first 500 steps. At 1 the first layer saturates at once.
    default: 0.1,
    min: 1e-4,
    max: 10,
    scale: 'log',
    restartsRun: true,
    label: 'Initial weight σ',
    help: 'Standard deviation of the Gaussian initial weights, which the paper only calls small; larger values push the sigmoids into saturation.',
  },
  learningRate: {
    key: 'lr',
    kind: 'number',
    // Plain SGD at 0.1: on the full 60,000 digits BN's test accuracy stays ahead over the whole
    // 50,000 steps while the plain arm's last-layer inputs drift (at 0.5 the plain arm draws level
    // within a few thousand steps). 1 (the "10x" preset) is where the plain arm stalls and BN trains.
    default: 0.1,
    min: 1e-5,
    max: 100,
    scale: 'log',
    restartsRun: true,
    label: 'Learning rate',
    help: 'SGD step size of both arms (the paper does not give it); absurd rates are allowed, so divergence can be seen.',
  },
  /** Classical momentum; 0 is plain SGD. */
  momentum: {
    key: 'mom',
    kind: 'number',
    default: 0,
    min: 0,
    max: 0.99,
    scale: 'linear',
    restartsRun: true,
    label: 'Momentum',
    help: 'Classical momentum of the SGD update; 0 is plain SGD.',
  },
  batchSize: {
    key: 'batch',
    kind: 'integer',
    default: 60,
    min: 2,
    max: 1000,
    unit: 'examples',
    restartsRun: true,
    label: 'Batch size',
    help: 'Training examples per mini-batch (the paper uses 60); BN needs at least 2 to have a variance.',
  },
  /**
   * Ghost BN's virtual batch size V (Hoffer et al. 2017): a ghost BN layer normalizes each group of
   * V consecutive examples of the mini-batch with that group's statistics. 0: the whole mini-batch.
   * A divisor of the batch size.
   */
  ghostBatchSize: {
    key: 'ghost',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 1000,
    divides: 'batchSize',
    unit: 'examples',
    restartsRun: true,
    label: 'Ghost batch size',
    help: 'Examples per virtual batch of ghost BN layers (Hoffer et al. 2017), whose statistics come from each group of that many examples of the mini-batch; 0 is the whole mini-batch, otherwise a divisor of the batch size.',
  },
  /** Added to the mini-batch variance before the square root in BN. */
  epsilon: {
    key: 'eps',
    kind: 'number',
    default: 1e-5,
    min: 1e-8,
    max: 1,
    scale: 'log',
    restartsRun: true,
    label: 'BN ε',
    help: 'Constant added to the mini-batch variance before its square root in BN (the paper does not give it).',
  },
  /**
   * How a BN layer normalizes at inference (test accuracy, probe distributions):
   * `population` is Algorithm 2 (mean of batch means, m/(m-1) x mean of batch variances over
   * recent training mini-batches); `moving` is exponential moving averages updated every step.
   */
  inferenceStatistics: {
    key: 'infer',
    kind: 'enum',
    default: 'population',
    values: { population: 'Population (Algorithm 2)', moving: 'Moving averages' },
    restartsRun: true,
    label: 'Inference statistics',
    help: "What a BN layer normalizes with at test time: Algorithm 2's population statistics or exponential moving averages.",
  },
  /** Decay of the moving averages when `inferenceStatistics` is `moving`. */
  movingAverageDecay: {
    key: 'decay',
    kind: 'number',
    default: 0.99,
    min: 0,
    max: 0.9999,
    scale: 'linear',
    restartsRun: true,
    label: 'Moving-average decay',
    help: 'Weight kept by the old value at each update of the moving averages, used when inference uses moving averages.',
  },
  /** Training mini-batches averaged for Algorithm 2's population statistics. */
  populationBatches: {
    key: 'popBatches',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 100,
    unit: 'mini-batches',
    restartsRun: true,
    label: 'Population batches',
    help: 'Recent training mini-batches whose means and variances Algorithm 2 averages into the population statistics.',
  },
  /** Record metrics every k steps. */
  metricsInterval: {
    key: 'every',
    kind: 'integer',
    default: 100,
    min: 1,
    max: 10_000,
    unit: 'steps',
    restartsRun: true,
    label: 'Measure every',
    help: 'Steps between two measurements of accuracy and distributions; smaller is finer but slower.',
  },
  /** Santurkar et al.'s ICS and landscape measures at the records whose step is a multiple of this; 0: never. */
  santurkarInterval: {
    key: 'santurkar',
    kind: 'integer',
    default: 100,
    min: 0,
    max: 200_000,
    unit: 'steps',
    restartsRun: true,
    label: "Santurkar et al.'s measures every",
    help: 'Internal covariate shift (their Definition 2.1) and the loss landscape along the gradient (their Figure 4), taken at the records whose step is a multiple of this (0: never); each costs several gradients of the step.',
  },
  /** Held-out test digits on which the distributions of the nonlinearity's inputs are measured. */
  probeSize: {
    key: 'probe',
    kind: 'integer',
    default: 1000,
    min: 100,
    max: 2000,
    unit: 'digits',
    restartsRun: true,
    label: 'Probe digits',
    help: "Held-out test digits on which the distributions of the nonlinearity's inputs are measured.",
  },
  /** The paper's "typical activation": the unit of each hidden layer whose input is tracked. */
  trackedUnit: {
    key: 'unit',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 255,
    below: 'hiddenUnits',
    restartsRun: true,
    label: 'Tracked unit',
    help: "Index, from 0, of the unit in each hidden layer whose input is plotted: the paper's typical activation.",
  },
  /** Per hidden layer normalization of arm A (default: none). */
  normalizationA: {
    key: 'bnA',
    kind: 'normalization',
    default: ['none', 'none', 'none'],
    fill: 'none',
    restartsRun: true,
    label: 'Arm A: normalization per layer',
    help: `Per hidden layer of arm A: ${NORMALIZATION_DIGITS} (default none: the baseline).`,
  },
  /** Per hidden layer normalization of arm B (default: BN everywhere). */
  normalizationB: {
    key: 'bnB',
    kind: 'normalization',
    default: ['batchnorm', 'batchnorm', 'batchnorm'],
    fill: 'batchnorm',
    restartsRun: true,
    label: 'Arm B: normalization per layer',
    help: `Per hidden layer of arm B: ${NORMALIZATION_DIGITS} (default all BN: the paper's BN network).`,
  },
  /** Strength n of the noise after noisy BN layers (noise.ts): per unit and step, a mean in U(-n, n) and a standard deviation in U(0, n). */
  noiseStrength: {
    key: 'noise',
    kind: 'number',
    // At 1 a BN unit's input (about N(0, 1) at the start) gets a mean anywhere in -1..1 and a standard
    // deviation anywhere in 1..1.41, redrawn every step: a shift the percentile bands show plainly.
    default: 1,
    min: 0,
    max: 5,
    scale: 'linear',
    restartsRun: true,
    label: 'Noise after noisy BN',
    help: 'Strength n of noisy BN (Santurkar et al.), training only: each step, every unit draws a noise distribution with mean from U(-n, n) and standard deviation from U(0, n), and each example adds its own draw from it to its BN output (the variant of older links: y·s + b per unit, s from U(1, 1+n), b from U(-n, n)).',
  },
  /** Backends the trainer may ask tfjs for; `wasm` is the fastest measured here. */
  backend: {
    key: 'backend',
    kind: 'enum',
    default: 'wasm',
    values: { wasm: 'WebAssembly', cpu: 'CPU (plain JS)', webgl: 'WebGL', webgpu: 'WebGPU' },
    restartsRun: true,
    label: 'Backend',
    help: 'The tfjs backend the worker trains on; wasm is the fastest measured, and results differ slightly between backends.',
  },
  /**
   * How training steps get their gradients: the whole step in WebAssembly SIMD kernels (training/simd,
   * the fastest; where they cannot run, the hand-written step, with a notice), or the hand-written
   * backward pass in tfjs it was ported from (the step of every link before v5), or tfjs's automatic
   * differentiation of a plainly written forward pass (the naive reference; the same numbers to
   * float32 rounding, several times slower).
   */
  gradients: {
    key: 'grad',
    kind: 'enum',
    default: 'simd',
    values: { simd: 'WebAssembly SIMD (fastest)', handwritten: 'Hand-written tfjs', autodiff: 'tfjs autodiff (reference)' },
    restartsRun: true,
    label: 'Gradients',
    help: 'The whole training step in WebAssembly SIMD, or the hand-written backward pass in tfjs it was ported from, or tfjs automatic differentiation of the same network (the naive reference, several times slower); all three give the same curves to float32 rounding.',
  },
  /**
   * Which distribution of a layer the panels show: the tracked unit's input, or all units pooled.
   * This and the fields after it say how the panels show the run: part of a shared link, but not of
   * what the run computes.
   */
  distributionView: {
    key: 'view',
    kind: 'enum',
    default: 'unit',
    values: { unit: 'the tracked unit', pooled: 'all units of the layer, pooled' },
    restartsRun: false,
    label: 'Distribution of',
    help: "Whether the distribution panels show the tracked unit's input to the nonlinearity or all units of the layer pooled.",
  },
  lossScale: {
    key: 'loss',
    kind: 'enum',
    default: 'log',
    values: { log: 'log scale', linear: 'linear scale' },
    restartsRun: false,
    label: 'Loss axis',
    help: 'The scale of the training loss axis.',
  },
  /**
   * Classroom mode: the settings hidden and Figure 1 enlarged, for a projector. A display switch
   * written as `0` or `1` in links, as tensorflow/playground's `*_hide` flags are.
   */
  present: {
    key: 'present',
    kind: 'enum',
    default: '0',
    values: { 0: 'off', 1: 'on' },
    restartsRun: false,
    label: 'Presentation',
    help: 'Classroom mode: 1 hides the settings and enlarges Figure 1 for a projector; "Exit presentation" brings them back.',
  },
  /** Start training as soon as the page has loaded, so a projected link needs no click. */
  autoplay: {
    key: 'autoplay',
    kind: 'enum',
    default: '0',
    values: { 0: 'off', 1: 'on' },
    restartsRun: false,
    label: 'Play on load',
    help: 'With 1 the page starts training as soon as it has loaded the data, with no click.',
  },
});

type FieldTable = typeof FIELD_TABLE;

type ValueOf<Spec> = Spec extends { kind: 'integer' | 'number' }
  ? number
  : Spec extends { kind: 'enum'; values: infer Values }
    ? `${keyof Values & (string | number)}`
    : Normalization[];

/** An experiment's settings: one property per entry of the table, of its kind's type. */
export type Config = { -readonly [K in keyof FieldTable]: ValueOf<FieldTable[K]> };

export type Activation = Config['activation'];
export type InferenceStatistics = Config['inferenceStatistics'];
export type Backend = Config['backend'];
export type DistributionView = Config['distributionView'];

type NamesOfType<T> = { [K in keyof Config]: Config[K] extends T ? K : never }[keyof Config];
type NumericFieldName = NamesOfType<number>;
type EnumFieldName = NamesOfType<string>;
type NormalizationFieldName = NamesOfType<Normalization[]>;

type Named<Spec, Name> = Omit<Spec, 'default'> & { name: Name };

export type IntegerField = Named<IntegerSpec<NumericFieldName>, NumericFieldName>;
export type NumberField = Named<NumberSpec, NumericFieldName>;
export interface EnumField extends Named<Omit<EnumSpec<string>, 'values'>, EnumFieldName> {
  /** The allowed values, in the order a select control offers them. */
  values: readonly string[];
  /** Text of each value in a select control. */
  valueLabels: Readonly<Record<string, string>>;
}
export type NormalizationListField = Named<NormalizationListSpec, NormalizationFieldName>;

export type Field = IntegerField | NumberField | EnumField | NormalizationListField;

/** The table as a list in its order, each field with its name; an enum's values as a list beside their labels. */
export const FIELDS: readonly Field[] = Object.entries(FIELD_TABLE).map(([name, { default: _, ...spec }]): Field => {
  if (spec.kind === 'enum') {
    const { values, ...rest } = spec;
    return { ...rest, name: name as EnumFieldName, values: Object.keys(values), valueLabels: values };
  }
  return { ...spec, name } as Field;
});

/** Every field's default: what a link that omits the field means. */
export const DEFAULT_CONFIG: Config = Object.fromEntries(
  Object.entries(FIELD_TABLE).map(([name, spec]) => [name, Array.isArray(spec.default) ? [...spec.default] : spec.default]),
) as Config;
