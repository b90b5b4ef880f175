import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

export interface GunzipLayersOptions {
  /** Most gzip layers peeled off (Firehose GZIP on top of CloudWatch's own gzip makes two). */
  maxLayers?: number;
  /** zlib output chunk size. */
  chunkSize?: number;
}

const isGzip = (a: number | undefined, b: number | undefined) => a === 0x1f && b === 0x8b;

/**
 * Decompresses as many gzip layers as the bytes carry (0, 1 or 2 in practice), deciding from
 * the magic number after each inflate rather than from a file suffix or Content-Type, which
 * Firehose does not set. Node's gunzip reads every member of a multi-member gzip; bytes after
 * the last member that are not zero padding fail with "incorrect header check".
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
    if (layer < maxLayers && isGzip(first?.[0], second)) {
      yield* peel(gunzip(rest, chunkSize), layer + 1, maxLayers, chunkSize);
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

async function* gunzip(source: AsyncIterable<Buffer>, chunkSize: number): AsyncGenerator<Buffer> {
  const inflater = createGunzip({ chunkSize });
  const feeding = pipeline(source, inflater);
  // A failure on either side destroys the inflater, so the loop below sees it too.
  feeding.catch(() => {});
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
    await feeding;
  } finally {
    inflater.destroy();
  }
}
