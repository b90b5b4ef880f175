/**
 * One object's conversion, the same whether it runs in a pool worker or in-process (stdin):
 *
 *   source ─► read (count in) ─► gunzip layers ─► FlowLogConverter (the layout's row format) ─► codec ─► write (count out) ─► output
 *                                                      └─► rejects (JSON lines, opened on first reject)
 *
 * One awaited pipeline: the first error anywhere destroys every stage. Only on success is the output
 * set (output, rejects, commit record) committed, in its fixed order (output-set.ts); on failure it is
 * aborted, so no partial output is ever visible. The read and write stages wrap their own errors, so a
 * failure says where it happened.
 */

import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConverterStats } from '../core/converter.js';
import { parseLogFormat } from '../core/log-format.js';
import { createAdapters, type IoAdapters, type OpenedSource, type SourceVersion } from '../io/adapters.js';
import type { ObjectSink, SinkTarget } from '../io/sink.js';
import { codecNamed } from '../streams/codecs.js';
import { ConvertStream } from '../streams/convert-stream.js';
import { gunzipLayers } from '../streams/gunzip-layers.js';
import { type PartitionOutput, PartitionStream } from '../streams/partition-stream.js';
import { rowFormatNamed } from '../streams/row-formats.js';
import { atStage, classify, placed } from './failures.js';
import { type DestRef, describeDest, describeName, destinationFor, partitionOutputName } from './layout.js';
import { type Member, OutputSet } from './output-set.js';
import { RejectsWriter } from './rejects-writer.js';
import {
  type CommitRecord,
  type Committed,
  checkUpToDate,
  commitRecordText,
  memberTarget,
  type PriorState,
  targetsOf,
} from './resume.js';
import { type ConvertTask, describeSource, noCounts, type TaskResult } from './task.js';

export { classify } from './failures.js';

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
      task.layout.to !== '-' &&
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
  const source = describeSource(task.source);
  const dest = destinationFor(task.layout);
  if ('error' in dest) {
    return {
      source,
      dest: '',
      status: 'failed',
      ...noCounts(),
      error: { code: 'UNSAFE_PATH', message: dest.error },
    };
  }
  const result: TaskResult = { source, dest: describeDest(dest), status: 'ok', ...noCounts() };
  const rejects = rejectsWriterFor(dest, source, io);
  let opened: OpenedSource | undefined;
  let output: ObjectSink | undefined;
  let set: OutputSet | undefined;
  let stats: (() => ConverterStats) | undefined;
  try {
    const prior = await priorConversion(task, dest, io, signal);
    if (prior.upToDate) {
      result.status = 'skipped';
      return result;
    }
    // The layout's format names the output, so it is the one encoded (a Parquet encoder loads here, lazily).
    const createEncoder = await rowFormatNamed(task.layout.format).encoder({
      compression: options.compression,
      gzipLevel: options.gzipLevel,
      zstdLevel: options.zstdLevel,
    });
    const converterOptions = {
      format: options.logFormat ? parseLogFormat(options.logFormat) : undefined,
      createEncoder,
      maxRecordBytes: options.maxRecordBytes,
      payloadParser: options.payloadParser,
      outputChunkBytes: options.chunkSize,
      rejects: rejects.writer,
    };
    opened = await atStage('read', source, () => io.openSource(task.source, options.chunkSize, signal));
    const read = readFrom(opened.stream, source, (n) => {
      result.bytesIn += n;
    });
    const version = opened.version;
    const targets = targetsOf(dest, source, version);
    set = new OutputSet({
      rejects: rejects.member,
      replacing: prior.exists,
      record: recordWriter(io, targets.record, source, version, destLayout(dest)),
      stale: prior.record && staleRemover(io, dest, prior.record),
    });
    const createCompressor = () =>
      codecNamed(task.layout.codec).createStream({
        level: options.gzipLevel,
        strategy: options.gzipStrategy,
        concurrency: options.parallelGzip,
        zstdLevel: options.zstdLevel,
        chunkSize: options.chunkSize,
      });
    if (dest.kind !== 'stdout' && dest.partitioned) {
      const partitioned = dest.partitioned;
      const outputs: string[] = [];
      const fanout = new PartitionStream({
        ...converterOptions,
        scheme: partitioned.scheme,
        sourceTimeMs: version?.time,
        maxPartitions: options.maxPartitions,
        openPartition: (key) => {
          const name = partitionOutputName(partitioned, key);
          const described = describeName(dest, name);
          outputs.push(described);
          return openMember(set!, io, memberTarget(dest, name, source, version), name, described, {
            compressor: createCompressor(),
            onBytes: (n) => {
              result.bytesOut += n;
            },
          });
        },
      });
      stats = () => fanout.converter.stats;
      await runPipeline([read, gunzipLayers({ chunkSize: options.chunkSize }), fanout], signal);
      await set.commit();
      result.outputs = outputs;
    } else {
      const convert = new ConvertStream(converterOptions);
      stats = () => convert.converter.stats;
      output = await atStage('write', result.dest, () => io.openSink(targets.output));
      const name = dest.kind === 'stdout' ? '-' : dest.output;
      const sink = output;
      set.add(
        sinkMember(
          name,
          result.dest,
          async () => sink,
          () => io.remove(targets.output),
          () => result.bytesOut,
        ),
      );
      const compress = createCompressor();
      await runPipeline(
        [
          read,
          gunzipLayers({ chunkSize: options.chunkSize }),
          convert,
          ...(compress ? [compress] : []),
          writeTo(output, result.dest, (n) => {
            result.bytesOut += n;
          }),
        ],
        signal,
      );
      await set.commit();
    }
    if (rejects.writer.kept) result.rejectsDest = describeDest(dest, 'rejects');
  } catch (error) {
    opened?.stream.destroy();
    // A failed upload destroys the body, so the pipeline only sees a premature close: the
    // upload's own error says what happened (and whether it is worth another attempt).
    const own = output?.failure?.();
    await (set ? set.abort() : rejects.writer.abort());
    result.status = 'failed';
    result.error = classify(own ? placed('write', result.dest, own) : error, signal);
    delete result.outputs;
  }
  if (stats) result.bytesDecoded = stats().bytes;
  if (stats && result.status === 'ok') {
    // Counts describe what was written: a failed object wrote nothing.
    const { rows, rejected, control } = stats();
    result.rows = rows;
    result.rejected = rejected;
    result.control = control;
  } else if (result.status === 'failed') {
    result.bytesOut = 0;
  }
  return result;
}

/**
 * One partition's output: its codec (or a pass-through), then its sink, opened behind the stream so
 * that the router can open a partition in the middle of a record. The member joins the set at once,
 * so an abort reaches a sink still opening.
 */
function openMember(
  set: OutputSet,
  io: IoAdapters,
  target: SinkTarget,
  name: string,
  described: string,
  stage: { compressor: NodeJS.ReadWriteStream | undefined; onBytes: (n: number) => void },
): PartitionOutput {
  const head = (stage.compressor as Writable | undefined) ?? new PassThrough();
  // The set may be torn down before the sink opens and a pipeline listens: the failure is the set's.
  head.on('error', () => {});
  const opening = atStage('write', described, () => io.openSink(target));
  let bytes = 0;
  set.add(
    sinkMember(
      name,
      described,
      () => opening,
      () => io.remove(target),
      () => bytes,
    ),
  );
  const done = opening.then(async (sink) => {
    try {
      await runPipeline(
        [
          head,
          writeTo(sink, described, (n) => {
            bytes += n;
            stage.onBytes(n);
          }),
        ],
        undefined,
      );
    } catch (error) {
      const own = sink.failure?.();
      throw own ? placed('write', described, own) : error;
    }
  });
  // Until the sink is open nothing reads the head: a failed open must still end it.
  opening.catch((error: unknown) => head.destroy(error as Error));
  return { stream: head, done };
}

/**
 * Whether the destination already holds this version of the source (skip it), and whether anything of an
 * earlier conversion is there (its rejects may be stale). With --overwrite the output may exist.
 */
async function priorConversion(
  task: ConvertTask,
  dest: DestRef,
  io: IoAdapters,
  signal: AbortSignal | undefined,
): Promise<PriorState> {
  if (task.options.overwrite || dest.kind === 'stdout')
    return { exists: task.options.overwrite, upToDate: false };
  const source = describeSource(task.source);
  const version = await atStage('read', source, () => io.sourceVersion(task.source, signal));
  if (!version) return { exists: false, upToDate: false };
  return atStage('write', describeDest(dest), () => checkUpToDate(io, dest, version, signal));
}

/** The rejects file as a writer (for the converter) and as a member (for the output set). */
function rejectsWriterFor(dest: DestRef, source: string, io: IoAdapters) {
  const target = targetsOf(dest, source, undefined).rejects;
  const name = describeDest(dest, 'rejects');
  const writer = new RejectsWriter(source, target && (() => io.openSink(target)), name);
  let committed = false;
  const member: Member | undefined = target && {
    name: dest.kind === 'stdout' ? name : dest.rejects,
    commit: async () => {
      await writer.commit();
      committed = true;
      return writer.kept ? writer.bytes : undefined;
    },
    abort: async () => {
      if (!committed) await writer.abort();
    },
    remove: () => atStage('write', name, () => io.remove(target)),
  };
  return { writer, member };
}

function sinkMember(
  name: string,
  described: string,
  sink: () => Promise<ObjectSink>,
  remove: () => Promise<void>,
  bytes: () => number,
): Member {
  let committed = false;
  return {
    name,
    commit: async () => {
      const opened = await sink();
      await atStage('write', described, () => opened.commit());
      committed = true;
      return bytes();
    },
    abort: async () => {
      if (committed) return;
      const opened = await sink().catch(() => undefined);
      await opened?.abort();
    },
    remove: () => atStage('write', described, remove),
  };
}

/** How a partitioned set was laid out, for its commit record. */
const destLayout = (dest: DestRef): string | undefined =>
  dest.kind === 'stdout' ? undefined : dest.partitioned?.describe;

/**
 * Members an earlier conversion of this source left that this one did not write (a changed source whose
 * rows now fall in other partitions, another codec): removed once the new set is in place, before its
 * record, so a kill in between leaves the old record, which no longer matches, and the source is redone.
 */
function staleRemover(io: IoAdapters, dest: DestRef, record: CommitRecord) {
  if (dest.kind === 'stdout') return undefined;
  return async (kept: Committed[]) => {
    const names = new Set(kept.map((m) => m.name));
    const stale = record.members.filter((m) => !names.has(m.name));
    await Promise.all(
      stale.map((m) =>
        atStage('write', describeName(dest, m.name), () =>
          io.remove(memberTarget(dest, m.name, '', undefined)),
        ),
      ),
    );
  };
}

/** Stores the commit record (local destinations): written whole under a temporary name, then renamed. */
function recordWriter(
  io: IoAdapters,
  target: SinkTarget | undefined,
  source: string,
  version: SourceVersion | undefined,
  layout: string | undefined,
): ((members: Committed[]) => Promise<void>) | undefined {
  if (!target || !version) return undefined;
  return (members) =>
    atStage('write', describeTarget(target), async () => {
      const sink = await io.openSink(target);
      try {
        const record = { flowhose: 1 as const, source, etag: version.etag, members };
        sink.stream.end(commitRecordText(layout === undefined ? record : { ...record, layout }));
        await sink.commit();
      } catch (error) {
        await sink.abort();
        throw error;
      }
    });
}

const describeTarget = (target: SinkTarget): string =>
  target.kind === 'file' ? target.path : target.kind === 's3' ? `s3://${target.bucket}/${target.key}` : '-';

type Stage =
  | NodeJS.ReadableStream
  | NodeJS.WritableStream
  | ((source: AsyncIterable<Buffer>) => AsyncIterable<Buffer>)
  | ((options: { signal: AbortSignal }) => AsyncIterable<Buffer>)
  | ((source: AsyncIterable<Buffer>, options: { signal: AbortSignal }) => Promise<void>);

function runPipeline(stages: Stage[], signal: AbortSignal | undefined): Promise<void> {
  // pipeline()'s overloads cannot type a mixed array of streams and generator stages.
  const run = pipeline as unknown as (streams: Stage[], options: { signal?: AbortSignal }) => Promise<void>;
  return run(stages, signal ? { signal } : {});
}

/** The source stage: counts bytes in; its errors (and only its) are read failures. */
function readFrom(stream: Readable, source: string, onBytes: (n: number) => void) {
  // Called as soon as the source is open: an error before the pipeline takes the stream (a failed open
  // while the output opens) waits for the loop below instead of being an unhandled 'error' that takes the
  // worker thread down.
  stream.on('error', () => {});
  return async function* read({ signal }: { signal: AbortSignal }) {
    // The pipeline stops a generator stage through its signal (another stage failed, or Ctrl-C).
    const stop = () => stream.destroy();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const chunk of stream) {
        onBytes(chunk.length);
        yield chunk as Buffer;
      }
    } catch (error) {
      throw placed('read', source, error);
    } finally {
      signal.removeEventListener('abort', stop);
    }
  };
}

/** The sink stage: counts bytes out; errors of the sink (and only its) are write failures. */
function writeTo(sink: ObjectSink, dest: string, onBytes: (n: number) => void) {
  return async (source: AsyncIterable<Buffer>, { signal }: { signal: AbortSignal }): Promise<void> => {
    let upstream: unknown;
    async function* counted() {
      try {
        for await (const chunk of source) {
          onBytes(chunk.length);
          yield chunk;
        }
      } catch (error) {
        upstream = error;
        throw error;
      }
    }
    try {
      await pipeline(counted, sink.stream, { signal });
    } catch (error) {
      throw error === upstream ? error : placed('write', dest, error);
    }
  };
}
