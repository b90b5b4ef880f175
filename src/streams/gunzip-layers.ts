import { createGunzip } from 'node:zlib';
import { FlowhoseError } from '../core/errors.js';

export interface GunzipLayersOptions {
  /** Most gzip layers peeled off (Firehose GZIP on top of CloudWatch's own gzip makes two). */
  maxLayers?: number;
  /** zlib output chunk size. */
  chunkSize?: number;
}

const isGzip = (a: number | undefined, b: number | undefined) => a === 0x1f && b === 0x8b;

/** A gzip member's fixed header: magic number, method, flags, mtime, extra flags, OS. */
const GZIP_HEADER_BYTES = 10;

/**
 * Decompresses as many gzip layers as the bytes carry (0, 1 or 2 in practice, up to maxLayers:
 * 3 by default), deciding from the magic number after each inflate rather than from a file suffix
 * or Content-Type, which Firehose does not set. Every member of a multi-member gzip is read; bytes
 * after the last member fail as corrupt unless they are zero padding. Data that ends inside the
 * first member's fixed header (a lone 0x1f, or `1f 8b` and a few bytes) fails TRUNCATED, saying so.
 */
export function gunzipLayers(options: GunzipLayersOptions = {}) {
  const maxLayers = options.maxLayers ?? 3;
  const chunkSize = options.chunkSize ?? 64 * 1024;
  return (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> => peel(source, 0, maxLayers, chunkSize);
}

async function* peel(
  source: AsyncIterable<Buffer>,
  layer: number,
  maxLayers: number,
  chunkSize: number,
): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    const head: Buffer[] = [];
    let headBytes = 0;
    while (headBytes < 2) {
      const next = await iterator.next();
      if (next.done) break;
      if (next.value.length === 0) continue;
      head.push(next.value);
      headBytes += next.value.length;
    }
    const first = head[0];
    const second = first && first.length > 1 ? first[1] : head[1]?.[0];
    const rest = replay(head, iterator);
    if (layer < maxLayers && headBytes === 1 && first![0] === 0x1f) throw headerCutShort(1, layer);
    if (layer < maxLayers && isGzip(first?.[0], second)) {
      yield* peel(gunzip(rest, chunkSize, layer), layer + 1, maxLayers, chunkSize);
    } else {
      yield* rest;
    }
  } finally {
    await iterator.return?.();
  }
}

async function* replay(head: Buffer[], iterator: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Node's gunzip stops at the first byte after a member that is not another member's magic
 * number: zero padding is then accepted, but so is, silently, anything after it (`member 00
 * member` loses the second member), and padding that arrives in a later chunk ends the stream
 * early. So the input is fed by hand and whatever zlib did not consume must be zeros; anything
 * else fails as corrupt, however the chunks fall.
 */
async function* gunzip(
  source: AsyncIterable<Buffer>,
  chunkSize: number,
  layer: number,
): AsyncGenerator<Buffer> {
  const inflater = createGunzip({ chunkSize });
  const unconsumed: Buffer[] = []; // fed, not yet known to be consumed by zlib
  let unconsumedStart = 0; // stream offset of unconsumed[0]
  let fed = 0;
  let ended = false;
  inflater.once('end', () => {
    ended = true;
  });
  const trim = () => {
    while (unconsumed.length > 0 && unconsumedStart + unconsumed[0]!.length <= inflater.bytesWritten) {
      unconsumedStart += unconsumed.shift()!.length;
    }
  };
  const feeding = (async () => {
    for await (const chunk of source) {
      if (ended) {
        if (!isZeros(chunk, 0)) throw trailingData();
        continue;
      }
      if (inflater.destroyed) return; // the consumer stopped early
      unconsumed.push(chunk);
      fed += chunk.length;
      trim();
      if (!inflater.write(chunk)) await writable(inflater);
    }
    if (!ended) inflater.end();
  })();
  feeding.catch((error) => inflater.destroy(error));
  try {
    try {
      for await (const chunk of inflater) yield chunk as Buffer;
    } catch (error) {
      const short = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' && fed < GZIP_HEADER_BYTES;
      throw short ? headerCutShort(fed, layer) : error;
    }
    await feeding;
    trim();
    let skip = inflater.bytesWritten - unconsumedStart;
    for (const chunk of unconsumed) {
      if (!isZeros(chunk, Math.max(0, skip))) throw trailingData();
      skip -= chunk.length;
    }
  } finally {
    inflater.destroy();
  }
}

function writable(stream: NodeJS.EventEmitter & { destroyed: boolean }): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) {
      resolve();
      return;
    }
    const done = () => {
      stream.off('drain', done).off('end', done).off('close', done);
      resolve();
    };
    stream.on('drain', done).on('end', done).on('close', done);
  });
}

function isZeros(chunk: Buffer, from: number): boolean {
  for (let i = from; i < chunk.length; i++) if (chunk[i] !== 0) return false;
  return true;
}

/** `layer`: how many gzip layers were already removed from the data that is cut short. */
function headerCutShort(bytes: number, layer: number): FlowhoseError {
  const where = layer === 0 ? 'the input' : `the data inside gzip layer ${layer}`;
  return new FlowhoseError(
    'TRUNCATED',
    `the gzip header is cut short: ${where} ends ${bytes} byte${bytes === 1 ? '' : 's'} into a gzip member's ` +
      `${GZIP_HEADER_BYTES}-byte header`,
  );
}

function trailingData(): Error {
  return Object.assign(
    new Error('data after the end of the gzip stream that is neither another member nor zero padding'),
    {
      code: 'Z_DATA_ERROR',
    },
  );
}
