import { useEffect, useRef, useState } from 'react';
import { followColorScheme } from '../charts/colors';
import { serialize } from '../config/url';
import type { Runner } from '../state/runner';
import { NO_CURSOR, type LabStore } from '../state/store';
import { Controls, Transport } from './Controls';
import { DataProgress } from './DataProgress';
import { ExportRun } from './ExportRun';
import { Figure1 } from './Figure1';
import { LabContext, useLab, useLabState } from './labContext';
import { NetworkDiagram } from './NetworkDiagram';
import { Notices } from './Notices';
import { requestPaint } from './paintScheduler';
import { Panels } from './Panels';
import { armLabel } from './readout';
import { Shortcuts } from './Shortcuts';
import { StatusBar } from './StatusBar';

/** The address bar follows the config (replaceState: a setting change is not a history entry). */
function useConfigInAddressBar(store: LabStore): void {
  useEffect(() => {
    const write = () => {
      const query = serialize(store.getState().config);
      const url = `${window.location.pathname}?${query}${window.location.hash}`;
      if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) window.history.replaceState(null, '', url);
    };
    write();
    return store.subscribe((state, previous) => state.config !== previous.config && write());
  }, [store]);
}

/** A new run has other records: a cursor on the old run's step would point at nothing. */
function useCursorClearedOnNewRun(store: LabStore): void {
  useEffect(
    () => store.subscribe((state, previous) => state.runId !== previous.runId && state.view !== NO_CURSOR && store.setState({ view: NO_CURSOR })),
    [store],
  );
}

/** The lede names the arms as the config has them: a preset can give arm A BN too. */
function Lede() {
  const config = useLabState((s) => s.config);
  return (
    <p className="lede">
      Ioffe &amp; Szegedy&apos;s Figure 1, live: two copies of one {config.activation} network learn MNIST side by side, from the same initial weights on the
      same mini-batches. Arm {armLabel({ config }, 0)}; arm {armLabel({ config }, 1)}.
    </p>
  );
}

function CopyLink() {
  const [copied, setCopied] = useState<string | null>(null);
  // One timer for the status: an earlier copy's timer must not clear a later copy's confirmation.
  const clearTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(clearTimer.current), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setCopied('Link copied');
    } catch {
      setCopied('Copy failed: copy the address bar instead');
    }
    clearTimeout(clearTimer.current);
    clearTimer.current = setTimeout(() => setCopied(null), 2500);
  };
  return (
    <span className="copy-link">
      <button type="button" onClick={copy}>
        Copy link
      </button>
      <span role="status" aria-live="polite">
        {copied}
      </span>
      <ExportRun />
    </span>
  );
}

/** Classroom mode on and off: both display fields together, so a link copied while presenting presents and plays. */
function PresentButton() {
  const { runner, store } = useLab();
  const presenting = useLabState((s) => s.config.present) === '1';
  const set = (on: boolean) => runner.setConfig({ ...store.getState().config, present: on ? '1' : '0', autoplay: on ? '1' : '0' });
  return presenting ? (
    <button type="button" className="present" onClick={() => set(false)}>
      Exit presentation
    </button>
  ) : (
    <button type="button" className="present" title="Hide the settings and enlarge Figure 1, for a projector" onClick={() => set(true)}>
      Present
    </button>
  );
}

/** Classroom mode as a class on the root element, so the stylesheet hides the settings and enlarges Figure 1. */
function usePresentationClass(store: LabStore): void {
  useEffect(() => {
    const apply = () => document.documentElement.classList.toggle('presenting', store.getState().config.present === '1');
    apply();
    const unsubscribe = store.subscribe((state, previous) => state.config.present !== previous.config.present && apply());
    return () => {
      unsubscribe();
      document.documentElement.classList.remove('presenting');
    };
  }, [store]);
}

export function App({ store, runner }: { store: LabStore; runner: Runner }) {
  useConfigInAddressBar(store);
  useCursorClearedOnNewRun(store);
  usePresentationClass(store);
  useEffect(() => {
    // `autoplay` is read once, as the page loads: it is how a link starts, not a setting that plays later.
    runner.start(store.getState().config.autoplay === '1');
    return () => runner.dispose();
  }, [runner, store]);
  useEffect(() => followColorScheme(requestPaint), []);
  return (
    <LabContext.Provider value={{ store, runner }}>
      <header>
        <h1>Covariate Shift Lab</h1>
        <Lede />
        <div className="toolbar">
          <Transport />
          <CopyLink />
          <PresentButton />
          <Shortcuts store={store} runner={runner} />
        </div>
        <StatusBar />
        <DataProgress />
        <Notices />
      </header>
      <main>
        <Figure1 />
        <NetworkDiagram />
        <div className="layout">
          <Controls />
          <Panels />
        </div>
      </main>
    </LabContext.Provider>
  );
}
