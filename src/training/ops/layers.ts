/**
 * The ops of every layer, built from the spec: a hidden layer is dense, then its normalization's
 * ops before the nonlinearity, the nonlinearity, then its ops after it; the output layer is dense
 * alone. Adding a normalization is one op file and one entry here (the compiler asks for it when
 * the schema gains the value).
 */
import type { Activation as ActivationName, InferenceStatistics, Normalization } from '../../config/schema';
import { Activation } from './activation';
import { BatchNorm, type BatchNormOptions } from './batchNorm';
import { Dense } from './dense';
import { LayerNorm } from './layerNorm';
import { Noise } from './noise';
import type { Op } from './op';

export interface LayerOptions {
  activation: ActivationName;
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  movingAverageDecay: number;
  /** Ghost BN's virtual batch size; 0 or absent: the whole mini-batch. */
  ghostBatchSize?: number;
}

/** The ops a normalization puts between a hidden layer's dense op and its nonlinearity (`before`), and after the nonlinearity (`after`). */
interface NormalizationOps {
  before: Op[];
  after: Op[];
}

/** BN's options; only ghost BN takes the virtual batch size. */
function batchNormOptions(options: LayerOptions, ghostBatchSize = 0): BatchNormOptions {
  return { epsilon: options.epsilon, inferenceStatistics: options.inferenceStatistics, movingAverageDecay: options.movingAverageDecay, ghostBatchSize };
}

const NORMALIZATION_OPS: Record<Normalization, (name: string, units: number, options: LayerOptions, layer: number) => NormalizationOps> = {
  none: () => ({ before: [], after: [] }),
  batchnorm: (name, units, options) => ({ before: [new BatchNorm(name, units, batchNormOptions(options))], after: [] }),
  /** BN whose output gets the step's noise in training mode (noise.ts). */
  noisy: (name, units, options, layer) => ({
    before: [new BatchNorm(name, units, batchNormOptions(options)), new Noise(`hidden layer ${layer + 1}`)],
    after: [],
  }),
  layernorm: (name, units, options) => ({ before: [new LayerNorm(name, units, options.epsilon)], after: [] }),
  /** BN(g(Wx + b)): the dense op keeps its bias, and the next layer reads BN's output. */
  'batchnorm-after': (name, units, options) => ({ before: [], after: [new BatchNorm(name, units, batchNormOptions(options))] }),
  'ghost-batchnorm': (name, units, options) => ({ before: [new BatchNorm(name, units, batchNormOptions(options, options.ghostBatchSize))], after: [] }),
  /** The noisy BN of older links: the same ops, its noise drawn otherwise (noise.ts). */
  'noisy-shared': (name, units, options, layer) => ({
    before: [new BatchNorm(name, units, batchNormOptions(options)), new Noise(`hidden layer ${layer + 1}`)],
    after: [],
  }),
};

/**
 * Every layer's ops, hidden layers first: `weights[l]` is layer l's W [sizes[l], sizes[l + 1]].
 * Parameter names are `<prefix>/hidden<l>/weights` and so on.
 */
export function buildLayers(
  prefix: string,
  sizes: readonly number[],
  normalization: readonly Normalization[],
  weights: readonly Float32Array[],
  options: LayerOptions,
): Op[][] {
  const hidden = normalization.map((kind, layer): Op[] => {
    const name = `${prefix}/hidden${layer + 1}`;
    const { before, after } = NORMALIZATION_OPS[kind](name, sizes[layer + 1], options, layer);
    const hasBias = !before.some((op) => op.replacesBias);
    return [new Dense(name, sizes[layer], sizes[layer + 1], weights[layer], hasBias, layer === 0), ...before, new Activation(options.activation), ...after];
  });
  const last = sizes.length - 2;
  return [...hidden, [new Dense(`${prefix}/output`, sizes[last], sizes[last + 1], weights[last], true, last === 0)]];
}
