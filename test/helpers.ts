import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { convertBytes } from '../src/core/convert-bytes.js';
import { type ConverterStats, DEFAULT_PAYLOAD_PARSER, type PayloadParser } from '../src/core/converter.js';
import type { FlowhoseError, Reject } from '../src/core/errors.js';
import { DEFAULT_FORMAT, type FlowFormat } from '../src/core/log-format.js';
import { loadPayloadToCsv } from '../src/wasm/load.js';

/** The compiled fast path (from dist/, after npm run build), for converters built in tests. */
export const WASM_MODULE = loadPayloadToCsv();

export interface Converted {
  csv: string;
  rejects: Reject[];
  error: FlowhoseError | undefined;
  stats: ConverterStats;
}

/** Runs the core over `input`, cut into pieces at the given offsets (sorted, within the input). */
export function convertPieces(
  input: Buffer,
  cuts: number[] = [],
  format: FlowFormat = DEFAULT_FORMAT,
  outputChunkBytes = 64 * 1024,
  payloadParser: PayloadParser = DEFAULT_PAYLOAD_PARSER,
): Converted {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    pieces.push(input.subarray(from, cut));
    from = cut;
  }
  const result = convertBytes(pieces, { format, outputChunkBytes, payloadParser, wasmModule: WASM_MODULE });
  const { output, rejects, stats, error } = result;
  return { csv: output.toString('utf8'), rejects, error, stats };
}

export const convert = (input: string | Buffer, format?: FlowFormat) =>
  convertPieces(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, [], format);

export interface EventSpec {
  message: string;
  timestamp?: number | string;
  id?: string;
}

let nextId = 1n;

/** A CloudWatch Logs DATA_MESSAGE payload as JSON text; JSON.stringify escapes as CloudWatch does. */
export function dataPayload(events: EventSpec[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    messageType: 'DATA_MESSAGE',
    owner: '123456789010',
    logGroup: '/aws/vpc/flowlogs',
    logStream: 'eni-1235b8ca123456789-all',
    subscriptionFilters: ['MyFlowLogSubscription'],
    logEvents: events.map((e) => ({
      id: e.id ?? (31953106606966983378809025079804211143289615424298221568n + nextId++).toString(),
      timestamp: e.timestamp ?? 1418530010000,
      message: e.message,
    })),
    ...extra,
  });
}

export const CONTROL_PAYLOAD =
  '{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1680683189085,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}';

/** Each payload its own gzip member, concatenated; `layers` 2 gzips the whole once more (Firehose GZIP). */
export function firehoseObject(payloads: string[], layers: 0 | 1 | 2 = 1): Buffer {
  if (layers === 0) return Buffer.from(payloads.join(''), 'utf8');
  const members = Buffer.concat(payloads.map((p) => gzipSync(p)));
  return layers === 2 ? gzipSync(members) : members;
}

/** Deterministic offsets for random-split tests. */
export function randomCuts(length: number, count: number, seed: number): number[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count, length - 1)) cuts.add(1 + Math.floor(next() * (length - 1)));
  return [...cuts].sort((x, y) => x - y);
}

export const HEADER_V2 =
  'timestamp,version,account-id,interface-id,srcaddr,dstaddr,srcport,dstport,protocol,packets,bytes,start,end,action,log-status';

/** A local output set's commit record (`.obj.flowhose.json`, test/output-set.test.ts checks them). */
export const isCommitRecord = (name: string): boolean => /(^|\/)\.[^/]*\.flowhose\.json$/.test(name);

/**
 * Every file below dir, `/`-separated and sorted, hidden files included (so a temporary file left
 * behind shows), commit records left out unless asked for.
 */
export async function listFiles(dir: string, options: { records?: boolean } = {}): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) =>
      join(e.parentPath, e.name)
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
    )
    .filter((name) => options.records || !isCommitRecord(name))
    .sort();
}

/**
 * Output handed on before an error is whole rows, a prefix of the same rows in both paths; how
 * many rows each had flushed depends on its buffering, so only that much is compared.
 */
export function expectSameOutput(wasm: string, scanner: string, stopped: boolean): void {
  if (!stopped) {
    expect(wasm).toBe(scanner);
    return;
  }
  for (const csv of [wasm, scanner]) expect(csv === '' || csv.endsWith('\n')).toBe(true);
  const [short, long] = wasm.length <= scanner.length ? [wasm, scanner] : [scanner, wasm];
  expect(long.startsWith(short)).toBe(true);
}

/** The WebAssembly fast path must never change a result: same CSV, rejects, counts and error as the scanner. */
export function expectSameAsScanner(input: Buffer, format = DEFAULT_FORMAT, cuts: number[] = []): void {
  const scanner = convertPieces(input, cuts, format, 4096, 'scanner');
  const wasm = convertPieces(input, cuts, format, 4096, 'wasm');
  expectSameOutput(wasm.csv, scanner.csv, scanner.error !== undefined || wasm.error !== undefined);
  expect(wasm.rejects).toEqual(scanner.rejects);
  expect(wasm.stats).toEqual(scanner.stats);
  expect(wasm.error?.code).toBe(scanner.error?.code);
  expect(wasm.error?.message).toBe(scanner.error?.message);
  expect(wasm.error?.offset).toBe(scanner.error?.offset);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');

/** How a spawned `flowhose` ended, and what it wrote. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `node bin/flowhose.cjs …args` (the built CLI: npm test builds dist/ first) to its exit;
 * `stdin` is piped in (and closed) when given.
 */
export function runFlowhose(
  args: string[],
  options: { stdin?: Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...options.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // the CLI may exit (usage error) before reading stdin
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(options.stdin ?? Buffer.alloc(0));
  });
}

/**
 * Asserts a child's exit code; on failure the message carries how it ended and its stderr, which
 * is where the reason is (a bare "expected null to be 0" says nothing about an abort).
 */
export function expectExit(
  run: { code: number | string | null; signal?: string | null; stderr: string | Buffer },
  code: number,
): void {
  const ended = run.signal ? `killed by ${run.signal}` : `exit code ${run.code}`;
  expect(run.code, `${ended}; stderr:\n${run.stderr.toString().trimEnd() || '(empty)'}\n`).toBe(code);
}

/** The first record of AWS's documentation examples (version 2, accepted SSH traffic). */
export const AWS_DOC_RECORD =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
