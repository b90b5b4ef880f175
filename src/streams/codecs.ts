import type { Transform } from 'node:stream';
import { constants, createGzip } from 'node:zlib';
import { ParallelGzip } from './parallel-gzip.js';

/**
 * Output compression, one descriptor per codec: it names the output (Athena infers a text file's codec
 * from its lowercase extension alone), gives its S3 Content-Type, and builds the compressing stage.
 * Plain data (the name) crosses into workers; each side looks the descriptor up.
 */
export type CodecName = 'none' | 'gzip' | 'parallel-gzip';

export interface CodecSettings {
  /** zlib level, 1–9. */
  level: number;
  /** Z_FILTERED suits CSV full of numbers (about 3% smaller at the same cost). */
  strategy: 'filtered' | 'default';
  /** parallel-gzip: members compressed at once. */
  concurrency: number;
  /** zlib's chunk size in bytes. */
  chunkSize: number;
}

export interface OutputCodec {
  readonly name: CodecName;
  /** Appended after the row format's extension: `.csv` + `.gz`. Empty for none. */
  readonly extension: string;
  /** The S3 Content-Type of a compressed output; undefined: the row format's own (plain text). */
  readonly contentType: string | undefined;
  /** The compressing stage; undefined when the bytes pass through as they are. */
  createStream(settings: CodecSettings): Transform | undefined;
}

const zlibStrategy = (strategy: CodecSettings['strategy']) =>
  strategy === 'filtered' ? constants.Z_FILTERED : constants.Z_DEFAULT_STRATEGY;

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
};

export function codecNamed(name: CodecName): OutputCodec {
  const codec = CODECS[name];
  if (!codec) throw new Error(`unknown output codec ${JSON.stringify(name)}`);
  return codec;
}

/** What the gzip options choose: level 0 writes plain text, `parallelGzip` above 1 writes gzip members in parallel. */
export function chooseCodec(options: { gzipLevel: number; parallelGzip: number }): OutputCodec {
  if (options.gzipLevel === 0) return CODECS.none;
  return options.parallelGzip > 1 ? CODECS['parallel-gzip'] : CODECS.gzip;
}
