import type { PayloadParser } from '../core/converter.js';
import type { GoverningOption, ObjectErrorCode } from '../core/errors.js';
import type { SourceRef } from '../io/refs.js';
import type { S3Settings } from '../io/s3-url.js';
import type { Compression } from '../streams/codecs.js';
import type { RowFormatName } from '../streams/row-formats.js';
import type { Layout } from './layout.js';

export type { SourceRef } from '../io/refs.js';
export type { DestRef, Layout } from './layout.js';

export interface ConvertOptions {
  /** Convert even when the output already records this version of the source. */
  overwrite: boolean;
  /** Whole-object attempts after the first, for transient failures (a reset mid-stream, 5xx). */
  retries: number;
  s3?: S3Settings;
  /** A --log-format spec, parsed again in the worker (a FlowFormat is cheap to rebuild). */
  logFormat?: string;
  /**
   * The row format (`--output-format`); the layout carries it too (Layout.format, which names the output),
   * and convertObject encodes by the layout's.
   */
  outputFormat: RowFormatName;
  /** zlib level of the gzip codecs (the layout's codec says whether output is compressed at all). */
  gzipLevel: number;
  /** zlib strategy: Z_FILTERED suits CSV full of numbers (about 3% smaller at the same cost). */
  gzipStrategy: 'filtered' | 'default';
  /** Members compressed at once by the parallel-gzip codec. */
  parallelGzip: number;
  /** The output's compression (with gzipLevel and parallelGzip it chooses the layout's codec). */
  compression: Compression;
  /** zstd's level, for the zstd codec. */
  zstdLevel: number;
  /** Read and zlib chunk size in bytes. */
  chunkSize: number;
  maxRecordBytes: number;
  payloadParser: PayloadParser;
  /** Partitions one object may write (each holds an encoder, a codec and an upload open at once). */
  maxPartitions: number;
}

export interface ConvertTask {
  source: SourceRef;
  /** Where the outputs go (names are derived in the worker: object/layout.ts). */
  layout: Layout;
  options: ConvertOptions;
  /**
   * Run control shared with the main thread (an Int32Array over it): 0 running, 1 stopping (start
   * nothing new), 2 cancelled (abort what is in flight). Shared memory, so a worker sees a Ctrl-C
   * without a message round trip.
   */
  control?: SharedArrayBuffer;
}

export const RUNNING = 0;
export const STOPPING = 1;
export const CANCELLED = 2;

/** `not-started`: dispatched, but the run was stopping before a worker picked it up. */
export type TaskStatus = 'ok' | 'failed' | 'skipped' | 'not-started';

/** What an object (or, summed, a run) amounts to. */
export interface Counts {
  rows: number;
  rejected: number;
  control: number;
  /** Bytes read from the source, as stored (compressed). */
  bytesIn: number;
  /** Bytes after every gzip layer was removed. */
  bytesDecoded: number;
  bytesOut: number;
}

export interface TaskResult extends Counts {
  source: string;
  dest: string;
  status: TaskStatus;
  /** Where rejected records were kept, when there were any and they were kept. */
  rejectsDest?: string;
  /** A partitioned set (dest is then the pattern of its names): every output written, in order opened. */
  outputs?: string[];
  error?: TaskError;
}

export interface TaskError {
  code: ObjectErrorCode;
  message: string;
  /** A network or server hiccup: trying the whole object again may succeed. */
  retryable?: boolean;
  /** The library option that governs this failure (`maxRecordBytes`): the CLI names its flag. */
  option?: GoverningOption;
}

/** A result's counters before anything was read. */
export const noCounts = (): Counts => ({
  rows: 0,
  rejected: 0,
  control: 0,
  bytesIn: 0,
  bytesDecoded: 0,
  bytesOut: 0,
});

export function describeSource(ref: SourceRef): string {
  if (ref.kind === 'file') return ref.path;
  if (ref.kind === 'stdin') return '-';
  return `s3://${ref.bucket}/${ref.key}`;
}
