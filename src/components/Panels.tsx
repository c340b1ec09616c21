import type { Config } from '../config/schema';
import { drawBandChart, sharedPercentileDomain } from '../charts/bandChart';
import { ARM_COLORS } from '../charts/colors';
import { bulkExtent, drawHeatmap } from '../charts/heatmap';
import { drawHistogramChart } from '../charts/histogramChart';
import { nearestIndex } from '../charts/hover';
import { drawLineChart, type LineSeries } from '../charts/lineChart';
import { LOSS_AXIS, stepDomain, type Domain } from '../charts/axes';
import type { ArmSeries } from '../state/series';
import type { LabState } from '../state/store';
import { ChartCanvas } from './ChartCanvas';
import { heatmapTable, histogramTable, percentilesTable, stepsTable } from './chartTables';
import { InferenceGapChart } from './InferenceGapChart';
import { SanturkarPanel } from './SanturkarPanel';
import { SaturationChart } from './SaturationChart';
import { useLab, useLabState } from './labContext';
import { ARM_NAMES, armLabel, distributionTitle, inputText, modalBin, percentilesText, percentText, readStep, stepPhrase } from './readout';

/** What every time chart depends on besides the data: the arms' labels and the step cursor. */
export function timeInputs(state: LabState): unknown[] {
  return [armLabel(state, 0), armLabel(state, 1), state.view.cursorStep];
}

/** Both arms' charts share the step axis, so a step lines up across every panel. */
export function sharedSteps(state: LabState): Domain {
  return stepDomain(state.series.map((s) => s.steps()));
}

export function lineSeries(state: LabState, values: (s: ArmSeries) => Float64Array): LineSeries[] {
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

/** The loss and the accuracy of both arms at the step the charts read, in words. */
export function describeLine(state: LabState, what: string, values: (s: ArmSeries) => Float64Array, format: (value: number) => string): string {
  const step = readStep(state);
  if (step === null) return `${what}: no data yet.`;
  const at = state.series.map((s, arm) => {
    const steps = s.steps();
    const inRange = steps.length > 0 && step >= steps[0] && step <= steps[steps.length - 1];
    return `${armLabel(state, arm)} ${inRange ? format(values(s)[nearestIndex(steps, step)]) : '–'}`;
  });
  return `${what} at ${stepPhrase(state, step)}: ${at.join(', ')}.`;
}

function TrainingPanel() {
  return (
    <section className="panel" aria-labelledby="training-title">
      <h2 id="training-title">Training loss</h2>
      <p className="caption">
        The training cross-entropy of both arms, averaged over the steps between two records. Their test accuracy is Figure 1(a), at the top.
      </p>
      <ChartCanvas
        label="Training loss of both arms over steps"
        testId="chart-loss"
        vector
        height={220}
        stepCursor
        inputs={(s) => [...timeInputs(s), s.config.lossScale]}
        describe={(state) => describeLine(state, 'Training loss (nats)', (s) => s.loss(), inputText)}
        table={(state) =>
          stepsTable(
            'Training loss (cross-entropy, nats) of both arms by training step',
            lineSeries(state, (s) => s.loss()),
            inputText,
          )
        }
        paint={({ ctx, width, height, state }) =>
          drawLineChart(
            ctx,
            lineSeries(state, (s) => s.loss()),
            {
              width,
              height,
              yAxis: LOSS_AXIS,
              log: state.config.lossScale === 'log',
              xDomain: sharedSteps(state),
              hoverStep: state.view.cursorStep,
            },
          )
        }
      />
      <InferenceGapChart />
    </section>
  );
}

/** The step the "now" histograms show: the cursor's, or the latest both arms recorded. */
function histogramStep(state: LabState): number {
  return readStep(state) ?? 0;
}

function histogramSeries(state: LabState, layer: number) {
  const step = histogramStep(state);
  return state.series.map((s, arm) => {
    const at = s.length > 0 ? nearestIndex(s.steps(), step) : -1;
    return {
      label: armLabel(state, arm),
      color: ARM_COLORS[arm],
      histogram: at >= 0 ? s.histogramAt(layer, state.config.distributionView, at) : null,
      step: at >= 0 ? s.steps()[at] : null,
    };
  });
}

function describeHistogram(state: LabState, layer: number): string {
  const what = `Histogram of the input to the nonlinearity, ${distributionTitle(state.config, layer)}`;
  const arms = histogramSeries(state, layer);
  if (arms.every((a) => a.histogram === null)) return `${what}: no data yet.`;
  const at = arms.map((a) => (a.histogram === null ? `${a.label}: no record` : `${a.label}: most values from ${modalBin(a.histogram)}`));
  return `${what}, at ${stepPhrase(state, histogramStep(state))}: ${at.join('; ')}.`;
}

function describeHeatmap(state: LabState, arm: number, layer: number): string {
  const what = `Arm ${armLabel(state, arm)}, ${distributionTitle(state.config, layer)}, histograms of the input to the nonlinearity over steps`;
  const step = readStep(state);
  const s = state.series[arm];
  if (step === null || s.length === 0) return `${what}: no data yet.`;
  const at = nearestIndex(s.steps(), step);
  return `${what}; at step ${s.steps()[at].toLocaleString('en')} most values from ${modalBin(s.histogramAt(layer, state.config.distributionView, at))}.`;
}

function describeBands(state: LabState, arm: number, layer: number): string {
  const what = `Arm ${armLabel(state, arm)}, ${distributionTitle(state.config, layer)}, 15th/50th/85th percentiles of the input to the nonlinearity`;
  const step = readStep(state);
  if (step === null) return `${what}: no data yet.`;
  return `${what} at ${stepPhrase(state, step)}: ${percentilesText(state.series[arm], layer, state.config.distributionView, step)}.`;
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
            vector
            height={220}
            stepCursor
            inputs={inputs}
            describe={(state) => describeBands(state, arm, layer)}
            table={(state) =>
              percentilesTable(
                `Arm ${armLabel(state, arm)}, ${distributionTitle(state.config, layer)}: percentiles of the input to the nonlinearity by training step`,
                state.series[arm].steps(),
                state.series[arm].percentiles(layer, state.config.distributionView),
                inputText,
              )
            }
            paint={({ ctx, width, height, state }) => {
              const s = state.series[arm];
              return drawBandChart(
                ctx,
                {
                  label: armLabel(state, arm),
                  color: ARM_COLORS[arm],
                  steps: s.steps(),
                  percentiles: s.percentiles(layer, state.config.distributionView),
                  divergedStep: s.divergedStep,
                },
                {
                  width,
                  height,
                  yDomain: sharedPercentileDomain(percentiles(state)),
                  xDomain: sharedSteps(state),
                  hoverStep: state.view.cursorStep,
                  title: distributionTitle(state.config, layer),
                },
              );
            }}
          />
        ))}
      </div>
      <div className="chart-trio">
        <ChartCanvas
          label={`Histogram of the input to the nonlinearity at the step cursor (the latest record when it is not set), hidden layer ${layer + 1}, both arms`}
          testId={`chart-histogram-${layer}`}
          height={220}
          inputs={inputs}
          describe={(state) => describeHistogram(state, layer)}
          table={(state) =>
            histogramTable(
              `Histogram, ${distributionTitle(state.config, layer)}: share of the inputs to the nonlinearity in each bin`,
              histogramSeries(state, layer),
              percentText,
              inputText,
            )
          }
          paint={({ ctx, width, height, state }) =>
            void drawHistogramChart(ctx, histogramSeries(state, layer), {
              width,
              height,
              title: `${state.view.cursorStep === null ? 'now' : 'at the step cursor'}, ${distributionTitle(state.config, layer)}`,
            })
          }
        />
        {[0, 1].map((arm) => (
          <ChartCanvas
            key={arm}
            label={`Histograms over steps (heatmap) of the input to the nonlinearity, hidden layer ${layer + 1}, arm ${ARM_NAMES[arm]}; each step coloured relative to its own tallest bin, the end rows holding the values clamped beyond ±10`}
            testId={`chart-heatmap-${layer}-${ARM_NAMES[arm]}`}
            height={220}
            stepCursor
            inputs={inputs}
            describe={(state) => describeHeatmap(state, arm, layer)}
            table={(state) =>
              heatmapTable(
                `Arm ${armLabel(state, arm)}, ${distributionTitle(state.config, layer)}: share of the inputs to the nonlinearity in each bin, by training step`,
                state.series[arm].steps(),
                state.series[arm].histograms(layer, state.config.distributionView),
                percentText,
                inputText,
              )
            }
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
                  hoverStep: state.view.cursorStep,
                  title: distributionTitle(state.config, layer),
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
          <code>Wx + b</code> without BN and <code>BN(Wx)</code> with it, with the 0–100, 7–93 and 31–69 percentile bands shaded. Measured on{' '}
          {probe.toLocaleString('en')} held-out test digits, BN layers in inference mode (
          {statistics === 'population' ? 'population statistics, Algorithm 2' : 'moving averages'}). A noisy BN layer is shown with the noise of the step just
          trained added to that output, <code>BN(Wx) + ε</code> (each probe digit one example&apos;s draw; <code>BN(Wx)·s + b</code> for the noisy BN of older
          links): the shifted input its nonlinearity saw in training, which inference never sees (the layers above it are measured from its noise-free output,
          as inference computes them). Both arms share the y-axis, so drift in one is visible against the other.
        </p>
        <ViewOptions />
        {Array.from({ length: layers }, (_, layer) => (
          <LayerPanel key={layer} layer={layer} />
        ))}
      </section>
      <SanturkarPanel />
    </div>
  );
}
