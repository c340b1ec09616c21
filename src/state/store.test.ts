import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config, type Problem } from '../config/schema';
import { createLabStore, freshArm, holdCursor, hoverCursor, initialState, leaveCursor, NO_CURSOR, pairStep, type ArmStatus } from './store';

function arms(a: Partial<ArmStatus>, b: Partial<ArmStatus>): { arms: [ArmStatus, ArmStatus] } {
  return {
    arms: [
      { ...freshArm(), ...a },
      { ...freshArm(), ...b },
    ],
  };
}

describe('the lab store', () => {
  it('starts idle from the config and problems it is given (a link applies before the first step)', () => {
    const config: Config = {
      ...DEFAULT_CONFIG,
      hiddenLayers: 4,
      normalizationA: ['none', 'none', 'none', 'none'],
      normalizationB: ['batchnorm', 'none', 'batchnorm', 'none'],
    };
    const problems: Problem[] = [{ field: 'learningRate', key: 'lr', received: 'fast', used: '0.5', reason: 'not a number' }];
    const state = createLabStore(config, problems).getState();
    expect(state.config).toBe(config);
    expect(state.problems).toBe(problems);
    expect(state.status).toBe('idle');
    expect(state.runId).toBe(0);
    expect(state.error).toBeNull();
    expect(state.arms).toEqual([freshArm(), freshArm()]);
  });

  it('holds one empty series per arm with a column for every hidden layer of the config', () => {
    const state = initialState({ ...DEFAULT_CONFIG, hiddenLayers: 5 });
    expect(state.series.map((s) => [s.layers, s.length])).toEqual([
      [5, 0],
      [5, 0],
    ]);
    expect(state.series[0]).not.toBe(state.series[1]);
  });

  it('starts from the defaults without a link', () => {
    expect(createLabStore().getState().config).toEqual(DEFAULT_CONFIG);
  });

  it('a fresh arm is at step 0, neither diverged nor finished, with no backend yet', () => {
    expect(freshArm()).toEqual({ step: 0, diverged: null, finished: false, backend: null, fallbackReason: null, startMs: null });
  });
});

describe('pairStep', () => {
  it('is the step both arms have reached: the slower arm sets it', () => {
    expect(pairStep(arms({ step: 120 }, { step: 95 }))).toBe(95);
    expect(pairStep(arms({ step: 7 }, { step: 300 }))).toBe(7);
  });

  it('ignores a diverged arm, so the counter follows the arm that still trains', () => {
    expect(pairStep(arms({ step: 3, diverged: 3 }, { step: 250 }))).toBe(250);
    expect(pairStep(arms({ step: 400 }, { step: 12, diverged: 12 }))).toBe(400);
  });

  it('with both arms diverged, is the furthest step reached', () => {
    expect(pairStep(arms({ step: 3, diverged: 3 }, { step: 41, diverged: 41 }))).toBe(41);
  });

  it('counts a finished arm at its last step', () => {
    expect(pairStep(arms({ step: 500, finished: true }, { step: 480 }))).toBe(480);
  });
});

describe('the step cursor', () => {
  it('starts at the latest record (no cursor)', () => {
    expect(initialState().view).toEqual({ cursorStep: null, heldStep: null });
  });

  it('follows the pointer, and goes back to the held step when the pointer leaves', () => {
    const held = holdCursor(NO_CURSOR, 300);
    expect(held).toEqual({ cursorStep: 300, heldStep: 300 });
    const hovering = hoverCursor(held, 700);
    expect(hovering).toEqual({ cursorStep: 700, heldStep: 300 });
    expect(leaveCursor(hovering)).toEqual({ cursorStep: 300, heldStep: 300 });
    expect(leaveCursor(hoverCursor(NO_CURSOR, 700))).toEqual(NO_CURSOR);
  });

  it('returns the same view when nothing changes, so the charts do not repaint for nothing', () => {
    const held = holdCursor(NO_CURSOR, 300);
    expect(holdCursor(held, 300)).toBe(held);
    expect(hoverCursor(held, 300)).toBe(held);
    expect(leaveCursor(held)).toBe(held);
    expect(holdCursor(held, null)).toEqual(NO_CURSOR);
  });
});
