import type { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { ParallelGzip } from './parallel-gzip.js';
import { SerialZstd } from './zstd-stream.js';

/**
 * Output compression, one descriptor per codec: it names the output (Athena infers a text file's codec
 * from its lowercase extension alone), gives its S3 Content-Type, and builds the compressing stage.
 * Plain data (the name) crosses into workers; each side looks the descriptor up.
 */
export type CodecName = 'none' | 'gzip' | 'parallel-gzip' | 'zstd';

/**
 * What `--compression` chooses; parallel-gzip is gzip written another way (`--parallel-gzip`). snappy is
 * only Parquet's, inside its file (row-formats.ts says which format takes which).
 */
export const COMPRESSIONS = ['gzip', 'zstd', 'none', 'snappy'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface CodecSettings {
  /** zlib level of the gzip codecs, 1–9. */
  level: number;
  /** Z_FILTERED suits CSV full of numbers (about 3% smaller at the same cost). */
  strategy: 'filtered' | 'default';
  /** parallel-gzip: members compressed at once. */
  concurrency: number;
  /** zstd's level, 1–19. */
  zstdLevel: number;
  /** zlib's chunk size in bytes (both codecs' output buffers). */
  chunkSize: number;
}

export interface OutputCodec {
  readonly name: CodecName;
  /** Appended after the row format's extension: `.csv` + `.gz`. Empty for none. */
  readonly extension: string;
  /** The S3 Content-Type of a compressed output; undefined: the row format's own (plain text). */
  readonly contentType: string | undefined;
  /** The compressing stage; undefined when the bytes pass through as they are. */
  createStream(settings: CodecSettings): Duplex | undefined;
}

const { constants, createGzip } = zlib;

const zlibStrategy = (strategy: CodecSettings['strategy']) =>
  strategy === 'filtered' ? constants.Z_FILTERED : constants.Z_DEFAULT_STRATEGY;

/** node:zlib's zstd, which @types/node 20 does not declare (and Node 20 does not have). */
interface ZstdZlib {
  createZstdCompress?: (options: { chunkSize?: number; params?: Record<number, number> }) => Duplex;
  constants: { ZSTD_c_compressionLevel?: number; ZSTD_c_checksumFlag?: number };
}
const zstdZlib = zlib as unknown as ZstdZlib;

/** The Node releases whose node:zlib compresses zstd (createZstdCompress landed in 23.8 and 22.15). */
export const ZSTD_NODE = '22.15 (or 23.8)';

export const zstdAvailable = (): boolean => typeof zstdZlib.createZstdCompress === 'function';

/** Why zstd cannot be had here, or undefined when it can; `asked` says how the caller asked for it. */
export function zstdUnavailable(asked: string): string | undefined {
  if (zstdAvailable()) return undefined;
  return `${asked} needs Node ${ZSTD_NODE} or newer, whose node:zlib has zstd; this is Node ${process.version}`;
}

function createZstd(s: CodecSettings): Duplex {
  const { createZstdCompress, constants: c } = zstdZlib;
  if (!createZstdCompress || c.ZSTD_c_compressionLevel === undefined || c.ZSTD_c_checksumFlag === undefined)
    throw new Error(zstdUnavailable('zstd output') ?? 'node:zlib lacks the zstd parameters');
  const inner = createZstdCompress({
    chunkSize: s.chunkSize,
    // The frame checksum (XXH64, what the zstd tool writes by default): gzip's CRC-32 has a counterpart.
    params: { [c.ZSTD_c_compressionLevel]: s.zstdLevel, [c.ZSTD_c_checksumFlag]: 1 },
  });
  return new SerialZstd(inner);
}

export const CODECS: Readonly<Record<CodecName, OutputCodec>> = {
  none: { name: 'none', extension: '', contentType: undefined, createStream: () => undefined },
  gzip: {
    name: 'gzip',
    extension: '.gz',
    contentType: 'application/gzip',
    createStream: (s) =>
      createGzip({ level: s.level, strategy: zlibStrategy(s.strategy), chunkSize: s.chunkSize }),
  },
  // Multi-member gzip is still gzip to every reader, so it shares the name and the type.
  'parallel-gzip': {
    name: 'parallel-gzip',
    extension: '.gz',
    contentType: 'application/gzip',
    createStream: (s) =>
      new ParallelGzip({ level: s.level, strategy: zlibStrategy(s.strategy), concurrency: s.concurrency }),
  },
  // `.zst` is the extension Athena and Trino map to zstd (RFC 8878 registers application/zstd).
  zstd: { name: 'zstd', extension: '.zst', contentType: 'application/zstd', createStream: createZstd },
};

export function codecNamed(name: CodecName): OutputCodec {
  const codec = CODECS[name];
  if (!codec) throw new Error(`unknown output codec ${JSON.stringify(name)}`);
  return codec;
}

/**
 * What the compression options choose: zstd or none as named; gzip at level 0 writes plain text, and
 * `parallelGzip` above 1 writes gzip members in parallel.
 */
export function chooseCodec(options: {
  compression: Compression;
  gzipLevel: number;
  parallelGzip: number;
}): OutputCodec {
  if (options.compression === 'zstd') return CODECS.zstd;
  if (options.compression === 'none' || options.gzipLevel === 0) return CODECS.none;
  return options.parallelGzip > 1 ? CODECS['parallel-gzip'] : CODECS.gzip;
}
