/**
 * forEachBounded(): the window, and how it stops: `stop` ends the wait for an item the listing is still
 * fetching, `abandon` ends the wait for work in flight, and the iterator is closed either way.
 */
import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../src/run/dispatch.js';

const never = <T>() => new Promise<T>(() => {});

describe('forEachBounded', () => {
  it('keeps at most `limit` in flight and visits every item', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(n);
      inFlight--;
    });
    expect(most).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('stop ends a wait for the next item that never comes, and closes the iterator once that settles', async () => {
    const stop = new AbortController();
    let release!: (value: IteratorResult<number>) => void;
    let closed = false;
    const items: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>((resolve) => (release = resolve)),
        return: async () => {
          closed = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const done = forEachBounded(items, 2, async () => {}, stop.signal);
    setTimeout(() => stop.abort(), 10);
    expect(await done).toEqual([]);
    expect(closed).toBe(false); // not while its next() is pending
    release({ done: false, value: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
  });

  it('a listing that fails after stop is ignored; one that fails before is thrown', async () => {
    const stop = new AbortController();
    async function* failing() {
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw new Error('listing failed');
    }
    setTimeout(() => stop.abort(), 5);
    await expect(forEachBounded(failing(), 2, async () => {}, stop.signal)).resolves.toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 40)); // no unhandled rejection meanwhile
    await expect(forEachBounded(failing(), 2, async () => {})).rejects.toThrow('listing failed');
  });

  it('after stop, work in flight is awaited; abandon returns the items still in flight', async () => {
    const stop = new AbortController();
    const abandon = new AbortController();
    const finished: string[] = [];
    const done = forEachBounded(
      ['quick', 'stuck', 'later'],
      2,
      async (item) => {
        if (item === 'stuck') return never();
        await new Promise((resolve) => setTimeout(resolve, 5));
        finished.push(item);
      },
      stop.signal,
      abandon.signal,
    );
    setTimeout(() => stop.abort(), 20);
    setTimeout(() => abandon.abort(), 40);
    expect(await done).toEqual(['stuck']);
    expect(finished).toEqual(['quick', 'later']);
  });

  it('closes a generator on stop between items (its finally runs)', async () => {
    const stop = new AbortController();
    let cleaned = false;
    async function* items() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        cleaned = true;
      }
    }
    await forEachBounded(
      items(),
      1,
      async (i) => {
        if (i === 3) stop.abort();
      },
      stop.signal,
    );
    expect(cleaned).toBe(true);
  });
});
