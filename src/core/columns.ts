import { EVENT_TIME_COLUMN, type FlowFormat } from './log-format.js';
import type { RecordProblem, RecordView } from './record-view.js';

/**
 * The typed columns of the NDJSON and Parquet outputs (and of the Athena tables over them), named and
 * typed as AWS's own Parquet delivery of flow logs names and types them, so that one table covers
 * converted history and native deliveries: underscores for hyphens (`log-status` → `log_status`),
 * INT32 for the `int` fields of the field table, INT64 for the `long` ones, UTF-8 strings for the rest,
 * and AWS's `-` as null. The first column is the CSV's `timestamp`, the event time, as a UTC
 * millisecond TIMESTAMP. CSV keeps AWS's hyphenated names (its header is pinned).
 */
export type ColumnType = 'timestamp' | 'int32' | 'int64' | 'string';

export interface Column {
  /** AWS's Parquet spelling: lower case, underscores. */
  readonly name: string;
  readonly type: ColumnType;
  /** Index of the flow field in the format, or -1 for the event-time column. */
  readonly field: number;
}

/** Largest value of an INT32 column; `int` fields hold digits only, but not always this few. */
export const INT32_MAX = 2_147_483_647;
/** Largest value of an INT64 column. */
export const INT64_MAX = 9_223_372_036_854_775_807n;

/** `log-status` → `log_status`: the name AWS's native Parquet files and Athena DDL use. */
export const columnName = (field: string): string => field.replaceAll('-', '_');

/** The event time first, then one column per field of the format, in the format's order. */
export function columnsOf(format: FlowFormat): readonly Column[] {
  return [
    { name: EVENT_TIME_COLUMN, type: 'timestamp', field: -1 },
    ...format.fields.map(
      (field, i): Column => ({
        name: columnName(field.name),
        type: field.type === 'int' ? 'int32' : field.type === 'long' ? 'int64' : 'string',
        field: i,
      }),
    ),
  ];
}

/** The Athena (Hive DDL) type that reads a column as the files hold it. */
export const ATHENA_TYPES: Readonly<Record<ColumnType, string>> = {
  timestamp: 'timestamp',
  int32: 'int',
  int64: 'bigint',
  string: 'string',
};

const INT32_DIGITS = String(INT32_MAX).length;
const INT64_DIGITS = String(INT64_MAX).length;

/**
 * Why a record the view accepted does not fit the typed columns: an `int` field past INT32 or a `long`
 * past INT64 (the view checks digits only, and CSV holds any digits). A typed encoder's check().
 */
export function rangeProblem(record: RecordView): RecordProblem | undefined {
  const format = record.format;
  if (!format) return undefined;
  const { fields, intMask } = format;
  const image = record.image;
  for (let i = 0; i < fields.length; i++) {
    if (intMask[i] === 0) continue;
    let start = record.fieldStart(i);
    const end = record.ends[i]!;
    while (start < end - 1 && image[start] === 0x30) start++; // leading zeros do not count
    const digits = end - start;
    const int32 = fields[i]!.type === 'int';
    const limit = int32 ? INT32_DIGITS : INT64_DIGITS;
    if (digits < limit) continue;
    const text = record.text(i);
    if (digits === limit && BigInt(text) <= (int32 ? BigInt(INT32_MAX) : INT64_MAX)) continue;
    return {
      code: 'BAD_INTEGER',
      reason: `${fields[i]!.name} ${text} does not fit ${int32 ? 'an INT32' : 'an INT64'} column`,
    };
  }
  return undefined;
}
