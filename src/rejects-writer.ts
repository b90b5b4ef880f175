import type { Reject } from './core/errors.js';
import type { ObjectSink } from './io/sink.js';
import type { RejectSink } from './streams/convert-stream.js';

/**
 * Keeps rejected records as JSON lines, raw and with the reason. The destination is opened on the
 * first reject only, so a clean object leaves no empty rejects file behind. With no destination
 * (stdout mode without --rejects), records are only counted.
 */
export class RejectsWriter implements RejectSink {
  private sink: ObjectSink | undefined;
  private opening: Promise<ObjectSink> | undefined;
  private queued: string[] = [];

  constructor(
    private readonly source: string,
    private readonly open: (() => Promise<ObjectSink>) | undefined,
  ) {}

  get kept(): boolean {
    return this.opening !== undefined;
  }

  write(reject: Reject): boolean {
    if (!this.open) return true;
    const line = `${JSON.stringify({ source: this.source, offset: reject.offset, code: reject.code, reason: reject.reason, record: reject.record })}\n`;
    if (this.sink) return this.sink.stream.write(line);
    this.queued.push(line);
    this.opening ??= this.open().then((sink) => {
      this.sink = sink;
      for (const queued of this.queued) sink.stream.write(queued);
      this.queued = [];
      return sink;
    });
    return false; // wait for the file to open
  }

  async drained(): Promise<void> {
    const sink = await this.opening;
    if (!sink?.stream.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      sink.stream.once('error', onError);
      sink.stream.once('drain', () => {
        sink.stream.off('error', onError);
        resolve();
      });
    });
  }

  async commit(): Promise<void> {
    const sink = await this.opening;
    if (!sink) return;
    sink.stream.end();
    await sink.commit();
  }

  async abort(): Promise<void> {
    const sink = await this.opening?.catch(() => undefined);
    await sink?.abort();
  }
}
