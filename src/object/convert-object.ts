/**
 * One object's conversion, the same whether it runs in a pool worker or in-process (stdin):
 *
 *   source ─► count in ─► gunzip layers ─► FlowLogConverter ─► gzip ─► count out ─► sink (temp / upload)
 *                                               └─► rejects (JSON lines, opened on first reject)
 *
 * One awaited pipeline: the first error anywhere destroys every stage. Only on success are the
 * output and its rejects committed (renamed, or the upload completed); on failure both are
 * aborted, so no partial output is ever visible.
 */

import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants, createGzip } from 'node:zlib';
import { FlowhoseError } from '../core/errors.js';
import { parseLogFormat } from '../core/log-format.js';
import { createAdapters, type IoAdapters, type OpenedSource } from '../io/adapters.js';
import { isTempPath } from '../io/local.js';
import type { ObjectSink } from '../io/sink.js';
import { ConvertStream } from '../streams/convert-stream.js';
import { gunzipLayers } from '../streams/gunzip-layers.js';
import { ParallelGzip } from '../streams/parallel-gzip.js';
import { RejectsWriter } from './rejects-writer.js';
import {
  type ConvertTask,
  type DestRef,
  describeDest,
  describeSource,
  noCounts,
  type TaskError,
  type TaskResult,
} from './task.js';

/**
 * Converts with whole-object retries for transient failures (a connection reset mid-body is not
 * something the SDK's per-request retries can see). Safe because a failed attempt leaves nothing,
 * except on stdout, which cannot be taken back: there a failure is final.
 */
export async function convertObject(
  task: ConvertTask,
  adapters?: IoAdapters,
  signal?: AbortSignal,
): Promise<TaskResult> {
  const io = adapters ?? createAdapters(task.options.s3);
  for (let attempt = 0; ; attempt++) {
    const result = await convertOnce(task, io, signal);
    const retry =
      result.status === 'failed' &&
      result.error?.retryable === true &&
      attempt < task.options.retries &&
      task.dest.kind !== 'stdout' &&
      !signal?.aborted;
    if (!retry) return result;
    // Full jitter: spread retries of many workers hitting the same throttled prefix.
    await sleep(Math.random() * Math.min(20_000, 500 * 2 ** attempt), undefined, { signal }).catch(() => {});
  }
}

async function convertOnce(
  task: ConvertTask,
  io: IoAdapters,
  signal: AbortSignal | undefined,
): Promise<TaskResult> {
  const { options } = task;
  const result: TaskResult = {
    source: describeSource(task.source),
    dest: describeDest(task.dest),
    status: 'ok',
    ...noCounts(),
  };
  let sink: ObjectSink | undefined;
  let source: OpenedSource | undefined;
  let rejectsCommitted = false;
  const rejects = new RejectsWriter(result.source, io.openRejectsSink(task.dest, result.source));
  let convert: ConvertStream | undefined;
  try {
    const format = options.logFormat ? parseLogFormat(options.logFormat) : undefined;
    // With --overwrite the output may exist, and its rejects may be stale.
    let destExisted = options.overwrite;
    if (!options.overwrite && task.dest.kind !== 'stdout') {
      const version = await io.sourceVersion(task.source, signal).catch((error) => {
        throw readFailed(result.source, error);
      });
      if (version) {
        const state = await io.isUpToDate(task.dest, version, signal);
        if (state.upToDate) {
          result.status = 'skipped';
          return result;
        }
        destExisted = state.exists;
      }
    }
    convert = new ConvertStream({
      format,
      maxRecordBytes: options.maxRecordBytes,
      payloadParser: options.payloadParser,
      outputChunkBytes: options.chunkSize,
      rejects,
    });
    try {
      source = await io.openSource(task.source, options.chunkSize, signal);
    } catch (error) {
      throw readFailed(result.source, error);
    }
    sink = await io.openSink(task.dest, result.source, source.version);
    const strategy =
      options.gzipStrategy === 'filtered' ? constants.Z_FILTERED : constants.Z_DEFAULT_STRATEGY;
    const compress =
      options.gzipLevel === 0
        ? []
        : options.parallelGzip > 1
          ? [new ParallelGzip({ level: options.gzipLevel, strategy, concurrency: options.parallelGzip })]
          : [createGzip({ level: options.gzipLevel, strategy, chunkSize: options.chunkSize })];
    await runPipeline(
      [
        source.stream,
        count((n) => {
          result.bytesIn += n;
        }),
        gunzipLayers({ chunkSize: options.chunkSize }),
        convert,
        ...compress,
        count((n) => {
          result.bytesOut += n;
        }),
        sink.stream,
      ],
      signal,
    );
    await rejects.commit();
    rejectsCommitted = rejects.kept;
    await sink.commit();
    if (rejects.kept) result.rejectsDest = describeRejects(task.dest);
    else if (destExisted) await io.removeRejects(task.dest).catch(() => {}); // from an older version of the source
  } catch (error) {
    source?.stream.destroy();
    // A failed upload destroys the body, so the pipeline only sees a premature close: the
    // upload's own error says what happened (and whether it is worth another attempt).
    const cause = sink?.failure?.() ?? error;
    await Promise.allSettled([sink?.abort(), rejects.abort()]);
    // The output failed after its rejects were stored: they must not outlive it.
    if (rejectsCommitted) await io.removeRejects(task.dest).catch(() => {});
    result.status = 'failed';
    result.error = classify(cause, signal);
  }
  if (convert) result.bytesDecoded = convert.converter.stats.bytes;
  if (convert && result.status === 'ok') {
    // Counts describe what was written: a failed object wrote nothing.
    const stats = convert.converter.stats;
    result.rows = stats.rows;
    result.rejected = stats.rejected;
    result.control = stats.control;
  } else if (result.status === 'failed') {
    result.bytesOut = 0;
  }
  return result;
}

type Stage =
  | NodeJS.ReadableStream
  | NodeJS.WritableStream
  | ((source: AsyncIterable<Buffer>) => AsyncIterable<Buffer>);

function runPipeline(stages: Stage[], signal: AbortSignal | undefined): Promise<void> {
  // pipeline()'s overloads cannot type a mixed array of streams and generator stages.
  const run = pipeline as unknown as (streams: Stage[], options: { signal?: AbortSignal }) => Promise<void>;
  return run(stages, signal ? { signal } : {});
}

function count(onBytes: (n: number) => void) {
  return async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      onBytes(chunk.length);
      yield chunk;
    }
  };
}

function describeRejects(dest: DestRef): string | undefined {
  if (dest.kind === 'file') return dest.rejectsPath;
  if (dest.kind === 's3') return `s3://${dest.bucket}/${dest.rejectsKey}`;
  return dest.rejectsPath;
}

class ReadFailed extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

function readFailed(source: string, error: unknown): ReadFailed {
  return new ReadFailed(`cannot read ${source}: ${describe(error)}`, isTransient(error));
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** Network hiccups, throttling and 5xx: worth another attempt. */
function isTransient(error: unknown): boolean {
  const e = error as {
    code?: string;
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if (!e) return false;
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return (
    e.name === 'TimeoutError' ||
    e.name === 'RequestTimeout' ||
    e.name === 'SlowDown' ||
    /socket hang up|aborted/i.test(String((error as Error).message))
  );
}

/** Turns whatever was thrown into a code and a message that names the cause. */
export function classify(error: unknown, signal?: AbortSignal): TaskError {
  if (error instanceof FlowhoseError) return { code: error.code, message: error.message };
  if (signal?.aborted)
    return { code: 'INTERRUPTED', message: 'stopped before it finished; nothing was written' };
  if (error instanceof ReadFailed)
    return { code: 'READ_FAILED', message: error.message, retryable: error.retryable };
  const e = error as NodeJS.ErrnoException & { $metadata?: { httpStatusCode?: number }; name?: string };
  if (signal?.aborted || e?.name === 'AbortError')
    return { code: 'INTERRUPTED', message: 'stopped before it finished; nothing was written' };
  if (e?.code === 'Z_BUF_ERROR')
    return {
      code: 'TRUNCATED',
      message: 'gzip data ends early: the object is truncated (or ends in a stray byte)',
    };
  if (e?.code === 'Z_DATA_ERROR') return { code: 'BAD_GZIP', message: `corrupt gzip data: ${e.message}` };
  if (e?.$metadata) {
    const status = e.$metadata.httpStatusCode;
    const code = status === 412 ? 'SOURCE_CHANGED' : 'S3_ERROR';
    const hint =
      status === 412 ? ' (the object changed since it was listed; run again to convert the new version)' : '';
    return {
      code,
      message: `${describe(error)}${status ? ` (HTTP ${status})` : ''}${hint}`,
      retryable: isTransient(error),
    };
  }
  if (typeof e?.syscall === 'string' || (e?.code && TRANSIENT_CODES.has(e.code))) {
    const write = isTempPath(e.path);
    return {
      code: write ? 'WRITE_FAILED' : 'READ_FAILED',
      message: describe(error),
      retryable: isTransient(error),
    };
  }
  return { code: 'INTERNAL', message: describe(error), retryable: isTransient(error) };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const name = error.name !== 'Error' ? `${error.name}: ` : '';
  return `${name}${error.message}${code && !error.message.includes(code) ? ` (${code})` : ''}`;
}
