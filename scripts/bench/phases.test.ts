import { describe, expect, it } from 'vitest';
import { describePhases, type ArmPhases } from './phases';

function arm(changes: Partial<ArmPhases>): ArmPhases {
  return {
    gradients: 'simd',
    arm: 0,
    stepMs: 1,
    measuredStepMs: 30,
    liveRecordMs: 40,
    fullRecordMs: 200,
    records: 10,
    perInterval: { steps: 99, measures: 30, records: 56 },
    totalPerInterval: 185,
    ...changes,
  };
}

describe('describePhases', () => {
  it("names each arm's parts with their share of the interval and the times they come from", () => {
    const line = describePhases({ blocks: 10, interval: 100, parts: [arm({}), arm({ gradients: 'handwritten', arm: 1 })] });
    expect(line).toContain('ms per 100 steps');
    expect(line).toContain('SIMD A 185 ms = steps 99 (54%) + measures 30 (16%) + records 56 (30%)');
    expect(line).toContain('[step 1.00, measured step 30.0, record 40.0 live / 200 all digits]');
    expect(line).toContain('hand-written B 185 ms');
  });
});
