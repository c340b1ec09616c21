/**
 * The same network as Network (network.ts), written the obvious way: the forward pass in tfjs ops,
 * gradients from tfjs autodiff, the update from tfjs's MomentumOptimizer. It shares no math with Network,
 * so the tests can check one against the other, and it is the benchmark's "naive reference".
 * Training mode only: it has no inference statistics. Noisy BN layers take the step's noise from
 * the caller (drawNoise), as Network does, so both see the same noise at the same step.
 */
import * as tf from '@tensorflow/tfjs';
import { layerSizes, nonlinearity, type Network, type NetworkSpec } from './network';
import type { LayerNoise } from './noise';

/** tfjs 4.22's MomentumOptimizer.dispose forgets its SGD base's learning-rate scalar. */
class MomentumOptimizer extends tf.MomentumOptimizer {
  override dispose(): void {
    super.dispose();
    this.c.dispose();
  }
}

/** A trainable variable; the tidy disposes the initial tensor, whose data the variable keeps. */
function variable(initialValue: () => tf.Tensor, name: string): tf.Variable {
  return tf.tidy(() => tf.variable(initialValue(), true, name));
}

interface ReferenceLayer {
  weights: tf.Variable;
  /** The bias without BN, beta with it (BN drops the bias). */
  bias: tf.Variable;
  gamma: tf.Variable | null;
}

export class ReferenceNetwork {
  readonly spec: NetworkSpec;
  private readonly layers: ReferenceLayer[];
  private readonly trainable: tf.Variable[];
  /** False when training another network's variables, which that network disposes. */
  private readonly ownsVariables: boolean;
  private optimizer: MomentumOptimizer | null = null;
  private optimizerMomentum = 0;

  /**
   * Trains `network`'s own variables (its parameters() order: W, b or W, gamma, beta per layer)
   * by autodiff: the trainer's "tfjs autodiff" gradients, with the network still measuring.
   */
  static sharing(network: Network): ReferenceNetwork {
    return new ReferenceNetwork(network.spec, network.parameters(), '');
  }

  constructor(spec: NetworkSpec, weights: Float32Array[] | readonly tf.Variable[], name: string) {
    this.spec = spec;
    const sizes = layerSizes(spec);
    this.ownsVariables = weights[0] instanceof Float32Array;
    if (!this.ownsVariables) {
      const shared = [...(weights as readonly tf.Variable[])];
      this.layers = sizes.slice(1).map((_, layer) => {
        const normalized = layer < spec.hiddenLayers && spec.normalization[layer] !== 'none';
        const [w, first, second] = shared.splice(0, normalized ? 3 : 2);
        return normalized ? { weights: w, gamma: first, bias: second } : { weights: w, bias: first, gamma: null };
      });
      this.trainable = [...(weights as readonly tf.Variable[])];
      return;
    }
    const initial = weights as Float32Array[];
    this.layers = sizes.slice(1).map((fanOut, layer) => {
      const normalized = layer < spec.hiddenLayers && spec.normalization[layer] !== 'none';
      const prefix = `${name}/layer${layer + 1}`;
      return {
        weights: variable(() => tf.tensor2d(initial[layer], [sizes[layer], fanOut]), `${prefix}/weights`),
        bias: variable(() => tf.zeros([fanOut]), `${prefix}/${normalized ? 'beta' : 'bias'}`),
        gamma: normalized ? variable(() => tf.ones([fanOut]), `${prefix}/gamma`) : null,
      };
    });
    // Network.parameters() order: W, then b or (gamma, beta), per layer.
    this.trainable = this.layers.flatMap((l) => (l.gamma ? [l.weights, l.gamma, l.bias] : [l.weights, l.bias]));
  }

  parameters(): readonly tf.Variable[] {
    return this.trainable;
  }

  /**
   * Mean softmax cross-entropy of the batch, BN layers normalizing with the batch's own statistics
   * and noisy ones then applying their entry of `noise` (required for them).
   */
  loss(x: tf.Tensor2D, yOneHot: tf.Tensor2D, noise: readonly (LayerNoise | null)[] = []): tf.Scalar {
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      this.layers.forEach((layer, index) => {
        const wx = tf.matMul(h, layer.weights as tf.Tensor2D);
        if (index === this.layers.length - 1) {
          h = tf.add(wx, layer.bias);
          return;
        }
        let nonlinearityInput: tf.Tensor2D;
        if (layer.gamma) {
          const { mean, variance } = tf.moments(wx, 0);
          const xhat = tf.div(tf.sub(wx, mean), tf.sqrt(tf.add(variance, this.spec.epsilon)));
          nonlinearityInput = tf.add(tf.mul(xhat, layer.gamma), layer.bias);
          if (this.spec.normalization[index] === 'noisy') {
            const layerNoise = noise[index];
            if (!layerNoise) throw new Error(`hidden layer ${index + 1} is noisy BN: a training step needs its noise`);
            nonlinearityInput = tf.add(tf.mul(nonlinearityInput, tf.tensor1d(layerNoise.scale)), tf.tensor1d(layerNoise.shift));
          }
        } else {
          nonlinearityInput = tf.add(wx, layer.bias);
        }
        h = nonlinearity(this.spec.activation, nonlinearityInput);
      });
      return tf.losses.softmaxCrossEntropy(yOneHot, h) as tf.Scalar;
    });
  }

  /** One SGD step through tfjs's MomentumOptimizer (momentum 0 is plain SGD); returns the batch's loss. */
  trainStep(x: tf.Tensor2D, yOneHot: tf.Tensor2D, learningRate: number, momentum: number, noise: readonly (LayerNoise | null)[] = []): number {
    // tfjs's setMomentum does not reach the scalar the update uses: a new momentum needs a new optimizer.
    if (this.optimizer === null || momentum !== this.optimizerMomentum) {
      this.optimizer?.dispose();
      this.optimizer = new MomentumOptimizer(learningRate, momentum);
      this.optimizerMomentum = momentum;
    }
    this.optimizer.setLearningRate(learningRate);
    const loss = this.optimizer.minimize(() => this.loss(x, yOneHot, noise), true, this.trainable)!;
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  /** Loss and gradients by autodiff, ordered as parameters(). */
  gradients(x: tf.Tensor2D, yOneHot: tf.Tensor2D, noise: readonly (LayerNoise | null)[] = []): { loss: number; gradients: Float32Array[] } {
    const { value, grads } = tf.variableGrads(() => this.loss(x, yOneHot, noise), this.trainable);
    const read = {
      loss: value.dataSync()[0],
      gradients: this.trainable.map((v) => grads[v.name].dataSync() as Float32Array),
    };
    tf.dispose([value, ...Object.values(grads)]);
    return read;
  }

  dispose(): void {
    if (this.ownsVariables) tf.dispose(this.trainable);
    this.optimizer?.dispose();
  }
}
