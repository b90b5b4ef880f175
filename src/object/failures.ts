/**
 * What went wrong with an object, as a code and a message that names the cause. Read and write failures
 * are told apart by where they happened (the source stage or a sink stage wraps its own errors), never by
 * message text or file names.
 */
import { FlowhoseError, type ObjectErrorCode } from '../core/errors.js';
import type { TaskError } from './task.js';

export type Stage = 'read' | 'write';

/** An error caught at the source (`read`) or at a destination member (`write`), with what it was reading or writing. */
export class StageFailure extends Error {
  constructor(
    readonly stage: Stage,
    /** A path, `s3://bucket/key` or `-`. */
    readonly target: string,
    override readonly cause: unknown,
  ) {
    super(`cannot ${stage} ${target}: ${describe(cause)}`);
    this.name = 'StageFailure';
  }
}

/** Wraps what `fn` throws (or rejects with) as a failure of that stage; errors already placed pass through. */
export async function atStage<T>(stage: Stage, target: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw placed(stage, target, error);
  }
}

export const placed = (stage: Stage, target: string, error: unknown): unknown =>
  error instanceof StageFailure || error instanceof FlowhoseError
    ? error
    : new StageFailure(stage, target, error);

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

type SdkError = NodeJS.ErrnoException & {
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  BucketName?: string;
};

/** Network hiccups, throttling and 5xx: worth another attempt. */
export function isTransient(error: unknown): boolean {
  const e = error as SdkError;
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

const INTERRUPTED: TaskError = {
  code: 'INTERRUPTED',
  message: 'stopped before it finished; nothing was written',
};

/** The option that governs the failure travels with it, so the CLI can name its flag. */
const fromFlowhoseError = (error: FlowhoseError): TaskError =>
  error.option
    ? { code: error.code, message: error.message, option: error.option }
    : { code: error.code, message: error.message };

/** Turns whatever was thrown into a code and a message that names the cause. */
export function classify(error: unknown, signal?: AbortSignal): TaskError {
  if (error instanceof FlowhoseError) return fromFlowhoseError(error);
  if (signal?.aborted) return INTERRUPTED;
  if (error instanceof StageFailure) return classifyStage(error);
  const e = error as SdkError;
  if (e?.name === 'AbortError') return INTERRUPTED;
  if (e?.code === 'Z_BUF_ERROR')
    return {
      code: 'TRUNCATED',
      message: 'gzip data ends early: the object is truncated (or ends in a stray byte)',
    };
  if (e?.code === 'Z_DATA_ERROR') return { code: 'BAD_GZIP', message: `corrupt gzip data: ${e.message}` };
  if (e?.$metadata) return { code: 'S3_ERROR', message: describe(error), retryable: isTransient(error) };
  return { code: 'INTERNAL', message: describe(error), retryable: isTransient(error) };
}

/**
 * A read fails as READ_FAILED (SOURCE_CHANGED when S3 says the listed version is gone), a write as
 * WRITE_FAILED, or S3_ERROR when S3 refused it; the message names the file or object either way.
 */
function classifyStage(failure: StageFailure): TaskError {
  const cause = failure.cause as SdkError;
  if (cause instanceof FlowhoseError) return fromFlowhoseError(cause);
  if (cause?.name === 'AbortError') return INTERRUPTED;
  const status = cause?.$metadata?.httpStatusCode;
  let code: ObjectErrorCode = failure.stage === 'read' ? 'READ_FAILED' : 'WRITE_FAILED';
  let hint = '';
  if (status === 412 && failure.stage === 'read') {
    code = 'SOURCE_CHANGED';
    hint = ' (the object changed since it was listed; run again to convert the new version)';
  } else if (cause?.$metadata && failure.stage === 'write') {
    code = 'S3_ERROR';
  }
  return {
    code,
    message: `${failure.message}${status ? ` (HTTP ${status})` : ''}${hint}`,
    retryable: isTransient(cause),
  };
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as SdkError;
  const code = e.code;
  const name = error.name !== 'Error' ? `${error.name}: ` : '';
  // S3 names the missing bucket in its answer, not in the message.
  const bucket = e.name === 'NoSuchBucket' && e.BucketName ? ` (bucket ${e.BucketName})` : '';
  return `${name}${error.message}${bucket}${code && !error.message.includes(code) ? ` (${code})` : ''}`;
}
