import { Readable } from 'node:stream';

/**
 * Passes `source` through unchanged, but fails with `stalled()` when the reader has asked for data
 * and none has come for `timeoutMs`. Only waiting for the source counts: while the reader is not
 * asking (backpressure from a slow upload, say) no clock runs. A socket timeout cannot tell the
 * two apart, as a paused response also leaves its socket idle, so it would fail slow consumers.
 *
 * Destroying the guard destroys the source (an HTTP body releases its socket).
 */
export function guardStalls(source: Readable, timeoutMs: number, stalled: () => Error): Readable {
  let timer: NodeJS.Timeout | undefined;
  let wanted = false;
  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const guard = new Readable({
    highWaterMark: source.readableHighWaterMark,
    read() {
      wanted = true;
      pump();
    },
    destroy(error, callback) {
      disarm();
      source.off('readable', pump);
      source.destroy();
      callback(error);
    },
  });
  const pump = () => {
    while (wanted && !guard.destroyed) {
      const chunk: Buffer | null = source.read();
      if (chunk === null) {
        // Nothing buffered: from now on the reader is waiting for the network.
        timer ??= setTimeout(() => guard.destroy(stalled()), timeoutMs);
        return;
      }
      disarm();
      wanted = guard.push(chunk);
    }
  };
  source.on('readable', pump);
  source.on('end', () => {
    disarm();
    guard.push(null);
  });
  source.on('error', (error) => guard.destroy(error));
  source.on('close', () => {
    if (!source.readableEnded && !guard.destroyed)
      guard.destroy(new Error('the source closed before its end'));
  });
  return guard;
}
