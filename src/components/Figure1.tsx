/**
 * The paper's Figure 1, live, at the top of the page: (a) test accuracy of both arms, (b) and (c)
 * the 15th/50th/85th percentiles of one unit's input to the nonlinearity in the last hidden layer,
 * one panel per arm on a shared y-axis; the step cursor's scrubber and readout; and what to look for.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { ACCURACY_AXIS } from '../charts/axes';
import { drawBandChart, sharedPercentileDomain } from '../charts/bandChart';
import { ARM_COLORS } from '../charts/colors';
import { cursorSteps, nearestIndex } from '../charts/hover';
import { drawLineChart } from '../charts/lineChart';
import { isBatchNormalized, NORMALIZATION_INFO, type Config } from '../config/schema';
import { serialize } from '../config/url';
import { holdCursor, type LabState } from '../state/store';
import { ChartCanvas, type PaintArgs } from './ChartCanvas';
import { figurePng } from './chartExport';
import { percentilesTable, stepsTable } from './chartTables';
import { ExportMenu } from './ExportMenu';
import { exportFileName, latestStep, saveBlob } from './exportFiles';
import { useLab, useLabState, useLabStateSampled } from './labContext';
import { describeLine, lineSeries, sharedSteps, timeInputs } from './Panels';
import { FULL_TEST_EVERY, LIVE_TEST_DIGITS } from '../training/measures';
import {
  ARM_NAMES,
  armLabel,
  armNormalization,
  cursorReadout,
  distributionTitle,
  fullAccuracyText,
  inputText,
  percentText,
  percentilesText,
  readStep,
  stepPhrase,
  TEST_DIGITS,
} from './readout';

const PAPER = 'https://arxiv.org/abs/1502.03167';
const CHART_HEIGHT = 250;
/** Taller in classroom mode (`present=1`), where Figure 1 fills a projector's screen. */
const PRESENTED_HEIGHT = 440;
/** The live region speaks at most this often while the cursor is dragged. */
const READOUT_MS = 300;

/** What the plotted quantity is for one arm's last hidden layer, in the paper's notation. */
function plottedInput(config: Config, arm: number): string {
  return NORMALIZATION_INFO[armNormalization(config, arm)[config.hiddenLayers - 1]].nonlinearityInput;
}

/** Both arms' last-layer percentiles, for the y-axis (b) and (c) share; a diverged arm would flatten it. */
function lastLayerPercentiles(state: LabState) {
  const layer = state.config.hiddenLayers - 1;
  const live = state.series.filter((s) => s.divergedStep === null);
  return (live.length > 0 ? live : state.series).map((s) => ({ percentiles: s.percentiles(layer, 'unit') }));
}

function describeLastLayer(state: LabState, arm: number): string {
  const layer = state.config.hiddenLayers - 1;
  const what = `Figure 1(${arm === 0 ? 'b' : 'c'}), arm ${armLabel(state, arm)}, ${distributionTitle(state.config, layer, 'unit')}: 15th/50th/85th percentiles of the input to the ${state.config.activation}`;
  const step = readStep(state);
  if (step === null) return `${what}: no data yet.`;
  return `${what} at ${stepPhrase(state, step)}: ${percentilesText(state.series[arm], layer, 'unit', step)}.`;
}

function useChartHeight(): number {
  return useLabState((s) => s.config.present) === '1' ? PRESENTED_HEIGHT : CHART_HEIGHT;
}

function describeAccuracy(state: LabState): string {
  const live = describeLine(
    state,
    `Figure 1(a), test accuracy on the live ${LIVE_TEST_DIGITS.toLocaleString('en-US')} test digits`,
    (s) => s.testAccuracy(),
    percentText,
  );
  const step = readStep(state);
  const full = step === null ? null : fullAccuracyText(state, step);
  return full === null ? live : `${live} On all ${TEST_DIGITS.toLocaleString('en-US')} test digits: ${full}.`;
}

function paintAccuracy({ ctx, width, height, state }: PaintArgs) {
  return drawLineChart(
    ctx,
    lineSeries(state, (s) => s.testAccuracy()),
    {
      width,
      height,
      yAxis: ACCURACY_AXIS,
      yDomain: [0, 1],
      xDomain: sharedSteps(state),
      hoverStep: state.view.cursorStep,
    },
  );
}

function paintLastLayer({ ctx, width, height, state }: PaintArgs, arm: number) {
  const s = state.series[arm];
  const last = state.config.hiddenLayers - 1;
  return drawBandChart(
    ctx,
    { label: armLabel(state, arm), color: ARM_COLORS[arm], steps: s.steps(), percentiles: s.percentiles(last, 'unit'), divergedStep: s.divergedStep },
    {
      width,
      height,
      yDomain: sharedPercentileDomain(lastLayerPercentiles(state)),
      xDomain: sharedSteps(state),
      hoverStep: state.view.cursorStep,
      title: `unit ${state.config.trackedUnit}`,
    },
  );
}

/** The region as one PNG laid out like the paper's figure: (a), (b), (c) side by side, the link's settings below. */
function Figure1Export() {
  const { store } = useLab();
  const save = async () => {
    const state = store.getState();
    const { config } = state;
    const layer = config.hiddenLayers - 1;
    const draw = (paint: (args: PaintArgs) => unknown) => (ctx: CanvasRenderingContext2D, width: number, height: number) =>
      void paint({ ctx, width, height, state: store.getState() });
    const panels = [
      { caption: '(a) Test accuracy, both arms', draw: draw(paintAccuracy) },
      ...[0, 1].map((arm) => ({
        caption: `(${arm === 0 ? 'b' : 'c'}) Arm ${armLabel(state, arm)}: ${plottedInput(config, arm)}, ${distributionTitle(config, layer, 'unit')}`,
        draw: draw((args) => paintLastLayer(args, arm)),
      })),
    ];
    const query = serialize(config);
    const step = latestStep(state);
    const caption =
      `Covariate Shift Lab, after Ioffe & Szegedy (2015), Figure 1: MNIST, ${config.hiddenLayers} hidden layers of ${config.hiddenUnits} ${config.activation} units, ` +
      `step ${step.toLocaleString('en')} of ${config.steps.toLocaleString('en')}. Settings: ?${query} (learning rate ${config.learningRate}, init sigma ${config.initSigma}, ` +
      `batch ${config.batchSize}, seed ${config.seed}). Percentiles over ${config.probeSize.toLocaleString('en')} held-out test digits, BN in inference mode.`;
    const title = `Figure 1: test accuracy, and the input to one ${config.activation} of the last hidden layer`;
    saveBlob(await figurePng(title, panels, caption, CHART_HEIGHT), exportFileName(config, step, 'png', 'figure-1'));
  };
  return (
    <ExportMenu
      what="Figure 1 as one image"
      text="Export figure"
      testId="figure1-export"
      choices={[{ text: 'PNG', name: 'PNG of Figure 1, panels a, b and c', save }]}
    />
  );
}

function AccuracyChart() {
  const height = useChartHeight();
  return (
    <figure className="figure1-panel">
      <figcaption>(a) Test accuracy, both arms</figcaption>
      <ChartCanvas
        label="Figure 1(a): test accuracy of both arms over training steps"
        testId="chart-accuracy"
        vector
        height={height}
        stepCursor
        inputs={timeInputs}
        describe={(state) => describeAccuracy(state)}
        table={(state) =>
          stepsTable(
            `Figure 1(a): test accuracy on the live ${LIVE_TEST_DIGITS.toLocaleString('en-US')} test digits, both arms, by training step`,
            lineSeries(state, (s) => s.testAccuracy()),
            percentText,
          )
        }
        paint={paintAccuracy}
      />
    </figure>
  );
}

function LastLayerChart({ arm }: { arm: number }) {
  const config = useLabState((s) => s.config);
  const layer = config.hiddenLayers - 1;
  const letter = arm === 0 ? 'b' : 'c';
  const height = useChartHeight();
  return (
    <figure className="figure1-panel">
      <figcaption>
        ({letter}) Arm {armLabel({ config }, arm)}: <code>{plottedInput(config, arm)}</code>, {distributionTitle(config, layer, 'unit')}
      </figcaption>
      <ChartCanvas
        label={`Figure 1(${letter}): 15th, 50th and 85th percentiles over training steps of the input to the ${config.activation}, ${distributionTitle(config, layer, 'unit')}, arm ${ARM_NAMES[arm]}`}
        testId={`chart-figure1-${letter}`}
        vector
        height={height}
        stepCursor
        inputs={(s) => [...timeInputs(s), s.config.activation]}
        describe={(state) => describeLastLayer(state, arm)}
        table={(state) =>
          percentilesTable(
            `Figure 1(${letter}), arm ${armLabel(state, arm)}: percentiles of the input to the ${state.config.activation}, ${distributionTitle(state.config, state.config.hiddenLayers - 1, 'unit')}, by training step`,
            state.series[arm].steps(),
            state.series[arm].percentiles(state.config.hiddenLayers - 1, 'unit'),
            inputText,
          )
        }
        paint={(args) => paintLastLayer(args, arm)}
      />
    </figure>
  );
}

/** The scrubber: one stop per record, so every position is a step the charts can show. */
function StepScrubber() {
  const { store } = useLab();
  const id = useId();
  const cursor = useLabState((s) => s.view.cursorStep);
  // Each records message adds a stop: the scrubber follows at the clock's ticks.
  const records = useLabStateSampled((s) => cursorSteps(s.series.map((a) => a.steps())).length);
  const lastStep = useLabStateSampled(latestStep);
  const steps = cursorSteps(store.getState().series.map((a) => a.steps()));
  const index = records === 0 ? 0 : cursor === null ? records - 1 : nearestIndex(steps, cursor);
  const shown = records === 0 ? null : steps[index];
  const set = (step: number | null) => store.setState({ view: holdCursor(store.getState().view, step) });
  return (
    <div className="scrubber">
      <label htmlFor={id}>Step</label>
      <input
        id={id}
        type="range"
        min={0}
        max={Math.max(0, records - 1)}
        step={1}
        value={index}
        disabled={records === 0}
        aria-valuetext={shown === null ? 'no record yet' : `step ${shown.toLocaleString('en')}`}
        onChange={(e) => {
          const now = cursorSteps(store.getState().series.map((a) => a.steps()));
          const i = Number(e.target.value);
          if (i >= 0 && i < now.length) set(now[i]);
        }}
        onKeyDown={(e) => e.key === 'Escape' && set(null)}
      />
      <output htmlFor={id} className="scrubber-step">
        {shown === null ? '–' : cursor === null ? `latest, ${lastStep.toLocaleString('en')}` : shown.toLocaleString('en')}
      </output>
      <button type="button" onClick={() => set(null)} disabled={cursor === null}>
        Latest
      </button>
    </div>
  );
}

/** The cursor's values as text in a polite live region, rewritten at most every READOUT_MS. */
function CursorReadout() {
  const { store } = useLab();
  const [text, setText] = useState(() => cursorReadout(store.getState()));
  const written = useRef({ text, at: 0 });
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const write = () => {
      timer = null;
      const next = cursorReadout(store.getState());
      if (next === written.current.text) return;
      written.current = { text: next, at: performance.now() };
      setText(next);
    };
    const unsubscribe = store.subscribe(() => {
      if (timer !== null) return;
      const wait = written.current.at + READOUT_MS - performance.now();
      if (wait <= 0) write();
      else timer = setTimeout(write, wait);
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [store]);
  return (
    <p className="readout" aria-live="polite" aria-atomic="true" data-testid="cursor-readout">
      {text}
    </p>
  );
}

/** Which test digits (a) scores: the chart's line, and the full set the readout adds. */
function TestDigitsNote() {
  const metricsInterval = useLabState((s) => s.config.metricsInterval);
  const count = (n: number) => n.toLocaleString('en-US');
  return (
    <p className="caption" data-testid="test-digits-note">
      (a) scores the live {count(LIVE_TEST_DIGITS)} of MNIST's {count(TEST_DIGITS)} test digits at every record; every{' '}
      {count(FULL_TEST_EVERY * metricsInterval)} steps a record also scores all {count(TEST_DIGITS)}, and the readout and the chart's text give that figure too.
    </p>
  );
}

/** What to watch, with the arms named as the config has them. */
function WhatToLookFor() {
  const config = useLabState((s) => s.config);
  const lastNormalized = [0, 1].map((arm) => isBatchNormalized(armNormalization(config, arm)[config.hiddenLayers - 1]));
  const plain = lastNormalized.indexOf(false);
  const normalized = lastNormalized.indexOf(true);
  const panel = (arm: number) => `(${arm === 0 ? 'b' : 'c'}), arm ${ARM_NAMES[arm]}`;
  return (
    <div className="look-for">
      <h3>What to look for</h3>
      <p>
        <strong>Internal covariate shift</strong> is a layer&apos;s input distribution changing during training because the layers below it keep learning: every
        step moves their weights, so the layer above must keep adapting to inputs that wander. Batch normalization standardizes each unit&apos;s input with the
        mean and variance of the mini-batch, then scales and shifts it by a learned γ and β, so the layer above sees a steadier distribution.
      </p>
      <p>
        {plain >= 0 && normalized >= 0 ? (
          <>
            Watch the first few hundred steps. In {panel(plain)}, without BN on the last layer, the three lines spread apart and move; in {panel(normalized)},
            with BN, they hold nearly still. The paper ties the two: a steadier input lets the layers learn sooner, so in (a) the BN arm&apos;s test accuracy
            rises first.
          </>
        ) : (
          <>
            Here {lastNormalized[0] ? 'both arms normalize' : 'neither arm normalizes'} the last hidden layer, so (b) and (c) should move alike; the
            paper&apos;s contrast needs one arm without BN there and one with it.
          </>
        )}{' '}
        Accuracy is measured on held-out test digits and the percentiles on {config.probeSize.toLocaleString('en')} of them, BN layers in inference mode (
        {config.inferenceStatistics === 'population' ? 'population statistics, Algorithm 2' : 'moving averages'}). Move the step cursor to compare the arms at
        one step. Source: <a href={PAPER}>Ioffe &amp; Szegedy, Batch Normalization (2015), Figure 1</a>.
      </p>
    </div>
  );
}

export function Figure1() {
  const activation = useLabState((s) => s.config.activation);
  return (
    <section className="panel figure1" aria-labelledby="figure1-title" data-testid="figure1">
      <h2 id="figure1-title">Figure 1: test accuracy, and the input to one {activation} of the last hidden layer</h2>
      <Figure1Export />
      <div className="figure1-charts">
        <AccuracyChart />
        <LastLayerChart arm={0} />
        <LastLayerChart arm={1} />
      </div>
      <StepScrubber />
      <TestDigitsNote />
      <CursorReadout />
      <WhatToLookFor />
    </section>
  );
}
