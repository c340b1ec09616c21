import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
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
