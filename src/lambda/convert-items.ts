/**
 * The objects of one invocation, converted one after another in-process with convertObject, under a time
 * guard: an object is started only when the time left covers what it is expected to take plus a reserve
 * for answering, and one that runs past the deadline is stopped (its outputs aborted, nothing visible).
 * Those come back as retryable failures, so whatever redelivers the event (SQS, Step Functions' Retry,
 * S3 Batch Operations) tries them again; what was done is skipped then by the recorded source ETag.
 *
 * One JSON line per object goes to the log, the shape CloudWatch Logs Insights discovers fields in.
 */

import { parseS3Url } from '../io/s3-url.js';
import { convertObject } from '../object/convert-object.js';
import { isLayoutName } from '../object/layout.js';
import type { TaskError, TaskResult } from '../object/task.js';
import { layoutOf } from '../run/plan.js';
import { select } from '../run/select.js';
import type { EventObject } from './events.js';
import type { HandlerSettings } from './settings.js';

/** What Lambda's context offers that the guard needs. */
export interface TimeLeft {
  getRemainingTimeInMillis(): number;
}

export type ItemStatus = 'ok' | 'skipped' | 'ignored' | 'failed' | 'not-started';

export interface ItemResult {
  /** `s3://bucket/key` of the source. */
  source: string;
  status: ItemStatus;
  /** Why an object was ignored (a delete event, one of our own outputs, filtered). */
  reason?: string;
  dest?: string;
  rows: number;
  rejected: number;
  bytesIn: number;
  bytesOut: number;
  ms: number;
  error?: { code: string; message: string; retryable: boolean };
}

export interface GuardSettings {
  /** Kept free at the end for answering and flushing logs. */
  reserveMs: number;
  /** Assumed until one object was measured: bytes of source (as stored) per millisecond. */
  assumedBytesPerMs: number;
  /** The least any object is expected to take. */
  minimumMs: number;
}

export const DEFAULT_GUARD: GuardSettings = { reserveMs: 3000, assumedBytesPerMs: 4000, minimumMs: 500 };

export type Log = (line: string) => void;

/** Failures a redelivery may cure: transient S3 or network trouble, or the time running out. */
export const isRetryable = (result: ItemResult): boolean =>
  result.status === 'not-started' || (result.status === 'failed' && result.error?.retryable === true);

export const isFailure = (result: ItemResult): boolean =>
  result.status === 'failed' || result.status === 'not-started';

const describe = (object: EventObject) => `s3://${object.bucket}/${object.key}`;

const blank = (object: EventObject, status: ItemStatus, extra: Partial<ItemResult> = {}): ItemResult => ({
  source: describe(object),
  status,
  rows: 0,
  rejected: 0,
  bytesIn: 0,
  bytesOut: 0,
  ms: 0,
  ...extra,
});

/** Why an object of an event is not one to convert, or undefined when it is. */
function reasonToIgnore(object: EventObject, settings: HandlerSettings): string | undefined {
  if (object.ignore) return object.ignore;
  if (object.key === '' || object.key.endsWith('/')) return 'a folder placeholder';
  const to = parseS3Url(settings.config.to);
  if (to && to.bucket === object.bucket) {
    // Writing into the bucket that notifies us: never read our own outputs back (no loop).
    const toPrefix = to.prefix === '' ? '' : to.prefix.replace(/\/?$/, '/');
    if (toPrefix !== '' && object.key.startsWith(toPrefix)) return 'below the destination prefix';
    if (isLayoutName(object.key)) return 'an output of flowhose';
  }
  if (!object.key.startsWith(settings.prefix)) return `outside the source prefix ${settings.prefix}`;
  const verdict = select(object.key.slice(settings.prefix.length), settings.config.selection);
  if (verdict === 'error-prefix') return 'under a Firehose error prefix';
  if (verdict !== 'take') return 'left out by --include/--exclude';
  return undefined;
}

function fromTask(result: TaskResult, ms: number): ItemResult {
  const error: TaskError | undefined = result.error;
  return {
    source: result.source,
    status: result.status === 'not-started' ? 'not-started' : result.status,
    dest: result.dest || undefined,
    rows: result.rows,
    rejected: result.rejected,
    bytesIn: result.bytesIn,
    bytesOut: result.bytesOut,
    ms,
    ...(error
      ? { error: { code: error.code, message: error.message, retryable: error.retryable === true } }
      : {}),
  };
}

function logLine(result: ItemResult): string {
  const level = result.status === 'failed' ? 'ERROR' : result.status === 'not-started' ? 'WARN' : 'INFO';
  return JSON.stringify({ level, message: `flowhose ${result.status}`, ...result });
}

export async function convertItems(
  objects: EventObject[],
  settings: HandlerSettings,
  time: TimeLeft,
  log: Log,
  guard: GuardSettings = DEFAULT_GUARD,
): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  let bytesPerMs: number | undefined; // the slowest rate seen so far
  let longestMs = 0;
  for (const object of objects) {
    const ignore = reasonToIgnore(object, settings);
    if (ignore !== undefined) {
      results.push(blank(object, 'ignored', { reason: ignore }));
      log(logLine(results.at(-1)!));
      continue;
    }
    const left = time.getRemainingTimeInMillis();
    // By size at the slowest rate seen; without a size (Batch Operations, some events) the longest object so far.
    const expected = Math.max(
      guard.minimumMs,
      object.size !== undefined ? object.size / (bytesPerMs ?? guard.assumedBytesPerMs) : longestMs,
    );
    if (left < guard.reserveMs + expected) {
      results.push(
        blank(object, 'not-started', {
          error: {
            code: 'INTERRUPTED',
            message: `not started: ${left} ms left, about ${Math.ceil(expected)} ms needed plus ${guard.reserveMs} ms reserved`,
            retryable: true,
          },
        }),
      );
      log(logLine(results.at(-1)!));
      continue;
    }
    const started = Date.now();
    // Stop an object that overruns before Lambda stops us mid-upload; the output set then aborts cleanly.
    const deadline = AbortSignal.timeout(Math.max(1, left - guard.reserveMs / 2));
    const relative = object.key.slice(settings.prefix.length);
    const task = {
      source: {
        kind: 's3' as const,
        bucket: object.bucket,
        key: object.key,
        etag: object.etag,
        size: object.size,
        lastModified: object.lastModified,
      },
      layout: layoutOf(
        { source: { kind: 's3', bucket: object.bucket, key: object.key }, relative },
        settings.config,
      ),
      options: settings.options,
    };
    const result = fromTask(await convertObject(task, undefined, deadline), 0);
    result.ms = Date.now() - started;
    if (result.status === 'failed' && deadline.aborted) {
      result.error = {
        code: 'INTERRUPTED',
        message: 'stopped at the time limit; nothing was written',
        retryable: true,
      };
    }
    if (result.status === 'ok' && result.ms > 0) {
      longestMs = Math.max(longestMs, result.ms);
      if (result.bytesIn > 0)
        bytesPerMs = Math.min(bytesPerMs ?? Number.POSITIVE_INFINITY, result.bytesIn / result.ms);
    }
    results.push(result);
    log(logLine(result));
  }
  return results;
}
