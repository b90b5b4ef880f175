// AssemblyScript, compiled to WebAssembly by `npm run build:wasm` (not by tsc).
//
// The hot path of the converter, in one place: it frames the stream of JSON payloads (the same
// depth-and-string rules as JsonFramer) and converts each complete CloudWatch Logs DATA_MESSAGE
// straight to CSV rows. It takes only the common, well-formed case and declines anything else
// (escapes in a message, a record that would be rejected, a control message, an unusual number,
// nesting it does not expect): the TypeScript reader then reads that payload from its start,
// so every decision, error and reject stays where it is tested, and this module only has to
// agree with it on what it accepts (the differential and fuzz tests check that).
//
// Memory: [tables | input (capacity inputCap) | output (capacity outputCap)]. The host appends
// each chunk at appendPtr() and calls run(); the CSV of converted payloads accumulates in the
// output until the host drains it. Nothing is allocated per payload or per row.

import {
  byteClass,
  DECLINED,
  MAX_FIELDS,
  MAX_NESTING_DEPTH,
  NEED_MORE,
  NEEDS_QUOTES,
  NOT_AN_OBJECT,
  OUTPUT_FULL,
  SPACE,
  TOO_DEEP,
  TOO_LARGE_COMPLETE,
  TOO_LARGE_PENDING,
} from './abi';

// The interface constants, as globals the host's test reads back (test/core/wasm-abi.test.ts).
export {
  DECLINED,
  MAX_FIELDS,
  MAX_NESTING_DEPTH,
  NEED_MORE,
  NOT_AN_OBJECT,
  OUTPUT_FULL,
  TOO_DEEP,
  TOO_LARGE_COMPLETE,
  TOO_LARGE_PENDING,
} from './abi';

/** 9999-12-31T23:59:59.999Z: later times print with a six-digit year, which the host writes. */
const MAX_ISO_MS: i64 = 253402300799999;
const MS_PER_DAY: i64 = 86400000;
const MAX_DEPTH = 32;

const BYTE_CLASS = memory.data(256);
const INT_MASK = memory.data(MAX_FIELDS);
const DATE = memory.data(16);

let fieldCount: i32 = 0;
let maxObjectBytes: usize = 0;
/** Past this the host's TypeScript path takes over: monster payloads are not worth the memory. */
let memoryLimitBytes: usize = 0;
let cachedDay: i64 = -1;

// The stream: input[0, fill) holds bytes not yet framed into a finished payload.
let inputBase: usize = 0;
let inputCap: usize = 0;
let fill: usize = 0;
/** Where this call's chunk begins: a payload that started before it spans chunks. */
let chunkStart: usize = 0;
/** Bytes dropped from the front of the input by compaction, for stream offsets. */
let dropped: f64 = 0;
// Framing state, as JsonFramer's.
let scan: usize = 0;
let depth: i32 = 0;
let inString = false;
let escaped = false;
let objectStart: usize = 0;
// Where run() stopped: a declined payload, or the byte that is not an object.
let stopStart: usize = 0;
let stopEnd: usize = 0;

let outputBase: usize = 0;
let outputCap: usize = 0;
let outputFill: usize = 0;
let rowCount: i32 = 0;
let payloadCount: i32 = 0;

// Per payload: the parse reads up to inputEnd.
let inputEnd: usize = 0;
/** Where the last string read ends (its closing quote), and whether it held a backslash. */
let stringEnd: usize = 0;
let stringEscaped = false;

function initTable(): void {
  for (let c = 0; c < 256; c++) store<u8>(BYTE_CLASS + c, byteClass(c));
}
initTable();

/** The field types: intMask[i] = 1 when field i must be digits or `-`. */
export function maskPtr(): usize {
  return INT_MASK;
}

/** Starts a stream of payloads for a format of `fields` fields. */
export function start(fields: i32, maxObject: f64, memoryLimit: f64): void {
  fieldCount = fields;
  maxObjectBytes = <usize>maxObject;
  memoryLimitBytes = <usize>memoryLimit;
  if (inputBase === 0) {
    inputBase = (__heap_base + 15) & ~15;
    inputCap = 0;
    outputBase = inputBase;
    outputCap = ((<usize>memory.size()) << 16) - outputBase;
  }
  fill = 0;
  chunkStart = 0;
  dropped = 0;
  scan = 0;
  depth = 0;
  inString = false;
  escaped = false;
  objectStart = 0;
  outputFill = 0;
  rowCount = 0;
  payloadCount = 0;
}

/**
 * Makes room for `length` more input bytes and returns where to write them; 0 when that would
 * pass the memory limit, and the host must go on without this module from unfinishedStart().
 * Finished bytes are dropped from the front first; the output must be drained. `newChunk`: these
 * bytes begin one of the host's chunks (which it feeds in slices small enough to stay in cache).
 */
export function appendPtr(length: i32, newChunk: bool): usize {
  const n = <usize>length;
  if (newChunk) chunkStart = fill;
  if (fill + n > inputCap) {
    const keep = depth > 0 ? objectStart : scan;
    if (keep > 0) {
      memory.copy(inputBase, inputBase + keep, fill - keep);
      fill -= keep;
      scan -= keep;
      objectStart = depth > 0 ? objectStart - keep : 0;
      chunkStart = chunkStart > keep ? chunkStart - keep : 0;
      dropped += <f64>keep;
    }
    if (fill + n > inputCap) {
      if (fill + n > memoryLimitBytes) return 0; // also keeps the doubling below from overflowing
      // Doubling: a payload spanning many chunks is moved a bounded number of times.
      let cap: usize = inputCap < 65536 ? 65536 : inputCap;
      while (cap < fill + n) cap *= 2;
      const outputAt = (inputBase + cap + 15) & ~15;
      if (!ensureMemory(outputAt + 65536)) return 0;
      inputCap = cap;
      outputBase = outputAt;
      outputCap = ((<usize>memory.size()) << 16) - outputBase;
    }
  }
  return inputBase + fill;
}

function ensureMemory(bytes: usize): bool {
  const have = (<usize>memory.size()) << 16;
  if (bytes <= have) return true;
  if (bytes > memoryLimitBytes) return false;
  return memory.grow(<i32>((bytes - have + 0xffff) >> 16)) >= 0;
}

/**
 * Frames and converts from where the last call stopped, with `appended` new bytes. Returns
 * NEED_MORE when every complete payload is done, or why it stopped before. The size rule is
 * JsonFramer's and looks at no chunk edge: a payload from `{` to `}` larger than maxObjectBytes
 * fails, and an unfinished one as soon as its bytes so far pass it. `_chunkEnds` (these bytes end
 * the host's chunk) is no longer read.
 */
export function run(appended: i32, _chunkEnds: bool): i32 {
  fill += <usize>appended;
  const base = inputBase;
  const end = base + fill;
  let i = base + scan;
  while (i < end) {
    if (inString) {
      if (escaped) {
        escaped = false;
        i++;
        continue;
      }
      i = findQuoteOrBackslash(i, end);
      if (i >= end) break;
      if (load<u8>(i) === 0x5c) escaped = true;
      else inString = false;
      i++;
      continue;
    }
    const c = load<u8>(i);
    if (depth === 0) {
      if (c === 0x7b) {
        depth = 1;
        objectStart = i - base;
      } else if (!(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) {
        scan = i - base;
        stopStart = scan;
        return NOT_AN_OBJECT;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_NESTING_DEPTH) {
        scan = i - base;
        // Already past the size limit at this byte: that is the first rule broken, as in JsonFramer.
        if (scan + 1 - objectStart > maxObjectBytes) {
          stopStart = objectStart;
          return TOO_LARGE_PENDING;
        }
        stopStart = scan;
        return TOO_DEEP;
      }
    } else if ((c === 0x7d || c === 0x5d) && --depth === 0) {
      const from = objectStart;
      const to = i + 1 - base;
      if (to - from > maxObjectBytes) {
        stopStart = from;
        return TOO_LARGE_COMPLETE;
      }
      const room = (to - from) * 2 + 1024;
      if (outputCap - outputFill < room) {
        if (outputFill > 0) {
          depth = 1; // not finished yet: the host drains the output and calls run(0)
          scan = i - base;
          return OUTPUT_FULL;
        }
        if (!ensureMemory(outputBase + room)) {
          scan = to;
          stopStart = from;
          stopEnd = to;
          return DECLINED; // no room for its rows: the host's reader converts it
        }
        outputCap = ((<usize>memory.size()) << 16) - outputBase;
      }
      scan = to;
      const written = convertPayload(base + from, base + to, outputBase + outputFill);
      if (written < 0) {
        stopStart = from;
        stopEnd = to;
        return DECLINED;
      }
      outputFill += <usize>written;
      payloadCount++;
    }
    i++;
  }
  scan = i - base;
  if (depth > 0 && fill - objectStart > maxObjectBytes) {
    stopStart = objectStart;
    return TOO_LARGE_PENDING;
  }
  return NEED_MORE;
}

/** The first quote or backslash in [from, to), or `to`. Strings are most of the bytes: 16 at a time. */
function findQuoteOrBackslash(from: usize, to: usize): usize {
  let i = from;
  const quotes = i8x16.splat(0x22);
  const backslashes = i8x16.splat(0x5c);
  while (i + 16 <= to) {
    const v = v128.load(i);
    const hits = i8x16.bitmask(v128.or(i8x16.eq(v, quotes), i8x16.eq(v, backslashes)));
    if (hits !== 0) return i + <usize>ctz(hits);
    i += 16;
  }
  while (i < to) {
    const c = load<u8>(i);
    if (c === 0x22 || c === 0x5c) return i;
    i++;
  }
  return to;
}

export function inputPtr(): usize {
  return inputBase;
}
export function outputPtr(): usize {
  return outputBase;
}
export function outputLength(): i32 {
  return <i32>outputFill;
}
/** Rows and payloads in the output since the last drain. */
export function rows(): i32 {
  return rowCount;
}
export function payloads(): i32 {
  return payloadCount;
}
export function drained(): void {
  outputFill = 0;
  rowCount = 0;
  payloadCount = 0;
}
/** Where run() stopped: a declined payload's [start, end), or the first byte of trouble. */
export function stopStartAt(): i32 {
  return <i32>stopStart;
}
export function stopEndAt(): i32 {
  return <i32>stopEnd;
}
/** Bytes dropped from the input's front since start(): input[0] sits that far into the stream. */
export function droppedBytes(): f64 {
  return dropped;
}
/** Where the bytes not yet framed into a finished payload begin in the input. */
export function unfinishedStart(): i32 {
  return <i32>(depth > 0 ? objectStart : scan);
}
export function inputLength(): i32 {
  return <i32>fill;
}
/** Whether the unfinished payload began before the current chunk (JsonFramer would be joining it). */
export function unfinishedSpansChunks(): bool {
  return depth > 0 && objectStart < chunkStart;
}

/** Writes the CSV of the payload in [from, to) at `out`; returns its length, or -1 to decline. */
function convertPayload(from: usize, to: usize, out: usize): i32 {
  inputEnd = to;
  const outStart = out;
  const rowsBefore = rowCount;
  let p = skipSpace(from + 1);
  let hasEvents = false;
  if (p < inputEnd && load<u8>(p) === 0x7d) {
    p++;
  } else {
    for (;;) {
      const keyStart = p + 1;
      p = readString(p);
      if (p === 0) return decline(rowsBefore);
      const keyEnd = stringEnd;
      p = skipSpace(p);
      if (p >= inputEnd || load<u8>(p) !== 0x3a) return decline(rowsBefore);
      p = skipSpace(p + 1);
      const keyLength = keyEnd - keyStart;
      if (keyLength === 9 && isLogEvents(keyStart)) {
        // Two logEvents arrays: the reader reads both; rare enough to leave to it.
        if (hasEvents) return decline(rowsBefore);
        hasEvents = true;
        p = readEvents(p, out);
        if (p === 0) return decline(rowsBefore);
        out = eventsOut;
      } else if (keyLength === 11 && isMessageType(keyStart)) {
        if (p >= inputEnd || load<u8>(p) !== 0x22) return decline(rowsBefore);
        const valueStart = p + 1;
        p = readString(p);
        if (p === 0 || stringEnd - valueStart !== 12 || !isDataMessage(valueStart)) {
          return decline(rowsBefore);
        }
      } else if (keyLength === 7 && isMessage(keyStart)) {
        // A {"message": …} record, or a payload that has both: the reader decides.
        return decline(rowsBefore);
      } else {
        p = skipValue(p, 0);
        if (p === 0) return decline(rowsBefore);
      }
      p = skipSpace(p);
      if (p >= inputEnd) return decline(rowsBefore);
      const c = load<u8>(p);
      if (c === 0x2c) {
        p = skipSpace(p + 1);
        continue;
      }
      if (c !== 0x7d) return decline(rowsBefore);
      p++;
      break;
    }
  }
  if (p !== inputEnd || !hasEvents) return decline(rowsBefore);
  return <i32>(out - outStart);
}

function decline(rowsBefore: i32): i32 {
  rowCount = rowsBefore;
  return -1;
}

/** At `[`: reads every event, writing its row from `outStart` on. Returns the position after `]`, 0 to bail. */
function readEvents(at: usize, outStart: usize): usize {
  if (at >= inputEnd || load<u8>(at) !== 0x5b) return 0;
  let p = skipSpace(at + 1);
  let out = outStart;
  if (p < inputEnd && load<u8>(p) === 0x5d) {
    eventsOut = out;
    return p + 1;
  }
  for (;;) {
    if (p >= inputEnd || load<u8>(p) !== 0x7b) return 0;
    p = skipSpace(p + 1);
    let timestamp: i64 = -1;
    let messageStart: usize = 0;
    let messageEnd: usize = 0;
    if (p < inputEnd && load<u8>(p) === 0x7d) {
      return 0; // an event without a message is a reject
    }
    for (;;) {
      const keyStart = p + 1;
      p = readString(p);
      if (p === 0) return 0;
      const keyEnd = stringEnd;
      p = skipSpace(p);
      if (p >= inputEnd || load<u8>(p) !== 0x3a) return 0;
      p = skipSpace(p + 1);
      const keyLength = keyEnd - keyStart;
      if (keyLength === 7 && isMessage(keyStart) && p < inputEnd && load<u8>(p) === 0x22) {
        messageStart = p + 1;
        p = readString(p);
        if (p === 0 || stringEscaped) return 0;
        messageEnd = stringEnd;
      } else if (keyLength === 9 && isTimestamp(keyStart)) {
        p = readTimestamp(p);
        if (p === 0) return 0;
        timestamp = lastTimestamp;
      } else {
        p = skipValue(p, 0);
        if (p === 0) return 0;
      }
      p = skipSpace(p);
      if (p >= inputEnd) return 0;
      const c = load<u8>(p);
      if (c === 0x2c) {
        p = skipSpace(p + 1);
        continue;
      }
      if (c !== 0x7d) return 0;
      p++;
      break;
    }
    if (messageStart === 0 || timestamp < 0) return 0;
    out = writeRow(out, timestamp, messageStart, messageEnd);
    if (out === 0) return 0;
    rowCount++;
    p = skipSpace(p);
    if (p >= inputEnd) return 0;
    const c = load<u8>(p);
    if (c === 0x2c) {
      p = skipSpace(p + 1);
      continue;
    }
    if (c !== 0x5d) return 0;
    eventsOut = out;
    return p + 1;
  }
}

/** What readTimestamp read, and where readEvents left the output. */
let lastTimestamp: i64 = 0;
let eventsOut: usize = 0;

/** A plain JSON integer of 1–16 digits without a leading zero; anything else bails. */
function readTimestamp(at: usize): usize {
  let p = at;
  let value: i64 = 0;
  while (p < inputEnd) {
    const d = <i32>load<u8>(p) - 0x30;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    p++;
  }
  const digits = p - at;
  if (digits === 0 || digits > 16 || (load<u8>(at) === 0x30 && digits > 1)) return 0;
  if (p < inputEnd) {
    const next = load<u8>(p);
    if (next === 0x2e || next === 0x65 || next === 0x45) return 0;
  }
  if (value > MAX_ISO_MS) return 0;
  lastTimestamp = value;
  return p;
}

/** At a quote: returns the position after the closing quote (0 when unterminated). */
function readString(at: usize): usize {
  if (at >= inputEnd || load<u8>(at) !== 0x22) return 0;
  const end = inputEnd;
  let p = at + 1;
  let backslash = false;
  while (p < end) {
    p = findQuoteOrBackslash(p, end);
    if (p >= end) break;
    if (load<u8>(p) === 0x22) {
      stringEnd = p;
      stringEscaped = backslash;
      return p + 1;
    }
    backslash = true;
    p += 2; // whatever the escaped character is
  }
  return 0;
}

/** Skips one value the row does not need. Returns the position after it, 0 to bail. */
function skipValue(at: usize, depth: i32): usize {
  if (at >= inputEnd || depth > MAX_DEPTH) return 0;
  const c = load<u8>(at);
  if (c === 0x22) return readString(at);
  if (c === 0x7b || c === 0x5b) {
    const close: u8 = c === 0x7b ? 0x7d : 0x5d;
    let p = skipSpace(at + 1);
    if (p < inputEnd && load<u8>(p) === close) return p + 1;
    for (;;) {
      if (close === 0x7d) {
        p = readString(p);
        if (p === 0) return 0;
        p = skipSpace(p);
        if (p >= inputEnd || load<u8>(p) !== 0x3a) return 0;
        p = skipSpace(p + 1);
      }
      p = skipValue(p, depth + 1);
      if (p === 0) return 0;
      p = skipSpace(p);
      if (p >= inputEnd) return 0;
      const d = load<u8>(p);
      if (d === 0x2c) {
        p = skipSpace(p + 1);
        continue;
      }
      if (d !== close) return 0;
      return p + 1;
    }
  }
  // Plain unsigned integers and true/false/null; other numbers go to the reader.
  let p = at;
  if (c >= 0x30 && c <= 0x39) {
    while (p < inputEnd && load<u8>(p) >= 0x30 && load<u8>(p) <= 0x39) p++;
    if (c === 0x30 && p - at > 1) return 0;
  } else if (c === 0x74 && matches(at, 0x65757274, 4)) {
    p = at + 4; // true
  } else if (c === 0x6e && matches(at, 0x6c6c756e, 4)) {
    p = at + 4; // null
  } else if (c === 0x66 && at + 5 <= inputEnd && matches(at, 0x736c6166, 4) && load<u8>(at + 4) === 0x65) {
    p = at + 5; // false
  } else {
    return 0;
  }
  // The reader reads a literal as a run of number-ish bytes, so one must end here.
  if (p < inputEnd) {
    const d = load<u8>(p);
    if (
      (d >= 0x30 && d <= 0x39) ||
      d === 0x2d ||
      d === 0x2b ||
      d === 0x2e ||
      (d >= 0x61 && d <= 0x7a) ||
      d === 0x45
    ) {
      return 0;
    }
  }
  return p;
}

function matches(at: usize, word: u32, length: usize): bool {
  return at + length <= inputEnd && load<u32>(at) === word;
}

function skipSpace(at: usize): usize {
  let p = at;
  while (p < inputEnd) {
    const c = load<u8>(p);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    p++;
  }
  return p;
}

// "logEvents", "messageType", "message", "timestamp", "DATA_MESSAGE" as little-endian words.
function isLogEvents(p: usize): bool {
  return load<u32>(p) === 0x45676f6c && load<u32>(p + 4) === 0x746e6576 && load<u8>(p + 8) === 0x73;
}
function isMessageType(p: usize): bool {
  return (
    load<u32>(p) === 0x7373656d &&
    load<u32>(p + 4) === 0x54656761 &&
    load<u16>(p + 8) === 0x7079 &&
    load<u8>(p + 10) === 0x65
  );
}
function isMessage(p: usize): bool {
  return load<u32>(p) === 0x7373656d && load<u16>(p + 4) === 0x6761 && load<u8>(p + 6) === 0x65;
}
function isTimestamp(p: usize): bool {
  return load<u32>(p) === 0x656d6974 && load<u32>(p + 4) === 0x6d617473 && load<u8>(p + 8) === 0x70;
}
function isDataMessage(p: usize): bool {
  return load<u32>(p) === 0x41544144 && load<u32>(p + 4) === 0x53454d5f && load<u32>(p + 8) === 0x45474153;
}

/**
 * Writes `ISO-time,field,…\n` for one record, as the host's CsvEncoder does. Returns the new
 * output end, or 0 when the record would be rejected or quoted (the reader's business).
 */
function writeRow(outStart: usize, ms: i64, start: usize, end: usize): usize {
  let o = writeIso(outStart, ms);
  const count = fieldCount;
  let field = 0;
  let i = start;
  while (i < end) {
    let k = load<u8>(BYTE_CLASS + <usize>load<u8>(i));
    if (k === SPACE) {
      i++;
      continue;
    }
    if (field >= count) return 0;
    store<u8>(o++, 0x2c);
    const tokenStart = o;
    let flags: u8 = 0;
    while (i < end) {
      const c = load<u8>(i);
      k = load<u8>(BYTE_CLASS + <usize>c);
      if (k === SPACE) break;
      store<u8>(o++, c);
      flags |= k;
      i++;
    }
    if (o - tokenStart === 1 && load<u8>(tokenStart) === 0x2d) {
      o = tokenStart; // `-`: no value
    } else if (flags !== 0) {
      if ((flags & NEEDS_QUOTES) !== 0) return 0;
      if (load<u8>(INT_MASK + <usize>field) !== 0) return 0;
    }
    field++;
  }
  if (field !== count) return 0;
  store<u8>(o++, 0x0a);
  return o;
}

function writeIso(at: usize, ms: i64): usize {
  const day = ms / MS_PER_DAY;
  if (day !== cachedDay) {
    cacheDate(day);
    cachedDay = day;
  }
  // YYYY-MM-DDT
  store<u64>(at, load<u64>(DATE));
  store<u16>(at + 8, load<u16>(DATE + 8));
  store<u8>(at + 10, load<u8>(DATE + 10));
  let t = <i32>(ms - day * MS_PER_DAY);
  const hours = t / 3600000;
  t -= hours * 3600000;
  const minutes = t / 60000;
  t -= minutes * 60000;
  const seconds = t / 1000;
  const milli = t - seconds * 1000;
  const o = at + 11;
  store<u8>(o, 0x30 + hours / 10);
  store<u8>(o + 1, 0x30 + (hours % 10));
  store<u8>(o + 2, 0x3a);
  store<u8>(o + 3, 0x30 + minutes / 10);
  store<u8>(o + 4, 0x30 + (minutes % 10));
  store<u8>(o + 5, 0x3a);
  store<u8>(o + 6, 0x30 + seconds / 10);
  store<u8>(o + 7, 0x30 + (seconds % 10));
  store<u8>(o + 8, 0x2e);
  store<u8>(o + 9, 0x30 + milli / 100);
  store<u8>(o + 10, 0x30 + ((milli / 10) % 10));
  store<u8>(o + 11, 0x30 + (milli % 10));
  store<u8>(o + 12, 0x5a);
  return o + 13;
}

/** Civil date from days since 1970-01-01 (H. Hinnant's algorithm), years 1970–9999. */
function cacheDate(days: i64): void {
  const z = days + 719468;
  const era = z / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = <i32>(doy - (153 * mp + 2) / 5 + 1);
  const m = <i32>(mp < 10 ? mp + 3 : mp - 9);
  const y = <i32>(yoe + era * 400 + (m <= 2 ? 1 : 0));
  store<u8>(DATE, 0x30 + y / 1000);
  store<u8>(DATE + 1, 0x30 + ((y / 100) % 10));
  store<u8>(DATE + 2, 0x30 + ((y / 10) % 10));
  store<u8>(DATE + 3, 0x30 + (y % 10));
  store<u8>(DATE + 4, 0x2d);
  store<u8>(DATE + 5, 0x30 + m / 10);
  store<u8>(DATE + 6, 0x30 + (m % 10));
  store<u8>(DATE + 7, 0x2d);
  store<u8>(DATE + 8, 0x30 + d / 10);
  store<u8>(DATE + 9, 0x30 + (d % 10));
  store<u8>(DATE + 10, 0x54);
}
