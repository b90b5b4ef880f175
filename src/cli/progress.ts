import cliProgress from 'cli-progress';
import { groupDigits, type RunSummary } from './report.js';

export interface ProgressView {
  listed(): void;
  listingDone(): void;
  update(summary: RunSummary): void;
  stop(): void;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/**
 * A bar on a terminal, a plain line every few seconds otherwise, nothing with --quiet. It is fed
 * one update per finished object, never per record, and redraws are throttled.
 */
export function createProgress(
  stderr: NodeJS.WriteStream | NodeJS.WritableStream,
  quiet: boolean,
  intervalMs = 5000,
): ProgressView {
  let total = 0;
  let listing = true;
  let last: RunSummary | undefined;
  const started = performance.now();
  const rate = (s: RunSummary) => s.bytesIn / 1e6 / Math.max(0.001, (performance.now() - started) / 1000);
  if (quiet) return { listed() {}, listingDone() {}, update() {}, stop() {} };

  if ((stderr as NodeJS.WriteStream).isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: stderr as NodeJS.WriteStream,
        format:
          ' {bar} {value}/{total}{more} objects | {mbIn} MB in | {rows} rows | {rate} MB/s | ETA {eta_formatted} | {failed} failed',
        hideCursor: true,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(0, 0, { more: '+', mbIn: '0.0', rows: 0, rate: '0.0', failed: 0 });
    return {
      listed() {
        bar.setTotal(++total);
      },
      listingDone() {
        listing = false;
        bar.update({ more: '' });
      },
      update(s) {
        bar.update(s.ok + s.failed + s.skipped, {
          mbIn: mb(s.bytesIn),
          rows: groupDigits(s.rows),
          rate: rate(s).toFixed(1),
          failed: s.failed,
        });
      },
      stop() {
        bar.stop();
      },
    };
  }

  const timer = setInterval(() => {
    if (!last) return;
    const s = last;
    const done = s.ok + s.failed + s.skipped;
    stderr.write(
      `flowhose: progress: ${done}/${total}${listing ? '+ (listing)' : ''} objects · ${mb(s.bytesIn)} MB in · ${groupDigits(s.rows)} rows · ${rate(s).toFixed(1)} MB/s · ${s.failed} failed\n`,
    );
  }, intervalMs);
  timer.unref();
  return {
    listed() {
      total++;
    },
    listingDone() {
      listing = false;
    },
    update(s) {
      last = s;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
