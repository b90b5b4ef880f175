/**
 * The parser variants the parser suite races, over the same decompressed bytes. Each takes
 * chunks and hands on CSV; every variant is checked to produce byte-identical CSV to the core
 * before it is timed. The regex variants are only correct on inputs without JSON escapes or
 * reordered keys: the suite reports them as not comparable on inputs where they differ.
 */
import { FlowLogConverter, type PayloadParser } from '../src/core/converter.js';
import { loadPayloadToCsv } from '../src/wasm/load.js';
import { HEADER_LINE } from './header.js';

export interface ParserInstance {
  write(chunk: Buffer): void;
  end(): void;
  readonly rows: number;
}

export interface ParserVariant {
  name: string;
  describe: string;
  create(onData: (chunk: Buffer) => void): ParserInstance;
}

const dashesToEmpty = /(^|,)-(?=,|$)/g;

/** What is in common use: toString() onto a carry string, a global regex, replace spaces with commas. */
export const naiveRegex: ParserVariant = {
  name: 'naive regex',
  describe: 'chunk.toString() onto a carry string, /"timestamp":(\\d+),"message":"(.+?)"/g, spaces → commas',
  create(onData) {
    let carry = '';
    let rows = 0;
    onData(Buffer.from(HEADER_LINE));
    return {
      write(chunk) {
        carry += chunk.toString();
        const re = /"timestamp":(\d+),"message":"(.+?)"/g;
        let out = '';
        let last = 0;
        for (let m = re.exec(carry); m !== null; m = re.exec(carry)) {
          last = re.lastIndex;
          const message = m[2]!;
          if (message.startsWith('CWL CONTROL MESSAGE')) continue;
          out += `${new Date(Number(m[1])).toISOString()},${message.replace(/ /g, ',').replace(dashesToEmpty, '$1')}\n`;
          rows++;
        }
        carry = carry.slice(last);
        if (out) onData(Buffer.from(out));
      },
      end() {},
      get rows() {
        return rows;
      },
    };
  },
};

/** The best a regex can do: latin1 strings, a bounded carry, no per-row Date, one join per chunk. */
export const tunedRegex: ParserVariant = {
  name: 'tuned regex',
  describe:
    'latin1 strings, bounded carry, escape-free message class, cached ISO seconds, one join per chunk',
  create(onData) {
    let carry = '';
    let rows = 0;
    let second = Number.NaN;
    let prefix = '';
    const re = /"timestamp":(\d+),"message":"([^"\\]*)"/g;
    onData(Buffer.from(HEADER_LINE));
    return {
      write(chunk) {
        const text = carry + chunk.toString('latin1');
        re.lastIndex = 0;
        const out: string[] = [];
        let last = 0;
        for (let m = re.exec(text); m !== null; m = re.exec(text)) {
          last = re.lastIndex;
          const message = m[2]!;
          if (message.startsWith('CWL CONTROL MESSAGE')) continue;
          const ms = Number(m[1]);
          const s = Math.floor(ms / 1000);
          if (s !== second) {
            second = s;
            prefix = new Date(s * 1000).toISOString().slice(0, 20);
          }
          const fields = message.split(' ');
          for (let k = 0; k < fields.length; k++) if (fields[k] === '-') fields[k] = '';
          out.push(`${prefix}${String(ms - s * 1000).padStart(3, '0')}Z,${fields.join(',')}\n`);
          rows++;
        }
        // Only the unfinished tail is carried, and at most one payload's worth is ever rescanned.
        carry = text.slice(Math.max(last, text.lastIndexOf('"timestamp":')));
        if (out.length > 0) onData(Buffer.from(out.join(''), 'latin1'));
      },
      end() {},
      get rows() {
        return rows;
      },
    };
  },
};

function converterVariant(name: string, describe: string, payloadParser: PayloadParser): ParserVariant {
  return {
    name,
    describe,
    create(onData) {
      const wasmModule = payloadParser === 'wasm' ? loadPayloadToCsv() : undefined;
      const converter = new FlowLogConverter({ onData, payloadParser, wasmModule });
      return {
        write(chunk) {
          const error = converter.write(chunk);
          if (error) throw error;
        },
        end() {
          const error = converter.end();
          if (error) throw error;
        },
        get rows() {
          return converter.stats.rows;
        },
      };
    },
  };
}

export const jsonParse = converterVariant(
  'JSON.parse',
  'the core framer, JSON.parse per payload, the core CSV encoder (--parser json)',
  'json',
);
export const scanner = converterVariant(
  'core scanner',
  'the byte-level scanner of the core in TypeScript (--parser scanner)',
  'scanner',
);
export const wasmScanner = converterVariant(
  'core wasm',
  'the core with its WebAssembly fast path, the scanner for what it declines (--parser wasm, the default)',
  'wasm',
);

export const VARIANTS: readonly ParserVariant[] = [naiveRegex, tunedRegex, jsonParse, scanner, wasmScanner];

/** Runs a variant over `data` in `chunkSize` pieces; returns the CSV bytes and row count. */
export function runVariant(
  variant: ParserVariant,
  data: Buffer,
  chunkSize: number,
  keep: boolean,
): { bytes: number; rows: number; csv?: Buffer } {
  const kept: Buffer[] = [];
  let bytes = 0;
  const parser = variant.create((chunk) => {
    bytes += chunk.length;
    if (keep) kept.push(Buffer.from(chunk));
  });
  for (let i = 0; i < data.length; i += chunkSize) parser.write(data.subarray(i, i + chunkSize));
  parser.end();
  return { bytes, rows: parser.rows, csv: keep ? Buffer.concat(kept) : undefined };
}
