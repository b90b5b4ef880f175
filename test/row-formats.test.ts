import { describe, expect, it } from 'vitest';
import { createCsvEncoder } from '../src/core/csv-encoder.js';
import { createNdjsonEncoder } from '../src/core/ndjson-encoder.js';
import { isLayoutName, outputName } from '../src/object/layout.js';
import { COMPRESSIONS, zstdAvailable } from '../src/streams/codecs.js';
import { defaultParquetCompression } from '../src/streams/parquet-encoder.js';
import {
  compressionProblem,
  FORMAT_COMPRESSIONS,
  fileCodecOf,
  ROW_FORMAT_NAMES,
  ROW_FORMATS,
  type RowFormat,
  rowFormatNamed,
  stdoutProblem,
} from '../src/streams/row-formats.js';

const settings = { compression: 'gzip', gzipLevel: 6, zstdLevel: 1 } as const;
const gzip6 = { compression: 'gzip', gzipLevel: 6, parallelGzip: 0 } as const;

/** A format that compresses inside its file and takes only zstd and none, as a Parquet entry might. */
const SELF_COMPRESSING: RowFormat = {
  name: 'csv',
  extension: '.sealed',
  contentType: 'application/x-sealed',
  describe: 'sealed',
  compressions: ['zstd', 'none'],
  defaultCompression: 'zstd',
  compressesInside: true,
  encoder: async () => createCsvEncoder,
};

describe('the row-format registry', () => {
  it('holds csv, ndjson and parquet, each with its extension, Content-Type, compressions and encoder', async () => {
    expect(ROW_FORMAT_NAMES).toEqual(['csv', 'ndjson', 'parquet']);
    expect(ROW_FORMATS.csv).toMatchObject({
      extension: '.csv',
      contentType: 'text/csv; charset=utf-8',
      compressions: ['gzip', 'zstd', 'none'],
      defaultCompression: 'gzip',
      compressesInside: false,
    });
    expect(ROW_FORMATS.ndjson).toMatchObject({
      extension: '.json',
      contentType: 'application/x-ndjson',
      compressions: ['gzip', 'zstd', 'none'],
      defaultCompression: 'gzip',
      compressesInside: false,
    });
    expect(await ROW_FORMATS.csv.encoder(settings)).toBe(createCsvEncoder);
    expect(await ROW_FORMATS.ndjson.encoder(settings)).toBe(createNdjsonEncoder);
    expect(ROW_FORMATS.parquet).toMatchObject({
      extension: '.parquet',
      contentType: 'application/vnd.apache.parquet',
      compressions: ['zstd', 'gzip', 'snappy', 'none'],
      defaultCompression: zstdAvailable() ? 'zstd' : 'gzip',
      compressesInside: true,
    });
    expect(ROW_FORMATS.parquet.defaultCompression).toBe(defaultParquetCompression());
    expect(FORMAT_COMPRESSIONS).toEqual(COMPRESSIONS);
    // README's format table lists each format's compressions default first; Parquet's default falls
    // back to the second, gzip, where node:zlib has no zstd (Node 20).
    for (const name of ROW_FORMAT_NAMES) {
      const fallback = name === 'parquet' && !zstdAvailable();
      expect(ROW_FORMATS[name].compressions[fallback ? 1 : 0], name).toBe(
        ROW_FORMATS[name].defaultCompression,
      );
    }
  });

  it('looks a name up, and refuses one it does not hold (not even an Object key)', () => {
    expect(rowFormatNamed('ndjson')).toBe(ROW_FORMATS.ndjson);
    expect(rowFormatNamed('parquet')).toBe(ROW_FORMATS.parquet);
    expect(() => rowFormatNamed('orc' as never)).toThrow('unknown row format "orc"');
    expect(() => rowFormatNamed('toString' as never)).toThrow('unknown row format "toString"');
  });

  it('says which compressions a format does not take', () => {
    expect(compressionProblem(ROW_FORMATS.ndjson, 'zstd')).toBeUndefined();
    expect(compressionProblem(SELF_COMPRESSING, 'none')).toBeUndefined();
    expect(compressionProblem(SELF_COMPRESSING, 'gzip')).toBe('csv output takes zstd or none');
    expect(compressionProblem({ ...SELF_COMPRESSING, compressions: ['zstd'] }, 'gzip')).toBe(
      'csv output takes zstd',
    );
    expect(
      compressionProblem({ ...ROW_FORMATS.csv, compressions: ['none', 'zstd', 'gzip'] }, 'x' as never),
    ).toBe('csv output takes none, zstd or gzip');
  });

  it('a format that cannot stream names why --to - is refused; the text formats stream', () => {
    for (const name of ROW_FORMAT_NAMES) expect(stdoutProblem(ROW_FORMATS[name])).toBeUndefined();
    expect(stdoutProblem({ ...SELF_COMPRESSING, notStreamable: 'its writer seeks back to the footer' })).toBe(
      '--output-format csv cannot be written to standard output (--to -): its writer seeks back to the footer',
    );
  });

  it('a text format is compressed by the file codec; a self-compressing one always writes codec none', () => {
    expect(fileCodecOf(ROW_FORMATS.ndjson, gzip6)).toBe('gzip');
    expect(fileCodecOf(ROW_FORMATS.ndjson, { ...gzip6, parallelGzip: 4 })).toBe('parallel-gzip');
    expect(fileCodecOf(ROW_FORMATS.ndjson, { ...gzip6, compression: 'zstd' })).toBe('zstd');
    expect(fileCodecOf(ROW_FORMATS.csv, { ...gzip6, gzipLevel: 0 })).toBe('none');
    expect(fileCodecOf(SELF_COMPRESSING, { ...gzip6, compression: 'zstd' })).toBe('none');
    expect(fileCodecOf(SELF_COMPRESSING, gzip6)).toBe('none');
  });

  it('every name a format and codec give is a layout name', () => {
    for (const format of ROW_FORMAT_NAMES) {
      // A format that compresses inside its file is only ever written with the file codec none.
      const codecs = ROW_FORMATS[format].compressesInside
        ? (['none'] as const)
        : (['none', 'gzip', 'parallel-gzip', 'zstd'] as const);
      for (const codec of codecs) {
        const name = outputName('a/obj.gz', codec, format);
        expect(isLayoutName(name), name).toBe(true);
      }
    }
  });
});
