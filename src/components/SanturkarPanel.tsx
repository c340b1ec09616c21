/**
 * Santurkar, Tsipras, Ilyas and Madry (2018) put the paper on trial: BN's benefit, they argue, is
 * not less internal covariate shift but a smoother loss landscape. This panel shows their measures
 * for both arms of the run: the shift as they define it (Definition 2.1, per hidden layer) and the
 * landscape along each step's gradient (Figure 4), with what their claim predicts for each.
 */
import { format } from 'd3';
import { LOSS_AXIS, type AxisSpec } from '../charts/axes';
import { FIELDS, type Config } from '../config/schema';
import { LANDSCAPE_STEP_FACTORS } from '../training/santurkar';
import { ARM_COLORS } from '../charts/colors';
import { drawLineChart, type LineSeries } from '../charts/lineChart';
import { drawRangeChart, rangeText, type RangeSeries } from '../charts/rangeChart';
import type { ArmSeries } from '../state/series';
import type { LabState } from '../state/store';
import { ChartCanvas } from './ChartCanvas';
import { stepsTable, type ArmColumn } from './chartTables';
import { useLabState, useLabStateSampled } from './labContext';
import { TEXT_TICK_MS } from './paintScheduler';
import { sharedSteps, timeInputs } from './Panels';
import { armLabel, describeMeasured, inputText, santurkarReadout } from './readout';
import { icsOf, landscapeOf, measuredPoints, measurementSpacing, santurkarPrediction, type IcsPart, type LandscapePart } from './santurkar';

const PAPER = 'https://arxiv.org/abs/1805.11604';
const CHART_HEIGHT = 220;

/** "1e-5": a log axis's small ticks, short enough to stay clear of the axis title. */
const exponent = format('~e');

/**
 * A gradient is nats of loss per unit of weight; its change per unit moved, per unit again. The
 * ticks keep their digits (a cosine near 1 moves in the fourth).
 */
const AXES = {
  l2: { title: '‖G − G′‖ (nats/weight, log)', format: (v: number) => (v > 0 && v < 1e-3 ? exponent(v) : LOSS_AXIS.format(v)) },
  cosine: { title: 'cos(G, G′)', format: LOSS_AXIS.format },
  loss: LOSS_AXIS,
  gradient: { title: '‖g − g′‖ (nats/weight)', format: LOSS_AXIS.format },
  beta: { title: 'β (nats/weight²)', format: LOSS_AXIS.format },
} satisfies Record<string, AxisSpec>;

/** Each arm's measured points only: an unmeasured record is left out, so the line joins the measurements. */
function measuredLines(state: LabState, values: (s: ArmSeries) => Float64Array): LineSeries[] {
  return state.series.map((s, arm) => {
    const { steps, columns } = measuredPoints(s.steps(), [values(s)]);
    return { label: armLabel(state, arm), color: ARM_COLORS[arm], steps, values: columns[0], divergedStep: s.divergedStep };
  });
}

function measuredRanges(state: LabState, lower: LandscapePart, upper: LandscapePart): RangeSeries[] {
  return state.series.map((s, arm) => {
    const { steps, columns } = measuredPoints(s.steps(), [landscapeOf(s, lower), landscapeOf(s, upper)]);
    return { label: armLabel(state, arm), color: ARM_COLORS[arm], steps, lower: columns[0], upper: columns[1], divergedStep: s.divergedStep };
  });
}

/** Rows of the measured steps only, a lowest and a highest column per arm. */
function rangeColumns(ranges: readonly RangeSeries[]): ArmColumn[] {
  return ranges.flatMap((r) => [
    { label: `${r.label}, lowest`, steps: r.steps, values: r.lower },
    { label: `${r.label}, highest`, steps: r.steps, values: r.upper },
  ]);
}

/** ‖G − G′‖ on a log scale: one arm's can be orders of magnitude above the other's. */
const ICS_CHARTS: readonly { part: IcsPart; title: string; axis: AxisSpec; ideal: string; log: boolean }[] = [
  { part: 'l2', title: '‖G − G′‖, the change of the gradient', axis: AXES.l2, ideal: '0', log: true },
  { part: 'cosine', title: 'cos(G, G′), the angle between the gradients', axis: AXES.cosine, ideal: '1', log: false },
];

function IcsCharts({ layer }: { layer: number }) {
  return (
    <div className="santurkar-layer" role="group" aria-labelledby={`santurkar-ics-${layer}-title`}>
      <h4 id={`santurkar-ics-${layer}-title`}>Hidden layer {layer + 1}</h4>
      <div className="chart-pair">
        {ICS_CHARTS.map(({ part, title, axis, ideal, log }) => {
          const what = `ICS (Santurkar et al.'s Definition 2.1) of hidden layer ${layer + 1}: ${title}`;
          return (
            <figure key={part}>
              <figcaption className="caption">
                {title} (ideally {ideal})
              </figcaption>
              <ChartCanvas
                label={`${what}, both arms over training steps`}
                testId={`chart-ics-${part}-${layer}`}
                vector
                height={CHART_HEIGHT}
                stepCursor
                inputs={timeInputs}
                describe={(state) =>
                  describeMeasured(
                    state,
                    what,
                    (s) => [icsOf(s, layer, part)],
                    ([v]) => inputText(v),
                  )
                }
                table={(state) =>
                  stepsTable(
                    `${what}, both arms, at the steps it was measured`,
                    measuredLines(state, (s) => icsOf(s, layer, part)),
                    inputText,
                  )
                }
                paint={({ ctx, width, height, state }) =>
                  drawLineChart(
                    ctx,
                    measuredLines(state, (s) => icsOf(s, layer, part)),
                    {
                      width,
                      height,
                      yAxis: axis,
                      log,
                      xDomain: sharedSteps(state),
                      hoverStep: state.view.cursorStep,
                      markers: true,
                    },
                  )
                }
              />
            </figure>
          );
        })}
      </div>
    </div>
  );
}

interface LandscapeRange {
  /** What the chart shows, in words: its label, text alternative and table caption start with it. */
  what: string;
  caption: string;
  testId: string;
  /** The table caption's unit, after `what`, or nothing. */
  unit: string;
  low: LandscapePart;
  high: LandscapePart;
  yAxis: AxisSpec;
}

/** Figure 4(a) or (b): each arm's band from the lowest to the highest value over the step sizes. */
function LandscapeRangeChart({ what, caption, testId, unit, low, high, yAxis }: LandscapeRange) {
  return (
    <figure>
      <figcaption className="caption">{caption}</figcaption>
      <ChartCanvas
        label={`${what}, both arms over training steps`}
        testId={testId}
        vector
        height={CHART_HEIGHT}
        stepCursor
        inputs={timeInputs}
        describe={(state) =>
          describeMeasured(
            state,
            what,
            (s) => [landscapeOf(s, low), landscapeOf(s, high)],
            ([lo, hi]) => rangeText(lo, hi, inputText),
          )
        }
        table={(state) => stepsTable(`${what}, ${unit}both arms, at the steps it was measured`, rangeColumns(measuredRanges(state, low, high)), inputText)}
        paint={({ ctx, width, height, state }) =>
          drawRangeChart(ctx, measuredRanges(state, low, high), {
            width,
            height,
            yAxis,
            xDomain: sharedSteps(state),
            hoverStep: state.view.cursorStep,
          })
        }
      />
    </figure>
  );
}

function BetaSmoothnessChart() {
  const what = "Santurkar et al.'s Figure 4(c), effective β-smoothness: the largest ‖g(W) − g(W − ηg)‖ / ‖ηg‖ over the step sizes η";
  const values = (s: ArmSeries) => landscapeOf(s, 'betaSmoothness');
  return (
    <figure>
      <figcaption className="caption">(4c) Effective β-smoothness</figcaption>
      <ChartCanvas
        label={`${what}, both arms over training steps`}
        testId="chart-landscape-beta"
        vector
        height={CHART_HEIGHT}
        stepCursor
        inputs={timeInputs}
        describe={(state) =>
          describeMeasured(
            state,
            what,
            (s) => [values(s)],
            ([v]) => inputText(v),
          )
        }
        table={(state) => stepsTable(`${what}, both arms, at the steps it was measured`, measuredLines(state, values), inputText)}
        paint={({ ctx, width, height, state }) =>
          drawLineChart(ctx, measuredLines(state, values), {
            width,
            height,
            yAxis: AXES.beta,
            xDomain: sharedSteps(state),
            hoverStep: state.view.cursorStep,
            markers: true,
          })
        }
      />
    </figure>
  );
}

const INTERVAL_LABEL = FIELDS.find((field) => field.name === 'santurkarInterval')!.label;

/** "0.025, 0.05, 0.1, 0.2 and 0.4 (¼ to 4 times the learning rate)". */
function stepSizes(config: Config): string {
  const etas = LANDSCAPE_STEP_FACTORS.map((factor) => inputText(factor * config.learningRate));
  const first = LANDSCAPE_STEP_FACTORS[0];
  const last = LANDSCAPE_STEP_FACTORS[LANDSCAPE_STEP_FACTORS.length - 1];
  return `${etas.slice(0, -1).join(', ')} and ${etas[etas.length - 1]} (${first} to ${last} times the learning rate)`;
}

/** How often the measures come, or that they are off, and where to change it. */
function MeasuresNote() {
  const every = useLabState((s) => measurementSpacing(s.config.metricsInterval, s.config.santurkarInterval));
  const steps = useLabState((s) => s.config.steps);
  if (every === 0) {
    return (
      <p className="notice santurkar-note" data-testid="santurkar-note">
        These measures are off in this run: set “{INTERVAL_LABEL}” in the Advanced settings to a number of steps to take them.
      </p>
    );
  }
  const count = Math.floor(steps / every);
  return (
    <p className="caption santurkar-note" data-testid="santurkar-note">
      Measured every {every.toLocaleString('en')} steps (“{INTERVAL_LABEL}”, in the Advanced settings, at the records of those steps),{' '}
      {count.toLocaleString('en')} times over the run&apos;s {steps.toLocaleString('en')} steps, on that step&apos;s own mini-batch and without changing the
      run. Records in between carry no measurement: the lines join the measured points (dots while they are few), and no value is drawn as zero.
    </p>
  );
}

/** The cursor's step (or each arm's latest measurement) in words, beside the charts. */
function SanturkarReadout() {
  const text = useLabStateSampled(santurkarReadout, TEXT_TICK_MS);
  return (
    <p className="readout" data-testid="santurkar-readout">
      {text}
    </p>
  );
}

export function SanturkarPanel() {
  const layers = useLabState((s) => s.config.hiddenLayers);
  const etas = useLabState((s) => stepSizes(s.config));
  const prediction = useLabState((s) => santurkarPrediction(s.config));
  const labels = useLabState((s) => `arm ${armLabel(s, 0)} and arm ${armLabel(s, 1)}`);
  return (
    <section className="panel santurkar" aria-labelledby="santurkar-title" data-testid="santurkar">
      <h2 id="santurkar-title">
        <a href={PAPER}>Santurkar et al. (2018)</a>: is it the shift?
      </h2>
      <p className="caption">
        Santurkar, Tsipras, Ilyas and Madry, <cite>How Does Batch Normalization Help Optimization?</cite>, argue that BN helps not by reducing internal
        covariate shift but by making the loss landscape smoother. Their test (their Figure 2): noisy BN, BN followed by noise that shifts every unit&apos;s
        distribution at every step, still trains about as fast as BN. Below, their measures for this run&apos;s two arms, {labels}, arm B&apos;s lines dashed.
      </p>
      <p className="santurkar-prediction" data-testid="santurkar-prediction">
        {prediction}
      </p>
      <MeasuresNote />
      <h3>Internal covariate shift, as their Definition 2.1 measures it</h3>
      <p className="caption">
        At step t, on batch t: G is the gradient of a layer&apos;s weights, and G′ the same gradient after only the layers below it have taken step t&apos;s
        update. Their Figure 3 plots ‖G − G′‖ and cos(G, G′) and finds BN networks with as much of this shift as plain ones, or more, while they train faster.
        Noisy BN&apos;s noise moves the input distributions at every step (their Figure 2, and the layer panels above); whether it also moves the gradients as
        this definition measures is what these charts show. Their claim is that neither kind of shift sets the speed (Figure 1(a) above).{' '}
        {layers > 1
          ? 'Hidden layer 1 has no layer below it: its ‖G − G′‖ is 0 and its cosine 1 by definition, so it is not plotted.'
          : 'This network has one hidden layer, which has no layer below it: its ‖G − G′‖ is 0 and its cosine 1 by definition, so there is nothing to plot.'}
      </p>
      {Array.from({ length: layers - 1 }, (_, i) => (
        <IcsCharts key={i + 1} layer={i + 1} />
      ))}
      <h3>The loss landscape along the gradient, their Figure 4</h3>
      <p className="caption">
        At each measured step the parameters W move along that step&apos;s gradient g to W − ηg, for step sizes η of {etas}. (4a) the range of the loss on the
        step&apos;s mini-batch over those moves; (4b) the range of the gradient&apos;s change; (4c) the largest change of the gradient per unit moved. Their
        claim predicts, for BN against the plain net, a narrower loss range, a smaller change of the gradient and a smaller β: a landscape on which a step goes
        where its gradient said it would.
      </p>
      <div className="chart-trio">
        <LandscapeRangeChart
          what="Santurkar et al.'s Figure 4(a), the loss landscape: the loss on the step's mini-batch after a move along its gradient, lowest to highest over the step sizes"
          caption="(4a) Loss along the gradient, lowest to highest"
          testId="chart-landscape-loss"
          unit="nats, "
          low="lossMin"
          high="lossMax"
          yAxis={AXES.loss}
        />
        <LandscapeRangeChart
          what="Santurkar et al.'s Figure 4(b), gradient predictiveness: how far the gradient moves, ‖g(W) − g(W − ηg)‖, lowest to highest over the step sizes η"
          caption="(4b) Change of the gradient, lowest to highest"
          testId="chart-landscape-gradient"
          unit=""
          low="gradientChangeMin"
          high="gradientChangeMax"
          yAxis={AXES.gradient}
        />
        <BetaSmoothnessChart />
      </div>
      <SanturkarReadout />
    </section>
  );
}
