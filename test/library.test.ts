import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { ConvertStream, generateObject, gunzipLayers, parseLogFormat } from '../src/index.js';

it('the library entry point composes into a pipeline (as a Lambda handler would)', async () => {
  const object = generateObject({ seed: 3, targetBytes: 50_000, doubleGzip: true });
  const chunks: Buffer[] = [];
  const convert = new ConvertStream({
    format: parseLogFormat(
      '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}',
    ),
  });
  await pipeline(
    Readable.from([object]),
    gunzipLayers(),
    convert,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  const csv = Buffer.concat(chunks).toString();
  expect(csv.split('\n')[0]).toMatch(/^timestamp,version,account-id,/);
  expect(convert.converter.stats.rows).toBe(csv.trimEnd().split('\n').length - 1);
  expect(gunzipSync(gunzipSync(object)).length).toBe(convert.converter.stats.bytes);
});
