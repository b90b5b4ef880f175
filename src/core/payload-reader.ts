import { FlowhoseError } from './errors.js';
import { describeByte, MAX_NESTING_DEPTH, tooDeepError } from './json-framer.js';

export const PayloadKind = {
  /** A CloudWatch Logs DATA_MESSAGE (or a payload with logEvents and no messageType). */
  Data: 0,
  Control: 1,
  /** A `{"message":"…"}` record: flow logs delivered straight to Firehose. */
  Message: 2,
} as const;
export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind];

const key = (s: string) => Buffer.from(s, 'latin1');
const K_MESSAGE_TYPE = key('messageType');
const K_LOG_EVENTS = key('logEvents');
const K_MESSAGE = key('message');
const K_TIMESTAMP = key('timestamp');
const K_OWNER = key('owner');
const V_DATA = key('DATA_MESSAGE');
const V_CONTROL = key('CONTROL_MESSAGE');

/**
 * Reads one complete JSON object (a CloudWatch Logs subscription payload or a message record)
 * straight from its bytes, keeping only what a row needs: each event's timestamp and the byte
 * range of its message. Keys may come in any order and unknown keys are skipped, so `policyLevel`,
 * `extractedFields` or whatever AWS adds next cost nothing. Events land in reusable typed arrays;
 * nothing is allocated per event.
 */
export class PayloadReader {
  kind: PayloadKind = PayloadKind.Data;
  eventCount = 0;
  /** Per event: epoch ms, NaN when missing or not an integer. */
  timestamps = new Float64Array(64);
  /** Per event: the message's bytes are b[messageStart, messageEnd); -1 when it has none. */
  messageStarts = new Int32Array(64);
  messageEnds = new Int32Array(64);
  /** Per event: 1 when the message holds JSON escapes and must be decoded before use. */
  messageEscaped = new Uint8Array(64);
  /** The payload's `owner` (the account of the log group) is b[ownerStart, ownerEnd); -1 when it has none. */
  ownerStart = -1;
  ownerEnd = -1;

  private b: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;
  private base = 0;
  private payloadOffset = 0;
  private stringEscaped = false;
  /**
   * Where the next backslash is in `backslashBuffer`. Escapes are rare, so one indexOf usually
   * answers for every string of a chunk; searching afresh per string would rescan to the end of
   * the buffer each time.
   */
  private nextBackslash = -1;
  private backslashBuffer: Buffer | undefined;

  /** Reads b[start, end); `offset` is where b[start] sits in the stream, for error messages. */
  read(b: Buffer, start: number, end: number, offset: number): FlowhoseError | undefined {
    this.b = b;
    this.pos = start;
    this.end = end;
    this.base = offset - start;
    this.payloadOffset = offset;
    this.eventCount = 0;
    this.ownerStart = -1;
    this.ownerEnd = -1;
    try {
      return this.readPayload();
    } catch (error) {
      if (error instanceof FlowhoseError) return error;
      throw error;
    }
  }

  private readPayload(): FlowhoseError | undefined {
    let messageType: 'data' | 'control' | 'other' | undefined;
    let hasEvents = false;
    let messageStart = -1;
    let messageEnd = -1;
    let messageEscaped = false;
    this.expect(0x7b);
    if (this.peek() !== 0x7d) {
      for (;;) {
        const keyStart = this.skipSpace() + 1; // white space may follow a comma
        const keyEnd = this.readString();
        this.expect(0x3a);
        if (this.keyIs(keyStart, keyEnd, K_LOG_EVENTS)) {
          this.readEvents();
          hasEvents = true;
        } else if (this.keyIs(keyStart, keyEnd, K_MESSAGE_TYPE) && this.peek() === 0x22) {
          const valueStart = this.pos + 1;
          const valueEnd = this.readString();
          messageType = this.keyIs(valueStart, valueEnd, V_DATA)
            ? 'data'
            : this.keyIs(valueStart, valueEnd, V_CONTROL)
              ? 'control'
              : 'other';
        } else if (this.keyIs(keyStart, keyEnd, K_OWNER) && this.peek() === 0x22) {
          const ownerStart = this.pos + 1;
          const ownerEnd = this.readString();
          // An escaped owner is no account id: left out rather than decoded.
          if (!this.stringEscaped) {
            this.ownerStart = ownerStart;
            this.ownerEnd = ownerEnd;
          }
        } else if (this.keyIs(keyStart, keyEnd, K_MESSAGE) && this.peek() === 0x22) {
          messageStart = this.pos + 1;
          messageEnd = this.readString();
          messageEscaped = this.stringEscaped;
        } else {
          this.skipValue(2);
        }
        if (this.next() === 0x2c) continue;
        this.pos--;
        this.expect(0x7d);
        break;
      }
    } else {
      this.pos++;
    }
    if (this.skipSpace() < this.end)
      this.fail(`unexpected ${describeByte(this.b[this.pos]!)} after the payload`);
    if (messageType === 'other') {
      return new FlowhoseError(
        'NOT_FLOW_LOG',
        'a payload has a messageType other than DATA_MESSAGE or CONTROL_MESSAGE',
        this.payloadOffset,
      );
    }
    if (messageType === 'control') {
      this.kind = PayloadKind.Control;
    } else if (hasEvents) {
      this.kind = PayloadKind.Data;
    } else if (messageStart >= 0) {
      this.kind = PayloadKind.Message;
      this.eventCount = 0;
      this.addEvent(Number.NaN, messageStart, messageEnd, messageEscaped);
    } else {
      return new FlowhoseError(
        'NOT_FLOW_LOG',
        'a JSON object is neither a CloudWatch Logs payload (no "logEvents") nor a flow-log record (no "message")',
        this.base + this.pos,
      );
    }
    return undefined;
  }

  private readEvents(): void {
    this.expect(0x5b);
    if (this.peek() === 0x5d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.readEvent();
      if (this.next() === 0x2c) continue;
      this.pos--;
      this.expect(0x5d);
      return;
    }
  }

  private readEvent(): void {
    let timestamp = Number.NaN;
    let messageStart = -1;
    let messageEnd = -1;
    let escaped = false;
    this.expect(0x7b);
    if (this.peek() === 0x7d) {
      this.pos++;
    } else {
      for (;;) {
        const keyStart = this.skipSpace() + 1; // white space may follow a comma
        const keyEnd = this.readString();
        this.expect(0x3a);
        if (this.keyIs(keyStart, keyEnd, K_MESSAGE) && this.peek() === 0x22) {
          messageStart = this.pos + 1;
          messageEnd = this.readString();
          escaped = this.stringEscaped;
        } else if (this.keyIs(keyStart, keyEnd, K_TIMESTAMP)) {
          timestamp = this.readTimestamp();
        } else {
          this.skipValue(4);
        }
        if (this.next() === 0x2c) continue;
        this.pos--;
        this.expect(0x7d);
        break;
      }
    }
    this.addEvent(timestamp, messageStart, messageEnd, escaped);
  }

  private addEvent(timestamp: number, start: number, end: number, escaped: boolean): void {
    const i = this.eventCount++;
    if (i === this.timestamps.length) this.grow();
    this.timestamps[i] = timestamp;
    this.messageStarts[i] = start;
    this.messageEnds[i] = end;
    this.messageEscaped[i] = escaped ? 1 : 0;
  }

  private grow(): void {
    const size = this.timestamps.length * 2;
    const t = new Float64Array(size);
    t.set(this.timestamps);
    this.timestamps = t;
    const s = new Int32Array(size);
    s.set(this.messageStarts);
    this.messageStarts = s;
    const e = new Int32Array(size);
    e.set(this.messageEnds);
    this.messageEnds = e;
    const x = new Uint8Array(size);
    x.set(this.messageEscaped);
    this.messageEscaped = x;
  }

  /** Epoch milliseconds as a JSON integer or a string of digits; NaN for anything else. */
  private readTimestamp(): number {
    const c = this.peek();
    if (c === 0x22) {
      const start = this.pos + 1;
      const end = this.readString();
      return digitsValue(this.b, start, end);
    }
    // The common case, a plain integer, is read in one pass; anything else goes through skipValue.
    const b = this.b;
    const start = this.pos;
    let value = 0;
    let i = start;
    for (; i < this.end; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
    }
    const next = i < this.end ? b[i]! : 0;
    if (
      i > start &&
      i - start <= 16 &&
      next !== 0x2e &&
      next !== 0x65 &&
      next !== 0x45 &&
      (b[start] !== 0x30 || i - start === 1)
    ) {
      this.pos = i;
      return value;
    }
    this.skipValue(4);
    return digitsValue(b, start, this.pos);
  }

  /** At an opening quote: returns the index of the closing quote and leaves pos after it. */
  private readString(): number {
    if (this.skipSpace() >= this.end || this.b[this.pos] !== 0x22) this.fail('expected a string');
    const b = this.b;
    let i = this.pos + 1;
    let escaped = false;
    for (;;) {
      const quote = b.indexOf(0x22, i);
      if (quote < 0 || quote >= this.end) this.fail('unterminated string');
      if (this.backslashBuffer !== b || this.nextBackslash < i) {
        const found = b.indexOf(0x5c, i);
        this.nextBackslash = found < 0 ? b.length : found;
        this.backslashBuffer = b;
      }
      const backslash = this.nextBackslash;
      if (backslash > quote) {
        this.pos = quote + 1;
        this.stringEscaped = escaped;
        return quote;
      }
      escaped = true;
      i = backslash + 2; // skip the escaped character, whatever it is
    }
  }

  /**
   * `depth`: the nesting level a bracket here opens (the payload's own `{` is 1). The framers stop
   * deeper payloads before they get here; the bound keeps the recursion safe for direct callers.
   */
  private skipValue(depth: number): void {
    const c = this.b[this.skipSpace()];
    if (c === 0x22) {
      this.readString();
    } else if (c === 0x7b || c === 0x5b) {
      if (depth > MAX_NESTING_DEPTH) throw tooDeepError(this.base + this.pos);
      const close = c === 0x7b ? 0x7d : 0x5d;
      this.pos++;
      if (this.peek() === close) {
        this.pos++;
        return;
      }
      for (;;) {
        if (close === 0x7d) {
          this.readString();
          this.expect(0x3a);
        }
        this.skipValue(depth + 1);
        if (this.next() === 0x2c) continue;
        this.pos--;
        this.expect(close);
        return;
      }
    } else {
      // number, true, false, null
      const start = this.pos;
      while (this.pos < this.end) {
        const d = this.b[this.pos]!;
        if (
          (d >= 0x30 && d <= 0x39) ||
          d === 0x2d ||
          d === 0x2b ||
          d === 0x2e ||
          (d >= 0x61 && d <= 0x7a) ||
          d === 0x45
        ) {
          this.pos++;
        } else {
          break;
        }
      }
      if (this.pos === start || !isLiteral(this.b, start, this.pos)) {
        this.pos = start;
        this.fail(
          start < this.end ? `unexpected ${describeByte(this.b[start]!)}` : 'unexpected end of payload',
        );
      }
    }
  }

  private keyIs(start: number, end: number, expected: Buffer): boolean {
    if (end - start !== expected.length) return false;
    for (let i = 0; i < expected.length; i++) if (this.b[start + i] !== expected[i]) return false;
    return true;
  }

  private skipSpace(): number {
    const b = this.b;
    while (this.pos < this.end) {
      const c = b[this.pos]!;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
    return this.pos;
  }

  private peek(): number {
    return this.skipSpace() < this.end ? this.b[this.pos]! : -1;
  }

  private next(): number {
    return this.skipSpace() < this.end ? this.b[this.pos++]! : -1;
  }

  private expect(c: number): void {
    if (this.skipSpace() >= this.end)
      this.fail(`expected "${String.fromCharCode(c)}", found the end of the payload`);
    if (this.b[this.pos] !== c) {
      this.fail(`expected "${String.fromCharCode(c)}", found ${describeByte(this.b[this.pos]!)}`);
    }
    this.pos++;
  }

  private fail(message: string): never {
    throw new FlowhoseError('BAD_JSON', message, this.base + this.pos);
  }
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

function isLiteral(b: Buffer, start: number, end: number): boolean {
  let plain = true; // an unsigned integer without leading zeros: no string needed to check it
  for (let i = start; i < end && plain; i++) plain = b[i]! >= 0x30 && b[i]! <= 0x39;
  if (plain) return b[start] !== 0x30 || end - start === 1;
  const text = b.toString('latin1', start, end);
  return text === 'true' || text === 'false' || text === 'null' || NUMBER.test(text);
}

function digitsValue(b: Buffer, start: number, end: number): number {
  if (start === end || end - start > 16) return Number.NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
}
