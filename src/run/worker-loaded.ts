/**
 * Which pool workers have finished loading their modules, in memory shared with the main thread:
 * a slot per thread id. The pool waits for these before it terminates workers (see pool.ts).
 * Kept apart from pool.ts so that workers do not load Piscina's pool code to use it.
 */
export const LOADED_SLOTS = 4096;

export const createLoadedFlags = () => new Int32Array(new SharedArrayBuffer(4 * LOADED_SLOTS));

/** Called once by each worker when its modules have loaded. */
export function markWorkerLoaded(workerData: unknown, threadId: number): void {
  const buffer = (workerData as { loaded?: SharedArrayBuffer } | undefined)?.loaded;
  if (buffer) Atomics.store(new Int32Array(buffer), threadId % LOADED_SLOTS, 1);
}
