import { Piscina } from 'piscina';
import type { ConvertTask, TaskResult } from './task.js';

export interface ConvertPool {
  run(task: ConvertTask): Promise<TaskResult>;
  destroy(): Promise<void>;
}

/**
 * A fixed-size pool of worker threads, one object at a time per worker (the work is CPU-bound).
 * Each worker's heap is capped, so a runaway object kills its worker, which Piscina replaces,
 * rather than the whole process.
 */
export function createPool(workers: number, maxHeapMb = 1024): ConvertPool {
  const pool = new Piscina<ConvertTask, TaskResult>({
    filename: new URL('../workers/convert.js', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    // The SDK's Node-version notice is printed once by the main thread, not once more per worker.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return {
    run: (task) => pool.run(task),
    destroy: () => pool.destroy(),
  };
}
