/**
 * `flowhose ddl` against a real SQL engine: DuckDB reads the tree convert wrote, with Hive partitioning and
 * the column types of the printed DDL (translated mechanically from its text, not written here), and the
 * counts, byte and packet sums and rows per hour equal those of the unpartitioned output of the same corpus.
 * The DDL's statement is also checked by a parser of the Hive dialect (dt-sql-parser).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { HiveSQL } from 'dt-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDdl, earliestYear, parseProjectionRange } from '../src/cli/ddl.js';
import { generateObject } from '../src/gen/corpus.js';
import { runFlowhose } from './helpers.js';

let tmp: string;
let input: string;
let db: Awaited<ReturnType<typeof DuckDBInstance.create>>;

/** Objects (about 10 s of flow time each) that start just before an hour and run past it; one crosses a day. */
const STARTS = [
  Date.UTC(2020, 0, 31, 23, 59, 55),
  Date.UTC(2020, 1, 1, 0, 59, 55),
  Date.UTC(2020, 1, 1, 5, 59, 57),
];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowhose-ddl-'));
  input = join(tmp, 'in');
  for (const [i, startMs] of STARTS.entries()) {
    const dir = join(input, 'fh', String(i));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `obj-${i}.gz`), generateObject({ seed: 7 + i, targetBytes: 600_000, startMs }));
  }
  db = await DuckDBInstance.create(':memory:');
}, 60_000);
afterAll(async () => {
  db?.closeSync();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const connection = await db.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
  }
}

async function convert(to: string, args: string[], manifest?: string): Promise<void> {
  const run = await runFlowhose([
    'convert',
    input,
    '--to',
    to,
    '--quiet',
    ...args,
    ...(manifest ? ['--manifest', manifest] : []),
  ]);
  expect(run.code, run.stderr).toBe(0);
}

const DUCKDB_TYPES: Record<string, string> = {
  int: 'INTEGER',
  bigint: 'BIGINT',
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
};

/** The data columns of a CREATE TABLE (between its first `(` and `)`), as DuckDB types in DDL order. */
function columnsOfDdl(ddl: string): [string, string][] {
  const body = ddl.slice(ddl.indexOf('(\n') + 2, ddl.indexOf('\n)'));
  return body.split(',\n').map((line) => {
    const match = /^\s*`([^`]+)` (\w+)$/.exec(line);
    if (!match) throw new Error(`not a column line: ${line}`);
    const type = DUCKDB_TYPES[match[2]!];
    if (!type) throw new Error(`no DuckDB type for ${match[2]}`);
    return [match[1]!, type];
  });
}

/** The partition columns of PARTITIONED BY, in order. */
function partitionsOfDdl(ddl: string): string[] {
  const at = ddl.indexOf('PARTITIONED BY (\n');
  if (at < 0) return [];
  const body = ddl.slice(at + 'PARTITIONED BY (\n'.length, ddl.indexOf('\n)', at));
  return body.split(',\n').map((line) => /`([^`]+)`/.exec(line)![1]!);
}

/**
 * DuckDB's reader of one output format with the DDL's columns: text formats are read as those types; a
 * Parquet file carries its own, which must be the DDL's (checked), selected by name.
 */
const readerOf = (format: Format, glob: string, columns: [string, string][], hive: boolean) =>
  format === 'csv'
    ? readCsv(glob, columns, hive)
    : format === 'ndjson'
      ? `read_json('${glob}', format = 'newline_delimited', ` +
        `columns = {${columns.map(([n, t]) => `'${n}': '${t}'`).join(', ')}}, hive_partitioning = ${hive})`
      : `read_parquet('${glob}', hive_partitioning = ${hive})`;

type Format = 'csv' | 'ndjson' | 'parquet';
const EXTENSIONS: Record<Format, string> = { csv: 'csv.gz', ndjson: 'json.gz', parquet: 'parquet' };

/** A Parquet tree's column types (DuckDB's reading of the files) against the DDL's, translated. */
async function expectParquetTypes(glob: string, columns: [string, string][]): Promise<void> {
  const described = await query(`DESCRIBE SELECT * FROM read_parquet('${glob}')`);
  const types = new Map(described.map((row) => [row.column_name as string, row.column_type as string]));
  for (const [name, type] of columns) {
    expect([name, types.get(name)?.replace(' WITH TIME ZONE', '')]).toEqual([name, type]);
  }
}

const readCsv = (glob: string, columns: [string, string][], hive: boolean) =>
  `read_csv('${glob}', header = true, auto_detect = false, delim = ',', quote = '"', ` +
  `columns = {${columns.map(([n, t]) => `'${n}': '${t}'`).join(', ')}}, hive_partitioning = ${hive})`;

/** What both trees must agree on: rows, bytes, packets, and rows per hour of the flow's start. */
async function summary(from: string, hourOf: string) {
  const [totals] = await query(`SELECT count(*) AS n, sum(bytes) AS b, sum(packets) AS p FROM ${from}`);
  const hours = await query(`SELECT ${hourOf} AS h, count(*) AS n FROM ${from} GROUP BY h ORDER BY h`);
  return { totals, hours };
}

let baseline: Awaited<ReturnType<typeof summary>>;

describe('the DDL reads what convert wrote', () => {
  beforeAll(async () => {
    const plain = join(tmp, 'plain');
    await convert(plain, []);
    const ddl = await createDdl({ to: plain });
    expect(partitionsOfDdl(ddl)).toEqual([]);
    baseline = await summary(
      readCsv(`${plain}/**/*.csv.gz`, columnsOfDdl(ddl), false),
      "strftime(to_timestamp(start), '%Y-%m-%d %H')",
    );
    expect(baseline.hours.length).toBe(5); // the corpus does cross hours
    expect(Number(baseline.totals!.n)).toBeGreaterThan(1000);
  }, 120_000);

  const LAYOUTS: ReadonlyArray<readonly [string, readonly string[], readonly string[]]> = [
    ['--partition hour', ['--partition', 'hour'], ['year', 'month', 'day', 'hour']],
    ['--partition day', ['--partition', 'day'], ['year', 'month', 'day']],
    [
      '--layout aws',
      ['--layout', 'aws', '--aws-region-label', 'us-east-1'],
      ['aws-account-id', 'aws-service', 'aws-region', 'year', 'month', 'day', 'hour'],
    ],
  ];
  for (const format of ['csv', 'ndjson', 'parquet'] as const) {
    const extension = EXTENSIONS[format];
    if (format !== 'csv') {
      it(`${format}, unpartitioned: the same counts as CSV`, async () => {
        const to = join(tmp, `plain-${format}`);
        await convert(to, ['--output-format', format]);
        const ddl = await createDdl({ to, outputFormat: format });
        if (format === 'parquet') await expectParquetTypes(`${to}/**/*.${extension}`, columnsOfDdl(ddl));
        const got = await summary(
          readerOf(format, `${to}/**/*.${extension}`, columnsOfDdl(ddl), false),
          "strftime(to_timestamp(start), '%Y-%m-%d %H')",
        );
        expect(got).toEqual(baseline);
      }, 120_000);
    }
    for (const [name, args, partitions] of LAYOUTS) {
      it(`${format}, ${name}: counts, sums and rows per hour equal the unpartitioned CSV's`, async () => {
        const slug = `${format}-${name.replace(/\W+/g, '-')}`;
        const to = join(tmp, slug);
        const manifest = join(tmp, `${slug}.jsonl`);
        const formatArgs = ['--output-format', format];
        await convert(to, [...args, ...formatArgs], manifest);
        const ddl = await createDdl(
          { to, manifest, ...rawOf([...args, ...formatArgs]) },
          new Date(Date.UTC(2026, 0, 1)),
        );
        expect(ddl).toContain("'projection.year.range'='2020,2036'"); // from the manifest's earliest hour
        expect(partitionsOfDdl(ddl)).toEqual(partitions);
        const location = /LOCATION '([^']+)'/.exec(ddl)![1]!;
        const depth = partitions.map(() => '*').join('/');
        const from = readerOf(format, `${location}${depth}/*.${extension}`, columnsOfDdl(ddl), true);
        if (format === 'parquet')
          await expectParquetTypes(`${location}${depth}/*.${extension}`, columnsOfDdl(ddl));
        const hourOf = partitions.includes('hour')
          ? "year || '-' || month || '-' || day || ' ' || hour"
          : "strftime(to_timestamp(start), '%Y-%m-%d %H')";
        expect(await summary(from, hourOf)).toEqual(baseline);
        if (!partitions.includes('hour')) {
          // By day, the day partitions hold exactly the rows of their days.
          const days = await query(
            `SELECT count(*) AS n FROM ${from} WHERE strftime(to_timestamp(start), '%Y-%m-%d') <> year || '-' || month || '-' || day`,
          );
          expect(days).toEqual([{ n: '0' }]);
        }
        if (partitions.includes('aws-region')) {
          const regions = await query(`SELECT DISTINCT "aws-region" AS r, "aws-service" AS s FROM ${from}`);
          expect(regions).toEqual([{ r: 'us-east-1', s: 'vpcflowlogs' }]);
          const accounts = await query(
            `SELECT count(*) AS n FROM ${from} WHERE "aws-account-id" <> account_id`,
          );
          expect(accounts).toEqual([{ n: '0' }]);
        }
      }, 120_000);
    }
  }
});

/** convert's options as the ddl handler gets them, from the same args. */
function rawOf(args: readonly string[]): Record<string, string> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    raw[args[i]!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = args[i + 1]!;
  }
  return raw;
}

describe('ddl options', () => {
  const now = new Date(Date.UTC(2026, 5, 1));
  it('--projection-range: a year or date, and optionally the last year', () => {
    expect(parseProjectionRange('2020', now)).toEqual([2020, 2036]);
    expect(parseProjectionRange('2019-02-01', now)).toEqual([2019, 2036]);
    expect(parseProjectionRange('2019,2021', now)).toEqual([2019, 2021]);
    expect(() => parseProjectionRange('19', now)).toThrow('--projection-range must be');
    expect(() => parseProjectionRange('2021,2019', now)).toThrow('ends (2019) before it starts (2021)');
  });

  it('a partitioned table needs its years; a table name must be a name', async () => {
    await expect(createDdl({ to: 's3://b/p', partition: 'hour' })).rejects.toThrow('--projection-range');
    await expect(createDdl({ to: 's3://b/p', table: 'x; DROP' })).rejects.toThrow('--table must be');
    await expect(createDdl({ to: '-' })).rejects.toThrow('--to');
  });

  it('the earliest year of a manifest, torn lines and unpartitioned outputs skipped', async () => {
    const manifest = join(tmp, 'm.jsonl');
    await writeFile(
      manifest,
      [
        JSON.stringify({ outputs: ['s3://b/p/year=2021/month=01/day=01/x.csv.gz'] }),
        '{"outputs":["s3://b/p/year=1999/',
        JSON.stringify({ dest: 's3://b/p/x.csv.gz' }),
        JSON.stringify({
          outputs: ['s3://b/p/AWSLogs/aws-account-id=1/year=2019/month=12/day=31/hour=23/x.csv.gz'],
        }),
      ].join('\n'),
    );
    expect(await earliestYear(manifest)).toBe(2019);
  });

  it('CSV declares the event time as the text it is; projection and template follow the layout', async () => {
    const ddl = await createDdl(
      { to: 's3://b/flows', layout: 'aws', projectionRange: '2019,2030' },
      now,
    ).catch((error: Error) => error.message);
    expect(ddl).toContain('--aws-region-label'); // no region field in the default format
    const aws = await createDdl({
      to: 's3://b/flows',
      layout: 'aws',
      logFormat: '${version} ${account-id} ${region} ${start} ${end} ${bytes} ${packets}',
      projectionRange: '2019,2030',
    });
    expect(aws).toContain('  `timestamp` string,\n');
    expect(aws).toContain("LOCATION 's3://b/flows/AWSLogs/'");
    expect(aws).toContain("'projection.aws-region.type'='injected'");
    expect(aws).toContain("'projection.aws-account-id.type'='injected'");
    expect(aws).toContain(
      "'storage.location.template'='s3://b/flows/AWSLogs/aws-account-id=${aws-account-id}/aws-service=${aws-service}/aws-region=${aws-region}/year=${year}/month=${month}/day=${day}/hour=${hour}/'",
    );
  });
});

describe('the DDL is valid HiveQL (dt-sql-parser, the dialect of Athena DDL)', () => {
  const hive = new HiveSQL();
  const statement = (ddl: string) =>
    ddl
      .replace(/^--.*\n/gm, '')
      .trim()
      .replace(/;$/, '');

  it('the parser refuses a broken statement (so that its silence means something)', async () => {
    const ddl = statement(await createDdl({ to: 's3://b/p', partition: 'hour', projectionRange: '2020' }));
    expect(hive.validate(ddl)).toEqual([]);
    expect(hive.validate(ddl.replace('PARTITIONED BY (', 'PARTITIONED BY (('))).not.toEqual([]);
    expect(hive.validate(ddl.replace("LOCATION 's3", 'LOCATION s3'))).not.toEqual([]);
  });

  for (const raw of [
    { to: 's3://b/p' },
    { to: 's3://b/p', partition: 'day', projectionRange: '2020' },
    { to: 's3://b/p', outputFormat: 'ndjson', partition: 'hour', projectionRange: '2020' },
    { to: 's3://b/p', outputFormat: 'ndjson', compression: 'none' },
    {
      to: 's3://b/p',
      outputFormat: 'parquet',
      layout: 'aws',
      awsRegionLabel: 'us-east-1',
      projectionRange: '2019',
    },
    { to: 's3://b/p', partition: 'hour', compression: 'none', projectionRange: '2020,2022' },
    { to: 's3://b/p/', layout: 'aws', awsRegionLabel: 'eu-west-1', projectionRange: '2019' },
    {
      to: 's3://b/p',
      layout: 'aws',
      logFormat: '${version} ${account-id} ${region} ${start} ${end} ${bytes} ${packets} ${tcp-flags}',
      projectionRange: '2019',
      table: 'flows_v5',
    },
  ]) {
    it(JSON.stringify(raw), async () => {
      const ddl = await createDdl(raw);
      const sql = statement(ddl);
      expect(hive.validate(sql)).toEqual([]);
      const [table] = hive.getAllEntities(sql) ?? [];
      expect(table?.text).toBe(`\`${raw.table ?? 'vpc_flow_logs'}\``);
      const names = (table as unknown as { columns?: { text: string }[] }).columns?.map((c) => c.text);
      expect(names).toEqual([
        ...columnsOfDdl(ddl).map(([n]) => `\`${n}\``),
        ...partitionsOfDdl(ddl).map((n) => `\`${n}\``),
      ]);
    });
  }
});

describe('flowhose ddl on the command line', () => {
  it('prints the statement (exit 0); a partitioned table without its years is a usage error (exit 1)', async () => {
    const ok = await runFlowhose([
      'ddl',
      '--to',
      's3://b/p',
      '--partition',
      'hour',
      '--projection-range',
      '2020',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.toString()).toMatch(
      /^-- flowhose: csv \(gzip\) files under s3:\/\/b\/p\/, partitions projected for 2020-\d{4}\nCREATE EXTERNAL TABLE IF NOT EXISTS `vpc_flow_logs` \(/,
    );
    const bad = await runFlowhose(['ddl', '--to', 's3://b/p', '--partition', 'hour']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('give --projection-range FIRST[,LAST] or the --manifest of the conversion');
    const aws = await runFlowhose([
      'ddl',
      '--to',
      's3://b/p',
      '--layout',
      'aws',
      '--projection-range',
      '2020',
    ]);
    expect(aws.code).toBe(1);
    expect(aws.stderr).toContain('--aws-region-label');
  });
});
