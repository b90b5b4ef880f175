import { columnsOf } from '../src/core/columns.js';
import type { FlowFormat } from '../src/core/log-format.js';

/**
 * An independent reader of the CSV output (RFC 4180, the slow obvious way with strings), giving each row's
 * values as NDJSON and Parquet type them: what every NDJSON line must equal, read by JSON.parse.
 * int and long values are compared as BigInt (a long past 2^53 must survive exactly).
 */
export type TypedValue = string | bigint | null;

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) throw new Error('CSV does not end with LF');
  return rows;
}

/** The CSV's rows (header dropped) typed by the format's columns: '' is null. */
export function typedCsvRows(csv: string, format: FlowFormat): TypedValue[][] {
  const columns = columnsOf(format);
  const [header, ...rows] = parseCsv(csv);
  if (header?.length !== columns.length) throw new Error(`CSV header has ${header?.length} columns`);
  return rows.map((row) =>
    row.map((value, i) => {
      if (value === '') return null;
      return columns[i]!.type === 'int32' || columns[i]!.type === 'int64' ? BigInt(value) : value;
    }),
  );
}

/**
 * NDJSON lines read back with JSON.parse: each line's keys must be exactly the columns, in order, and each
 * value of its column's JSON type. A number's exact digits are taken from the line itself (a long past
 * 2^53 must survive; JSON.parse rounds it): a key's raw `"name":` cannot occur inside a JSON string,
 * whose quotes are escaped.
 */
export function typedNdjsonRows(ndjson: string, format: FlowFormat): TypedValue[][] {
  const columns = columnsOf(format);
  if (ndjson === '') return [];
  if (!ndjson.endsWith('\n')) throw new Error('NDJSON does not end with LF');
  const literal = new Map(
    columns.map((c) => [c.name, new RegExp(`[{,]"${c.name}":(0|[1-9][0-9]*|null)[,}]`)]),
  );
  return ndjson
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const object = JSON.parse(line) as Record<string, unknown>;
      const keys = Object.keys(object);
      if (keys.join() !== columns.map((c) => c.name).join())
        throw new Error(`keys ${keys.join()} in ${line}`);
      return columns.map((column) => {
        const value = object[column.name];
        if (value === null) return null;
        const numeric = column.type === 'int32' || column.type === 'int64';
        if (numeric !== (typeof value === 'number'))
          throw new Error(`${column.name} is ${typeof value} in ${line}`);
        if (!numeric) return value as string;
        const digits = literal.get(column.name)!.exec(line)?.[1];
        if (digits === undefined) throw new Error(`${column.name} is not a plain integer in ${line}`);
        return BigInt(digits);
      });
    });
}
