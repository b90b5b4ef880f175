import { Piscina } from 'piscina';
import type { ConvertTask, TaskResult } from '../object/task.js';
import { trackLoadedThreads } from './worker-loaded.js';

export interface ConvertPool {
  run(task: ConvertTask): Promise<TaskResult>;
  destroy(): Promise<void>;
  /** Threads destroy() terminated, and how many of them had loaded their module (always all). */
  readonly terminated: { loaded: number; of: number };
}

/**
 * A pool of up to `workers` worker threads, one object at a time per thread (the work is
 * CPU-bound). Each thread's heap is capped, so a runaway object kills its thread, which the next
 * task replaces, rather than the whole process.
 */
export function createPool(workers: number, maxHeapMb = 1024): ConvertPool {
  const pool = new Piscina<ConvertTask, TaskResult>({
    filename: new URL('../../workers/convert.js', import.meta.url).href,
    // Threads start as tasks arrive, up to `workers`, none in advance: a one-object run starts one
    // thread, and no thread is still loading when a short run ends. It is also what makes Piscina
    // wait for each thread's READY (see worker-loaded.ts).
    minThreads: 0,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    // A young generation of 24 MB, not V8's default (which grows to 3 × 32 MB semi-spaces under the
    // Parquet encoder's short-lived values): a 1 GB object to Parquet peaks at 196 MB instead of
    // 343 MB with one worker, for about 8% more Parquet CPU; CSV allocates little and is unchanged
    // (bench/RESULTS.md, "Parquet memory through the pool").
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: 24 },
    // The SDK's Node-version notice is printed once by the main thread, not once more per worker.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const loaded = trackLoadedThreads(pool);
  const terminated = { loaded: 0, of: 0 };
  // Piscina is never handed more tasks than it may have threads. With minThreads 0 it starts a
  // thread only when a task is submitted, so a task queued behind a thread that then dies (heap
  // cap) would wait forever, holding nothing that keeps the process alive: the run would end,
  // exit 0, with that object never converted. Held here instead, the next task is submitted when
  // one settles, and that submission starts the replacement thread.
  const slots = new Slots(workers);
  let destroyed = false;
  return {
    terminated,
    run: async (task) => {
      // With a slot free, the task reaches Piscina within this call (no await before it).
      if (!slots.tryTake()) await slots.handedOver();
      try {
        // Piscina would start a fresh thread for a task submitted after destroy(), and leave it.
        if (destroyed) throw new Error('the worker pool has been destroyed');
        return await pool.run(task);
      } finally {
        slots.give();
      }
    },
    destroy: async () => {
      destroyed = true;
      // A thread still loading its module must not be terminated (that can abort the process):
      // wait for it, with no deadline, since a thread that fails to load leaves the pool anyway.
      let count = loaded.count();
      while (count.loaded < count.of) {
        await loaded.changed();
        count = loaded.count();
      }
      // pool.destroy() terminates every thread in this same synchronous step as the last check,
      // so no thread can have started in between.
      Object.assign(terminated, count);
      await pool.destroy();
    },
  };
}

/** At most `size` holders at a time; the rest wait in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Takes a free slot at once, if there is one. */
  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  /** Resolves when a holder gives its slot to this waiter. */
  handedOver(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot straight to the next waiter, if any. */
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
