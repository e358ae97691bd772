/**
 * Worker-thread entry of the simulator: runs the run indices it is given with runIndices()
 * and posts progress and its report back (simulate.ts starts it; it is not a public module).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PlanOptions } from './plan.js';
import { runIndices, type WorkerMessage } from './simulate.js';

const data = workerData as { seed: string; indices: number[]; planOpts: PlanOptions };
const post = (msg: WorkerMessage) => parentPort!.postMessage(msg);

const report = await runIndices(data.seed, data.indices, data.planOpts, (done) =>
  post({ type: 'progress', done }),
);
post({ type: 'report', report });
