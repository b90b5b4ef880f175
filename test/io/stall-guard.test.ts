/**
 * guardStalls(): a source that stops sending while the reader waits fails; a reader that is slow (the
 * source waits on it) never does, however long it pauses.
 */
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { guardStalls } from '../../src/io/stall-guard.js';

const TIMEOUT_MS = 50;
const stalled = () => Object.assign(new Error('stalled'), { code: 'ETIMEDOUT' });

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('guardStalls', () => {
  it('passes every byte through and ends', async () => {
    const data = Array.from({ length: 100 }, (_, i) => Buffer.alloc(1000, i));
    const out = await collect(guardStalls(Readable.from(data), TIMEOUT_MS, stalled));
    expect(out.equals(Buffer.concat(data))).toBe(true);
  });

  it('fails with stalled() when the source sends part and then nothing, and destroys the source', async () => {
    const source = new PassThrough();
    source.write(Buffer.alloc(100, 1));
    const guard = guardStalls(source, TIMEOUT_MS, stalled);
    const error = await collect(guard).catch((e: Error) => e);
    expect(error).toMatchObject({ message: 'stalled', code: 'ETIMEDOUT' });
    expect(source.destroyed).toBe(true);
  });

  it('fails when the source sends nothing at all', async () => {
    const error = await collect(guardStalls(new PassThrough(), TIMEOUT_MS, stalled)).catch((e: Error) => e);
    expect(error).toMatchObject({ message: 'stalled' });
  });

  it('never fails a reader that pauses longer than the timeout while data waits for it', async () => {
    const data = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const guard = guardStalls(Readable.from(data), TIMEOUT_MS, stalled);
    const chunks: Buffer[] = [];
    await pipeline(guard, async (source: AsyncIterable<Buffer>) => {
      let n = 0;
      for await (const chunk of source) {
        chunks.push(chunk);
        if (++n % 10 === 0) await sleep(TIMEOUT_MS * 3); // backpressure: the guard stops asking
      }
    });
    expect(Buffer.concat(chunks).equals(Buffer.concat(data))).toBe(true);
  });

  it('a source error and a source that closes before its end both fail the guard', async () => {
    const failing = new PassThrough();
    const guard = guardStalls(failing, 10_000, stalled);
    setImmediate(() => failing.destroy(new Error('reset')));
    expect(await collect(guard).catch((e: Error) => e.message)).toBe('reset');

    const closing = new PassThrough();
    const guard2 = guardStalls(closing, 10_000, stalled);
    setImmediate(() => closing.destroy());
    expect(await collect(guard2).catch((e: Error) => e.message)).toBe('the source closed before its end');
  });

  it('destroying the guard destroys the source and clears the clock', async () => {
    const source = new PassThrough();
    const guard = guardStalls(source, TIMEOUT_MS, stalled);
    guard.resume();
    guard.destroy();
    await sleep(TIMEOUT_MS * 2);
    expect(source.destroyed).toBe(true);
    expect(guard.errored).toBeNull();
  });
});
