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
