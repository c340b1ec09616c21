/**
 * Named experiments, each a link: picking one is the same as opening its query, so a preset can
 * be shared, bookmarked and edited like any other run. Presets are computed from DEFAULT_CONFIG
 * (a learning rate 10x the default, not a number written here) so they stay true when the
 * defaults are tuned.
 */
import { DEFAULT_CONFIG, FIELDS, formatValue, validateConfig, type Config } from './schema';
import { parse, serialize } from './url';

export interface Preset {
  id: string;
  title: string;
  description: string;
  /** Query string without "?", as url.serialize writes it. */
  query: string;
}

/** Validated, so a multiple of a tuned default is clamped to the field's bounds rather than written out of range. */
function preset(id: string, title: string, description: string, changes: Partial<Config>): Preset {
  return { id, title, description, query: serialize(validateConfig({ ...DEFAULT_CONFIG, ...changes }).config) };
}

/**
 * The saturation preset's init scale relative to the default: at 10x (sigma 1) the first layer's
 * sigmoid inputs start with a spread of about 10, mostly in the flat tails beyond +-4.
 */
const SATURATING_INIT_FACTOR = 10;

/** The small-batches preset's virtual batch: a divisor of the default batch size, a handful of examples. */
const SMALL_GHOST_BATCH = 4;

export const PRESETS: readonly Preset[] = [
  preset(
    'paper-figure-1',
    'Paper, Figure 1',
    'Three hidden layers of 100 sigmoids, batches of 60, 50,000 steps: the network without BN against the same network with BN on every layer.',
    {},
  ),
  preset(
    'learning-rate-10x',
    'A learning rate 10x higher',
    'BN is claimed to allow much higher learning rates: the plain network may stall or diverge where the BN network still trains.',
    { learningRate: DEFAULT_CONFIG.learningRate * 10 },
  ),
  preset(
    'large-init-saturation',
    'Larger init: the sigmoids saturate',
    'Wider initial weights push the inputs of the sigmoids into their flat tails, where gradients vanish; BN pulls them back to where the sigmoid bends.',
    { initSigma: DEFAULT_CONFIG.initSigma * SATURATING_INIT_FACTOR },
  ),
  preset(
    'bn-last-layer-only',
    'BN on the last hidden layer only',
    'Arm B normalizes only the layer whose distribution Figure 1 plots, to separate what BN does there from what it does below.',
    { normalizationB: DEFAULT_CONFIG.normalizationB.map((_, index, layers) => (index === layers.length - 1 ? 'batchnorm' : 'none')) },
  ),
  // BN against noisy BN rather than plain against noisy BN: the claim is that the noise leaves BN's
  // speed intact, which shows best as two nearly equal accuracy curves beside two very different
  // input distributions and shifts. The plain network's slower curve is the next preset's.
  preset(
    'santurkar-noisy-bn',
    'Santurkar et al.: is it the shift?',
    "Arm A has BN on every layer, arm B the same BN followed by noise that shifts each layer's input distribution at every step (Santurkar et al. 2018): if BN helped by removing that shift, arm B would fall back to the plain network's pace. Their panel, at the foot of the page, measures the shift and the loss landscape of both.",
    {
      normalizationA: DEFAULT_CONFIG.normalizationB.map(() => 'batchnorm'),
      normalizationB: DEFAULT_CONFIG.normalizationB.map(() => 'noisy'),
    },
  ),
  preset(
    'santurkar-plain-vs-noisy',
    'Santurkar et al.: plain net against noisy BN',
    "Arm A is the plain network, arm B noisy BN on every layer (Santurkar et al. 2018): the noise moves arm B's input distributions at every step, far more than the plain network's drift, yet arm B learns at BN's pace, not the plain network's.",
    {
      normalizationA: DEFAULT_CONFIG.normalizationB.map(() => 'none'),
      normalizationB: DEFAULT_CONFIG.normalizationB.map(() => 'noisy'),
    },
  ),
  preset(
    'layernorm-vs-bn',
    'LayerNorm against BN',
    "Arm A normalizes each example over its own layer's units (LayerNorm, Ba et al. 2016), arm B each unit over the mini-batch (BN): LayerNorm has no batch statistics, so training and inference compute the same thing.",
    {
      normalizationA: DEFAULT_CONFIG.normalizationB.map(() => 'layernorm'),
      normalizationB: DEFAULT_CONFIG.normalizationB.map(() => 'batchnorm'),
    },
  ),
  preset(
    'bn-before-after',
    'BN before or after the nonlinearity',
    "Arm A normalizes the input to each nonlinearity as the paper does, g(BN(Wx)); arm B normalizes each nonlinearity's output, BN(g(Wx + b)), as many practitioners do, so its sigmoids' inputs are no longer normalized.",
    {
      normalizationA: DEFAULT_CONFIG.normalizationB.map(() => 'batchnorm'),
      normalizationB: DEFAULT_CONFIG.normalizationB.map(() => 'batchnorm-after'),
    },
  ),
  // Ghost batches inside the default mini-batch rather than a smaller batch size: both arms then
  // take the same gradient steps on the same digits, and only where BN's statistics come from differs.
  preset(
    'small-batches-ghost-bn',
    'Small batches: BN against ghost BN',
    `Arm A normalizes with the statistics of the whole mini-batch, arm B (ghost BN, Hoffer et al. 2017) with those of each ${SMALL_GHOST_BATCH} examples inside it: BN on small batches, whose statistics are noisy and differ from the population's that inference uses.`,
    {
      normalizationA: DEFAULT_CONFIG.normalizationB.map(() => 'batchnorm'),
      normalizationB: DEFAULT_CONFIG.normalizationB.map(() => 'ghost-batchnorm'),
      ghostBatchSize: SMALL_GHOST_BATCH,
    },
  ),
];

/**
 * Whether `config` runs the preset's experiment. Display fields (which distribution, the loss
 * scale) do not count: changing the view does not change what was trained.
 */
export function matchesPreset(preset: Preset, config: Config): boolean {
  const presetConfig = parse(preset.query).config;
  return FIELDS.every((field) => !field.restartsRun || formatValue(field, presetConfig[field.name]) === formatValue(field, config[field.name]));
}
