import { describe, expect, it } from 'vitest';
import { HISTOGRAM, PERCENTILES, type ArmRecord } from '../training/records';
import { notLearningReason } from './learning';
import { ArmSeries } from './series';

function record(step: number, loss: number, testAccuracy: number): ArmRecord {
  const distribution = { percentiles: PERCENTILES.map(() => 0), mean: 0, std: 1, histogram: new Array<number>(HISTOGRAM.bins).fill(1) };
  return { step, loss, testAccuracy, fullTestAccuracy: NaN, layers: [{ unit: distribution, pooled: distribution, saturation: 0 }] };
}

/** A series of records every `every` steps from step 0, with the loss and accuracy given per record. */
function series(points: [loss: number, accuracy: number][], every = 100): ArmSeries {
  const s = new ArmSeries(1);
  points.forEach(([loss, accuracy], i) => s.push(record(i * every, loss, accuracy)));
  return s;
}

const repeat = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

describe('notLearningReason', () => {
  it('flags an arm still at chance accuracy after several records and 500 steps, naming the accuracy, the step and chance', () => {
    const stuck = series([[2.3, 0.098], ...repeat<[number, number]>(20, [2.31, 0.1])]);
    expect(notLearningReason(stuck)).toBe('10% test accuracy after 2,000 steps (chance is 10%)');
  });

  it('flags a loss that grew past three times its step-0 value, with both losses', () => {
    const runaway = series([
      [5.1, 0.1],
      [40, 0.12],
      [900, 0.1],
      [1500, 0.09],
      [1512, 0.1],
    ]);
    expect(notLearningReason(runaway)).toBe('loss 1,512 nats at step 400, 296x its 5.10 at step 0');
  });

  it('does not flag an arm that learns, nor one at chance in its first records or first 500 steps', () => {
    expect(
      notLearningReason(
        series([
          [2.3, 0.1],
          [1.2, 0.6],
          [0.8, 0.75],
          [0.6, 0.8],
          [0.5, 0.85],
          [0.45, 0.87],
        ]),
      ),
    ).toBeNull();
    expect(notLearningReason(series(repeat<[number, number]>(4, [2.3, 0.1]), 1000))).toBeNull();
    expect(notLearningReason(series(repeat<[number, number]>(10, [2.3, 0.1]), 50))).toBeNull();
  });

  it('lifts the flag once the arm gets going', () => {
    const s = series(repeat<[number, number]>(10, [2.3, 0.1]));
    expect(notLearningReason(s)).not.toBeNull();
    s.push(record(1000, 1.1, 0.55));
    expect(notLearningReason(s)).toBeNull();
  });

  it('leaves a diverged arm to its own mark', () => {
    const s = series(repeat<[number, number]>(10, [2.3, 0.1]));
    s.markDiverged(950);
    expect(notLearningReason(s)).toBeNull();
  });
});
