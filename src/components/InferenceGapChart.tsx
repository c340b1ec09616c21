import { usesBatchStatistics } from '../config/schema';
import type { AxisSpec } from '../charts/axes';
import { ARM_COLORS } from '../charts/colors';
import { drawLineChart, type LineSeries } from '../charts/lineChart';
import type { ArmSeries } from '../state/series';
import type { LabState } from '../state/store';
import { FULL_TEST_EVERY, INFERENCE_GAP_DENSE_INTERVALS } from '../training/measures';
import { ChartCanvas } from './ChartCanvas';
import { useLabState } from './labContext';
import { stepsTable } from './chartTables';
import { sharedSteps, timeInputs } from './Panels';
import { armLabel, armNormalization, describeMeasured } from './readout';
import { measuredPoints } from './santurkar';

/** Differences of two accuracies, recorded as fractions, in percentage points. */
const POINTS_AXIS: AxisSpec = { title: 'percentage points', format: (value) => String(+(value * 100).toFixed(1)).replace('-', '−') };

const pointsText = (difference: number) =>
  Number.isFinite(difference) ? `${(difference * 100).toFixed(1).replace('-', '−')} points` : 'none (no batch statistics)';

/** One arm's difference of two of its gap accuracies, NaN where the arm has no batch statistics. */
function difference(s: ArmSeries, of: 'trainingMode' | 'movingAverage'): Float64Array {
  const minuend = s.inferenceGap(of);
  const population = s.inferenceGap('population');
  return minuend.map((value, i) => value - population[i]);
}

/** Each arm's measured points only, joined: the records between two measurements carry NaN. */
function gapSeries(state: LabState, of: 'trainingMode' | 'movingAverage'): LineSeries[] {
  return state.series.map((s, arm) => {
    const { steps, columns } = measuredPoints(s.steps(), [difference(s, of)]);
    return {
      label: armNormalization(state.config, arm).some(usesBatchStatistics) ? armLabel(state, arm) : `${armLabel(state, arm)} (no batch statistics)`,
      color: ARM_COLORS[arm],
      steps,
      values: columns[0],
      divergedStep: s.divergedStep,
    };
  });
}

const CHARTS = [
  {
    of: 'trainingMode',
    title: 'Batch statistics minus Algorithm 2',
    label: 'Test accuracy with batch statistics minus with Algorithm 2, both arms, over training steps',
    testId: 'chart-gap-training',
  },
  {
    of: 'movingAverage',
    title: 'Moving averages minus Algorithm 2',
    label: 'Test accuracy with moving averages minus with Algorithm 2, both arms, over training steps',
    testId: 'chart-gap-moving',
  },
] as const;

/**
 * The train vs inference gap of BN's arms: how much test accuracy changes when the test digits are
 * normalized, as in training, with the statistics of their own mini-batch, and when inference uses
 * the moving averages rather than Algorithm 2's population statistics.
 */
export function InferenceGapChart() {
  const metricsInterval = useLabState((s) => s.config.metricsInterval);
  const count = (n: number) => n.toLocaleString('en-US');
  return (
    <div className="inference-gap" role="group" aria-labelledby="inference-gap-title">
      <h3 id="inference-gap-title">Training mode against inference mode</h3>
      <p className="caption">
        For an arm with batch statistics, its test accuracy normalized as in training (the test digits in mini-batches of the batch size, each with its own
        statistics) and with the moving averages, each minus its accuracy with Algorithm 2&apos;s population statistics. Small batches and ghost BN widen the
        first gap; the second shrinks as the moving averages catch up with the weights. Measured at every record of the first{' '}
        {count(INFERENCE_GAP_DENSE_INTERVALS * metricsInterval)} steps, while that happens, then every {count(FULL_TEST_EVERY * metricsInterval)} steps with the
        full test.
      </p>
      <div className="inference-gap-charts">
        {CHARTS.map(({ of, title, label, testId }) => (
          <figure key={of}>
            <figcaption className="caption">{title}</figcaption>
            <ChartCanvas
              label={label}
              testId={testId}
              height={160}
              stepCursor
              inputs={timeInputs}
              describe={(state) =>
                describeMeasured(
                  state,
                  `${title}, test accuracy`,
                  (s) => [difference(s, of)],
                  ([value]) => pointsText(value),
                )
              }
              table={(state) =>
                stepsTable(`${title}: test accuracy difference (percentage points) of both arms at the steps it was measured`, gapSeries(state, of), pointsText)
              }
              paint={({ ctx, width, height, state }) =>
                drawLineChart(ctx, gapSeries(state, of), {
                  width,
                  height,
                  yAxis: POINTS_AXIS,
                  xDomain: sharedSteps(state),
                  hoverStep: state.view.cursorStep,
                  markers: true,
                })
              }
            />
          </figure>
        ))}
      </div>
    </div>
  );
}
