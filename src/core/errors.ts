/**
 * Error codes. Object-level codes fail one object; record-level codes reject one record and the
 * object goes on. Codes are plain strings so they survive the worker-thread boundary, where Error
 * subclasses lose their fields.
 */
export type ObjectErrorCode =
  | 'BAD_GZIP' // a gzip layer is corrupt (bad header, bad checksum, trailing garbage)
  | 'TRUNCATED' // the input ended inside a gzip member, a JSON payload or a string
  | 'BAD_JSON' // the bytes are not well-formed JSON where a payload was expected
  | 'NOT_FLOW_LOG' // well-formed, but not a flow-log shape (binary data, other JSON)
  | 'RECORD_TOO_LARGE' // one payload or line exceeds maxRecordBytes
  | 'FORMAT_MISMATCH' // every record was rejected: almost always the wrong --log-format
  | 'READ_FAILED'
  | 'WRITE_FAILED'
  | 'DEST_COLLISION'
  | 'WORKER_CRASHED'
  | 'INTERRUPTED'
  | 'S3_ERROR'
  | 'SOURCE_CHANGED' // the object's ETag changed between listing and reading
  | 'UNSAFE_PATH'
  | 'INTERNAL';

export type RejectCode = 'FIELD_COUNT' | 'BAD_INTEGER' | 'BAD_TIMESTAMP' | 'NO_MESSAGE';

export class FlowhoseError extends Error {
  readonly code: ObjectErrorCode;
  /** Byte offset in the decompressed stream where the problem was seen, when known. */
  readonly offset: number | undefined;

  constructor(code: ObjectErrorCode, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at decompressed byte ${offset})`);
    this.name = 'FlowhoseError';
    this.code = code;
    this.offset = offset;
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

/** Usage and configuration errors: reported before any work starts, exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
