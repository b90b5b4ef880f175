import type { Reject } from '../core/errors.js';
import type { ObjectSink } from '../io/sink.js';
import type { RejectSink } from '../streams/convert-stream.js';
import { atStage, placed } from './failures.js';

/**
 * Keeps rejected records as JSON lines, raw and with the reason. The destination is opened on the
 * first reject only, so a clean object leaves no empty rejects file behind. With no destination
 * (stdout mode without --rejects), records are only counted.
 */
export class RejectsWriter implements RejectSink {
  private sink: ObjectSink | undefined;
  private opening: Promise<ObjectSink> | undefined;
  private queued: string[] = [];
  /** The first error of the rejects file: losing rejects fails the object, it is never silent. */
  private error: unknown;
  /** Bytes handed to the file. */
  bytes = 0;

  /** `target` names the rejects file in messages: its errors fail the object as a write. */
  constructor(
    private readonly source: string,
    private readonly open: (() => Promise<ObjectSink>) | undefined,
    private readonly target = '',
  ) {}

  get kept(): boolean {
    return this.opening !== undefined;
  }

  write(reject: Reject): boolean {
    if (!this.open) return true;
    const line = `${JSON.stringify({ source: this.source, offset: reject.offset, code: reject.code, reason: reject.reason, record: reject.record })}\n`;
    if (this.error) return false; // drained() reports it
    this.bytes += Buffer.byteLength(line);
    if (this.sink) return this.sink.stream.write(line);
    this.queued.push(line);
    this.opening ??= atStage('write', this.target, this.open).then((sink) => {
      this.sink = sink;
      sink.stream.on('error', (error: Error) => {
        this.error ??= placed('write', this.target, error);
      });
      for (const queued of this.queued) sink.stream.write(queued);
      this.queued = [];
      return sink;
    });
    return false; // wait for the file to open
  }

  async drained(): Promise<void> {
    const sink = await this.opening;
    if (this.error) throw this.error;
    if (!sink?.stream.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        sink.stream.off('drain', onDrain);
        reject(placed('write', this.target, error));
      };
      const onDrain = () => {
        sink.stream.off('error', onError);
        resolve();
      };
      sink.stream.once('error', onError).once('drain', onDrain);
    });
  }

  async commit(): Promise<void> {
    const sink = await this.opening;
    if (!sink) return;
    if (this.error) throw this.error;
    sink.stream.end();
    await atStage('write', this.target, () => sink.commit());
    if (this.error) throw this.error;
  }

  async abort(): Promise<void> {
    const sink = await this.opening?.catch(() => undefined);
    await sink?.abort();
  }
}
