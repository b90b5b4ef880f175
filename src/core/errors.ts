/**
 * Error codes. Object-level codes fail one object; record-level codes reject one record and the
 * object goes on. Codes are plain strings so they survive the worker-thread boundary, where Error
 * subclasses lose their fields. `ObjectErrorCode` is the one union every object-level failure
 * uses, from the core up to a task's result.
 */
export const OBJECT_ERROR_CODES = [
  'BAD_GZIP', // a gzip layer is corrupt (bad header, bad checksum, trailing garbage)
  'TRUNCATED', // the input ended inside a gzip member (or its header), a JSON payload or a string
  'BAD_JSON', // the bytes are not well-formed JSON where a payload was expected, or nest too deep
  'NOT_FLOW_LOG', // well-formed, but not a flow-log shape (binary data, other JSON, an unusable header)
  'RECORD_TOO_LARGE', // one payload or line exceeds maxRecordBytes
  'FORMAT_MISMATCH', // every record was rejected: almost always the wrong log format
  'READ_FAILED',
  'WRITE_FAILED',
  'DEST_COLLISION',
  'WORKER_CRASHED',
  'INTERRUPTED',
  'S3_ERROR',
  'SOURCE_CHANGED', // the object's ETag changed between listing and reading
  'UNSAFE_PATH',
  'TOO_MANY_PARTITIONS', // the rows of one object fall in more partitions than maxPartitions
  'INTERNAL',
] as const;
export type ObjectErrorCode = (typeof OBJECT_ERROR_CODES)[number];

/** For codes that crossed a thread or a file (a manifest line): is this one of ours? */
export const isObjectErrorCode = (code: unknown): code is ObjectErrorCode =>
  (OBJECT_ERROR_CODES as readonly unknown[]).includes(code);

export type RejectCode = 'FIELD_COUNT' | 'BAD_INTEGER' | 'BAD_TIMESTAMP' | 'NO_MESSAGE';

/**
 * A library option whose value governs a failure: raising maxRecordBytes may let a
 * RECORD_TOO_LARGE payload through, another logFormat may fit a FORMAT_MISMATCH object. The core
 * names the limit, never a command-line flag; a front end maps the option to its own spelling.
 */
export type GoverningOption = 'maxRecordBytes' | 'logFormat' | 'maxPartitions';

export class FlowhoseError extends Error {
  readonly code: ObjectErrorCode;
  /** Byte offset in the decompressed stream where the problem was seen, when known. */
  readonly offset: number | undefined;
  /** The option that governs this failure, when changing it could help. */
  readonly option: GoverningOption | undefined;

  constructor(code: ObjectErrorCode, message: string, offset?: number, option?: GoverningOption) {
    super(offset === undefined ? message : `${message} (at decompressed byte ${offset})`);
    this.name = 'FlowhoseError';
    this.code = code;
    this.offset = offset;
    this.option = option;
  }
}

export interface Reject {
  code: RejectCode;
  reason: string;
  /** The record as received: the decoded message, or the raw text line. */
  record: string;
  /** Byte offset of the payload or line in the decompressed stream. */
  offset: number;
}

/** A log format (given as a spec) that cannot be used; the message names the offending part. */
export class LogFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogFormatError';
  }
}
