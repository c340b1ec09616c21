/**
 * The ops of every layer, built from the spec: a hidden layer is dense, then its normalization's
 * ops before the nonlinearity, the nonlinearity, then its ops after it; the output layer is dense
 * alone. Which ops a normalization has is its entry in the schema's normalization table
 * (src/config/fields.ts); this file knows how to build each op name that table may use, and the
 * compiler asks for a builder of every one. So a normalization made of existing ops is one entry
 * of that table, and a new op is its op file, its name there and its builder here.
 */
import { type Activation as ActivationName, type InferenceStatistics, NORMALIZATION_INFO, type Normalization, type NormalizationOp } from '../../config/schema';
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

/** BN's options; only ghost BN takes the virtual batch size. */
function batchNormOptions(options: LayerOptions, ghostBatchSize = 0): BatchNormOptions {
  return { epsilon: options.epsilon, inferenceStatistics: options.inferenceStatistics, movingAverageDecay: options.movingAverageDecay, ghostBatchSize };
}

/** An op of hidden layer `layer` (from 0), whose parameters are named `<name>/gamma` and so on. */
type OpBuilder = (name: string, units: number, options: LayerOptions, layer: number) => Op;

const OP_BUILDERS = {
  batchNorm: (name, units, options) => new BatchNorm(name, units, batchNormOptions(options)),
  ghostBatchNorm: (name, units, options) => new BatchNorm(name, units, batchNormOptions(options, options.ghostBatchSize)),
  layerNorm: (name, units, options) => new LayerNorm(name, units, options.epsilon),
  noise: (_name, _units, _options, layer) => new Noise(`hidden layer ${layer + 1}`),
} satisfies Record<NormalizationOp, OpBuilder>;

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
    const build = (op: NormalizationOp): Op => OP_BUILDERS[op](name, sizes[layer + 1], options, layer);
    const before = NORMALIZATION_INFO[kind].before.map(build);
    const after = NORMALIZATION_INFO[kind].after.map(build);
    const hasBias = !before.some((op) => op.replacesBias);
    return [new Dense(name, sizes[layer], sizes[layer + 1], weights[layer], hasBias, layer === 0), ...before, new Activation(options.activation), ...after];
  });
  const last = sizes.length - 2;
  return [...hidden, [new Dense(`${prefix}/output`, sizes[last], sizes[last + 1], weights[last], true, last === 0)]];
}
