/**
 * Runs `work` over items with at most `limit` in flight, pulling the next item only when a slot is
 * free: a listing of millions of keys is never held in memory, and no more tasks are queued than
 * the pool can start. `work` must not reject: failures are results.
 *
 * When `stop` aborts, no item is taken any more, even one the listing is still fetching (a listing
 * that hangs must not hold up a Ctrl-C; its pending request is the listing's to abort), and the
 * work in flight is awaited. When `abandon` aborts too, that wait ends as well: the items whose
 * work had not finished are returned, and the work that finishes later is the caller's to ignore.
 */
export async function forEachBounded<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
  stop?: AbortSignal,
  abandon?: AbortSignal,
): Promise<T[]> {
  const running = new Map<Promise<void>, T>();
  const iterator: AsyncIterator<T> =
    Symbol.asyncIterator in items
      ? items[Symbol.asyncIterator]()
      : (async function* () {
          yield* items;
        })();
  // The next() left pending when stop came; the iterator may be closed only once it settles.
  let pending: Promise<IteratorResult<T>> | undefined;
  let exhausted = false;
  try {
    while (!stop?.aborted) {
      const next = iterator.next();
      const result = await unlessAborted(next, stop);
      if (result === ABORTED) {
        pending = next;
        break;
      }
      if (result.done) {
        exhausted = true;
        break;
      }
      const task: Promise<void> = work(result.value).finally(() => running.delete(task));
      running.set(task, result.value);
      if (running.size >= limit) await unlessAborted(Promise.race(running.keys()), stop);
    }
  } catch (error) {
    exhausted = true; // the iterator threw: it is finished, as with for await
    throw error;
  } finally {
    if (!exhausted) {
      // As `for await` does on break, close the iterator (its finally blocks run), but without
      // waiting behind a pending next(); whatever that next() brings is dropped.
      const close = () => iterator.return?.()?.catch(() => {});
      if (pending) pending.then(close, () => {});
      else await close();
    }
    await unlessAborted(Promise.all(running.keys()), abandon);
  }
  return [...running.values()];
}

const ABORTED = Symbol('aborted');

/** `promise`'s value, or ABORTED as soon as `signal` aborts (a later rejection is then ignored). */
function unlessAborted<V>(promise: Promise<V>, signal: AbortSignal | undefined): Promise<V | typeof ABORTED> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
