import { createCsvEncoder } from '../core/csv-encoder.js';
import { createNdjsonEncoder } from '../core/ndjson-encoder.js';
import type { CreateRowEncoder } from '../core/row-encoder.js';
import { type CodecName, type Compression, chooseCodec, zstdAvailable } from './codecs.js';
import type { ParquetCompression } from './parquet-encoder.js';

/**
 * The output row formats (`--output-format`), one descriptor each, as codecs.ts has one per codec.
 * Everything else derives from this table: the option's choices and help, each format's default and
 * accepted `--compression`, output names and S3 Content-Types (object/layout.ts), which names a walk
 * leaves out, and the encoder a conversion writes with. Plain data (the name) crosses into workers.
 *
 * Adding a format is one entry here plus one encoder file:
 *  - `name`, `extension` (before the codec's: `.csv` + `.gz`), `contentType` (of an uncompressed file),
 *    `describe` (for --help);
 *  - `compressions` it takes (the first is listed first in messages) and `defaultCompression`; the
 *    `--compression` choices are the union over all formats, and a value a format does not take is a
 *    usage error naming both;
 *  - `compressesInside`: false for text, which the file codec compresses (gzip, zstd, none: codecs.ts);
 *    true for a format that compresses inside its own file (Parquet): its file codec is then always
 *    `none`, its name has no codec extension, and the compression reaches only its encoder;
 *  - `notStreamable` (optional): why the format cannot be written to standard output (a writer that must seek
 *    back, or hold the whole file); `--to -` is then a usage error saying so. Absent: it streams;
 *  - `encoder(settings)`: obtains the format's CreateRowEncoder (core/row-encoder.ts). It may be async,
 *    so an encoder built on a package lives outside src/core and is loaded with a dynamic import() only
 *    when its format is asked for: `encoder: async (s) => (await import('./parquet-encoder.js')).create(s)`.
 *    Pure core encoders are returned as they are. The encoder is then made once per object with the
 *    converter's onData and chunk size; it must hand on bytes only through onData, whole rows at a time.
 */
export type RowFormatName = 'csv' | 'ndjson' | 'parquet';

/** What an encoder may need besides onData and the chunk size: the compression options, as validated. */
export interface EncoderSettings {
  /** The `--compression` value; only a format that compresses inside its file reads it. */
  readonly compression: Compression;
  readonly gzipLevel: number;
  readonly zstdLevel: number;
}

export interface RowFormat {
  readonly name: RowFormatName;
  readonly extension: string;
  /** The S3 Content-Type of an output the file codec left uncompressed. */
  readonly contentType: string;
  /** One line for --help. */
  readonly describe: string;
  readonly compressions: readonly Compression[];
  readonly defaultCompression: Compression;
  readonly compressesInside: boolean;
  readonly notStreamable?: string;
  encoder(settings: EncoderSettings): CreateRowEncoder | Promise<CreateRowEncoder>;
}

/** The three codecs of a text format: gzip (the default, as before formats existed), zstd, none. */
const TEXT_COMPRESSIONS: readonly Compression[] = ['gzip', 'zstd', 'none'];

export const ROW_FORMATS: Readonly<Record<RowFormatName, RowFormat>> = {
  csv: {
    name: 'csv',
    extension: '.csv',
    contentType: 'text/csv; charset=utf-8',
    describe: 'csv (.csv.gz: AWS field names, the default)',
    compressions: TEXT_COMPRESSIONS,
    defaultCompression: 'gzip',
    compressesInside: false,
    encoder: () => createCsvEncoder,
  },
  ndjson: {
    name: 'ndjson',
    // `.json` is what Athena, Trino and Spark expect of JSON lines (`.json.gz`, `.json.zst` compressed).
    extension: '.json',
    contentType: 'application/x-ndjson',
    describe: 'ndjson (.json.gz: one typed JSON object per line, Parquet names)',
    compressions: TEXT_COMPRESSIONS,
    defaultCompression: 'gzip',
    compressesInside: false,
    encoder: () => createNdjsonEncoder,
  },
  parquet: {
    name: 'parquet',
    extension: '.parquet',
    // Registered with IANA in 2024.
    contentType: 'application/vnd.apache.parquet',
    describe: 'parquet (.parquet: typed columns as AWS delivers Parquet, compressed inside the file)',
    compressions: ['zstd', 'gzip', 'snappy', 'none'],
    // zstd where node:zlib has it; else gzip, the second listed (what AWS's own Parquet delivery uses,
    // and on Node 20 smaller than the writer's JavaScript snappy at about its CPU): parquet-encoder.ts.
    defaultCompression: zstdAvailable() ? 'zstd' : 'gzip',
    compressesInside: true,
    // hyparquet-writer (and its one dependency) is loaded only when Parquet is asked for.
    encoder: async (settings) =>
      (await import('./parquet-encoder.js')).createParquetEncoder({
        compression: settings.compression as ParquetCompression,
        ...(settings.compression === 'zstd' ? { level: settings.zstdLevel } : {}),
        ...(settings.compression === 'gzip' ? { level: settings.gzipLevel } : {}),
      }),
  },
};

export const ROW_FORMAT_NAMES = Object.keys(ROW_FORMATS) as RowFormatName[];

/** Every `--compression` value some format takes, in table order. */
export const FORMAT_COMPRESSIONS: readonly Compression[] = [
  ...new Set(Object.values(ROW_FORMATS).flatMap((f) => f.compressions)),
];

export function rowFormatNamed(name: RowFormatName): RowFormat {
  const format = Object.hasOwn(ROW_FORMATS, name) ? ROW_FORMATS[name] : undefined;
  if (!format) throw new Error(`unknown row format ${JSON.stringify(name)}`);
  return format;
}

/** Why `format` cannot be compressed with `compression`, or undefined when it can. */
export function compressionProblem(format: RowFormat, compression: Compression): string | undefined {
  if (format.compressions.includes(compression)) return undefined;
  return `${format.name} output takes ${listed(format.compressions)}`;
}

const listed = (values: readonly string[]): string =>
  values.length <= 2 ? values.join(' or ') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;

/** Why `format` cannot go to standard output, or undefined when it streams. */
export function stdoutProblem(format: RowFormat): string | undefined {
  return format.notStreamable === undefined
    ? undefined
    : `--output-format ${format.name} cannot be written to standard output (--to -): ${format.notStreamable}`;
}

/** The file codec of an output: text by the compression options, a self-compressing format none. */
export function fileCodecOf(
  format: RowFormat,
  options: { compression: Compression; gzipLevel: number; parallelGzip: number },
): CodecName {
  return format.compressesInside ? 'none' : chooseCodec(options).name;
}
