import { describeNormalization, type Config } from '../config/schema';
import { drawBandChart, sharedPercentileDomain } from '../charts/bandChart';
import { ARM_COLORS } from '../charts/colors';
import { bulkExtent, drawHeatmap } from '../charts/heatmap';
import { drawHistogramChart } from '../charts/histogramChart';
import { nearestIndex } from '../charts/hover';
import { drawLineChart, type LineSeries } from '../charts/lineChart';
import { LOSS_AXIS, ACCURACY_AXIS, stepDomain, type Domain } from '../charts/axes';
import type { ArmSeries } from '../state/series';
import type { LabState } from '../state/store';
import { ChartCanvas } from './ChartCanvas';
import { SaturationChart } from './SaturationChart';
import { useLab, useLabState } from './labContext';

const ARM_NAMES = ['A', 'B'] as const;

export function armLabel(state: LabState, arm: number): string {
  const list = arm === 0 ? state.config.normalizationA : state.config.normalizationB;
  return `${ARM_NAMES[arm]}: ${describeNormalization(list)}`;
}

/** What every time chart depends on besides the data: the arms' labels and the hover step. */
function timeInputs(state: LabState): unknown[] {
  return [armLabel(state, 0), armLabel(state, 1), state.view.hoverStep];
}

/** Both arms' charts share the step axis, so a step lines up across every panel. */
function sharedSteps(state: LabState): Domain {
  return stepDomain(state.series.map((s) => s.steps()));
}

function lineSeries(state: LabState, values: (s: ArmSeries) => Float32Array): LineSeries[] {
  return state.series.map((s, arm) => ({
    label: armLabel(state, arm),
    color: ARM_COLORS[arm],
    steps: s.steps(),
    values: values(s),
    divergedStep: s.divergedStep,
  }));
}

function ViewOptions() {
  const { runner } = useLab();
  const config = useLabState((s) => s.config);
  // Display fields: the runner keeps the run going and the address bar follows.
  const show = (changes: Partial<Config>) => runner.setConfig({ ...config, ...changes });
  return (
    <div className="view-options" role="group" aria-label="Display options">
      <fieldset>
        <legend>Distribution of</legend>
        <label>
          <input type="radio" name="distribution" checked={config.distributionView === 'unit'} onChange={() => show({ distributionView: 'unit' })} />
          the tracked unit
        </label>
        <label>
          <input type="radio" name="distribution" checked={config.distributionView === 'pooled'} onChange={() => show({ distributionView: 'pooled' })} />
          all units of the layer, pooled
        </label>
      </fieldset>
      <label>
        <input type="checkbox" checked={config.lossScale === 'log'} onChange={(e) => show({ lossScale: e.target.checked ? 'log' : 'linear' })} />
        Log scale for the loss
      </label>
    </div>
  );
}

function TrainingPanel() {
  return (
    <section className="panel" aria-labelledby="training-title">
      <h2 id="training-title">Loss and test accuracy</h2>
      <p className="caption">
        Figure 1(a): accuracy on 2,000 held-out test digits (BN layers in inference mode), and the training cross-entropy
        averaged over the steps between two records.
      </p>
      <div className="chart-pair">
        <ChartCanvas
          label="Training loss of both arms over steps"
          testId="chart-loss"
          height={240}
          inputs={(s) => [...timeInputs(s), s.config.lossScale]}
          paint={({ ctx, width, height, state }) =>
            drawLineChart(ctx, lineSeries(state, (s) => s.loss()), {
              width,
              height,
              yAxis: LOSS_AXIS,
              log: state.config.lossScale === 'log',
              xDomain: sharedSteps(state),
              hoverStep: state.view.hoverStep,
            })
          }
        />
        <ChartCanvas
          label="Test accuracy of both arms over steps"
          testId="chart-accuracy"
          height={240}
          inputs={timeInputs}
          paint={({ ctx, width, height, state }) =>
            drawLineChart(ctx, lineSeries(state, (s) => s.testAccuracy()), {
              width,
              height,
              yAxis: ACCURACY_AXIS,
              yDomain: [0, 1],
              xDomain: sharedSteps(state),
              hoverStep: state.view.hoverStep,
            })
          }
        />
      </div>
    </section>
  );
}

/**
 * The step at which "the distribution now" compares the arms: the latest step both have recorded
 * (the faster arm runs a little ahead), or the furthest any reached when the others diverged.
 */
function comparedStep(state: LabState): number {
  const last = (s: ArmSeries) => (s.length > 0 ? s.steps()[s.length - 1] : 0);
  const live = state.series.filter((s) => s.divergedStep === null);
  return live.length > 0 ? Math.min(...live.map(last)) : Math.max(...state.series.map(last));
}

function distributionTitle(state: LabState, layer: number): string {
  return state.config.distributionView === 'unit' ? `layer ${layer + 1}, unit ${state.config.trackedUnit}` : `layer ${layer + 1}, all units`;
}

function LayerPanel({ layer }: { layer: number }) {
  const inputs = (s: LabState) => [...timeInputs(s), s.config.distributionView];
  // A diverged arm's values run off to huge numbers; a shared axis spanning them would flatten the other arm.
  const percentiles = (state: LabState) => {
    const live = state.series.filter((s) => s.divergedStep === null);
    return (live.length > 0 ? live : state.series).map((s) => ({ percentiles: s.percentiles(layer, state.config.distributionView) }));
  };
  return (
    <section className="panel layer-panel" aria-labelledby={`layer-${layer}-title`}>
      <h3 id={`layer-${layer}-title`}>Hidden layer {layer + 1}: input to the nonlinearity</h3>
      <div className="chart-pair">
        {[0, 1].map((arm) => (
          <ChartCanvas
            key={arm}
            label={`Percentiles over steps of the input to the nonlinearity, hidden layer ${layer + 1}, arm ${ARM_NAMES[arm]}`}
            testId={`chart-bands-${layer}-${ARM_NAMES[arm]}`}
            height={220}
            inputs={inputs}
            paint={({ ctx, width, height, state }) => {
              const s = state.series[arm];
              return drawBandChart(
                ctx,
                { label: armLabel(state, arm), color: ARM_COLORS[arm], steps: s.steps(), percentiles: s.percentiles(layer, state.config.distributionView), divergedStep: s.divergedStep },
                { width, height, yDomain: sharedPercentileDomain(percentiles(state)), xDomain: sharedSteps(state), hoverStep: state.view.hoverStep, title: distributionTitle(state, layer) },
              );
            }}
          />
        ))}
      </div>
      <div className="chart-trio">
        <ChartCanvas
          label={`Histogram now of the input to the nonlinearity, hidden layer ${layer + 1}, both arms`}
          testId={`chart-histogram-${layer}`}
          height={220}
          inputs={inputs}
          paint={({ ctx, width, height, state }) =>
            void drawHistogramChart(
              ctx,
              state.series.map((s, arm) => {
                const at = s.length > 0 ? nearestIndex(s.steps(), comparedStep(state)) : -1;
                return {
                  label: armLabel(state, arm),
                  color: ARM_COLORS[arm],
                  histogram: at >= 0 ? s.histogramAt(layer, state.config.distributionView, at) : null,
                  step: at >= 0 ? s.steps()[at] : null,
                };
              }),
              { width, height, title: `now, ${distributionTitle(state, layer)}` },
            )
          }
        />
        {[0, 1].map((arm) => (
          <ChartCanvas
            key={arm}
            label={`Histograms over steps (heatmap) of the input to the nonlinearity, hidden layer ${layer + 1}, arm ${ARM_NAMES[arm]}; each step coloured relative to its own tallest bin, the end rows holding the values clamped beyond ±10`}
            testId={`chart-heatmap-${layer}-${ARM_NAMES[arm]}`}
            height={220}
            inputs={inputs}
            paint={({ ctx, width, height, state }) => {
              const s = state.series[arm];
              const view = state.config.distributionView;
              return drawHeatmap(
                ctx,
                { label: armLabel(state, arm), color: ARM_COLORS[arm], steps: s.steps(), histograms: s.histograms(layer, view), divergedStep: s.divergedStep },
                {
                  width,
                  height,
                  extent: bulkExtent(state.series.map((other) => other.histograms(layer, view))),
                  xDomain: sharedSteps(state),
                  hoverStep: state.view.hoverStep,
                  title: distributionTitle(state, layer),
                },
              );
            }}
          />
        ))}
      </div>
      <SaturationChart layer={layer} />
    </section>
  );
}

export function Panels() {
  const layers = useLabState((s) => s.series[0].layers);
  const probe = useLabState((s) => s.config.probeSize);
  const statistics = useLabState((s) => s.config.inferenceStatistics);
  return (
    <div className="panels">
      <TrainingPanel />
      <section className="panel" aria-labelledby="distributions-title">
        <h2 id="distributions-title">Each layer&apos;s input distribution</h2>
        <p className="caption">
          Figure 1(b, c): the 15th, 50th and 85th percentiles (lines) of the input to each hidden layer&apos;s nonlinearity,
          <code>Wx + b</code> without BN and <code>BN(Wx)</code> with it, with the 0–100, 7–93 and 31–69 percentile bands
          shaded. Measured on {probe.toLocaleString('en')} held-out test digits, BN layers in inference mode (
          {statistics === 'population' ? 'population statistics, Algorithm 2' : 'moving averages'}). A noisy BN layer is
          shown with the noise of the step just trained applied to that output, <code>BN(Wx)·s + b</code>: the shifted
          input its nonlinearity saw in training, which inference never sees (the layers above it are measured from its
          noise-free output, as inference computes them). Both arms share the y-axis, so drift in one is visible against the other.
        </p>
        <ViewOptions />
        {Array.from({ length: layers }, (_, layer) => (
          <LayerPanel key={layer} layer={layer} />
        ))}
      </section>
    </div>
  );
}
