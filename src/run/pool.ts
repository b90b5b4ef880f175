import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { ConvertTask, TaskResult } from '../object/task.js';
import { createLoadedFlags, LOADED_SLOTS } from './worker-loaded.js';

export interface ConvertPool {
  run(task: ConvertTask): Promise<TaskResult>;
  destroy(): Promise<void>;
  /** Workers that had loaded their modules when destroy() terminated them, of how many. */
  readonly terminated: { loaded: number; of: number };
}

/**
 * A fixed-size pool of worker threads, one object at a time per worker (the work is CPU-bound).
 * Each worker's heap is capped, so a runaway object kills its worker, which Piscina replaces,
 * rather than the whole process.
 */
export function createPool(workers: number, maxHeapMb = 1024): ConvertPool {
  // Each worker sets its flag here once its modules have loaded (workers/convert.ts).
  const loaded = createLoadedFlags();
  const pool = new Piscina<ConvertTask, TaskResult>({
    filename: new URL('../../workers/convert.js', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    // The SDK's Node-version notice is printed once by the main thread, not once more per worker.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    workerData: { loaded: loaded.buffer },
  });
  const isLoaded = (worker: { threadId: number }) =>
    Atomics.load(loaded, worker.threadId % LOADED_SLOTS) === 1;
  const terminated = { loaded: 0, of: 0 };
  return {
    terminated,
    run: (task) => pool.run(task),
    destroy: async () => {
      // Terminating a worker that is still loading its modules can abort the whole process
      // (SIGABRT inside require, seen under load when a one-object run ended before the second
      // worker had loaded). So wait, briefly, until every live worker has loaded.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && !pool.threads.every(isLoaded)) await sleep(5);
      terminated.loaded = pool.threads.filter(isLoaded).length;
      terminated.of = pool.threads.length;
      await pool.destroy();
    },
  };
}
