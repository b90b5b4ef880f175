import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowhoseError } from '../../src/core/errors.js';
import { type GunzipLayersOptions, gunzipLayers } from '../../src/streams/gunzip-layers.js';
import { CONTROL_PAYLOAD, dataPayload, firehoseObject, randomCuts } from '../helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowhose-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function* fromChunks(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

/** Iterates gunzipLayers over the chunks and joins what it yields. */
async function peel(chunks: Buffer[], options?: GunzipLayersOptions): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of gunzipLayers(options)(fromChunks(chunks))) {
    expect(Buffer.isBuffer(chunk)).toBe(true);
    out.push(chunk);
  }
  return Buffer.concat(out);
}

/** The same through stream/promises pipeline, from a Readable to a collecting Writable. */
async function peelPipeline(source: Readable, options?: GunzipLayersOptions): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    source,
    gunzipLayers(options),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

/** Cuts bytes at the given offsets. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

const bytewise = (bytes: Buffer) =>
  split(
    bytes,
    Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
  );

/** Random cuts, always with a cut at 1 so the gzip magic number straddles the first two chunks. */
function randomChunks(bytes: Buffer, count: number, seed: number): Buffer[] {
  const cuts = new Set([1, ...randomCuts(bytes.length, count, seed)]);
  return split(
    bytes,
    [...cuts].sort((a, b) => a - b),
  );
}

/** 'ok' when the promise gives the expected bytes, else what went wrong: for readable test failures. */
function outcome(promise: Promise<Buffer>, expected: Buffer): Promise<string> {
  return promise.then(
    (out) => (out.equals(expected) ? 'ok' : `wrong output (${out.length} bytes)`),
    (error: NodeJS.ErrnoException) => `${error.name} ${error.code ?? ''}: ${error.message}`,
  );
}

async function rejection(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await promise;
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error('expected a rejection, but it resolved');
}

const record = (n: number) =>
  `2 123456789010 eni-1235b8ca123456789 172.31.16.${n % 250} 172.31.16.21 ${20000 + n} 22 6 20 4249 1418530010 1418530070 ACCEPT OK`;

const payloads = Array.from({ length: 6 }, (_, i) =>
  i === 2
    ? CONTROL_PAYLOAD
    : dataPayload(Array.from({ length: 5 }, (_, j) => ({ message: record(i * 10 + j) }))),
);
const plain = Buffer.from(payloads.join(''), 'utf8');

describe('gunzipLayers: layers', () => {
  it('passes 0 layers (plain JSON) through unchanged', async () => {
    expect((await peel([firehoseObject(payloads, 0)])).equals(plain)).toBe(true);
  });

  it('decodes 1 layer (a multi-member gzip)', async () => {
    const input = firehoseObject(payloads, 1);
    expect(input[0]).toBe(0x1f);
    expect((await peel([input])).equals(plain)).toBe(true);
  });

  it('decodes 2 layers (Firehose GZIP on top of CloudWatch gzip)', async () => {
    const input = firehoseObject(payloads, 2);
    expect((await peel([input])).equals(plain)).toBe(true);
  });

  it('decodes 3 layers by default', async () => {
    const input = gzipSync(firehoseObject(payloads, 2));
    expect((await peel([input])).equals(plain)).toBe(true);
  });

  it('stops after maxLayers and passes the rest through', async () => {
    const members = firehoseObject(payloads, 1);
    const twice = gzipSync(members);
    expect((await peel([twice], { maxLayers: 1 })).equals(members)).toBe(true);
    expect((await peel([twice], { maxLayers: 0 })).equals(twice)).toBe(true);
  });

  it('decodes every member of a gzip with many members', async () => {
    const many = Array.from({ length: 300 }, (_, i) => dataPayload([{ message: record(i) }]));
    const expected = Buffer.from(many.join(''), 'utf8');
    expect((await peel([firehoseObject(many, 1)])).equals(expected)).toBe(true);
    expect((await peel([firehoseObject(many, 2)])).equals(expected)).toBe(true);
  });

  it('decodes members that are themselves gzip (a second layer inside one member)', async () => {
    // Two members, each the gzip of a multi-member gzip: the outer layer yields the inner members.
    const inner1 = firehoseObject(payloads.slice(0, 3), 1);
    const inner2 = firehoseObject(payloads.slice(3), 1);
    const input = Buffer.concat([gzipSync(inner1), gzipSync(inner2)]);
    expect((await peel([input])).equals(plain)).toBe(true);
  });

  it('gives the same output through stream/promises pipeline', async () => {
    for (const layers of [0, 1, 2] as const) {
      const input = firehoseObject(payloads, layers);
      expect((await peelPipeline(Readable.from([input]))).equals(plain)).toBe(true);
      expect((await peelPipeline(Readable.from(randomChunks(input, 20, layers + 7)))).equals(plain)).toBe(
        true,
      );
    }
  });

  it('honours a small zlib chunkSize', async () => {
    const input = firehoseObject(payloads, 2);
    const out: Buffer[] = [];
    for await (const chunk of gunzipLayers({ chunkSize: 64 })(fromChunks([input]))) out.push(chunk);
    expect(Buffer.concat(out).equals(plain)).toBe(true);
    expect(out.length).toBeGreaterThan(plain.length / 64 - 1);
    expect(Math.max(...out.map((c) => c.length))).toBeLessThanOrEqual(64);
  });
});

describe('gunzipLayers: chunking does not matter', () => {
  for (const layers of [0, 1, 2] as const) {
    it(`${layers} layer(s) split into 1-byte chunks`, async () => {
      const input = firehoseObject(payloads, layers);
      expect((await peel(bytewise(input))).equals(plain)).toBe(true);
    });

    it(`${layers} layer(s) split into random chunks, the first of 1 byte`, async () => {
      const input = firehoseObject(payloads, layers);
      for (const seed of [1, 2, 3, 4, 5]) {
        const chunks = randomChunks(input, 1 + seed * 7, seed);
        expect(chunks[0]!.length).toBe(1);
        expect((await peel(chunks)).equals(plain)).toBe(true);
      }
    });
  }

  it('skips empty chunks, also before the magic number', async () => {
    const input = firehoseObject(payloads, 1);
    const empty = Buffer.alloc(0);
    const chunks = [
      empty,
      input.subarray(0, 1),
      empty,
      empty,
      input.subarray(1, 2),
      empty,
      input.subarray(2),
      empty,
    ];
    expect((await peel(chunks)).equals(plain)).toBe(true);
  });

  it('splits at every member boundary', async () => {
    const members = payloads.map((p) => gzipSync(p));
    expect((await peel(members)).equals(plain)).toBe(true);
  });
});

describe('gunzipLayers: ends and errors', () => {
  it('yields nothing for empty input', async () => {
    const out: Buffer[] = [];
    for await (const chunk of gunzipLayers()(fromChunks([]))) out.push(chunk);
    expect(out).toEqual([]);
    expect((await peel([Buffer.alloc(0), Buffer.alloc(0)])).length).toBe(0);
  });

  it('yields nothing for a gzip of nothing', async () => {
    expect((await peel([gzipSync(Buffer.alloc(0))])).length).toBe(0);
  });

  it('passes text that starts with other bytes through unchanged', async () => {
    const texts = [
      Buffer.from('version account-id interface-id\n2 123 eni-1\n'),
      Buffer.from([0x1f, 0x41, 0x42, 0x43]), // the first magic byte only
      Buffer.from([0x8b, 0x1f, 0x00]),
      Buffer.from('{'),
    ];
    for (const text of texts) {
      expect((await peel([text])).equals(text)).toBe(true);
      expect((await peel(bytewise(text))).equals(text)).toBe(true);
    }
  });

  it('accepts zero padding after the last member', async () => {
    const input = Buffer.concat([firehoseObject(payloads, 1), Buffer.alloc(512)]);
    expect((await peel([input])).equals(plain)).toBe(true);
  });

  it('accepts zero padding after the last member of the outer layer of two', async () => {
    const input = Buffer.concat([firehoseObject(payloads, 2), Buffer.alloc(16)]);
    expect((await peel([input])).equals(plain)).toBe(true);
  });

  it('accepts zero padding that arrives in chunks of its own', async () => {
    const gz = firehoseObject(payloads, 1);
    const zeros = Buffer.alloc(8);
    expect({
      'one zero chunk': await outcome(peel([gz, zeros]), plain),
      'two zero chunks': await outcome(peel([gz, zeros, zeros]), plain),
      'zeros with the last gzip bytes, then more zeros': await outcome(
        peel([Buffer.concat([gz, zeros]), zeros]),
        plain,
      ),
    }).toEqual({
      'one zero chunk': 'ok',
      'two zero chunks': 'ok',
      'zeros with the last gzip bytes, then more zeros': 'ok',
    });
  });

  it('accepts zero padding split into 1-byte chunks', async () => {
    const one = Buffer.concat([firehoseObject(payloads, 1), Buffer.alloc(4)]);
    const two = Buffer.concat([firehoseObject(payloads, 2), Buffer.alloc(4)]);
    expect({
      'one layer': await outcome(peel(bytewise(one)), plain),
      'two layers': await outcome(peel(bytewise(two)), plain),
    }).toEqual({ 'one layer': 'ok', 'two layers': 'ok' });
  });

  it('accepts zero padding when read from a file through pipeline', async () => {
    // The way convert-object reads: a file stream into pipeline. Several shapes and padding
    // sizes, since the outcome must not depend on timing.
    const shapes: [string, Buffer, Buffer][] = [
      ['one member', firehoseObject([payloads[0]!]), Buffer.from(payloads[0]!)],
      ['many members', firehoseObject(payloads, 1), plain],
      ['two layers', firehoseObject(payloads, 2), plain],
    ];
    const outcomes: Record<string, string> = {};
    for (const [name, gz, expected] of shapes) {
      for (const padding of [1, 16, 512]) {
        const path = join(dir, `padded-${name.replace(' ', '-')}-${padding}.gz`);
        await writeFile(path, Buffer.concat([gz, Buffer.alloc(padding)]));
        outcomes[`${name}, ${padding} zero bytes`] = await outcome(
          peelPipeline(createReadStream(path)),
          expected,
        );
      }
    }
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((k) => [k, 'ok'])));
  });

  it('reads a file without padding through pipeline', async () => {
    const path = join(dir, 'plain.gz');
    await writeFile(path, firehoseObject(payloads, 2));
    expect((await peelPipeline(createReadStream(path, { highWaterMark: 1024 }))).equals(plain)).toBe(true);
  });

  it('rejects non-zero garbage after the last member with Z_DATA_ERROR', async () => {
    const gz = firehoseObject(payloads, 1);
    const garbage = Buffer.from('this is not gzip');
    expect((await rejection(peel([Buffer.concat([gz, garbage])]))).code).toBe('Z_DATA_ERROR');
    expect((await rejection(peel([gz, garbage]))).code).toBe('Z_DATA_ERROR');
    expect(await rejection(peel(bytewise(Buffer.concat([gz, garbage]))))).toMatchObject({
      code: 'Z_DATA_ERROR',
    });
    expect(await rejection(peelPipeline(Readable.from([gz, garbage])))).toMatchObject({
      code: 'Z_DATA_ERROR',
    });
  });

  it('rejects a single non-zero byte after the last member (as Z_BUF_ERROR: zlib needs two bytes to see it is no header)', async () => {
    const gz = firehoseObject(payloads, 1);
    expect((await rejection(peel([Buffer.concat([gz, Buffer.from([0x42])])]))).code).toBe('Z_BUF_ERROR');
    expect((await rejection(peel([gz, Buffer.from([0x42])]))).code).toBe('Z_BUF_ERROR');
  });

  it('rejects garbage after the last member of the outer layer of two with Z_DATA_ERROR', async () => {
    const input = Buffer.concat([firehoseObject(payloads, 2), Buffer.from('garbage!')]);
    expect((await rejection(peel([input]))).code).toBe('Z_DATA_ERROR');
  });

  it('rejects garbage after zero padding', async () => {
    const gz = firehoseObject(payloads, 1);
    const error = await rejection(peel([Buffer.concat([gz, Buffer.alloc(4), Buffer.from('garbage')])]));
    expect(error.code).toBe('Z_DATA_ERROR');
  });

  it('rejects a corrupt deflate stream with Z_DATA_ERROR', async () => {
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]);
    const error = await rejection(peel([Buffer.concat([header, Buffer.alloc(32, 0xff)])]));
    expect(error.code).toBe('Z_DATA_ERROR');
  });

  it('rejects a bad CRC with Z_DATA_ERROR', async () => {
    const gz = Buffer.from(gzipSync(payloads[0]!));
    const at = gz.length - 8; // the CRC-32 in the trailer
    gz[at] = gz[at]! ^ 0xff;
    expect((await rejection(peel([gz]))).code).toBe('Z_DATA_ERROR');
  });

  it('fails data that ends inside the gzip header as TRUNCATED, saying so', async () => {
    // A lone 0x1f once passed through and was called "still gzip-compressed after three layers".
    const gz = firehoseObject(payloads, 1);
    const header = (n: number, where = 'the input') =>
      `the gzip header is cut short: ${where} ends ${n} byte${n === 1 ? '' : 's'} into a gzip member's 10-byte header`;
    for (const cut of [1, 2, 3, 9]) {
      for (const chunks of [[gz.subarray(0, cut)], bytewise(gz.subarray(0, cut))]) {
        const error = await rejection(peel(chunks));
        expect(error).toBeInstanceOf(FlowhoseError);
        expect(error).toMatchObject({ code: 'TRUNCATED', message: header(cut) });
      }
    }
    expect(await rejection(peelPipeline(Readable.from([Buffer.from([0x1f])])))).toMatchObject({
      code: 'TRUNCATED',
      message: header(1),
    });
    // Inside a layer: the gzip of a lone 0x1f.
    expect(await rejection(peel([gzipSync(Buffer.from([0x1f]))]))).toMatchObject({
      code: 'TRUNCATED',
      message: header(1, 'the data inside gzip layer 1'),
    });
    // Past maxLayers nothing is decompressed, so nothing is cut short.
    expect((await peel([Buffer.from([0x1f])], { maxLayers: 0 })).equals(Buffer.from([0x1f]))).toBe(true);
  });

  it('rejects truncated gzip with Z_BUF_ERROR', async () => {
    const gz = firehoseObject(payloads, 1);
    for (const cut of [10, 11, Math.floor(gz.length / 2), gz.length - 1]) {
      const truncated = gz.subarray(0, cut);
      expect((await rejection(peel([truncated]))).code).toBe('Z_BUF_ERROR');
      expect((await rejection(peel(bytewise(truncated)))).code).toBe('Z_BUF_ERROR');
    }
    expect(await rejection(peelPipeline(Readable.from([gz.subarray(0, gz.length - 4)])))).toMatchObject({
      code: 'Z_BUF_ERROR',
    });
  });

  it('rejects a truncated inner layer with Z_BUF_ERROR', async () => {
    const members = firehoseObject(payloads, 1);
    const input = gzipSync(members.subarray(0, members.length - 5));
    expect((await rejection(peel([input]))).code).toBe('Z_BUF_ERROR');
  });

  it('rejects a truncated outer layer with Z_BUF_ERROR', async () => {
    const input = firehoseObject(payloads, 2);
    expect((await rejection(peel([input.subarray(0, input.length - 6)]))).code).toBe('Z_BUF_ERROR');
  });

  it('passes a source error through', async () => {
    const gz = firehoseObject(payloads, 1);
    async function* failing(): AsyncGenerator<Buffer> {
      yield gz.subarray(0, 20);
      throw Object.assign(new Error('disk on fire'), { code: 'EIO' });
    }
    const run = async () => {
      for await (const _chunk of gunzipLayers()(failing())) {
        // drain
      }
    };
    const error = await rejection(run());
    expect(error.message).toContain('disk on fire');
  });

  it('stops reading and closes the source when the consumer stops early', async () => {
    // Incompressible, so the gzip is about as large as the data: far more than zlib buffers.
    const gz = gzipSync(randomBytes(1024 * 1024), { level: 1 });
    const chunks = split(
      gz,
      Array.from({ length: Math.floor(gz.length / 1024) }, (_, i) => (i + 1) * 1024),
    );
    let closed = false;
    let produced = 0;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        for (const chunk of chunks) {
          produced++;
          yield chunk;
        }
      } finally {
        closed = true;
      }
    }
    let got = 0;
    for await (const chunk of gunzipLayers({ chunkSize: 1024 })(source())) {
      got += chunk.length;
      break;
    }
    expect(got).toBeGreaterThan(0);
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(chunks.length / 2);
  });
});
