import { Writable } from 'node:stream';

/**
 * A Writable that passes each chunk on to `target`, waiting for 'drain' when it is full and
 * failing when the target errors or closes first. Finishing it does not end the target: the
 * sink decides when that happens (never for stdout, on commit for an upload).
 */
export function forwardTo(target: NodeJS.WritableStream, closedMessage: string): Writable {
  return new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      if (target.write(chunk)) {
        callback();
        return;
      }
      const settle = (error?: Error | null) => {
        target.off('drain', settle).off('error', settle).off('close', onClose);
        callback(error);
      };
      const onClose = () => settle(new Error(closedMessage));
      target.once('drain', settle).once('error', settle).once('close', onClose);
    },
  });
}
