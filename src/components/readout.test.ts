import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/schema';
import { holdCursor, initialState, type LabState } from '../state/store';
import { HISTOGRAM, PERCENTILES, type ArmRecord, type Distribution } from '../training/records';
import {
  accuracyText,
  armLabel,
  cursorReadout,
  describeMeasured,
  fullAccuracyText,
  inputText,
  modalBin,
  percentilesText,
  readStep,
  santurkarReadout,
  stepPhrase,
} from './readout';
import { icsOf, landscapeOf } from './santurkar';

/** A distribution whose percentile p is `centre + p / 100`, all values in one histogram bin. */
function distribution(centre: number, bin: number): Distribution {
  const histogram = new Array<number>(HISTOGRAM.bins).fill(0);
  histogram[bin] = 10;
  return { percentiles: PERCENTILES.map((p) => centre + p / 100), mean: centre, std: 1, histogram };
}

function record(step: number, accuracy: number, centre: number, fullTestAccuracy = NaN): ArmRecord {
  return {
    step,
    loss: 1,
    testAccuracy: accuracy,
    fullTestAccuracy,
    layers: Array.from({ length: 3 }, () => ({ unit: distribution(centre, 20), pooled: distribution(centre - 5, 3), saturation: 0 })),
  };
}

/** Arm A recorded at steps 0, 100, 200; arm B only at 0 and 100 (it runs behind). */
function recorded(): LabState {
  const state = initialState();
  [0, 100, 200].forEach((step, i) => state.series[0].push(record(step, 0.1 + i * 0.3, -i)));
  [0, 100].forEach((step, i) => state.series[1].push(record(step, 0.2 + i * 0.5, i)));
  return state;
}

describe('the charts in words', () => {
  it('names the arms from the config, as a preset sets them', () => {
    const state = initialState();
    expect(armLabel(state, 0)).toBe('A: no BN');
    expect(armLabel(state, 1)).toBe('B: BN on all');
    const preset = initialState({ ...DEFAULT_CONFIG, normalizationA: ['batchnorm', 'batchnorm', 'none'], normalizationB: ['none', 'none', 'batchnorm'] });
    expect(armLabel(preset, 0)).toBe('A: BN on 1, 2');
    expect(armLabel(preset, 1)).toBe('B: BN on 3');
  });

  it('reads the charts at the step cursor, or where it is not set at the latest step both arms recorded, so the words name both values', () => {
    const state = recorded();
    expect(readStep(initialState())).toBeNull();
    expect(readStep(state)).toBe(100);
    expect(accuracyText(state, readStep(state)!)).toBe('A: no BN 40.0%, B: BN on all 70.0%');
    expect(stepPhrase(state, 100)).toBe('step 100 (latest)');
    // An arm that diverged stops where it did: the words follow the one that trains on.
    state.series[1].markDiverged(100);
    expect(readStep(state)).toBe(200);
    // Before the slower arm's first record, the faster arm's latest.
    const first = initialState();
    first.series[0].push(record(0, 0.1, 0));
    expect(readStep(first)).toBe(0);
    const atCursor = { ...state, view: holdCursor(state.view, 100) };
    expect(readStep(atCursor)).toBe(100);
    expect(stepPhrase(atCursor, 100)).toBe('step 100 (step cursor)');
  });

  it('gives both arms’ test accuracy at a step, with a dash for an arm that has not reached it', () => {
    const state = recorded();
    expect(accuracyText(state, 100)).toBe('A: no BN 40.0%, B: BN on all 70.0%');
    expect(accuracyText(state, 200)).toBe('A: no BN 70.0%, B: BN on all –');
  });

  it('gives both arms’ accuracy on all 10,000 test digits only at a step whose record scored them', () => {
    const state = initialState();
    [0, 100, 200].forEach((step) => state.series[0].push(record(step, 0.5, 0, step === 200 ? 0.61 : NaN)));
    [0, 100, 200].forEach((step) => state.series[1].push(record(step, 0.5, 0, step === 200 ? 0.905 : NaN)));
    expect(fullAccuracyText(state, 200)).toBe('A: no BN 61.0%, B: BN on all 90.5%');
    expect(fullAccuracyText(state, 100)).toBeNull();
    expect(fullAccuracyText(state, 190)).toBeNull();
    expect(cursorReadout({ ...state, view: holdCursor(state.view, 200) })).toMatch(
      /^Step 200: test accuracy A: no BN 50\.0%, B: BN on all 50\.0% \(on all 10,000 test digits: A: no BN 61\.0%, B: BN on all 90\.5%\)\. Layer 3/,
    );
  });

  it('gives an arm’s 15th/50th/85th percentiles at a step, with a true minus sign', () => {
    const state = recorded();
    expect(percentilesText(state.series[0], 2, 'unit', 100)).toBe('−0.85/−0.5/−0.15');
    expect(percentilesText(state.series[0], 2, 'pooled', 0)).toBe('−4.85/−4.5/−4.15');
    expect(percentilesText(state.series[1], 2, 'unit', 200)).toBe('–');
    expect(inputText(NaN)).toBe('–');
  });

  it('names the histogram bin that holds the most values', () => {
    const histogram = new Array<number>(HISTOGRAM.bins).fill(1);
    histogram[19] = 5;
    expect(modalBin(histogram)).toBe('−0.5 to 0');
  });

  it('reads out the cursor’s step, both arms’ accuracy and the last layer’s tracked unit, and says how to set it when unset', () => {
    const state = recorded();
    expect(cursorReadout(state)).toMatch(/^The charts show the latest record\. .*Step slider\.$/);
    expect(cursorReadout({ ...state, view: holdCursor(state.view, 100) })).toBe(
      'Step 100: test accuracy A: no BN 40.0%, B: BN on all 70.0%. Layer 3, unit 0, input to the sigmoid, ' +
        '15th/50th/85th percentiles: A −0.85/−0.5/−0.15, B 1.15/1.5/1.85.',
    );
  });

  describe('Santurkar et al.’s measures, taken at some records only', () => {
    /** Arm A measured at steps 100 and 300 of 0..300; arm B at 100 only, and recorded to 200. */
    function measured(): LabState {
      const state = initialState();
      const at = (step: number, scale: number): ArmRecord => ({
        ...record(step, 0.5, 0),
        landscape: { lossMin: 0.1 * scale, lossMax: 0.3 * scale, gradientChangeMin: 0.01 * scale, gradientChangeMax: 0.05 * scale, betaSmoothness: 2 * scale },
        layers: record(step, 0.5, 0).layers.map((layer, i) => ({ ...layer, ics: i === 0 ? { l2: 0, cosine: 1 } : { l2: 0.02 * scale * i, cosine: 0.9 } })),
      });
      [0, 100, 200, 300].forEach((step) => state.series[0].push(step % 200 === 100 ? at(step, step / 100) : record(step, 0.5, 0)));
      [0, 100, 200].forEach((step) => state.series[1].push(step === 100 ? at(step, 0.5) : record(step, 0.5, 0)));
      return state;
    }

    it('gives each arm’s last measurement and its step, never an unmeasured record’s NaN', () => {
      const state = measured();
      expect(Array.from(icsOf(state.series[0], 2, 'l2'))).toEqual([NaN, 0.04, NaN, 0.12]);
      const what = 'ICS of hidden layer 3';
      const l2 = (s: (typeof state.series)[number]) => [icsOf(s, 2, 'l2')];
      expect(describeMeasured(state, what, l2, ([v]) => inputText(v))).toBe(
        'ICS of hidden layer 3, latest measurement: A: no BN 0.12 at step 300, B: BN on all 0.02 at step 100.',
      );
      expect(describeMeasured({ ...state, view: holdCursor(state.view, 200) }, what, l2, ([v]) => inputText(v))).toBe(
        'ICS of hidden layer 3, at or before step 200 (step cursor): A: no BN 0.04 at step 100, B: BN on all 0.02 at step 100.',
      );
      expect(describeMeasured({ ...state, view: holdCursor(state.view, 0) }, what, l2, ([v]) => inputText(v))).toBe(
        'ICS of hidden layer 3, at or before step 0 (step cursor): A: no BN not measured, B: BN on all not measured.',
      );
      expect(describeMeasured(initialState(), what, l2, ([v]) => inputText(v))).toBe('ICS of hidden layer 3: no data yet.');
      const range = (s: (typeof state.series)[number]) => [landscapeOf(s, 'lossMin'), landscapeOf(s, 'lossMax')];
      expect(describeMeasured(state, 'Loss', range, ([lo, hi]) => `${inputText(lo)}–${inputText(hi)}`)).toBe(
        'Loss, latest measurement: A: no BN 0.3–0.9 at step 300, B: BN on all 0.05–0.15 at step 100.',
      );
    });

    it('reads out both arms’ last-layer ICS, loss and gradient ranges and β at the step cursor', () => {
      const state = measured();
      expect(santurkarReadout({ ...state, view: holdCursor(state.view, 250) })).toBe(
        'At step 250 (step cursor), Santurkar et al.: ' +
          'A: no BN, measured at step 100: ICS of layer 3 ‖G − G′‖ 0.04, cosine 0.9; loss along the gradient 0.1–0.3 nats; change of the gradient 0.01–0.05; β-smoothness 2. ' +
          'B: BN on all: not measured yet.',
      );
      expect(santurkarReadout(state)).toMatch(
        /^Latest measurements, Santurkar et al\.: A: no BN, measured at step 300: .* B: BN on all, measured at step 100: /,
      );
      const oneLayer = initialState({ ...DEFAULT_CONFIG, hiddenLayers: 1, normalizationA: ['none'], normalizationB: ['batchnorm'] });
      expect(santurkarReadout(oneLayer)).toBe('Latest measurements, Santurkar et al.: A: no BN: not measured yet. B: BN on all: not measured yet.');
    });
  });
});
