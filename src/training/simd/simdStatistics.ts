/**
 * A record's distributions in WebAssembly (assembly/statistics.ts), on the taps the record's
 * passes (simdRecord.ts) leave in the module's memory: noisy BN's noise as noise.ts's applyNoise
 * adds it, the tracked unit's column and the whole layer described as statistics.ts's
 * describeInPlace describes them, the saturated fraction as saturationFraction counts it, each to
 * the same bits. Only the summaries cross to JS.
 */
import type { Activation } from '../../config/schema';
import { HISTOGRAM, PERCENTILES, type Distribution } from '../measures';
import type { LayerNoise } from '../noise';
import type { LayerDistributions } from '../statistics';
import { ACTIVATION_CODE, type Arena, type Block, type Kernels } from './kernels';

export class SimdStatistics {
  private readonly kernels: Kernels;
  private readonly workspace: Block<Float32Array>;
  private readonly column: Block<Float32Array>;
  /** Float64 arrays, in blocks of twice their length: PERCENTILES, and a description (mean, std, percentiles, histogram). */
  private readonly percentiles: Block<Float32Array>;
  private readonly described: Block<Float32Array>;
  private readonly noiseScale: Block<Float32Array>;
  private readonly noiseShift: Block<Float32Array>;
  /** The float64 views, made on first use: the arena makes its views only when it commits. */
  private views: { described: Float64Array } | null = null;

  /**
   * Lays out the arrays for taps of `rows` probe digits by up to `units` units, with noise drawn
   * for mini-batches of `m`, in `arena` before it commits.
   */
  constructor(
    arena: Arena,
    private readonly rows: number,
    units: number,
    m: number,
  ) {
    this.kernels = arena.kernels;
    this.workspace = arena.f32(this.kernels.distributionWorkspaceBytes() / 4);
    this.column = arena.f32(rows);
    this.percentiles = arena.f32(2 * PERCENTILES.length);
    this.described = arena.f32(2 * (2 + PERCENTILES.length + HISTOGRAM.bins));
    this.noiseScale = arena.f32(units);
    this.noiseShift = arena.f32(m * units);
  }

  /**
   * The distributions of one layer's tap [rows, units] (a view into the module's memory), with
   * `noise` applied first where the layer is noisy BN, as the record's JS path computes them. The
   * tap gets the noise and may be reordered, as describeInPlace may reorder it.
   */
  describeLayer(tap: Float32Array, units: number, noise: LayerNoise | null, activation: Activation, trackedUnit: number): LayerDistributions {
    const k = this.kernels;
    if (tap.buffer !== k.memory.buffer) throw new Error("SimdStatistics: a tap must lie in the kernels' memory");
    const { rows } = this;
    if (tap.length !== rows * units) throw new Error(`SimdStatistics: a tap of ${tap.length} values is not ${rows} rows of ${units} units`);
    if (noise) {
      if (noise.scale) this.noiseScale.view.set(noise.scale);
      this.noiseShift.view.set(noise.shift);
      k.applyNoise(tap.byteOffset, rows, units, noise.scale ? this.noiseScale.ptr : 0, this.noiseShift.ptr, noise.shift.length / units);
    }
    k.gatherColumn(tap.byteOffset, rows, units, trackedUnit, this.column.ptr);
    const unit = this.describe(this.column.ptr, rows, ACTIVATION_CODE.identity).distribution;
    const pooled = this.describe(tap.byteOffset, tap.length, ACTIVATION_CODE[activation]);
    return { unit, saturation: pooled.saturated / tap.length, pooled: pooled.distribution };
  }

  private describe(values: number, n: number, activation: number): { distribution: Distribution; saturated: number } {
    const described = this.viewsOf().described;
    const saturated = this.kernels.describeDistribution(
      values,
      n,
      this.percentiles.ptr,
      PERCENTILES.length,
      HISTOGRAM.min,
      HISTOGRAM.max,
      HISTOGRAM.bins,
      activation,
      this.workspace.ptr,
      this.described.ptr,
    );
    if (saturated < 0)
      throw new Error(`SimdStatistics: the module describes at most 32 percentiles and 1,024 bins, not ${PERCENTILES.length} and ${HISTOGRAM.bins}`);
    const histogramAt = 2 + PERCENTILES.length;
    // The keys in describeInPlace's order, so a run's JSON is the same text.
    const distribution = {
      mean: described[0],
      std: described[1],
      histogram: Array.from(described.subarray(histogramAt, histogramAt + HISTOGRAM.bins)),
      percentiles: Array.from(described.subarray(2, histogramAt)),
    };
    return { distribution, saturated };
  }

  private viewsOf(): { described: Float64Array } {
    if (this.views === null) {
      const { buffer } = this.kernels.memory;
      new Float64Array(buffer, this.percentiles.ptr, PERCENTILES.length).set(PERCENTILES);
      this.views = { described: new Float64Array(buffer, this.described.ptr, 2 + PERCENTILES.length + HISTOGRAM.bins) };
    }
    return this.views;
  }
}
