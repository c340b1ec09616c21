/// <reference types="vite-plugin-pwa/client" />
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { registerSW } from 'virtual:pwa-register';
import { parse } from './config/url';
import { App } from './components/App';
import { MNIST_PATH } from './training/data';
import { Runner } from './state/runner';
import { createLabStore } from './state/store';
import './styles.css';

// A link applies before the first step: the store starts from it, problems and all.
const { config, problems, notices } = parse(window.location.search);
const store = createLabStore(config, problems, notices);
const runner = new Runner(store, () => new Worker(new URL('./training/worker.ts', import.meta.url), { type: 'module' }), {
  dataUrl: new URL(MNIST_PATH, document.baseURI).href,
  wasmDir: new URL('tfjs-wasm/', document.baseURI).href,
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App store={store} runner={runner} />
  </StrictMode>,
);

// The service worker keeps the page, its wasm and its digits for offline visits. A new version
// takes over at once but is shown from the next load on: reloading now would end the run in view.
registerSW({ immediate: true, onNeedReload: () => undefined });
