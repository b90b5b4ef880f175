/**
 * `flowhose ddl`: the Athena table over what `convert` writes with the same output options. The convert
 * options are read exactly as convert reads them (the same table, the same checks), so the DDL cannot
 * describe a layout that convert would not write; `--manifest` here names a manifest to read the earliest
 * partition from, for the projection's first year.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DEFAULT_FORMAT, parseLogFormat } from '../core/log-format.js';
import { athenaDdl, type DdlOptions, glueNote } from '../object/athena-ddl.js';
import { layoutOf } from '../run/plan.js';
import { createConfig } from './config.js';
import type { RawConvertOptions } from './options.js';
import { UsageError } from './usage-error.js';

export interface RawDdlOptions extends Omit<RawConvertOptions, 'inputs'> {
  table?: string;
  projectionRange?: string;
}

/** How many years past the first the projection covers when --projection-range gives no end. */
export const DEFAULT_PROJECTION_YEARS = 10;

const YEAR = /^(\d{4})(?:-\d{2}(?:-\d{2})?)?$/;

/** `2020`, `2020-02-01`, `2020,2030`: the years partition projection covers. */
export function parseProjectionRange(text: string, now: Date): [number, number] {
  const [from, to, extra] = text.split(',').map((part) => part.trim());
  const first = YEAR.exec(from ?? '');
  const last = to === undefined ? undefined : YEAR.exec(to);
  if (!first || extra !== undefined || last === null) {
    throw new UsageError(
      `--projection-range must be a first year or date, and optionally a last (2020, 2020-02-01 or 2020,2035), got "${text}"`,
    );
  }
  const start = Number(first[1]);
  const end = last ? Number(last[1]) : Math.max(start, now.getUTCFullYear()) + DEFAULT_PROJECTION_YEARS;
  if (end < start) throw new UsageError(`--projection-range ends (${end}) before it starts (${start})`);
  return [start, end];
}

/** The earliest `year=` among the outputs a manifest lists (a line at a time: manifests grow large). */
export async function earliestYear(manifest: string): Promise<number | undefined> {
  let earliest: number | undefined;
  const lines = createInterface({ input: createReadStream(manifest), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (!line.includes('year=')) continue;
    let parsed: { outputs?: unknown };
    try {
      parsed = JSON.parse(line) as { outputs?: unknown };
    } catch {
      continue; // a line torn by a killed run
    }
    if (!Array.isArray(parsed.outputs)) continue;
    for (const output of parsed.outputs) {
      const year = typeof output === 'string' ? /\/year=(\d{4})\//.exec(output) : null;
      if (year && (earliest === undefined || Number(year[1]) < earliest)) earliest = Number(year[1]);
    }
  }
  return earliest;
}

export async function createDdl(raw: RawDdlOptions, now = new Date()): Promise<string> {
  const { table = 'vpc_flow_logs', projectionRange, ...convert } = raw;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table))
    throw new UsageError(`--table must be a table name (letters, digits, _), got "${table}"`);
  // The inputs do not matter to what is written; one stands in so that convert's checks apply.
  const config = createConfig({ ...convert, inputs: ['ddl'] } as RawConvertOptions);
  if (config.to === '-') throw new UsageError('ddl needs --to DIR or s3://bucket/prefix: the table LOCATION');
  const {
    relative: _,
    rejects: __,
    ...layout
  } = layoutOf({ source: { kind: 'stdin' }, relative: 'ddl' }, config);
  const partitioned = layout.partition !== undefined || layout.aws !== undefined;
  let years: [number, number] = [now.getUTCFullYear(), now.getUTCFullYear()];
  if (projectionRange !== undefined) years = parseProjectionRange(projectionRange, now);
  else if (config.manifest !== undefined) {
    const first = await earliestYear(config.manifest).catch((error: Error) => {
      throw new UsageError(`cannot read --manifest ${config.manifest}: ${error.message}`);
    });
    if (first === undefined)
      throw new UsageError(
        `--manifest ${config.manifest} lists no partitioned output: give --projection-range`,
      );
    years = parseProjectionRange(String(first), now);
  } else if (partitioned) {
    throw new UsageError(
      'a partitioned table needs the years to project: give --projection-range FIRST[,LAST] or the --manifest of the conversion',
    );
  }
  const options: DdlOptions = {
    layout,
    format: config.task.logFormat ? parseLogFormat(config.task.logFormat) : DEFAULT_FORMAT,
    table,
    years,
  };
  return athenaDdl(options) + glueNote(options);
}
