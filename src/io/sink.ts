import type { Writable } from 'node:stream';

/**
 * A destination that appears whole or not at all: bytes go to `stream`, and only commit() makes
 * them visible under the final name. abort() removes every trace.
 */
export interface ObjectSink {
  readonly stream: Writable;
  /** Resolves once the stream has finished and the output is in place. */
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** The destination's own error, when it failed on its own (an upload that S3 refused). */
  failure?(): unknown;
}

/** One file or object a sink writes, as plain data. */
export type SinkTarget =
  /** `mtimeMs`: given to the file on commit (a source's time, so the output shows what it was made from). */
  | { kind: 'file'; path: string; mtimeMs?: number }
  | { kind: 's3'; bucket: string; key: string; contentType: string; metadata: Record<string, string> }
  | { kind: 'stdout' };

/** What is stored at a target now. */
export interface StoredObject {
  bytes: number;
  /** Files only. */
  mtimeMs?: number;
  /** S3 user metadata (names lowercase, values as stored). */
  metadata?: Record<string, string>;
}
