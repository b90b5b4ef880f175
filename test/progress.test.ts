import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { createProgress } from '../src/cli/progress.js';
import type { RunSummary } from '../src/cli/report.js';

const summary = (done: number): RunSummary => ({
  ok: done,
  failed: 1,
  skipped: 0,
  rows: 12345,
  rejected: 0,
  control: 0,
  bytesIn: 5_000_000,
  bytesDecoded: 30_000_000,
  bytesOut: 4_000_000,
  seconds: 1,
});

it('without a terminal: a plain progress line at each interval, from per-object updates', async () => {
  const stderr = new PassThrough();
  const progress = createProgress(stderr, false, 5);
  progress.listed();
  progress.listed();
  progress.listed();
  progress.update(summary(1));
  const [line] = (await once(stderr, 'data')) as [Buffer];
  progress.stop();
  expect(line.toString()).toMatch(
    /^flowhose: progress: 2\/3\+ \(listing\) objects · 5\.0 MB in · 12,345 rows · [\d.]+ MB\/s · 1 failed\n$/,
  );
});

it('--quiet: nothing at all', async () => {
  const stderr = new PassThrough();
  const progress = createProgress(stderr, true, 1);
  progress.listed();
  progress.update(summary(1));
  progress.listingDone();
  progress.stop();
  stderr.end();
  const chunks: Buffer[] = [];
  for await (const chunk of stderr) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).length).toBe(0);
});

it('on a terminal: a cli-progress bar with the same figures', async () => {
  const stderr = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 200,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  const progress = createProgress(stderr as unknown as NodeJS.WriteStream, false);
  progress.listed();
  progress.listed();
  progress.update(summary(1));
  progress.listingDone();
  progress.stop();
  const text = (stderr.read() as Buffer | null)?.toString() ?? '';
  expect(text).toContain('0/0+ objects');
  expect(text).toMatch(/2\/2 objects \| 5\.0 MB in \| 12,345 rows \| [\d.]+ MB\/s \| ETA .* \| 1 failed/);
});
