/**
 * The one config schema. Every field of an experiment lives here with its default; the URL,
 * the controls, the worker, the command line and the tests all read this file.
 */

export type Activation = 'sigmoid' | 'tanh' | 'relu';
/** Per hidden layer: whether the input to the nonlinearity is batch-normalized (Algorithm 1). */
export type Normalization = 'none' | 'batchnorm';
/**
 * How a BN layer normalizes at inference (test accuracy, probe distributions):
 * `population` is Algorithm 2 (mean of batch means, m/(m-1) x mean of batch variances over
 * recent training mini-batches); `moving` is exponential moving averages updated every step.
 */
export type InferenceStatistics = 'population' | 'moving';
/** Backends the trainer may ask tfjs for; `wasm` is the fastest measured here. */
export type Backend = 'wasm' | 'cpu' | 'webgl' | 'webgpu';

export interface Config {
  /** Seeds the initial weights (shared by both arms) and the mini-batch order. */
  seed: number;
  /** Total training steps of a run (the paper trains 50,000). */
  steps: number;
  hiddenLayers: number;
  hiddenUnits: number;
  activation: Activation;
  /** Standard deviation of the Gaussian initial weights (the paper: "small random Gaussian"). */
  initSigma: number;
  learningRate: number;
  /** Classical momentum; 0 is plain SGD. */
  momentum: number;
  batchSize: number;
  /** Added to the mini-batch variance before the square root in BN. */
  epsilon: number;
  inferenceStatistics: InferenceStatistics;
  /** Decay of the moving averages when `inferenceStatistics` is `moving`. */
  movingAverageDecay: number;
  /** Training mini-batches averaged for Algorithm 2's population statistics. */
  populationBatches: number;
  /** Record metrics every k steps. */
  metricsInterval: number;
  /** Held-out test digits on which the distributions of the nonlinearity's inputs are measured. */
  probeSize: number;
  /** The paper's "typical activation": the unit of each hidden layer whose input is tracked. */
  trackedUnit: number;
  /** Per hidden layer normalization of arm A (default: none) and arm B (default: BN everywhere). */
  normalizationA: Normalization[];
  normalizationB: Normalization[];
  backend: Backend;
}

export const DEFAULT_CONFIG: Config = {
  seed: 1,
  steps: 50_000,
  hiddenLayers: 3,
  hiddenUnits: 100,
  activation: 'sigmoid',
  initSigma: 1,
  learningRate: 0.5,
  momentum: 0,
  batchSize: 60,
  epsilon: 1e-5,
  inferenceStatistics: 'population',
  movingAverageDecay: 0.99,
  populationBatches: 10,
  metricsInterval: 50,
  probeSize: 1000,
  trackedUnit: 0,
  normalizationA: ['none', 'none', 'none'],
  normalizationB: ['batchnorm', 'batchnorm', 'batchnorm'],
  backend: 'wasm',
};
