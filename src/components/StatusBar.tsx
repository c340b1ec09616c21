import { useEffect, useRef, useState } from 'react';
import { notLearningReason } from '../state/learning';
import { pairStep, type LabState } from '../state/store';
import { useLab, useLabState, useLabStateSampled } from './labContext';
import { atNextTick, cancelTick } from './paintScheduler';

/** Training time so far, pauses excluded. */
function elapsedMs(state: LabState, now: number): number {
  return state.elapsedBeforeMs + (state.runningSince === null ? 0 : now - state.runningSince);
}

function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * A value of the clock (rate, elapsed time), read at the shared clock's ticks while the run goes,
 * so it changes in the frames the charts repaint in; a value that reads the same as before
 * re-renders nothing.
 */
function useClockReading<T>(read: (state: LabState, now: number) => T): T {
  const { store } = useLab();
  const readRef = useRef(read);
  readRef.current = read;
  const [value, setValue] = useState(() => read(store.getState(), performance.now()));
  useEffect(() => {
    const tick = () => {
      const state = store.getState();
      setValue(readRef.current(state, performance.now()));
      if (state.runningSince !== null) atNextTick(tick);
    };
    tick();
    const unsubscribe = store.subscribe((state, previous) => state.runningSince !== previous.runningSince && tick());
    return () => {
      unsubscribe();
      cancelTick(tick);
    };
  }, [store]);
  return value;
}

/** Steps per second over the current stretch of running. */
function stepsPerSecond(state: LabState, now: number): string {
  if (state.runningSince === null) return '–';
  const seconds = (now - state.runningSince) / 1000;
  return seconds > 0.5 ? ((pairStep(state) - state.stepsAtRunningSince) / seconds).toFixed(0) : '–';
}

const STATUS_TEXT: Record<LabState['status'], string> = {
  idle: 'Idle',
  loading: 'Loading MNIST and starting the backend…',
  running: 'Training',
  paused: 'Paused',
  finished: 'Finished',
  error: 'Stopped by an error',
};

export function StatusBar() {
  const status = useLabState((s) => s.status);
  // Every progress message changes an arm's step: the bar reads it at the clock's ticks.
  const step = useLabStateSampled(pairStep);
  const totalSteps = useLabState((s) => s.config.steps);
  // Strings and numbers, so the bar re-renders only when one of them changes, not at every message.
  const backends = useLabState((s) => [...new Set(s.arms.map((a) => a.backend).filter(Boolean))].join(', '));
  const fallback = useLabState((s) => s.arms.find((a) => a.fallbackReason)?.fallbackReason);
  const divergedA = useLabState((s) => s.arms[0].diverged);
  const divergedB = useLabState((s) => s.arms[1].diverged);
  const notLearningA = useLabStateSampled((s) => notLearningReason(s.series[0]));
  const notLearningB = useLabStateSampled((s) => notLearningReason(s.series[1]));
  const rate = useClockReading(stepsPerSecond);
  const elapsed = useClockReading((state, now) => formatDuration(elapsedMs(state, now)));
  return (
    <section className="status-bar" aria-label="Run status">
      <span className={`status status-${status}`} role="status" aria-live="polite">
        {STATUS_TEXT[status]}
      </span>
      <span>
        Step{' '}
        <output aria-label="Step" data-testid="step">
          {step}
        </output>{' '}
        / {totalSteps.toLocaleString('en')}
      </span>
      <progress aria-label="Run progress" max={totalSteps} value={step} />
      <span>
        <output aria-label="Steps per second" data-testid="steps-per-second">
          {rate}
        </output>{' '}
        steps/s
      </span>
      <span>
        Elapsed <output aria-label="Elapsed time">{elapsed}</output>
      </span>
      <span>
        Backend{' '}
        <output aria-label="Backend" data-testid="backend">
          {backends || '–'}
        </output>
      </span>
      {fallback && <span className="warning">{fallback}</span>}
      {[divergedA, divergedB].map((diverged, i) =>
        diverged !== null ? (
          <span key={i} className="badge diverged" data-testid={`diverged-${i === 0 ? 'A' : 'B'}`}>
            Arm {i === 0 ? 'A' : 'B'} diverged at step {diverged}
          </span>
        ) : null,
      )}
      {[notLearningA, notLearningB].map((reason, i) =>
        reason !== null ? (
          <span key={i} className="badge not-learning" data-testid={`not-learning-${i === 0 ? 'A' : 'B'}`} title="It trains on: a slow start can still turn.">
            {i === 0 ? 'A' : 'B'}: not learning: {reason}
          </span>
        ) : null,
      )}
    </section>
  );
}
