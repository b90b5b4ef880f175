import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { escapeControl } from '../core/safe-text.js';
import { type Counts, noCounts, type TaskError, type TaskResult } from '../object/task.js';
import { flagFor } from './options.js';

export interface RunSummary extends Counts {
  ok: number;
  failed: number;
  skipped: number;
  seconds: number;
  /** Set when the manifest could not be written whole: the run then counts as failed (exit 2). */
  manifestError?: string;
}

/**
 * Collects one result per finished object: counts it, says what failed as it happens, appends it to
 * the manifest, and prints the one-line summary at the end. Every line that quotes input (a source,
 * a record in an error message) goes through escapeControl; the manifest is JSON, escaped already.
 */
export class Reporter {
  readonly summary: RunSummary = { ok: 0, failed: 0, skipped: 0, seconds: 0, ...noCounts() };
  private readonly started = performance.now();
  private readonly manifest: WriteStream | undefined;
  private manifestError: Error | undefined;

  constructor(
    private readonly stderr: NodeJS.WritableStream,
    manifestPath: string | undefined,
    private readonly quiet: boolean,
  ) {
    if (manifestPath) {
      this.manifest = createWriteStream(manifestPath, { flags: 'a' });
      this.manifest.on('error', (error) => {
        this.manifestError = error;
      });
    }
  }

  add(result: TaskResult): void {
    if (result.status === 'not-started') return; // the run stopped first; a rerun takes it
    const s = this.summary;
    s[result.status === 'ok' ? 'ok' : result.status === 'failed' ? 'failed' : 'skipped']++;
    s.rows += result.rows;
    s.rejected += result.rejected;
    s.control += result.control;
    s.bytesIn += result.bytesIn;
    s.bytesDecoded += result.bytesDecoded;
    s.bytesOut += result.bytesOut;
    if (result.status === 'failed') {
      this.say(
        `failed: ${result.source}: ${result.error?.code}: ${result.error?.message}${hintOf(result.error)}`,
      );
    } else if (result.rejected > 0 && !this.quiet) {
      const kept = result.rejectsDest
        ? `kept in ${result.rejectsDest}`
        : 'not kept (pass --rejects FILE to keep them)';
      this.say(`${result.source}: ${result.rejected} records rejected, ${kept}`);
    }
    this.manifest?.write(`${JSON.stringify(manifestLine(result))}\n`);
  }

  /** `fatal`: why the run stopped before going through its inputs, said before the summary. */
  async finish(fatal?: string): Promise<RunSummary> {
    const s = this.summary;
    s.seconds = (performance.now() - this.started) / 1000;
    if (fatal) this.say(fatal);
    if (this.manifest) {
      this.manifest.end();
      if (!this.manifest.writableFinished && !this.manifestError)
        await once(this.manifest, 'close').catch(() => {});
      if (this.manifestError) {
        s.manifestError = this.manifestError.message;
        this.say(`cannot write the manifest: ${this.manifestError.message}`);
      }
    }
    this.stderr.write(`${formatSummary(s)}\n`);
    return s;
  }

  private say(line: string): void {
    this.stderr.write(`flowhose: ${escapeControl(line)}\n`);
  }
}

/** Core messages name the library option behind a failure; the CLI user needs its flag. */
function hintOf(error: TaskError | undefined): string {
  const flag = error?.option === undefined ? undefined : flagFor(error.option);
  return flag ? `; see ${flag}` : '';
}

function manifestLine(r: TaskResult) {
  return {
    source: r.source,
    dest: r.dest,
    status: r.status,
    rows: r.rows,
    rejected: r.rejected,
    control: r.control,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    ...(r.outputs ? { outputs: r.outputs } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
/**
 * `1,234,567`. Not toLocaleString: its first call loads ICU's locale data, about 100 ms of the main
 * thread in every run, a quarter of a one-object run's time.
 */
export function groupDigits(n: number): string {
  const digits = String(Math.trunc(Math.abs(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}
const int = groupDigits;

export function formatSummary(s: RunSummary): string {
  const objects = `${int(s.ok)} ok, ${int(s.failed)} failed${s.skipped ? `, ${int(s.skipped)} skipped` : ''}`;
  const rate = s.seconds > 0 ? s.bytesDecoded / 1e6 / s.seconds : 0;
  return (
    `flowhose: objects ${objects} · rows ${int(s.rows)} · rejected ${int(s.rejected)} · control messages ${int(s.control)}` +
    ` · in ${mb(s.bytesIn)} (${mb(s.bytesDecoded)} decompressed) · out ${mb(s.bytesOut)}` +
    ` · ${s.seconds.toFixed(2)} s · ${rate.toFixed(1)} MB/s decompressed` +
    (s.manifestError === undefined ? '' : ` · manifest FAILED: ${escapeControl(s.manifestError)}`)
  );
}
