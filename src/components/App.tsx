import { useEffect, useRef, useState } from 'react';
import { serialize } from '../config/url';
import type { Runner } from '../state/runner';
import type { LabStore } from '../state/store';
import { Controls, Transport } from './Controls';
import { DataProgress } from './DataProgress';
import { LabContext } from './labContext';
import { NetworkDiagram } from './NetworkDiagram';
import { Notices } from './Notices';
import { Panels } from './Panels';
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
    </span>
  );
}

export function App({ store, runner }: { store: LabStore; runner: Runner }) {
  useConfigInAddressBar(store);
  useEffect(() => {
    runner.start(false);
    return () => runner.dispose();
  }, [runner]);
  return (
    <LabContext.Provider value={{ store, runner }}>
      <header>
        <h1>Covariate Shift Lab</h1>
        <p className="lede">
          Ioffe &amp; Szegedy&apos;s Figure 1, live: two copies of one sigmoid network learn MNIST side by side, from the same
          initial weights on the same mini-batches; arm B normalizes each layer&apos;s input per mini-batch (batch
          normalization), arm A does not. Watch the inputs to each layer&apos;s nonlinearity drift, or hold still.
        </p>
        <div className="toolbar">
          <Transport />
          <CopyLink />
        </div>
        <StatusBar />
        <DataProgress />
        <Notices />
      </header>
      <main>
        <NetworkDiagram />
        <div className="layout">
          <Controls />
          <Panels />
        </div>
      </main>
    </LabContext.Provider>
  );
}
