import type { Config } from '../config/schema';
import { stepDomain } from '../charts/axes';
import { ARM_COLORS } from '../charts/colors';
import { drawLineChart } from '../charts/lineChart';
import { SATURATION_AXIS, saturationReadout } from '../charts/saturation';
import type { LabState } from '../state/store';
import { ChartCanvas } from './ChartCanvas';
import { stepsTable } from './chartTables';
import { useLabState, useLabStateSampled } from './labContext';
import { TEXT_TICK_MS } from './paintScheduler';
import { armLabel, percentText, readStep } from './readout';

/** Where each nonlinearity counts as saturated: the thresholds of isSaturated in src/training/statistics.ts. */
const SATURATED_WHERE: Record<Config['activation'], string> = {
  sigmoid: 'a sigmoid input beyond ±4, where its slope is under 7% of its peak',
  tanh: 'a tanh input beyond ±2, where its slope is under 7% of its peak',
  relu: 'a ReLU input at or below 0, where it passes no gradient',
};

function arms(state: LabState, layer: number) {
  return state.series.map((s, arm) => ({
    label: armLabel(state, arm),
    color: ARM_COLORS[arm],
    steps: s.steps(),
    values: s.saturation(layer),
    saturation: s.saturation(layer),
    divergedStep: s.divergedStep,
  }));
}

/** The values at the step cursor (or the latest) in words: its own component, so following the data re-renders only this paragraph, not the chart. */
function SaturationReadout({ layer }: { layer: number }) {
  const readout = useLabStateSampled((s) => saturationReadout(arms(s, layer), s.view.cursorStep), TEXT_TICK_MS);
  const shownStep = useLabStateSampled((s) => readStep(s) ?? 0, TEXT_TICK_MS);
  const readoutId = `saturation-readout-${layer}`;
  return (
    <p className="readout" id={readoutId} data-testid={readoutId} data-step={shownStep}>
      {readout ?? 'No record yet.'}
    </p>
  );
}

/** Both arms' share of saturated units of one hidden layer over training, with its values at the step cursor (or the latest) in words. */
export function SaturationChart({ layer }: { layer: number }) {
  const activation = useLabState((s) => s.config.activation);
  return (
    <figure className="saturation">
      <figcaption className="caption">
        Saturation, hidden layer {layer + 1}: the share of (unit, test digit) pairs with {SATURATED_WHERE[activation]}.
      </figcaption>
      <ChartCanvas
        label={`Share of saturated units over steps, hidden layer ${layer + 1}, both arms`}
        testId={`chart-saturation-${layer}`}
        vector
        height={150}
        stepCursor
        inputs={(s) => [...arms(s, layer).map((a) => a.label), s.view.cursorStep]}
        describe={(s) => saturationReadout(arms(s, layer), s.view.cursorStep) ?? 'No record yet.'}
        table={(s) => stepsTable(`Share of saturated units, hidden layer ${layer + 1}, by training step`, arms(s, layer), percentText)}
        paint={({ ctx, width, height, state }) =>
          drawLineChart(ctx, arms(state, layer), {
            width,
            height,
            yAxis: SATURATION_AXIS,
            yDomain: [0, 1],
            xDomain: stepDomain(state.series.map((s) => s.steps())),
            hoverStep: state.view.cursorStep,
          })
        }
      />
      <SaturationReadout layer={layer} />
    </figure>
  );
}
