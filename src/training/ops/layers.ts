/**
 * The ops of every layer, built from the spec: a hidden layer is dense, then its normalization's
 * ops, then the nonlinearity; the output layer is dense alone. Adding a normalization is one op
 * file and one entry here (the compiler asks for it when the schema gains the value).
 */
import type { Activation as ActivationName, InferenceStatistics, Normalization } from '../../config/schema';
import { Activation } from './activation';
import { BatchNorm } from './batchNorm';
import { Dense } from './dense';
import { LayerNorm } from './layerNorm';
import { Noise } from './noise';
import type { Op } from './op';

export interface LayerOptions {
  activation: ActivationName;
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  movingAverageDecay: number;
}

/** The ops a normalization puts between a hidden layer's dense op and its nonlinearity. */
const NORMALIZATION_OPS: Record<Normalization, (name: string, units: number, options: LayerOptions, layer: number) => Op[]> = {
  none: () => [],
  batchnorm: (name, units, options) => [new BatchNorm(name, units, options)],
  /** BN whose output gets the step's noise in training mode (noise.ts). */
  noisy: (name, units, options, layer) => [new BatchNorm(name, units, options), new Noise(`hidden layer ${layer + 1}`)],
  layernorm: (name, units, options) => [new LayerNorm(name, units, options.epsilon)],
};

/**
 * Every layer's ops, hidden layers first: `weights[l]` is layer l's W [sizes[l], sizes[l + 1]].
 * Parameter names are `<prefix>/hidden<l>/weights` and so on.
 */
export function buildLayers(prefix: string, sizes: readonly number[], normalization: readonly Normalization[], weights: readonly Float32Array[], options: LayerOptions): Op[][] {
  const hidden = normalization.map((kind, layer): Op[] => {
    const name = `${prefix}/hidden${layer + 1}`;
    const normalizing = NORMALIZATION_OPS[kind](name, sizes[layer + 1], options, layer);
    const hasBias = !normalizing.some((op) => op.replacesBias);
    return [new Dense(name, sizes[layer], sizes[layer + 1], weights[layer], hasBias, layer === 0), ...normalizing, new Activation(options.activation)];
  });
  const last = sizes.length - 2;
  return [...hidden, [new Dense(`${prefix}/output`, sizes[last], sizes[last + 1], weights[last], true, last === 0)]];
}
