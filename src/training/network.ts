/**
 * The fully connected network of the paper's MNIST experiment, with batch normalization optional
 * per hidden layer, trained by mini-batch SGD with momentum.
 *
 * The backward pass is written by hand rather than taken from tfjs's tape: on the wasm backend the
 * default gradients multiply with transposeA/transposeB flags, which run 9-12x slower than an
 * explicit transpose followed by a plain matMul, and they compute an input gradient for the first
 * layer that nobody needs. See ReferenceNetwork (reference.ts) for the same network through autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation, InferenceStatistics, Normalization } from '../config/schema';
import { batchNormBackward, batchNormGroups, batchNormInference, batchNormTraining, unbiasedVariance, type BatchNormTraining } from './batchNorm';
import { createGaussian, createRng, deriveSeed } from './rng';

export interface NetworkSpec {
  inputSize: number;
  outputSize: number;
  hiddenLayers: number;
  hiddenUnits: number;
  activation: Activation;
  /** One entry per hidden layer. */
  normalization: Normalization[];
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  movingAverageDecay: number;
}

/** Units of each layer, input first: [inputSize, hiddenUnits x hiddenLayers, outputSize]. */
export function layerSizes(spec: NetworkSpec): number[] {
  return [spec.inputSize, ...Array.from({ length: spec.hiddenLayers }, () => spec.hiddenUnits), spec.outputSize];
}

/**
 * Initial W of every layer (hidden..., output), row-major [fanIn, fanOut], drawn in a fixed order
 * from one seeded Gaussian stream times initSigma. It ignores the normalization so that both arms
 * of an experiment start from identical weights.
 */
export function initialWeights(spec: NetworkSpec, initSigma: number, seed: number): Float32Array[] {
  const gaussian = createGaussian(createRng(deriveSeed(seed, 0)));
  const sizes = layerSizes(spec);
  return sizes.slice(1).map((fanOut, layer) => {
    const weights = new Float32Array(sizes[layer] * fanOut);
    for (let i = 0; i < weights.length; i++) weights[i] = initSigma * gaussian();
    return weights;
  });
}

type HiddenLayer =
  | { normalization: 'none'; weights: tf.Variable<tf.Rank.R2>; bias: tf.Variable<tf.Rank.R1> }
  | {
      normalization: 'batchnorm';
      weights: tf.Variable<tf.Rank.R2>;
      gamma: tf.Variable<tf.Rank.R1>;
      beta: tf.Variable<tf.Rank.R1>;
      /**
       * What inference normalizes with: Algorithm 2's estimate under `population`, the moving
       * averages under `moving`. Before any estimate they are 0 and 1.
       */
      populationMean: tf.Variable<tf.Rank.R1>;
      populationVariance: tf.Variable<tf.Rank.R1>;
    };

/** What the training-mode forward pass keeps for the backward pass. */
interface TrainingForward {
  /** The input of each hidden layer and, last, of the output layer. */
  layerInputs: tf.Tensor2D[];
  /** Per hidden layer, the output of the nonlinearity (its derivative is cheapest from it). */
  activations: tf.Tensor2D[];
  batchNorms: (BatchNormTraining | null)[];
  logits: tf.Tensor2D;
}

/** Population statistics of one BN layer, as inference uses them. */
export interface PopulationStatistics {
  mean: Float32Array;
  variance: Float32Array;
}

export class Network {
  readonly spec: NetworkSpec;
  private readonly hidden: HiddenLayer[];
  private readonly outputWeights: tf.Variable<tf.Rank.R2>;
  private readonly outputBias: tf.Variable<tf.Rank.R1>;
  /** Trainable parameters in the order of parameters() and of every gradient list. */
  private readonly trainable: tf.Variable[];
  /** Created on the first step with momentum > 0; plain SGD never needs them. */
  private velocities: tf.Variable[] | null = null;

  constructor(spec: NetworkSpec, weights: Float32Array[], name: string) {
    const sizes = layerSizes(spec);
    if (spec.normalization.length !== spec.hiddenLayers) {
      throw new Error(`normalization lists ${spec.normalization.length} layers, the network has ${spec.hiddenLayers}`);
    }
    if (weights.length !== sizes.length - 1) {
      throw new Error(`expected ${sizes.length - 1} weight matrices, got ${weights.length}`);
    }
    weights.forEach((w, layer) => {
      if (w.length !== sizes[layer] * sizes[layer + 1]) {
        throw new Error(`weights of layer ${layer} have ${w.length} values, expected ${sizes[layer]} x ${sizes[layer + 1]}`);
      }
    });
    this.spec = spec;
    const units = spec.hiddenUnits;
    // A variable shares its initial tensor's data; the tidy disposes the initial tensor itself.
    const variable = (values: () => tf.Tensor, trainable: boolean, suffix: string) =>
      tf.tidy(() => tf.variable(values(), trainable, `${name}/${suffix}`));
    this.hidden = spec.normalization.map((normalization, layer): HiddenLayer => {
      const prefix = `hidden${layer + 1}`;
      const w = variable(() => tf.tensor2d(weights[layer], [sizes[layer], units]), true, `${prefix}/weights`) as tf.Variable<tf.Rank.R2>;
      const vector = (value: number, trainable: boolean, suffix: string) =>
        variable(() => tf.fill([units], value), trainable, `${prefix}/${suffix}`) as tf.Variable<tf.Rank.R1>;
      if (normalization === 'none') return { normalization, weights: w, bias: vector(0, true, 'bias') };
      return {
        normalization,
        weights: w,
        gamma: vector(1, true, 'gamma'),
        beta: vector(0, true, 'beta'),
        populationMean: vector(0, false, 'populationMean'),
        populationVariance: vector(1, false, 'populationVariance'),
      };
    });
    const last = sizes.length - 2;
    this.outputWeights = variable(
      () => tf.tensor2d(weights[last], [sizes[last], spec.outputSize]),
      true,
      'output/weights',
    ) as tf.Variable<tf.Rank.R2>;
    this.outputBias = variable(() => tf.zeros([spec.outputSize]), true, 'output/bias') as tf.Variable<tf.Rank.R1>;
    this.trainable = [
      ...this.hidden.flatMap((layer) =>
        layer.normalization === 'none' ? [layer.weights, layer.bias] : [layer.weights, layer.gamma, layer.beta],
      ),
      this.outputWeights,
      this.outputBias,
    ];
  }

  /** Trainable variables: per hidden layer W then b (or W, gamma, beta with BN), then the output W, b. */
  parameters(): readonly tf.Variable[] {
    return this.trainable;
  }

  /**
   * One SGD step on a mini-batch (x [m, inputSize], yOneHot [m, outputSize]). Returns the batch's
   * mean cross-entropy before the update; it may be NaN or Infinity once training diverges.
   */
  trainStep(x: tf.Tensor2D, yOneHot: tf.Tensor2D, learningRate: number, momentum: number): number {
    if (momentum !== 0 && this.velocities === null) {
      this.velocities = this.trainable.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false, `${p.name}/velocity`)));
    }
    return tf.tidy(() => {
      // Plain SGD takes its gradients already multiplied by the learning rate (folded into
      // dLoss/dlogits): one kernel less per parameter.
      const plainSgd = momentum === 0;
      const { loss, gradients, forward } = this.lossAndGradients(x, yOneHot, plainSgd ? learningRate : 1);
      this.trainable.forEach((p, i) => {
        if (plainSgd) {
          p.assign(tf.sub(p, gradients[i]));
          return;
        }
        const velocity = this.velocities![i];
        velocity.assign(tf.add(tf.mul(velocity, momentum), gradients[i]));
        p.assign(tf.sub(p, tf.mul(velocity, learningRate)));
      });
      if (this.spec.inferenceStatistics === 'moving') this.updateMovingAverages(forward.batchNorms, x.shape[0]);
      return loss.dataSync()[0];
    });
  }

  /**
   * Moves the moving averages toward x's batch statistics, as trainStep does before its update:
   * for training paths that update the parameters by other means (the autodiff reference).
   */
  observeBatchStatistics(x: tf.Tensor2D): void {
    if (this.spec.inferenceStatistics !== 'moving') return;
    tf.tidy(() => this.updateMovingAverages(this.trainingForward(x).batchNorms, x.shape[0]));
  }

  /** Loss and per-parameter gradients (ordered as parameters()), without updating anything. */
  gradients(x: tf.Tensor2D, yOneHot: tf.Tensor2D): { loss: number; gradients: Float32Array[] } {
    const result = tf.tidy(() => {
      const { loss, gradients } = this.lossAndGradients(x, yOneHot, 1);
      return { loss, gradients };
    });
    const read = { loss: result.loss.dataSync()[0], gradients: result.gradients.map((g) => g.dataSync() as Float32Array) };
    tf.dispose(result);
    return read;
  }

  /**
   * Forward pass. `training` normalizes with the batch's own statistics, `inference` with the
   * population (or moving) statistics. Returns the logits and, per hidden layer, the input to the
   * nonlinearity: Wx + b without BN, BN(Wx) = gamma * xhat + beta with it. The caller disposes them.
   */
  forward(x: tf.Tensor2D, mode: 'training' | 'inference'): { logits: tf.Tensor2D; nonlinearityInputs: tf.Tensor2D[] } {
    return tf.tidy(() => {
      const nonlinearityInputs: tf.Tensor2D[] = [];
      let h = x;
      for (const layer of this.hidden) {
        let nonlinearityInput: tf.Tensor2D;
        if (layer.normalization === 'none') {
          nonlinearityInput = dense(h, layer.weights, layer.bias, 'linear');
        } else {
          const wx = tf.matMul<tf.Tensor2D>(h, layer.weights);
          nonlinearityInput =
            mode === 'training'
              ? batchNormTraining(wx, layer.gamma, layer.beta, this.spec.epsilon).normalized
              : batchNormInference(wx, layer.gamma, layer.beta, layer.populationMean, layer.populationVariance, this.spec.epsilon);
        }
        nonlinearityInputs.push(nonlinearityInput);
        h = nonlinearity(this.spec.activation, nonlinearityInput);
      }
      const logits = dense(h, this.outputWeights, this.outputBias, 'linear');
      return { logits, nonlinearityInputs };
    });
  }

  /**
   * Algorithm 2, steps 9-10, with the network frozen: the population mean of each BN unit is the
   * mean of the batch means over these training mini-batches, the population variance
   * m/(m-1) x the mean of their biased batch variances. All batches must have the same size m.
   * Does nothing under `moving` statistics (the moving averages, kept by trainStep, are what
   * inference uses then) or without BN layers, so a caller may call it for every network.
   */
  estimatePopulationStatistics(batches: tf.Tensor2D[]): void {
    if (batches.length === 0) throw new Error('population statistics need at least one mini-batch');
    const m = batches[0].shape[0];
    if (m < 2) throw new Error('population variance needs mini-batches of at least 2 examples');
    if (batches.some((b) => b.shape[0] !== m)) throw new Error('population statistics need mini-batches of one size m');
    if (this.spec.inferenceStatistics === 'moving' || this.hidden.every((l) => l.normalization === 'none')) return;
    tf.tidy(() => {
      // All mini-batches in one forward pass, each normalized with its own statistics.
      let h = tf.concat2d(batches, 0);
      for (const layer of this.hidden) {
        if (layer.normalization === 'none') {
          h = nonlinearity(this.spec.activation, dense(h, layer.weights, layer.bias, 'linear'));
          continue;
        }
        const bn = batchNormGroups(tf.matMul<tf.Tensor2D>(h, layer.weights), batches.length, layer.gamma, layer.beta, this.spec.epsilon);
        layer.populationMean.assign(tf.mean(bn.batchMeans, 0));
        layer.populationVariance.assign(unbiasedVariance(tf.mean(bn.batchVariances, 0) as tf.Tensor1D, m));
        h = nonlinearity(this.spec.activation, bn.normalized);
      }
    });
  }

  /** Per hidden layer, the statistics inference normalizes with (null for layers without BN). */
  populationStatistics(): (PopulationStatistics | null)[] {
    return this.hidden.map((layer) =>
      layer.normalization === 'none'
        ? null
        : {
            mean: layer.populationMean.dataSync() as Float32Array,
            variance: layer.populationVariance.dataSync() as Float32Array,
          },
    );
  }

  dispose(): void {
    tf.dispose(this.trainable);
    for (const layer of this.hidden) {
      if (layer.normalization === 'batchnorm') tf.dispose([layer.populationMean, layer.populationVariance]);
    }
    if (this.velocities) tf.dispose(this.velocities);
    this.velocities = null;
  }

  /** Must run inside a tf.tidy. */
  private trainingForward(x: tf.Tensor2D): TrainingForward {
    const layerInputs: tf.Tensor2D[] = [];
    const activations: tf.Tensor2D[] = [];
    const batchNorms: (BatchNormTraining | null)[] = [];
    const fusedActivation = FUSED_ACTIVATION[this.spec.activation];
    let h = x;
    for (const layer of this.hidden) {
      layerInputs.push(h);
      if (layer.normalization === 'none') {
        // Bias and (where wasm can) the nonlinearity run inside the matMul kernel.
        const z = dense(h, layer.weights, layer.bias, fusedActivation);
        h = fusedActivation === 'linear' ? nonlinearity(this.spec.activation, z) : z;
        batchNorms.push(null);
      } else {
        const bn = batchNormTraining(tf.matMul<tf.Tensor2D>(h, layer.weights), layer.gamma, layer.beta, this.spec.epsilon);
        h = nonlinearity(this.spec.activation, bn.normalized);
        batchNorms.push(bn);
      }
      activations.push(h);
    }
    layerInputs.push(h);
    const logits = dense(h, this.outputWeights, this.outputBias, 'linear');
    return { layerInputs, activations, batchNorms, logits };
  }

  /**
   * Mean softmax cross-entropy and its gradients times `gradientScale`, backpropagated by hand.
   * Must run inside a tf.tidy.
   */
  private lossAndGradients(
    x: tf.Tensor2D,
    yOneHot: tf.Tensor2D,
    gradientScale: number,
  ): { loss: tf.Scalar; gradients: tf.Tensor[]; forward: TrainingForward } {
    const m = x.shape[0];
    const forward = this.trainingForward(x);
    const { layerInputs, activations, batchNorms, logits } = forward;
    const shifted = tf.sub(logits, tf.max(logits, 1, true));
    const logSoftmax = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
    const loss = tf.mul(tf.sum(tf.mul(yOneHot, logSoftmax)), -1 / m) as tf.Scalar;

    // d(mean cross-entropy)/d(logits) = (softmax - y) / m; every later gradient is linear in it.
    const dLogits = tf.mul(tf.sub(tf.exp(logSoftmax), yOneHot), gradientScale / m) as tf.Tensor2D;
    const gradientsByLayer: tf.Tensor[][] = [];
    gradientsByLayer[this.hidden.length] = [
      tf.matMul<tf.Tensor2D>(tf.transpose(layerInputs[this.hidden.length]), dLogits),
      tf.sum(dLogits, 0),
    ];
    let dActivation = tf.matMul<tf.Tensor2D>(dLogits, tf.transpose(this.outputWeights));
    for (let index = this.hidden.length - 1; index >= 0; index--) {
      const layer = this.hidden[index];
      const dNonlinearityInput = nonlinearityBackward(this.spec.activation, dActivation, activations[index]);
      let dWx: tf.Tensor2D;
      if (layer.normalization === 'none') {
        dWx = dNonlinearityInput;
        gradientsByLayer[index] = [tf.matMul<tf.Tensor2D>(tf.transpose(layerInputs[index]), dWx), tf.sum(dWx, 0)];
      } else {
        const bn = batchNormBackward(dNonlinearityInput, batchNorms[index]!, layer.gamma);
        dWx = bn.dx;
        gradientsByLayer[index] = [tf.matMul<tf.Tensor2D>(tf.transpose(layerInputs[index]), dWx), bn.dGamma, bn.dBeta];
      }
      // The first layer's input is the data: its gradient is never needed.
      if (index > 0) dActivation = tf.matMul<tf.Tensor2D>(dWx, tf.transpose(layer.weights));
    }
    return { loss, gradients: gradientsByLayer.flat(), forward };
  }

  /** Moving averages of the batch mean and the unbiased batch variance. Must run inside a tf.tidy. */
  private updateMovingAverages(batchNorms: (BatchNormTraining | null)[], m: number): void {
    const decay = this.spec.movingAverageDecay;
    this.hidden.forEach((layer, index) => {
      const bn = batchNorms[index];
      if (layer.normalization === 'none' || bn === null) return;
      layer.populationMean.assign(tf.add(tf.mul(layer.populationMean, decay), tf.mul(bn.batchMean, 1 - decay)));
      layer.populationVariance.assign(
        tf.add(tf.mul(layer.populationVariance, decay), tf.mul(unbiasedVariance(bn.batchVariance, m), 1 - decay)),
      );
    });
  }
}

/** x W + b, and the activation where wasm fuses it, in one matMul kernel. */
function dense(x: tf.Tensor2D, weights: tf.Tensor2D, bias: tf.Tensor1D, activation: FusedActivation): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: weights, bias, activation }) as tf.Tensor2D;
}

type FusedActivation = 'sigmoid' | 'relu' | 'linear';

/** The activations wasm can fuse into a matMul kernel; tanh is not among them. */
const FUSED_ACTIVATION: Record<Activation, FusedActivation> = {
  sigmoid: 'sigmoid',
  relu: 'relu',
  tanh: 'linear',
};

export function nonlinearity(activation: Activation, x: tf.Tensor2D): tf.Tensor2D {
  switch (activation) {
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
  }
}

/** dLoss/d(input of the nonlinearity) from dLoss/d(output) and the output z itself. */
function nonlinearityBackward(activation: Activation, dOutput: tf.Tensor2D, z: tf.Tensor2D): tf.Tensor2D {
  switch (activation) {
    case 'sigmoid':
      return tf.mul<tf.Tensor2D>(dOutput, tf.mul(z, tf.sub(1, z)));
    case 'tanh':
      return tf.mul<tf.Tensor2D>(dOutput, tf.sub(1, tf.square(z)));
    case 'relu':
      return tf.mul<tf.Tensor2D>(dOutput, tf.step(z));
  }
}
