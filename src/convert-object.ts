/**
 * One object's conversion, the same whether it runs in a pool worker or in-process (stdin):
 *
 *   source ─► count in ─► gunzip layers ─► FlowLogConverter ─► gzip ─► count out ─► sink (temp)
 *                                               └─► rejects (JSON lines, opened on first reject)
 *
 * One awaited pipeline: the first error anywhere destroys every stage. Only on success are the
 * output and its rejects committed (renamed or completed); on failure both are aborted.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { FlowhoseError } from './core/errors.js';
import { parseLogFormat } from './core/log-format.js';
import { isTempPath, openLocalSink, openLocalSource } from './io/local.js';
import type { ObjectSink } from './io/sink.js';
import { openStdoutSink } from './io/stdio.js';
import { RejectsWriter } from './rejects-writer.js';
import { ConvertStream } from './streams/convert-stream.js';
import { gunzipLayers } from './streams/gunzip-layers.js';
import {
  type ConvertTask,
  type DestRef,
  describeDest,
  describeSource,
  type SourceRef,
  type TaskResult,
} from './task.js';

/** How sources and sinks are opened: local files and stdio here; S3 plugs in beside them. */
export interface IoAdapters {
  openSource(ref: SourceRef, chunkSize: number, signal?: AbortSignal): Promise<Readable>;
  openSink(ref: DestRef): Promise<ObjectSink>;
  openRejectsSink(ref: DestRef): (() => Promise<ObjectSink>) | undefined;
}

export const localAdapters: IoAdapters = {
  async openSource(ref, chunkSize) {
    if (ref.kind === 'file') return openLocalSource(ref.path, chunkSize);
    if (ref.kind === 'stdin') return process.stdin;
    throw new Error(`no adapter for ${ref.kind} sources`);
  },
  async openSink(ref) {
    if (ref.kind === 'file') return openLocalSink(ref.path);
    if (ref.kind === 'stdout') return openStdoutSink();
    throw new Error(`no adapter for ${ref.kind} destinations`);
  },
  openRejectsSink(ref) {
    if (ref.kind === 'file') return () => openLocalSink(ref.rejectsPath);
    if (ref.kind === 'stdout' && ref.rejectsPath) {
      const path = ref.rejectsPath;
      return () => openLocalSink(path);
    }
    return undefined;
  },
};

export async function convertObject(
  task: ConvertTask,
  adapters: IoAdapters = localAdapters,
  signal?: AbortSignal,
): Promise<TaskResult> {
  const { options } = task;
  const result: TaskResult = {
    source: describeSource(task.source),
    dest: describeDest(task.dest),
    status: 'ok',
    rows: 0,
    rejected: 0,
    control: 0,
    bytesIn: 0,
    bytesDecoded: 0,
    bytesOut: 0,
  };
  let sink: ObjectSink | undefined;
  const rejects = new RejectsWriter(result.source, adapters.openRejectsSink(task.dest));
  let convert: ConvertStream | undefined;
  try {
    const format = options.logFormat ? parseLogFormat(options.logFormat) : undefined;
    convert = new ConvertStream({ format, maxRecordBytes: options.maxRecordBytes, rejects });
    let source: Readable;
    try {
      source = await adapters.openSource(task.source, options.chunkSize, signal);
    } catch (error) {
      throw new FlowhoseError('READ_FAILED', `cannot read ${result.source}: ${messageOf(error)}`);
    }
    sink = await adapters.openSink(task.dest);
    const stages: NodeJS.ReadWriteStream[] = [];
    if (options.gzipLevel > 0)
      stages.push(createGzip({ level: options.gzipLevel, chunkSize: options.chunkSize }));
    await runPipeline(
      [
        source,
        count((n) => {
          result.bytesIn += n;
        }),
        gunzipLayers({ chunkSize: options.chunkSize }),
        convert,
        ...stages,
        count((n) => {
          result.bytesOut += n;
        }),
        sink.stream,
      ],
      signal,
    );
    await rejects.commit();
    await sink.commit();
    if (rejects.kept) result.rejectsDest = describeRejects(task.dest);
  } catch (error) {
    await Promise.allSettled([sink?.abort(), rejects.abort()]);
    result.status = 'failed';
    result.error = classify(error);
  }
  if (convert) {
    const stats = convert.converter.stats;
    result.rows = stats.rows;
    result.rejected = stats.rejected;
    result.control = stats.control;
    result.bytesDecoded = stats.bytes;
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

/** Turns whatever was thrown into a code and a message that names the cause. */
export function classify(error: unknown): { code: string; message: string } {
  if (error instanceof FlowhoseError) return { code: error.code, message: error.message };
  const e = error as NodeJS.ErrnoException & { $metadata?: unknown; name?: string };
  if (e?.name === 'AbortError') return { code: 'INTERRUPTED', message: 'stopped before it finished' };
  if (e?.code === 'Z_BUF_ERROR') {
    return { code: 'TRUNCATED', message: 'gzip data ends early: the object is truncated' };
  }
  if (e?.code === 'Z_DATA_ERROR') return { code: 'BAD_GZIP', message: `corrupt gzip data: ${e.message}` };
  if (typeof e?.syscall === 'string') {
    const write = isTempPath(e.path);
    return { code: write ? 'WRITE_FAILED' : 'READ_FAILED', message: e.message };
  }
  if (e?.$metadata) return { code: 'S3_ERROR', message: `${e.name}: ${e.message}` };
  return { code: 'INTERNAL', message: messageOf(error) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
