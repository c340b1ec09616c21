import { useEffect, useState } from 'react';
import { notLearningReason } from '../state/learning';
import { pairStep, type LabState } from '../state/store';
import { useLab, useLabState } from './labContext';

/** Training time so far, pauses excluded. */
function elapsedMs(state: LabState, now: number): number {
  return state.elapsedBeforeMs + (state.runningSince === null ? 0 : now - state.runningSince);
}

function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** Steps per second over the current stretch of running, refreshed twice a second. */
function useStepsPerSecond(): number | null {
  const { store } = useLab();
  const [rate, setRate] = useState<number | null>(null);
  useEffect(() => {
    const timer = setInterval(() => {
      const state = store.getState();
      if (state.runningSince === null) return setRate(null);
      const seconds = (performance.now() - state.runningSince) / 1000;
      setRate(seconds > 0.5 ? (pairStep(state) - state.stepsAtRunningSince) / seconds : null);
    }, 500);
    return () => clearInterval(timer);
  }, [store]);
  return rate;
}

function useElapsed(): number {
  const { store } = useLab();
  const [elapsed, setElapsed] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setElapsed(elapsedMs(store.getState(), performance.now())), 250);
    return () => clearInterval(timer);
  }, [store]);
  return elapsed;
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
  const step = useLabState(pairStep);
  const totalSteps = useLabState((s) => s.config.steps);
  const arms = useLabState((s) => s.arms);
  // Strings, so the bar re-renders only when a verdict changes, not at every record.
  const notLearningA = useLabState((s) => notLearningReason(s.series[0]));
  const notLearningB = useLabState((s) => notLearningReason(s.series[1]));
  const rate = useStepsPerSecond();
  const elapsed = useElapsed();
  const backends = [...new Set(arms.map((a) => a.backend).filter(Boolean))].join(', ');
  const fallback = arms.find((a) => a.fallbackReason)?.fallbackReason;
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
          {rate === null ? '–' : rate.toFixed(0)}
        </output>{' '}
        steps/s
      </span>
      <span>
        Elapsed <output aria-label="Elapsed time">{formatDuration(elapsed)}</output>
      </span>
      <span>
        Backend{' '}
        <output aria-label="Backend" data-testid="backend">
          {backends || '–'}
        </output>
      </span>
      {fallback && <span className="warning">{fallback}</span>}
      {arms.map((arm, i) =>
        arm.diverged !== null ? (
          <span key={i} className="badge diverged" data-testid={`diverged-${i === 0 ? 'A' : 'B'}`}>
            Arm {i === 0 ? 'A' : 'B'} diverged at step {arm.diverged}
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
