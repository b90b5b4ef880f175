import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParallelGzip } from '../../src/streams/parallel-gzip.js';
import { randomCuts } from '../helpers.js';

async function compress(
  input: Buffer,
  cuts: number[],
  options: ConstructorParameters<typeof ParallelGzip>[0],
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let from = 0;
  const pieces = [...cuts, input.length].map((cut) => {
    const piece = input.subarray(from, cut);
    from = cut;
    return piece;
  });
  await pipeline(
    Readable.from(pieces),
    new ParallelGzip(options),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks);
}

const input = Buffer.from(
  Array.from(
    { length: 40_000 },
    (_, i) => `2020-02-01T00:00:00.000Z,2,${i},eni-${i % 97},10.0.0.${i % 255},ACCEPT,OK\n`,
  ).join(''),
);

describe('ParallelGzip', () => {
  it('writes one independent member per block, in order, whatever the concurrency and chunking', async () => {
    const blockSize = 64 * 1024;
    const expected = [];
    for (let at = 0; at < input.length; at += blockSize)
      expected.push(gzipSync(input.subarray(at, at + blockSize), { level: 6 }));
    for (const concurrency of [2, 3, 8]) {
      const out = await compress(input, randomCuts(input.length, 300, concurrency), {
        level: 6,
        concurrency,
        blockSize,
      });
      expect(out.equals(Buffer.concat(expected))).toBe(true);
      expect(gunzipSync(out).equals(input)).toBe(true);
    }
  });

  it('blocks are cut by size, never by line: a member may end mid-row and the bytes still join up', async () => {
    const out = await compress(input, [], { level: 1, concurrency: 2, blockSize: 1000 });
    expect(gunzipSync(out).equals(input)).toBe(true);
  });

  it('empty input still gives a valid gzip of nothing', async () => {
    const out = await compress(Buffer.alloc(0), [], { level: 6, concurrency: 4 });
    expect(gunzipSync(out).length).toBe(0);
  });
});

it('convert --parallel-gzip N to stdout: the same CSV once gunzipped', async () => {
  const run = promisify(execFile);
  const root = join(import.meta.dirname, '..', '..');
  const opts = { cwd: root, encoding: 'buffer' as const, maxBuffer: 64 * 1024 * 1024 };
  const plain = await run(
    process.execPath,
    ['bin/flowhose.cjs', 'convert', 'examples/firehose-sample', '--to', '-'],
    opts,
  );
  const parallel = await run(
    process.execPath,
    ['bin/flowhose.cjs', 'convert', 'examples/firehose-sample', '--to', '-', '--parallel-gzip', '3'],
    opts,
  );
  expect(gunzipSync(parallel.stdout).equals(gunzipSync(plain.stdout))).toBe(true);
  expect(parallel.stdout.equals(plain.stdout)).toBe(false); // several members, not one
});
