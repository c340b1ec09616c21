/**
 * Whether an arm is learning, judged from its series the way a person reading the charts would:
 * still at chance accuracy well into the run, or a loss that has grown far past where it started.
 * A verdict, not a stop: the arm trains on, since a slow start can still turn (and that is a result too).
 */
import type { ArmSeries } from './series';

/** MNIST has ten classes: guessing scores one in ten. */
const CHANCE_ACCURACY = 0.1;
/** Up to this test accuracy an arm counts as at chance (a little above 10%, for the noise of 2,000 digits and a lucky class). */
const AT_CHANCE_ACCURACY = 0.15;
/** A loss this many times its step-0 value is running away, not learning. */
const LOSS_GROWTH = 3;
/** Several records and some hundreds of steps: a network at its first records is allowed to sit at chance. */
const MIN_RECORDS = 5;
const MIN_STEPS = 500;

type SeriesView = Pick<ArmSeries, 'length' | 'steps' | 'loss' | 'testAccuracy' | 'divergedStep'>;

const whole = (n: number) => Math.round(n).toLocaleString('en');
const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;
const nats = (loss: number) => (loss >= 100 ? whole(loss) : loss.toPrecision(3));

/**
 * Why the arm counts as not learning at its latest record, or null while it learns (or has too
 * few records to tell, or diverged: that has its own mark).
 */
export function notLearningReason(series: SeriesView): string | null {
  const n = series.length;
  if (series.divergedStep !== null || n < MIN_RECORDS) return null;
  const steps = series.steps();
  const step = steps[n - 1];
  const loss = series.loss();
  const startLoss = loss[0];
  if (Number.isFinite(loss[n - 1]) && startLoss > 0 && loss[n - 1] > LOSS_GROWTH * startLoss) {
    return `loss ${nats(loss[n - 1])} nats at step ${whole(step)}, ${whole(loss[n - 1] / startLoss)}x its ${nats(startLoss)} at step ${whole(steps[0])}`;
  }
  const accuracy = series.testAccuracy()[n - 1];
  if (step >= MIN_STEPS && accuracy <= AT_CHANCE_ACCURACY) {
    return `${percent(accuracy)} test accuracy after ${whole(step)} steps (chance is ${percent(CHANCE_ACCURACY)})`;
  }
  return null;
}
