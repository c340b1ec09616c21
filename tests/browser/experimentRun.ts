/**
 * The run `npm run experiment -- --url '?<query>'` makes, computed in this (Node) process with the
 * experiment's own code: what a page's exported JSON is compared with.
 */
import * as tf from '@tensorflow/tfjs';
import { readPackageMnist } from '../../scripts/build-mnist';
import { parse } from '../../src/config/url';
import { useBackend } from '../../src/training/backend';
import type { ArmRecord } from '../../src/training/measures';
import { runJson } from '../../src/training/runJson';
import { Experiment, experimentData } from '../../src/training/trainer';

/** The run as the JSON the CLI writes (parsed back), and each arm's notice of a step other than the one asked. */
export async function experimentRun(query: string) {
  const { config } = parse(`?${query}`);
  const { backend } = await useBackend(config.backend);
  const experiment = new Experiment(config, experimentData(readPackageMnist()));
  const kernelNotices = experiment.arms.map((arm) => arm.kernelNotice);
  const records: ArmRecord[][] = experiment.arms.map((arm) => [arm.record()]);
  while (!experiment.done) experiment.advance().forEach((record, arm) => record && records[arm].push(record));
  const json = runJson(experiment.run(records, backend));
  experiment.dispose();
  tf.disposeVariables();
  return { json: JSON.parse(JSON.stringify(json)), kernelNotices };
}
