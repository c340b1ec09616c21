import { describe, expect, it } from 'vitest';
import { NORMALIZATION_INFO, NORMALIZATIONS, type NormalizationOp } from '../../config/schema';
import { Activation } from './activation';
import { BatchNorm } from './batchNorm';
import { Dense } from './dense';
import { buildLayers, type LayerOptions } from './layers';
import { LayerNorm } from './layerNorm';
import { Noise } from './noise';

const OPTIONS: LayerOptions = { activation: 'sigmoid', epsilon: 1e-5, inferenceStatistics: 'population', movingAverageDecay: 0.99 };
const SIZES = [6, 5, 5, 5, 4];
const weights = () => SIZES.slice(1).map((fanOut, layer) => new Float32Array(SIZES[layer] * fanOut));

describe('buildLayers', () => {
  it('builds each hidden layer as dense, its normalization, the nonlinearity; the output as dense alone', () => {
    const layers = buildLayers('net', SIZES, ['none', 'batchnorm', 'noisy'], weights(), OPTIONS);
    const kinds = layers.map((ops) => ops.map((op) => op.constructor.name));
    expect(kinds).toEqual([
      [Dense.name, Activation.name],
      [Dense.name, BatchNorm.name, Activation.name],
      [Dense.name, BatchNorm.name, Noise.name, Activation.name],
      [Dense.name],
    ]);
    // Only the first layer reads the data (no input gradient, only the pixels in use).
    expect(layers.map((ops) => (ops[0] as Dense).readsData)).toEqual([true, false, false, false]);
  });

  it('lists parameters as the network always has: W then b, or W, gamma, beta where a normalization replaces the bias', () => {
    const layers = buildLayers('net', SIZES, ['none', 'batchnorm', 'layernorm'], weights(), OPTIONS);
    expect(layers.flat().flatMap((op) => op.parameters.map((p) => p.name))).toEqual([
      'net/hidden1/weights',
      'net/hidden1/bias',
      'net/hidden2/weights',
      'net/hidden2/gamma',
      'net/hidden2/beta',
      'net/hidden3/weights',
      'net/hidden3/gamma',
      'net/hidden3/beta',
      'net/output/weights',
      'net/output/bias',
    ]);
    expect(layers[2][1]).toBeInstanceOf(LayerNorm);
  });

  it('builds each normalization from the ops its schema entry names, around the nonlinearity as the entry places them', () => {
    const classOf: Record<NormalizationOp, string> = {
      batchNorm: BatchNorm.name,
      ghostBatchNorm: BatchNorm.name,
      layerNorm: LayerNorm.name,
      noise: Noise.name,
    };
    for (const normalization of NORMALIZATIONS) {
      const [hidden] = buildLayers('n', [3, 2, 2], [normalization], [new Float32Array(6), new Float32Array(4)], OPTIONS);
      const { before, after } = NORMALIZATION_INFO[normalization];
      expect(hidden.map((op) => op.constructor.name)).toEqual([
        Dense.name,
        ...before.map((op) => classOf[op]),
        Activation.name,
        ...after.map((op) => classOf[op]),
      ]);
    }
  });

  it('gives running statistics exactly to the normalizations the schema says use batch statistics', () => {
    for (const normalization of NORMALIZATIONS) {
      const [hidden] = buildLayers('n', [3, 2, 2], [normalization], [new Float32Array(6), new Float32Array(4)], OPTIONS);
      expect([normalization, hidden.some((op) => op.observe !== undefined)]).toEqual([normalization, NORMALIZATION_INFO[normalization].batchStatistics]);
    }
  });

  it('puts BN after the nonlinearity for batchnorm-after, the dense op keeping its bias: W, b, gamma, beta', () => {
    const [hidden] = buildLayers('net', [3, 2, 2], ['batchnorm-after'], [new Float32Array(6), new Float32Array(4)], OPTIONS);
    expect(hidden.map((op) => op.constructor.name)).toEqual([Dense.name, Activation.name, BatchNorm.name]);
    expect(hidden.flatMap((op) => op.parameters.map((p) => p.name))).toEqual([
      'net/hidden1/weights',
      'net/hidden1/bias',
      'net/hidden1/gamma',
      'net/hidden1/beta',
    ]);
  });

  it('gives the ghost batch size to ghost BN layers only', () => {
    const layers = buildLayers('net', [3, 4, 4, 2], ['batchnorm', 'ghost-batchnorm'], [new Float32Array(12), new Float32Array(16), new Float32Array(8)], {
      ...OPTIONS,
      ghostBatchSize: 2,
    });
    const [plain, ghost] = [layers[0][1], layers[1][1]].map((op) => op as BatchNorm);
    // Over 4 examples, a ghost layer normalizes each pair on its own; plain BN all 4 together.
    const x = Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 9, 9, 9, 9]);
    const params = [new Float32Array(4).fill(1), new Float32Array(4)];
    const outputs = [plain, ghost].map((op) => {
      op.firstParameter = 0;
      return op
        .forward(
          { m: 4, units: 4, tensor: null, array: x },
          { params, gradients: params.map((p) => new Float32Array(p.length)), noise: null, requireNoise: false },
        )
        .array!.slice();
    });
    expect(
      Array.from(
        outputs[1].filter((_, i) => i % 4 === 0),
        (v) => Math.round(v),
      ),
    ).toEqual([-1, 1, -1, 1]);
    expect(outputs[0][0]).toBeLessThan(-0.5);
    expect(outputs[0][8]).toBeLessThan(0);
  });
});
