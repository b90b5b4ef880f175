import type { Piscina } from 'piscina';

/**
 * Which threads of a pool have finished loading their task module: the only threads that are safe
 * to terminate. Terminating a thread while Node is still inside `require()` of the module can
 * abort the whole process (exit 134, `Assertion failed: facade->InstantiateModule` in
 * `loadESMFromCJS`: after the module has run, Node still builds a facade module around it, and a
 * termination landing there trips a CHECK). A flag set by the module itself is set too early: it
 * runs during evaluation, before that last step.
 *
 * The handshake is Piscina's own: its worker posts READY once `require()` (or `import()`) of the
 * module has returned, and the pool emits 'workerCreate' when that message arrives. That holds for
 * threads the pool starts on demand; threads started by the constructor (minThreads) are marked
 * ready before they have loaded anything, which is why the pool must start none.
 */
export interface LoadedThreads {
  /** Live threads that have loaded their module, of how many live threads. */
  count(): { loaded: number; of: number };
  /**
   * Resolves at the next change: a thread has loaded, or has left the pool (a thread that fails
   * while loading leaves it too, so waiting on this never waits for a thread that will not load).
   */
  changed(): Promise<void>;
}

export function trackLoadedThreads(pool: Piscina): LoadedThreads {
  if (pool.options.minThreads !== 0) {
    throw new Error(
      'trackLoadedThreads needs minThreads 0: threads started up front report ready before loading',
    );
  }
  const loaded = new Set<number>();
  const waiting: Array<() => void> = [];
  const changed = () => {
    for (const wake of waiting.splice(0)) wake();
  };
  pool.on('workerCreate', (worker: { id: number }) => {
    loaded.add(worker.id);
    changed();
  });
  pool.on('workerDestroy', (worker: { id: number }) => {
    loaded.delete(worker.id);
    changed();
  });
  const loading = () => pool.threads.filter((thread) => !loaded.has(thread.threadId));
  return {
    count: () => ({ loaded: pool.threads.length - loading().length, of: pool.threads.length }),
    changed: () => new Promise<void>((resolve) => waiting.push(resolve)),
  };
}
