import { forwardTo } from './forward.js';
import type { ObjectSink } from './sink.js';

/**
 * Standard output cannot be taken back, so commit and abort have nothing to do; a failure is
 * still reported and sets the exit code. The wrapper keeps the pipeline from ending process.stdout
 * and waits for each write to be flushed.
 */
export function openStdoutSink(stdout: NodeJS.WritableStream = process.stdout): ObjectSink {
  const stream = forwardTo(stdout, 'standard output was closed');
  return {
    stream,
    async commit() {},
    async abort() {
      stream.destroy();
    },
  };
}
