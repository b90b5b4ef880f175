import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePayloads } from '../../src/gen/corpus.js';
import { CODECS, type CodecSettings } from '../../src/streams/codecs.js';
import { convert } from '../helpers.js';
import { CAN_ZSTD, unzstd, zstdInfo } from '../zstd-tool.js';

const settings = (zstdLevel = 1): CodecSettings => ({
  level: 6,
  strategy: 'filtered',
  concurrency: 1,
  zstdLevel,
  chunkSize: 64 * 1024,
});

/** The codec's stage over `input` cut into `piece`-byte writes, all queued at once, read slowly or not. */
async function compress(input: Buffer, piece: number, slowReader = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += piece) chunks.push(input.subarray(at, at + piece));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    CODECS.zstd.createStream(settings())!,
    new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        if (slowReader) sleep(1).then(() => callback());
        else callback();
      },
    }),
  );
  return Buffer.concat(out);
}

const CSV = Buffer.from(convert(generatePayloads({ seed: 3, targetBytes: 600_000 }).join('')).csv);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-zstd-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!CAN_ZSTD)('the zstd codec (node:zlib zstd; read back by the zstd tool)', () => {
  it('writes one frame with a checksum, the same bytes however the input was cut or read', async () => {
    const whole = await compress(CSV, CSV.length);
    expect(unzstd(whole).equals(CSV)).toBe(true);
    // Small queued writes made node:zlib end a second, empty frame (nodejs/node#66078).
    for (const [piece, slow] of [
      [4096, false],
      [1000, true],
      [64 * 1024, false],
    ] as const) {
      const cut = await compress(CSV, piece, slow);
      const path = join(dir, `cut-${piece}.zst`);
      await writeFile(path, cut);
      expect(zstdInfo(path), `${piece}-byte writes`).toEqual({ frames: 1, checksum: true });
      expect(cut.equals(whole), `${piece}-byte writes`).toBe(true);
    }
    const path = join(dir, 'whole.zst');
    await writeFile(path, whole);
    expect(zstdInfo(path)).toEqual({ frames: 1, checksum: true });
  });

  it('an empty input is one empty frame', async () => {
    const empty = await compress(Buffer.alloc(0), 1);
    expect(unzstd(empty).length).toBe(0);
    const path = join(dir, 'empty.zst');
    await writeFile(path, empty);
    expect(zstdInfo(path).frames).toBe(1);
  });

  it('uses the level it is given', async () => {
    const sizes = [];
    for (const level of [1, 12]) {
      const out: Buffer[] = [];
      await pipeline(
        Readable.from([CSV]),
        CODECS.zstd.createStream(settings(level))!,
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            out.push(chunk);
            callback();
          },
        }),
      );
      const bytes = Buffer.concat(out);
      expect(unzstd(bytes).equals(CSV)).toBe(true);
      sizes.push(bytes.length);
    }
    expect(sizes[1]).toBeLessThan(sizes[0]!);
  });

  it('a failure downstream tears the stage down', async () => {
    const stage = CODECS.zstd.createStream(settings())!;
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'));
      },
    });
    await expect(pipeline(Readable.from([CSV]), stage, failing)).rejects.toThrow('disk full');
    expect(stage.destroyed).toBe(true);
  });
});
