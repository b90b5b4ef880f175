import { Writable } from 'node:stream';
import type { ObjectSink } from './sink.js';

/**
 * Standard output cannot be taken back, so commit and abort have nothing to do; a failure is
 * still reported and sets the exit code. The wrapper keeps the pipeline from ending process.stdout
 * and waits for each write to be flushed.
 */
export function openStdoutSink(stdout: NodeJS.WritableStream = process.stdout): ObjectSink {
  const stream = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      if (stdout.write(chunk)) {
        callback();
        return;
      }
      const onDrain = () => {
        stdout.off('error', onError);
        callback();
      };
      const onError = (error: Error) => {
        stdout.off('drain', onDrain);
        callback(error);
      };
      stdout.once('drain', onDrain);
      stdout.once('error', onError);
    },
  });
  return {
    stream,
    async commit() {},
    async abort() {
      stream.destroy();
    },
  };
}
