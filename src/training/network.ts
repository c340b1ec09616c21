/**
 * The fully connected network of the paper's MNIST experiment, with batch normalization optional
 * per hidden layer, trained by mini-batch SGD with momentum.
 *
 * The backward pass is written by hand rather than taken from tfjs's tape: on the wasm backend the
 * default gradients multiply with transposeA/transposeB flags, which run 9-12x slower than plain
 * matMuls, and they compute an input gradient for the first layer that nobody needs. See
 * ReferenceNetwork (reference.ts) for the same network through autodiff.
 *
 * A training step keeps in tfjs only the matMuls, the nonlinearity and the updates of the weight
 * matrices; BN, softmax cross-entropy and the per-unit vectors (bias, gamma, beta) and their
 * updates run in plain JS on the [m x units] mini-batch, where a few passes over 6,000 values
 * replace ~20 small kernels per BN layer. (The nonlinearity stays in tfjs: Math.exp over the batch
 * costs more than the kernel.) The matMuls and the packing of their right operand, which XNNPACK
 * redoes for every new tensor (~3 ns a value), dominate the step; each product is therefore ordered
 * so that the packed operand is the small one: W dA^T rather than dA W^T.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation, InferenceStatistics, Normalization } from '../config/schema';
import {
  batchNormArrays,
  batchNormBackward,
  batchNormGroups,
  batchNormInference,
  batchNormTraining,
  batchNormTrainingArrays,
  unbiasedVariance,
  type BatchNormArrays,
  type BatchNormGradients,
} from './batchNorm';
import { peek, peeksInPlace, readInto } from './backend';
import { applyNoise, type LayerNoise } from './noise';
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
      /** `noisy` is BN whose output gets the step's noise in training mode (noise.ts). */
      normalization: 'batchnorm' | 'noisy';
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
  /** Per hidden layer, the output of the nonlinearity (its derivative is cheapest from it); these arrays and the others are the StepBuffers, valid until the next step. */
  activations: Float32Array[];
  batchNorms: (BatchNormArrays | null)[];
  /** The noise applied after each noisy BN layer (null elsewhere): its scale multiplies the gradient. */
  noise: (LayerNoise | null)[];
  logits: Float32Array;
  firstLayer: FirstLayerInput;
}

/**
 * A mini-batch's input on only the pixels that are non-zero in some example. A pixel that is 0
 * throughout adds nothing to Wx and gets a zero gradient, and in an MNIST mini-batch of 60 about
 * 37% of the 784 pixels are (the borders), so leaving them out spares that share of the step's
 * largest products (x W and x^T dWx) and of the weights XNNPACK packs for them. The trainer
 * builds it from where each digit's ink is (data.ts, fillCompactBatch); from a dense x, trainStep
 * finds the pixels itself.
 */
export interface CompactInput {
  /** Examples in the mini-batch. */
  m: number;
  /** The width of the full input (784). */
  inputSize: number;
  /** The pixels in use, ascending; x and xT have a column (row) for each. */
  pixels: Int32Array;
  /** [m, pixels.length] and its transpose [pixels.length, m], row-major. */
  x: Float32Array;
  xT: Float32Array;
}

/** A training mini-batch's input: dense [m, inputSize], or on the pixels in use. */
export type TrainingInput = tf.Tensor2D | CompactInput;

const examplesIn = (x: TrainingInput): number => (x instanceof tf.Tensor ? x.shape[0] : x.m);

/** The first layer's input as its two large products see it (CompactInput) and W on the same pixels. */
interface FirstLayerInput {
  /** x [m, kept], x^T [kept, m] and W's rows for the kept pixels [kept, fanOut]. */
  x: tf.Tensor2D;
  xT: tf.Tensor2D;
  weights: tf.Tensor2D;
  /** The kept pixels' indices ([kept, 1], int32), or null when all are kept (x and weights are then the network's own). */
  kept: tf.Tensor2D | null;
}

/**
 * Leave out the always-zero pixels only when at least this share of them is: gathering costs a
 * fixed ~0.1 ms a step, which smaller savings would not pay for.
 */
const MIN_LEFT_OUT = 0.2;

/**
 * The arrays a training step fills, allocated once per mini-batch size m and reused from step to
 * step: in a browser worker, allocating and collecting a step's ~30 fresh arrays of [m x units]
 * cost more than filling them. Per-layer lists run over the hidden layers and then the output
 * layer (fanIn -> fanOut); entries a layer's kind does not use are simply left alone.
 */
class StepBuffers {
  readonly yOneHot: Float32Array;
  readonly logits: Float32Array;
  readonly dLogits: Float32Array;
  /** The mini-batch on its pixels in use (CompactInput), when given dense, and the first layer's W rows for them. */
  readonly inputKept: Float32Array;
  readonly inputKeptT: Float32Array;
  readonly keptPixels: Int32Array;
  readonly firstWeightsKept: Float32Array;
  /** A CompactInput spread back to [m, inputSize], where the full product is used. */
  readonly inputDense: Float32Array;
  /** Per hidden layer: gamma and beta as this step reads them (BN layers). */
  readonly gamma: Float32Array[];
  readonly beta: Float32Array[];
  /** Per hidden layer: Wx, Algorithm 1's arrays (BN layers) and the nonlinearity's output, [m, fanOut]. */
  readonly wx: Float32Array[];
  readonly batchNorms: BatchNormArrays[];
  readonly activations: Float32Array[];
  /** Per hidden layer: the gradient reaching BN's output through the noise, and BN's gradients. */
  readonly dNormalized: Float32Array[];
  readonly batchNormGradients: BatchNormGradients[];
  /** Per hidden layer: dLoss/d(input of the nonlinearity) [m, fanOut]. */
  readonly dNonlinearityInputs: Float32Array[];
  /** Per layer: its input transposed [fanIn, m] (unused for the first), dLoss/dWx transposed [fanOut, m], the bias gradient [fanOut]. */
  readonly inputsT: Float32Array[];
  readonly dWxT: Float32Array[];
  readonly biasGradients: Float32Array[];
  /** Per layer: dLoss/d(its input) transposed [fanIn, m] (unused for the first). */
  readonly dInputsT: Float32Array[];

  constructor(
    readonly m: number,
    sizes: readonly number[],
  ) {
    const classes = sizes[sizes.length - 1];
    const hidden = sizes.slice(1, -1);
    const layers = sizes.slice(1).map((fanOut, layer) => ({ fanIn: sizes[layer], fanOut }));
    this.yOneHot = new Float32Array(m * classes);
    this.logits = new Float32Array(m * classes);
    this.dLogits = new Float32Array(m * classes);
    const [inputSize, firstUnits] = sizes;
    this.inputKept = new Float32Array(m * inputSize);
    this.inputKeptT = new Float32Array(m * inputSize);
    this.keptPixels = new Int32Array(inputSize);
    this.firstWeightsKept = new Float32Array(inputSize * firstUnits);
    this.inputDense = new Float32Array(m * inputSize);
    this.gamma = hidden.map((units) => new Float32Array(units));
    this.beta = hidden.map((units) => new Float32Array(units));
    this.wx = hidden.map((units) => new Float32Array(m * units));
    this.batchNorms = hidden.map((units) => batchNormArrays(m * units, units));
    this.activations = hidden.map((units) => new Float32Array(m * units));
    this.dNormalized = hidden.map((units) => new Float32Array(m * units));
    this.batchNormGradients = hidden.map((units) => ({ dx: new Float32Array(m * units), dGamma: new Float32Array(units), dBeta: new Float32Array(units) }));
    this.dNonlinearityInputs = hidden.map((units) => new Float32Array(m * units));
    this.inputsT = layers.map(({ fanIn }, layer) => new Float32Array(layer === 0 ? 0 : fanIn * m));
    this.dWxT = layers.map(({ fanOut }) => new Float32Array(fanOut * m));
    this.biasGradients = layers.map(({ fanOut }) => new Float32Array(fanOut));
    this.dInputsT = layers.map(({ fanIn }, layer) => new Float32Array(layer === 0 ? 0 : fanIn * m));
  }
}

/** A gradient per parameter: a tensor for a weight matrix, an array for a per-unit vector. */
type Gradient = tf.Tensor2D | Float32Array;

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
  /**
   * Created on the first step with momentum > 0 (plain SGD never needs them): a variable for a
   * weight matrix, an array for a per-unit vector, like the gradients.
   */
  private velocities: (tf.Variable | Float32Array)[] | null = null;
  /** For the last mini-batch size seen (training always uses one). */
  private buffers: StepBuffers | null = null;
  /** Where the update reads a per-unit vector (null for weight matrices): see StepBuffers. */
  private readonly vectorValues: (Float32Array | null)[];

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
    this.vectorValues = this.trainable.map((p) => (p.rank === 1 ? new Float32Array(p.size) : null));
  }

  /** Trainable variables: per hidden layer W then b (or W, gamma, beta with BN), then the output W, b. */
  parameters(): readonly tf.Variable[] {
    return this.trainable;
  }

  /**
   * One SGD step on a mini-batch (x [m, inputSize], yOneHot [m, outputSize]). Returns the batch's
   * mean cross-entropy before the update; it may be NaN or Infinity once training diverges.
   * `noise` is this step's noise per hidden layer (drawNoise), required for noisy layers.
   */
  trainStep(x: TrainingInput, yOneHot: tf.Tensor2D, learningRate: number, momentum: number, noise: readonly (LayerNoise | null)[] = []): number {
    if (momentum !== 0 && this.velocities === null) {
      this.velocities = this.trainable.map((p) =>
        p.rank === 1 ? new Float32Array(p.size) : tf.tidy(() => tf.variable(tf.zerosLike(p), false, `${p.name}/velocity`)),
      );
    }
    return tf.tidy(() => {
      // Plain SGD takes its gradients already multiplied by the learning rate (folded into
      // dLoss/dlogits): one kernel less per weight matrix.
      const plainSgd = momentum === 0;
      const { loss, gradients, forward } = this.lossAndGradients(x, yOneHot, plainSgd ? learningRate : 1, noise);
      this.trainable.forEach((p, i) => {
        const gradient = gradients[i];
        if (gradient instanceof Float32Array) {
          const values = readInto(p, this.vectorValues[i]!);
          if (plainSgd) {
            for (let k = 0; k < values.length; k++) values[k] -= gradient[k];
          } else {
            const velocity = this.velocities![i] as Float32Array;
            for (let k = 0; k < values.length; k++) {
              velocity[k] = momentum * velocity[k] + gradient[k];
              values[k] -= learningRate * velocity[k];
            }
          }
          p.assign(tf.tensor1d(values));
          return;
        }
        if (plainSgd) {
          p.assign(tf.sub(p, gradient));
          return;
        }
        const velocity = this.velocities![i] as tf.Variable;
        velocity.assign(tf.add(tf.mul(velocity, momentum), gradient));
        p.assign(tf.sub(p, tf.mul(velocity, learningRate)));
      });
      if (this.spec.inferenceStatistics === 'moving') this.updateMovingAverages(forward.batchNorms, examplesIn(x));
      return loss;
    });
  }

  /**
   * Moves the moving averages toward x's batch statistics, as trainStep does before its update:
   * for training paths that update the parameters by other means (the autodiff reference).
   */
  observeBatchStatistics(x: tf.Tensor2D): void {
    if (this.spec.inferenceStatistics !== 'moving') return;
    // The batch statistics come before the noise: any noise gives the same ones.
    tf.tidy(() => this.updateMovingAverages(this.trainingForward(x, this.hidden.map(() => null), false).batchNorms, x.shape[0]));
  }

  /** Loss and per-parameter gradients (ordered as parameters()), without updating anything; `noise` as in trainStep. */
  gradients(x: TrainingInput, yOneHot: tf.Tensor2D, noise: readonly (LayerNoise | null)[] = []): { loss: number; gradients: Float32Array[] } {
    let read: { loss: number; gradients: Float32Array[] } | undefined;
    // Read inside the tidy but not returned from it: tidy walks every element of a returned array.
    tf.tidy(() => {
      const { loss, gradients } = this.lossAndGradients(x, yOneHot, 1, noise);
      // The arrays are the step's buffers, which the next step overwrites.
      read = { loss, gradients: gradients.map((g) => (g instanceof Float32Array ? g.slice() : (g.dataSync() as Float32Array))) };
    });
    return read!;
  }

  /**
   * Forward pass. `training` normalizes with the batch's own statistics, `inference` with the
   * population (or moving) statistics. Returns the logits and, per hidden layer, the input to the
   * nonlinearity: Wx + b without BN, BN(Wx) = gamma * xhat + beta with it. In training mode a noisy
   * layer adds its entry of `noise` where one is given; inference mode never adds noise. The caller
   * disposes the tensors.
   */
  forward(
    x: tf.Tensor2D,
    mode: 'training' | 'inference',
    noise: readonly (LayerNoise | null)[] = [],
  ): { logits: tf.Tensor2D; nonlinearityInputs: tf.Tensor2D[] } {
    return tf.tidy(() => {
      const nonlinearityInputs: tf.Tensor2D[] = [];
      let h = x;
      this.hidden.forEach((layer, index) => {
        let nonlinearityInput: tf.Tensor2D;
        if (layer.normalization === 'none') {
          nonlinearityInput = dense(h, layer.weights, layer.bias, 'linear');
        } else {
          const wx = tf.matMul<tf.Tensor2D>(h, layer.weights);
          nonlinearityInput =
            mode === 'training'
              ? batchNormTraining(wx, layer.gamma, layer.beta, this.spec.epsilon).normalized
              : batchNormInference(wx, layer.gamma, layer.beta, layer.populationMean, layer.populationVariance, this.spec.epsilon);
          const layerNoise = noise[index];
          if (mode === 'training' && layer.normalization === 'noisy' && layerNoise) {
            nonlinearityInput = tf.add(tf.mul(nonlinearityInput, tf.tensor1d(layerNoise.scale)), tf.tensor1d(layerNoise.shift));
          }
        }
        nonlinearityInputs.push(nonlinearityInput);
        h = nonlinearity(this.spec.activation, nonlinearityInput);
      });
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
      if (layer.normalization !== 'none') tf.dispose([layer.populationMean, layer.populationVariance]);
    }
    if (this.velocities) tf.dispose(this.velocities);
    this.velocities = null;
  }

  /**
   * Algorithm 1 forward pass, keeping what the backward pass needs in plain arrays; only the
   * matMuls and the nonlinearity run in tfjs. A noisy layer's output gets its entry of `noise`,
   * which must be there unless `requireNoise` is false. Must run inside a tf.tidy.
   */
  private trainingForward(x: TrainingInput, noise: readonly (LayerNoise | null)[], requireNoise = true): TrainingForward {
    const batchNorms: (BatchNormArrays | null)[] = [];
    const applied: (LayerNoise | null)[] = [];
    const fusedActivation = FUSED_ACTIVATION[this.spec.activation];
    const m = examplesIn(x);
    const buffers = this.buffersFor(m);
    const firstLayer = this.firstLayerInput(x, buffers);
    let h = firstLayer.x;
    for (const [index, layer] of this.hidden.entries()) {
      const weights = index === 0 ? firstLayer.weights : layer.weights;
      const layerNoise = layer.normalization === 'noisy' ? (noise[index] ?? null) : null;
      if (layer.normalization === 'noisy' && layerNoise === null && requireNoise) {
        throw new Error(`hidden layer ${index + 1} is noisy BN: a training step needs its noise`);
      }
      applied.push(layerNoise);
      if (layer.normalization === 'none') {
        // Bias and (where wasm can) the nonlinearity run inside the matMul kernel.
        const z = dense(h, weights, layer.bias, fusedActivation);
        h = fusedActivation === 'linear' ? nonlinearity(this.spec.activation, z) : z;
        batchNorms.push(null);
      } else {
        const wx = readInto(tf.matMul<tf.Tensor2D>(h, weights), buffers.wx[index]);
        const gamma = readInto(layer.gamma, buffers.gamma[index]);
        const bn = batchNormTrainingArrays(wx, gamma, readInto(layer.beta, buffers.beta[index]), this.spec.epsilon, buffers.batchNorms[index]);
        // The backward pass reads xhat, not the normalized output: the noise may overwrite it.
        const nonlinearityInput = layerNoise ? applyNoise(bn.normalized, layerNoise) : bn.normalized;
        h = nonlinearity(this.spec.activation, tf.tensor2d(nonlinearityInput, [m, this.spec.hiddenUnits]));
        batchNorms.push(bn);
      }
      readInto(h, buffers.activations[index]);
    }
    const logits = readInto(dense(h, this.outputWeights, this.outputBias, 'linear'), buffers.logits);
    return { activations: buffers.activations, batchNorms, noise: applied, logits, firstLayer };
  }

  private buffersFor(m: number): StepBuffers {
    if (this.buffers?.m !== m) this.buffers = new StepBuffers(m, layerSizes(this.spec));
    return this.buffers;
  }

  /** FirstLayerInput of mini-batch x, gathered in the step's buffers. Must run inside a tf.tidy. */
  private firstLayerInput(x: TrainingInput, buffers: StepBuffers): FirstLayerInput {
    const allWeights = this.hidden[0].weights;
    const full = () => {
      const dense = x instanceof tf.Tensor ? x : tf.tensor2d(spread(x, buffers.inputDense), [x.m, x.inputSize]);
      return { x: dense, xT: tf.transpose(dense), weights: allWeights, kept: null };
    };
    // Elsewhere than on wasm, reading x and W back each step costs far more than the products spared.
    if (!peeksInPlace()) return full();
    const compact = x instanceof tf.Tensor ? compactInput(x, buffers) : x;
    const { m, inputSize, pixels } = compact;
    const count = pixels.length;
    // An all-zero batch keeps everything too: a product over no pixels is not a matMul.
    if (count === 0 || count > inputSize * (1 - MIN_LEFT_OUT)) return full();
    const fanOut = allWeights.shape[1];
    const weights = peek(allWeights);
    const weightsKept = buffers.firstWeightsKept.subarray(0, count * fanOut);
    for (let k = 0; k < count; k++) weightsKept.set(weights.subarray(pixels[k] * fanOut, (pixels[k] + 1) * fanOut), k * fanOut);
    return {
      x: tf.tensor2d(compact.x, [m, count]),
      xT: tf.tensor2d(compact.xT, [count, m]),
      weights: tf.tensor2d(weightsKept, [count, fanOut]),
      kept: tf.tensor2d(pixels, [count, 1], 'int32'),
    };
  }

  /**
   * Mean softmax cross-entropy and its gradients times `gradientScale`, backpropagated by hand.
   * Must run inside a tf.tidy.
   */
  private lossAndGradients(
    x: TrainingInput,
    yOneHot: tf.Tensor2D,
    gradientScale: number,
    noise: readonly (LayerNoise | null)[],
  ): { loss: number; gradients: Gradient[]; forward: TrainingForward } {
    const m = examplesIn(x);
    const forward = this.trainingForward(x, noise);
    const buffers = this.buffersFor(m);
    const { activations, batchNorms } = forward;
    const gradientsByLayer: Gradient[][] = [];
    // d(mean cross-entropy)/d(logits) = (softmax - y) / m; every later gradient is linear in it.
    const dLogits = buffers.dLogits;
    const loss = softmaxCrossEntropy(forward.logits, readInto(yOneHot, buffers.yOneHot), this.spec.outputSize, gradientScale, dLogits);
    // dLoss/d(the layer's nonlinearity input) [m, fanOut]; for the output layer, the logits.
    let dNonlinearityInput = dLogits;
    for (let index = this.hidden.length; index >= 0; index--) {
      const layer = index < this.hidden.length ? this.hidden[index] : null;
      const weights = layer === null ? this.outputWeights : layer.weights;
      const [fanIn, fanOut] = weights.shape;
      let dWx: Float32Array;
      let vectorGradients: Float32Array[];
      if (layer !== null && layer.normalization !== 'none') {
        // d(y·s + b)/dy = s: the noise scales the gradient reaching BN's output.
        const layerNoise = forward.noise[index];
        const dNormalized = layerNoise ? scaleColumns(dNonlinearityInput, layerNoise.scale, buffers.dNormalized[index]) : dNonlinearityInput;
        const bn = batchNormBackward(dNormalized, batchNorms[index]!, buffers.gamma[index], buffers.batchNormGradients[index]);
        dWx = bn.dx;
        vectorGradients = [bn.dGamma, bn.dBeta];
      } else {
        dWx = dNonlinearityInput;
        vectorGradients = [columnSums(dWx, buffers.biasGradients[index])];
      }
      // h^T dWx rather than dWx^T h: XNNPACK packs the right operand, and dWx is the small one.
      const inputT = index === 0 ? forward.firstLayer.xT : tf.tensor2d(transpose(activations[index - 1], m, fanIn, buffers.inputsT[index]), [fanIn, m]);
      let weightGradient = tf.matMul<tf.Tensor2D>(inputT, tf.tensor2d(dWx, [m, fanOut]));
      const kept = forward.firstLayer.kept;
      // The left-out pixels' rows of the gradient are 0.
      if (index === 0 && kept !== null) weightGradient = tf.scatterND<tf.Rank.R2>(kept, weightGradient, [fanIn, fanOut]);
      gradientsByLayer[index] = [weightGradient, ...vectorGradients];
      // The first layer's input is the data: its gradient is never needed.
      if (index === 0) break;
      // dLoss/dh transposed ([fanIn, m]) as W dWx^T, which packs dWx^T where dWx W^T would pack W^T.
      const dWxT = tf.tensor2d(transpose(dWx, m, fanOut, buffers.dWxT[index]), [fanOut, m]);
      const dActivationT = readInto(tf.matMul(weights, dWxT), buffers.dInputsT[index]);
      dNonlinearityInput = nonlinearityBackward(this.spec.activation, dActivationT, activations[index - 1], m, buffers.dNonlinearityInputs[index - 1]);
    }
    return { loss, gradients: gradientsByLayer.flat(), forward };
  }

  /** Moves the moving averages toward the batch mean and the unbiased batch variance. */
  private updateMovingAverages(batchNorms: (BatchNormArrays | null)[], m: number): void {
    const decay = this.spec.movingAverageDecay;
    const unbiased = m / (m - 1);
    this.hidden.forEach((layer, index) => {
      const bn = batchNorms[index];
      if (layer.normalization === 'none' || bn === null) return;
      const mean = layer.populationMean.dataSync() as Float32Array;
      const variance = layer.populationVariance.dataSync() as Float32Array;
      for (let j = 0; j < mean.length; j++) {
        mean[j] = decay * mean[j] + (1 - decay) * bn.batchMean[j];
        variance[j] = decay * variance[j] + (1 - decay) * unbiased * bn.batchVariance[j];
      }
      layer.populationMean.assign(tf.tensor1d(mean));
      layer.populationVariance.assign(tf.tensor1d(variance));
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

/**
 * dLoss/d(input of the nonlinearity) [m, units], into dInput, from dLoss/d(output) transposed
 * ([units, m], as the backward matMul gives it) and the output z itself [m, units].
 */
function nonlinearityBackward(activation: Activation, dOutputT: Float32Array, z: Float32Array, m: number, dInput: Float32Array): Float32Array {
  const units = z.length / m;
  // One loop per activation: a switch per value would cost as much as the arithmetic.
  for (let j = 0, from = 0; j < units; j++) {
    if (activation === 'sigmoid') {
      for (let at = j; at < z.length; at += units, from++) dInput[at] = dOutputT[from] * z[at] * (1 - z[at]);
    } else if (activation === 'tanh') {
      for (let at = j; at < z.length; at += units, from++) dInput[at] = dOutputT[from] * (1 - z[at] * z[at]);
    } else {
      for (let at = j; at < z.length; at += units, from++) dInput[at] = z[at] > 0 ? dOutputT[from] : 0;
    }
  }
  return dInput;
}

/**
 * Mean softmax cross-entropy of logits [m, classes] against one-hot labels; its gradient
 * (softmax - y) / m times `gradientScale` goes into dLogits.
 */
function softmaxCrossEntropy(logits: Float32Array, yOneHot: Float32Array, classes: number, gradientScale: number, dLogits: Float32Array): number {
  const m = logits.length / classes;
  const scale = gradientScale / m;
  let total = 0;
  for (let i = 0, row = 0; i < m; i++, row += classes) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[row + k]);
    let sumExp = 0;
    for (let k = 0; k < classes; k++) sumExp += Math.exp(logits[row + k] - max);
    const logSumExp = Math.log(sumExp);
    for (let k = 0; k < classes; k++) {
      const logSoftmax = logits[row + k] - max - logSumExp;
      total -= yOneHot[row + k] * logSoftmax;
      dLogits[row + k] = (Math.exp(logSoftmax) - yOneHot[row + k]) * scale;
    }
  }
  return total / m;
}

/** values [rows, cols] row-major, transposed to [cols, rows] into `transposed`. */
function transpose(values: Float32Array, rows: number, cols: number, transposed: Float32Array): Float32Array {
  for (let j = 0; j < cols; j++) for (let i = 0, at = j * rows; i < rows; i++) transposed[at + i] = values[i * cols + j];
  return transposed;
}

/** values [rows, cols] with column j times scale[j], into `scaled`. */
function scaleColumns(values: Float32Array, scale: Float32Array, scaled: Float32Array): Float32Array {
  const cols = scale.length;
  for (let at = 0; at < values.length; at += cols) for (let j = 0; j < cols; j++) scaled[at + j] = values[at + j] * scale[j];
  return scaled;
}

/** Sums over the rows of values [rows, sums.length] into `sums`: a bias gradient from the gradient of Wx + b. */
function columnSums(values: Float32Array, sums: Float32Array): Float32Array {
  const cols = sums.length;
  for (let j = 0; j < cols; j++) {
    // Accumulated in float64, as the sum of many small gradients.
    let sum = 0;
    for (let at = j; at < values.length; at += cols) sum += values[at];
    sums[j] = sum;
  }
  return sums;
}

/** Dense mini-batch x on its pixels in use, found by reading x where it lies, in the step's buffers. */
function compactInput(x: tf.Tensor2D, buffers: StepBuffers): CompactInput {
  const [m, inputSize] = x.shape;
  // Every read of this view comes before the next tfjs call (peek).
  const values = peek(x);
  const kept = buffers.keptPixels;
  let count = 0;
  for (let pixel = 0; pixel < inputSize; pixel++) {
    for (let at = pixel; at < values.length; at += inputSize) {
      if (values[at] !== 0) {
        kept[count++] = pixel;
        break;
      }
    }
  }
  const xKept = buffers.inputKept.subarray(0, m * count);
  const xKeptT = buffers.inputKeptT.subarray(0, m * count);
  for (let k = 0; k < count; k++) {
    for (let i = 0, from = kept[k], to = k * m; i < m; i++, from += inputSize) {
      const value = values[from];
      xKept[i * count + k] = value;
      xKeptT[to + i] = value;
    }
  }
  return { m, inputSize, pixels: kept.subarray(0, count), x: xKept, xT: xKeptT };
}

/** A CompactInput back to dense [m, inputSize], into `dense`. */
function spread(input: CompactInput, dense: Float32Array): Float32Array {
  const { m, inputSize, pixels, x } = input;
  const count = pixels.length;
  dense.fill(0);
  for (let i = 0; i < m; i++) for (let k = 0; k < count; k++) dense[i * inputSize + pixels[k]] = x[i * count + k];
  return dense;
}
