/** The store and the runner, handed to every component once by <App>. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { Runner } from '../state/runner';
import type { LabState, LabStore } from '../state/store';

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
