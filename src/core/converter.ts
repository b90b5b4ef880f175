import type { PayloadToCsvModule } from '../wasm/interface.js';
import { BomStripper } from './bom.js';
import { createCsvEncoder } from './csv-encoder.js';
import { FlowhoseError, type Reject } from './errors.js';
import { describeByte, JsonFramer } from './json-framer.js';
import { LineSplitter } from './line-splitter.js';
import {
  DEFAULT_FORMAT,
  EVENT_TIME_COLUMN,
  eventTimeHeaderError,
  type FlowFormat,
  headerFormat,
} from './log-format.js';
import { PayloadKind, PayloadReader } from './payload-reader.js';
import { type RecordProblem, RecordView } from './record-view.js';
import { type CreateRowEncoder, type CsvRowsEncoder, type RowEncoder, takesCsvRows } from './row-encoder.js';
import { HANDOVER, WasmFramer } from './wasm-framer.js';

export interface ConverterOptions {
  /** The flow log's format; a header line in a text input overrides it for that input. */
  format?: FlowFormat;
  /** Largest JSON payload or text line accepted (bytes). */
  maxRecordBytes?: number;
  /** Size of the output slices handed to onData. */
  outputChunkBytes?: number;
  /** What writes the accepted records: CSV (createCsvEncoder) unless given. */
  createEncoder?: CreateRowEncoder;
  /**
   * How a framed JSON payload is read: `wasm` converts well-formed payloads in WebAssembly and
   * hands every other one to `scanner`; `scanner` reads the needed fields straight from the
   * bytes in TypeScript; `json` runs JSON.parse on the whole payload. Same output (tested); the
   * benchmark says which is faster on a host. `wasm` needs `wasmModule` and the CSV encoder (the
   * module writes CSV itself); with another encoder it reads as `scanner`. The default is `wasm`
   * when a module is given, else `scanner`.
   */
  payloadParser?: PayloadParser;
  /**
   * The compiled WebAssembly fast path, from loadPayloadToCsv() (src/wasm/load.ts): the core
   * does no I/O, so it is handed in. Undefined where the runtime cannot compile it.
   */
  wasmModule?: PayloadToCsvModule;
  /** WebAssembly memory the wasm parser may use; payloads that need more go through the scanner. */
  wasmMemoryLimit?: number;
  onData: (chunk: Buffer) => void;
  onReject?: (reject: Reject) => void;
}

export type PayloadParser = 'wasm' | 'scanner' | 'json';
export const PAYLOAD_PARSERS: readonly PayloadParser[] = ['wasm', 'scanner', 'json'];
export const DEFAULT_PAYLOAD_PARSER: PayloadParser = 'wasm';

export interface ConverterStats {
  /** Decompressed bytes read. */
  bytes: number;
  rows: number;
  rejected: number;
  control: number;
  payloads: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
export const DEFAULT_OUTPUT_CHUNK_BYTES = 64 * 1024;

type Mode = 'detect' | 'json' | 'text';

/**
 * The pure core: decompressed Firehose bytes in, rows out (CSV unless another RowEncoder is
 * given), no I/O. It tells the framing from the first bytes (JSON payloads glued or
 * newline-separated, `{"message":…}` lines, raw flow lines, or a text file with a header line),
 * never from a file name. Feed it chunks of any size, split anywhere; the output does not depend
 * on where the splits fall. A UTF-8 BOM at the start is dropped (offsets still count it).
 * convertBytes (convert-bytes.ts) is this in one call.
 *
 *   const converter = new FlowLogConverter({ wasmModule: loadPayloadToCsv(), onData: (csv) => … });
 *   const error = converter.write(chunk) ?? converter.end();
 */
export class FlowLogConverter {
  readonly stats: ConverterStats = { bytes: 0, rows: 0, rejected: 0, control: 0, payloads: 0 };
  private format: FlowFormat;
  private mode: Mode = 'detect';
  private headerWritten = false;
  private firstLine = true;
  private headerLine: Buffer | undefined;
  private firstReject: Reject | undefined;
  private readonly encoder: RowEncoder;
  private readonly view = new RecordView();
  private readonly framer: JsonFramer;
  private readonly splitter: LineSplitter;
  private readonly reader = new PayloadReader();
  private readonly bom = new BomStripper();
  /** With the wasm parser, JSON input goes through here instead of `framer`. */
  private wasmFramer: WasmFramer | undefined;
  private readonly createWasmFramer: (() => WasmFramer) | undefined;
  /** The encoder when it takes CSV rows (CSV's, or a router over CSV), which the WebAssembly fast path writes into. */
  private readonly csv: CsvRowsEncoder | undefined;
  private readonly onReject: ((reject: Reject) => void) | undefined;
  private readonly onPayload: (
    b: Buffer,
    start: number,
    end: number,
    offset: number,
  ) => FlowhoseError | undefined = this.readPayload.bind(this);
  private readonly onLine = this.readLine.bind(this);

  constructor(options: ConverterOptions) {
    this.format = options.format ?? DEFAULT_FORMAT;
    const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const createEncoder = options.createEncoder ?? createCsvEncoder;
    this.encoder = createEncoder(options.onData, options.outputChunkBytes ?? DEFAULT_OUTPUT_CHUNK_BYTES);
    this.framer = new JsonFramer(max);
    this.splitter = new LineSplitter(max);
    this.onReject = options.onReject;
    const module = options.wasmModule;
    const parser = options.payloadParser ?? (module ? DEFAULT_PAYLOAD_PARSER : 'scanner');
    if (parser === 'json') this.onPayload = this.readPayloadJson.bind(this);
    if (parser === 'wasm') {
      if (!module) {
        throw new TypeError(
          "payloadParser 'wasm' needs wasmModule (loadPayloadToCsv() of src/wasm/load.ts); without one, use 'scanner'",
        );
      }
      // The module writes CSV rows itself: with any other encoder its work would be wasted.
      const csv = takesCsvRows(this.encoder) ? this.encoder : undefined;
      if (csv) {
        this.csv = csv;
        this.createWasmFramer = () => new WasmFramer(module, this.format, max, options.wasmMemoryLimit);
      }
    }
  }

  /**
   * Takes the next chunk. As with a stream's write, the chunk now belongs to the converter: an
   * unfinished payload is kept as a slice of it, so do not refill it.
   */
  write(chunk: Buffer): FlowhoseError | undefined {
    if (this.bom.active) {
      const { rest, dropped } = this.bom.strip(chunk);
      this.stats.bytes += dropped;
      chunk = rest;
    }
    if (chunk.length === 0) return undefined;
    if (this.mode === 'detect') {
      const error = this.detect(chunk);
      if (error) return error;
      // Leading white space seen in earlier chunks still counts in the offsets of errors.
      const mode = this.mode as Mode;
      if (mode === 'json') {
        if (this.createWasmFramer && WasmFramer.supports(this.format)) {
          this.wasmFramer = this.createWasmFramer();
        }
        (this.wasmFramer ?? this.framer).startAt(this.stats.bytes);
      } else if (mode === 'text') this.splitter.startAt(this.stats.bytes);
    }
    this.stats.bytes += chunk.length;
    if (this.mode === 'json') return this.pushJson(chunk);
    if (this.mode === 'text') return this.splitter.push(chunk, this.onLine);
    return undefined; // only white space so far
  }

  private pushJson(chunk: Buffer): FlowhoseError | undefined {
    if (!this.wasmFramer) return this.framer.push(chunk, this.onPayload);
    const result = this.wasmFramer.push(chunk, this.onPayload, this.onCsv);
    if (result !== HANDOVER) return result;
    // A payload too big for the module's memory: JsonFramer goes on from where it stopped.
    const { offset, chunks } = this.wasmFramer.handOver();
    this.wasmFramer = undefined;
    this.framer.startAt(offset);
    for (const rest of chunks) {
      const error = this.framer.push(rest, this.onPayload);
      if (error) return error;
    }
    return undefined;
  }

  end(): FlowhoseError | undefined {
    const held = this.bom.flush();
    if (held.length > 0) {
      const error = this.write(held);
      if (error) return error;
    }
    if (this.mode === 'json') {
      const error = (this.wasmFramer ?? this.framer).end();
      if (error) return error;
    } else if (this.mode === 'text') {
      const error = this.splitter.end(this.onLine);
      if (error) return error;
    }
    this.ensureHeader();
    this.encoder.flush();
    if (this.stats.rows === 0 && this.firstReject) {
      const { code, reason, record } = this.firstReject;
      return new FlowhoseError(
        'FORMAT_MISMATCH',
        `all ${this.stats.rejected} records were rejected, so this is not a flow log of the expected format ` +
          `(first: ${code}: ${reason}; record "${record.slice(0, 200)}")`,
        undefined,
        'logFormat',
      );
    }
    return undefined;
  }

  private detect(chunk: Buffer): FlowhoseError | undefined {
    let i = 0;
    while (i < chunk.length && isBlank(chunk[i]!)) i++;
    if (i === chunk.length) return undefined;
    const c = chunk[i]!;
    if (c === 0x7b) {
      this.mode = 'json';
      return undefined;
    }
    if (c < 0x20 || c === 0x7f || c === 0x5b) {
      return new FlowhoseError(
        'NOT_FLOW_LOG',
        c === 0x1f
          ? 'starts with byte 0x1f, as gzip data does: still gzip-compressed (flowhose removes up to 3 gzip layers)'
          : `starts with ${describeByte(c)}: neither JSON payloads nor flow-log text`,
        this.stats.bytes + i,
      );
    }
    this.mode = 'text';
    return undefined;
  }

  private ensureHeader(): void {
    if (this.headerWritten) return;
    this.encoder.header(this.format);
    this.headerWritten = true;
  }

  private readPayload(b: Buffer, start: number, end: number, offset: number): FlowhoseError | undefined {
    const reader = this.reader;
    const error = reader.read(b, start, end, offset);
    if (error) return error;
    this.stats.payloads++;
    if (reader.kind === PayloadKind.Control) {
      this.stats.control++;
      return undefined;
    }
    this.ensureHeader();
    const fromEnvelope = reader.kind === PayloadKind.Data;
    this.view.owner = reader.ownerStart >= 0 ? b.toString('utf8', reader.ownerStart, reader.ownerEnd) : '';
    for (let i = 0; i < reader.eventCount; i++) {
      const messageStart = reader.messageStarts[i]!;
      const messageEnd = reader.messageEnds[i]!;
      const timestamp = fromEnvelope ? reader.timestamps[i]! : undefined;
      if (messageStart < 0) {
        this.reject({ code: 'NO_MESSAGE', reason: 'log event has no "message"' }, '', offset);
        continue;
      }
      const escaped = reader.messageEscaped[i] === 1;
      const text = escaped ? decodeJsonString(b, messageStart, messageEnd, offset) : undefined;
      if (text instanceof FlowhoseError) return text;
      if (fromEnvelope && Number.isNaN(timestamp)) {
        const record = text ?? b.toString('utf8', messageStart, messageEnd);
        this.reject(
          { code: 'BAD_TIMESTAMP', reason: 'log event timestamp is missing or not an integer' },
          record,
          offset,
        );
        continue;
      }
      if (text !== undefined) {
        const message = Buffer.from(text, 'utf8');
        this.record(message, 0, message.length, timestamp, offset);
      } else {
        this.record(b, messageStart, messageEnd, timestamp, offset);
      }
    }
    return undefined;
  }

  /** Rows the WebAssembly fast path wrote for whole payloads. */
  private readonly onCsv = (csv: Uint8Array, rows: number, payloads: number): void => {
    this.stats.payloads += payloads;
    this.ensureHeader();
    this.csv!.writeBytes(csv);
    this.stats.rows += rows;
  };

  /** The JSON.parse variant of readPayload: the same decisions, on a parsed object. */
  private readPayloadJson(b: Buffer, start: number, end: number, offset: number): FlowhoseError | undefined {
    let payload: unknown;
    try {
      payload = JSON.parse(b.toString('utf8', start, end));
    } catch (error) {
      return new FlowhoseError('BAD_JSON', (error as Error).message, offset);
    }
    const p = payload as { messageType?: unknown; logEvents?: unknown; message?: unknown; owner?: unknown };
    this.view.owner = typeof p.owner === 'string' ? p.owner : '';
    // As the scanner does: a messageType that is not a string is ignored.
    const type = typeof p.messageType === 'string' ? p.messageType : undefined;
    if (type !== undefined && type !== 'DATA_MESSAGE' && type !== 'CONTROL_MESSAGE') {
      return new FlowhoseError(
        'NOT_FLOW_LOG',
        'a payload has a messageType other than DATA_MESSAGE or CONTROL_MESSAGE',
        offset,
      );
    }
    this.stats.payloads++;
    if (type === 'CONTROL_MESSAGE') {
      this.stats.control++;
      return undefined;
    }
    let events: { timestamp?: unknown; message?: unknown }[];
    let fromEnvelope = true;
    if (Array.isArray(p.logEvents)) events = p.logEvents;
    else if (typeof p.message === 'string') {
      events = [{ message: p.message }];
      fromEnvelope = false;
    } else {
      return new FlowhoseError(
        'NOT_FLOW_LOG',
        'a JSON object is neither a CloudWatch Logs payload (no "logEvents") nor a flow-log record (no "message")',
        offset,
      );
    }
    this.ensureHeader();
    for (const event of events) {
      const message = event?.message;
      if (typeof message !== 'string') {
        this.reject({ code: 'NO_MESSAGE', reason: 'log event has no "message"' }, '', offset);
        continue;
      }
      let timestamp: number | undefined;
      if (fromEnvelope) {
        const t = event.timestamp;
        timestamp =
          typeof t === 'number' && Number.isInteger(t) && t >= 0
            ? t
            : typeof t === 'string' && /^\d{1,16}$/.test(t)
              ? Number(t)
              : Number.NaN;
        if (Number.isNaN(timestamp)) {
          this.reject(
            { code: 'BAD_TIMESTAMP', reason: 'log event timestamp is missing or not an integer' },
            message,
            offset,
          );
          continue;
        }
      }
      const bytes = Buffer.from(message, 'utf8');
      this.record(bytes, 0, bytes.length, timestamp, offset);
    }
    return undefined;
  }

  private readLine(b: Buffer, start: number, end: number, offset: number): FlowhoseError | undefined {
    if (start === end) return undefined;
    this.view.owner = '';
    if (this.firstLine) {
      this.firstLine = false;
      const header = headerFormat(b.toString('utf8', start, end));
      if (header) {
        // Its column would be indistinguishable from the event time's: refuse the file.
        if (header.fields.some((field) => field.name === EVENT_TIME_COLUMN))
          return eventTimeHeaderError(offset);
        this.format = header;
        this.headerLine = Buffer.from(b.subarray(start, end));
        this.ensureHeader();
        return undefined;
      }
    } else if (
      this.headerLine &&
      end - start === this.headerLine.length &&
      this.headerLine.equals(b.subarray(start, end))
    ) {
      return undefined; // files concatenated together repeat their header
    }
    this.ensureHeader();
    this.record(b, start, end, undefined, offset);
    return undefined;
  }

  private record(b: Buffer, start: number, end: number, timestamp: number | undefined, offset: number): void {
    this.encoder.lend?.(this.view, end - start, this.format.fields.length);
    const problem = this.view.read(this.format, b, start, end, timestamp) ?? this.encoder.check?.(this.view);
    if (problem) {
      this.reject(problem, b.toString('utf8', start, end), offset);
      return;
    }
    this.encoder.row(this.view);
    this.stats.rows++;
  }

  private reject(problem: RecordProblem, record: string, offset: number): void {
    this.stats.rejected++;
    const reject: Reject = { ...problem, record, offset };
    this.firstReject ??= reject;
    this.onReject?.(reject);
  }
}

/**
 * The string whose bytes (escapes and all) are b[start, end): JSON.parse of the quoted slice
 * decodes every escape exactly, surrogate pairs included. An invalid escape (`\q`, a raw control
 * character next to escapes) makes the payload invalid JSON, as --parser json finds it.
 */
function decodeJsonString(b: Buffer, start: number, end: number, offset: number): string | FlowhoseError {
  const quoted = b.toString('utf8', start - 1, end + 1);
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return new FlowhoseError(
      'BAD_JSON',
      `a message is not a valid JSON string: ${quoted.slice(0, 200)}`,
      offset,
    );
  }
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
