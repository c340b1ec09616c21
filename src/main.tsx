/// <reference types="vite-plugin-pwa/client" />
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { registerSW } from 'virtual:pwa-register';
import { parse } from './config/url';
import { App } from './components/App';
import { MNIST_PATH } from './training/data';
import { Runner } from './state/runner';
import { createLabStore, pairStep } from './state/store';
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
// takes over as soon as it is installed; the page reloads into it only if nothing has been
// trained yet, since a reload would end the run in view (the next load shows it anyway).
const reloadIfUntrained = () => {
  const state = store.getState();
  if (state.status !== 'running' && pairStep(state) === 0) window.location.reload();
};
// The takeover is the controller changing under a page that a worker served. registerSW's own
// event misses it on a slow machine: the browser's update check at navigation, or register()
// itself (which resolves after the install), finds the new worker before workbox-window listens
// for one, and the page stayed on the old version (seen with the page's CPU slowed 8x).
if (navigator.serviceWorker?.controller) navigator.serviceWorker.addEventListener('controllerchange', reloadIfUntrained);
// Without onNeedReload, registerSW would reload whatever the page holds when it does see one.
registerSW({ immediate: true, onNeedReload: reloadIfUntrained });
