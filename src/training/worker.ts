/// <reference lib="webworker" />
/** The training worker: a thin switch from messages to one ArmRunner. */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ArmRunner } from './armRunner';
import { parseMnist } from './data';
import { PROTOCOL_VERSION, result, type Command } from './protocol';
import { experimentData } from './trainer';

declare const self: DedicatedWorkerGlobalScope;

// MessageChannel rather than setTimeout: nested timeouts are clamped to 4 ms, a quarter of a slice.
const channel = new MessageChannel();
const tasks: (() => void)[] = [];
channel.port1.onmessage = () => tasks.shift()?.();

const runner = new ArmRunner({
  post: (message, transfer = []) => self.postMessage(message, transfer),
  schedule: (task) => {
    tasks.push(task);
    channel.port2.postMessage(null);
  },
  now: () => performance.now(),
  prepareData: (digits, fileName) => experimentData(parseMnist(digits, fileName)),
  prepareBackend: (wasmDir) => {
    setWasmPaths(wasmDir);
    // One worker per arm already uses both cores; wasm threads on top of that only slow a step.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  },
  // The browser frees a lock when the worker that holds it ends, however it ends.
  holdForLife: (lock) =>
    new Promise<void>((held) => {
      void navigator.locks.request(lock, () => {
        held();
        return new Promise<never>(() => undefined);
      });
    }),
});

self.onmessage = (event: MessageEvent<Command>) => {
  const message = event.data;
  if (message.version !== PROTOCOL_VERSION) {
    const runId = 'runId' in message ? message.runId : -1;
    self.postMessage(result({ type: 'error', runId, arm: 0, message: `protocol version ${message.version} is not ${PROTOCOL_VERSION}` }));
    return;
  }
  void runner.handle(message);
};
