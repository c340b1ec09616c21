/**
 * The update of mini-batch SGD with classical momentum, separate from the gradients (as optax's
 * transforms are from JAX's value_and_grad): v <- momentum v + g, then p <- p - learningRate v;
 * momentum 0 is plain SGD, p <- p - learningRate g. Parameters and gradients are flat float32
 * arrays. A weight matrix's update rounds every product and sum to float32, as tfjs's kernels
 * did when they ran it; a per-unit vector's (bias, gamma, beta) is computed in float64 and
 * rounded once per stored value, as its JS update always was: so runs, and the links that
 * replay them, stay bit for bit what they were. Both are exact recipes another kernel
 * (WebAssembly) can reproduce.
 */
export class MomentumSgd {
  /** One per parameter, created on the first step with momentum (plain SGD never needs them). */
  private velocities: Float32Array[] | null = null;

  /**
   * The factor lossAndGradients should apply to the gradients it hands to `update`: plain SGD
   * takes them already multiplied by the learning rate (folded into dLoss/dlogits, one multiply
   * per weight fewer); momentum needs the gradients themselves.
   */
  gradientScale(learningRate: number, momentum: number): number {
    return momentum === 0 ? learningRate : 1;
  }

  /**
   * One update of `params` in place from `gradients` (same order and sizes), which carry
   * `gradientScale`; `shapes` tells a weight matrix (2 dimensions) from a per-unit vector.
   * `rowsInUse[i]`, where given, lists the only rows of matrix i whose gradient may be non-zero
   * (lossAndGradients' hint for the first layer): plain SGD then touches only those.
   */
  update(
    params: readonly Float32Array[],
    gradients: readonly Float32Array[],
    shapes: readonly (readonly number[])[],
    learningRate: number,
    momentum: number,
    gradientScale = 1,
    rowsInUse: readonly (Int32Array | null)[] = [],
  ): void {
    if (gradients.length !== params.length || shapes.length !== params.length) throw new Error(`${gradients.length} gradients for ${params.length} parameters`);
    if (momentum === 0) {
      // Gradients scaled by the learning rate itself (0 included) are the update as they are.
      const rate = gradientScale === learningRate ? 1 : Math.fround(learningRate / gradientScale);
      params.forEach((p, i) => {
        const g = gradients[i];
        const rows = rowsInUse[i] ?? null;
        // A row whose gradient is 0 throughout (a pixel blank in the whole mini-batch) keeps its values: p - 0 is p.
        if (rows !== null) {
          const cols = shapes[i][1];
          for (let r = 0; r < rows.length; r++) subtractScaled(p, g, rate, rows[r] * cols, (rows[r] + 1) * cols);
        } else {
          subtractScaled(p, g, rate, 0, p.length);
        }
      });
      return;
    }
    if (gradientScale !== 1) throw new Error('momentum updates take unscaled gradients (gradientScale 1)');
    this.velocities ??= params.map((p) => new Float32Array(p.length));
    const mu = Math.fround(momentum);
    const rate = Math.fround(learningRate);
    params.forEach((p, i) => {
      const g = gradients[i];
      const v = this.velocities![i];
      if (shapes[i].length === 1) {
        for (let k = 0; k < p.length; k++) {
          v[k] = momentum * v[k] + g[k];
          p[k] -= learningRate * v[k];
        }
        return;
      }
      for (let k = 0; k < p.length; k++) {
        v[k] = Math.fround(mu * v[k]) + g[k];
        p[k] -= Math.fround(rate * v[k]);
      }
    });
  }

  /** The velocities (null before the first momentum step): the optimizer's whole state. */
  state(): readonly Float32Array[] | null {
    return this.velocities;
  }
}

/** p[k] -= rate * g[k] for k in [from, to), the product rounded to float32 (none when rate is 1). */
function subtractScaled(p: Float32Array, g: Float32Array, rate: number, from: number, to: number): void {
  let k = from;
  if (rate === 1) {
    // Four at a time: the loop's own overhead is a good part of the time of a statement this small.
    for (; k + 4 <= to; k += 4) {
      p[k] -= g[k];
      p[k + 1] -= g[k + 1];
      p[k + 2] -= g[k + 2];
      p[k + 3] -= g[k + 3];
    }
    for (; k < to; k++) p[k] -= g[k];
  } else {
    for (; k < to; k++) p[k] -= Math.fround(rate * g[k]);
  }
}
