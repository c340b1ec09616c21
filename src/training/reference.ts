/**
 * The same network as Network (network.ts), differentiated the obvious way: every op's tfjs
 * forward pass (forwardTensor, training mode) composed in the same layers, gradients from tfjs
 * autodiff. It shares the ops' structure (a layer normalizes as its ops say) but none of the
 * hand-written backward passes, so the tests can check one against the other, and it is the
 * benchmark's "naive reference". Training mode only: it has no inference statistics. Noisy BN
 * layers take the step's noise from the caller (drawNoise), as Network does, so both see the
 * same noise at the same step. The update is the same MomentumSgd (optimizer.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { layerSizes, type Network, type NetworkSpec } from './network';
import type { LayerNoise } from './noise';
import { buildLayers } from './ops/layers';
import type { Op, Parameter } from './ops/op';
import { MomentumSgd } from './optimizer';

export class ReferenceNetwork {
  readonly spec: NetworkSpec;
  private readonly layers: Op[][];
  private readonly trainable: readonly Parameter[];
  /** Its own velocities: with autodiff gradients the arm's optimizer is this one, not the network's. */
  readonly optimizer = new MomentumSgd();

  /**
   * Trains `network`'s own parameters (its parameters() arrays) by autodiff: the trainer's "tfjs
   * autodiff" gradients, with the network still measuring.
   */
  static sharing(network: Network): ReferenceNetwork {
    return new ReferenceNetwork(network.spec, network.parameters(), '');
  }

  /** From initial weights (as Network takes them), or sharing another network's parameters. */
  constructor(spec: NetworkSpec, weights: Float32Array[] | readonly Parameter[], name: string) {
    this.spec = spec;
    const shared = weights[0] instanceof Float32Array ? null : (weights as readonly Parameter[]);
    const sizes = layerSizes(spec);
    const initial = shared ? sizes.slice(1).map((fanOut, layer) => new Float32Array(sizes[layer] * fanOut)) : (weights as Float32Array[]);
    this.layers = buildLayers(name || 'reference', sizes, spec.normalization, initial, spec);
    const own: Parameter[] = [];
    for (const op of this.layers.flat()) {
      op.firstParameter = own.length;
      own.push(...op.parameters);
    }
    if (shared && (shared.length !== own.length || shared.some((p, i) => p.values.length !== own[i].values.length))) {
      throw new Error('the shared parameters do not match the reference network');
    }
    this.trainable = shared ?? own;
  }

  parameters(): readonly Parameter[] {
    return this.trainable;
  }

  /**
   * Mean softmax cross-entropy of the batch at `params` (tensors in parameters() order), every
   * normalization op normalizing with the batch's own statistics and noisy ones then applying
   * their entry of `noise` (required for them).
   */
  loss(x: tf.Tensor2D, yOneHot: tf.Tensor2D, noise: readonly (LayerNoise | null)[], params: readonly tf.Tensor[]): tf.Scalar {
    let h: tf.Tensor2D = x;
    this.layers.forEach((ops, layer) => {
      const mode = { training: true, noise: noise[layer] ?? null, requireNoise: true };
      for (const op of ops) h = op.forwardTensor(h, params.slice(op.firstParameter, op.firstParameter + op.parameters.length), mode);
    });
    return tf.losses.softmaxCrossEntropy(yOneHot, h) as tf.Scalar;
  }

  /** One step of the same SGD with momentum as Network's (momentum 0 is plain SGD); returns the batch's loss. */
  trainStep(x: tf.Tensor2D, yOneHot: tf.Tensor2D, learningRate: number, momentum: number, noise: readonly (LayerNoise | null)[] = []): number {
    const { loss, gradients } = this.gradients(x, yOneHot, noise);
    this.optimizer.update(
      this.trainable.map((p) => p.values),
      gradients,
      this.trainable.map((p) => p.shape),
      learningRate,
      momentum,
    );
    return loss;
  }

  /** Loss and gradients by autodiff at the parameters' current values, ordered as parameters(). */
  gradients(x: tf.Tensor2D, yOneHot: tf.Tensor2D, noise: readonly (LayerNoise | null)[] = []): { loss: number; gradients: Float32Array[] } {
    let read: { loss: number; gradients: Float32Array[] } | undefined;
    tf.tidy(() => {
      const params = this.trainable.map((p) => tf.tensor(p.values, p.shape as number[]));
      const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => this.loss(x, yOneHot, noise, ps))(params);
      read = { loss: value.dataSync()[0], gradients: grads.map((g) => g.dataSync() as Float32Array) };
    });
    return read!;
  }

  /** Nothing of the reference lives in tfjs between calls. */
  dispose(): void {}
}
