/** The store and the runner, handed to every component once by <App>. */
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { Runner } from '../state/runner';
import type { LabState, LabStore } from '../state/store';
import { atNextTick, cancelTick, DATA_REPAINT_MS } from './paintScheduler';

export interface Lab {
  store: LabStore;
  runner: Runner;
}

export const LabContext = createContext<Lab | null>(null);

export function useLab(): Lab {
  const lab = useContext(LabContext);
  if (lab === null) throw new Error('useLab outside <LabContext.Provider>');
  return lab;
}

/** A narrow selector over the store: the component re-renders only when the selected value changes. */
export function useLabState<T>(selector: (state: LabState) => T): T {
  return useStore(useLab().store, selector);
}

/** What the user does, as opposed to the run's progress: a text that follows it must follow at once. */
export function userChanged(state: LabState, previous: LabState): boolean {
  return state.view !== previous.view || state.config !== previous.config || state.runId !== previous.runId || state.status !== previous.status;
}

/**
 * A selector for text that follows the run (steps, latest values): while records and progress
 * pour in, it is read again at the shared clock's ticks (paintScheduler.ts), so the page's text
 * changes in the frames the charts repaint in, not at every message; what the user does shows at once.
 */
export function useLabStateSampled<T>(selector: (state: LabState) => T, period: number = DATA_REPAINT_MS): T {
  const { store } = useLab();
  const selectorRef = useRef(selector);
  selectorRef.current = selector;
  const [value, setValue] = useState(() => selector(store.getState()));
  useEffect(() => {
    const read = () => {
      cancelTick(read);
      setValue(selectorRef.current(store.getState()));
    };
    read();
    const unsubscribe = store.subscribe((state, previous) => {
      if (userChanged(state, previous)) read();
      else atNextTick(read, period);
    });
    return () => {
      unsubscribe();
      cancelTick(read);
    };
  }, [store, period]);
  return value;
}
