/**
 * Runs `work` over items with at most `limit` in flight, pulling the next item only when a slot is
 * free: a listing of millions of keys is never held in memory, and no more tasks are queued than
 * the pool can start. Stops pulling when `signal` aborts; in-flight work is awaited either way.
 * `work` must not reject: failures are results.
 */
export async function forEachBounded<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const running = new Set<Promise<void>>();
  try {
    for await (const item of items) {
      if (signal?.aborted) break;
      const task: Promise<void> = work(item).finally(() => running.delete(task));
      running.add(task);
      if (running.size >= limit) await Promise.race(running);
      if (signal?.aborted) break;
    }
  } finally {
    await Promise.all(running);
  }
}
