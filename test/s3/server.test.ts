/**
 * Smoke test of the S3 test harness (./server.ts): a real s3rver in a child process, driven through the real
 * AWS SDK v3. Also pins down the s3rver 3.7.1 quirks that other integration tests have to live with.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from './server.js';

const BUCKET = 'smoke';
const MiB = 1024 * 1024;

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function listKeys(s3: S3TestServer, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3.client }, { Bucket: BUCKET, Prefix: prefix })) {
    for (const o of page.Contents ?? []) keys.push(o.Key!);
  }
  return keys;
}

describe('startS3Server', () => {
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: [BUCKET] });
  });
  afterAll(async () => {
    await s3?.destroy();
  });

  it('listens on loopback and exposes a matching client and CLI environment', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.running).toBe(true);
    expect(s3.env).toEqual({
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    });
    expect(await s3.client.config.maxAttempts()).toBe(1);
    expect(s3.client.config.forcePathStyle).toBe(true);
    expect(await s3.client.config.region()).toBe('us-east-1');
    expect(await readdir(s3.dir)).toContain(BUCKET);
  });

  it('round-trips PutObject/GetObject with user metadata', async () => {
    const Key = 'meta/object.csv.gz';
    const put = await s3.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key,
        Body: 'hello, s3rver\n',
        ContentType: 'text/csv',
        Metadata: { 'flowhose-source-etag': '"abc"' },
      }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);

    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    expect(head.Metadata).toEqual({ 'flowhose-source-etag': '"abc"' });
    expect(head.ContentLength).toBe(14);
    expect(head.ETag).toBe(put.ETag);

    const get = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(await get.Body!.transformToString()).toBe('hello, s3rver\n');
    expect(get.ContentType).toBe('text/csv');
    expect(get.Metadata).toEqual({ 'flowhose-source-etag': '"abc"' });
  });

  it('paginates ListObjectsV2 over 1,005 keys in lexicographic order (DES continuation tokens work)', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${i}.csv.gz`);
    await mapLimit(keys, 50, (Key) =>
      s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key })),
    );
    const expected = [...keys].sort();

    const pages: number[] = [];
    const listed: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3.client, pageSize: 1000 },
      { Bucket: BUCKET, Prefix: 'many/' },
    )) {
      pages.push(page.KeyCount ?? 0);
      for (const o of page.Contents ?? []) listed.push(o.Key!);
    }
    expect(pages).toEqual([1000, 5]);
    expect(listed).toEqual(expected);

    // MaxKeys smaller than the key count: three truncated pages, each token decrypted by the server.
    const small: number[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3.client, pageSize: 400 },
      { Bucket: BUCKET, Prefix: 'many/' },
    )) {
      small.push(page.Contents?.length ?? 0);
    }
    expect(small).toEqual([400, 400, 205]);
  });

  it('completes a 12 MiB multipart Upload with metadata (quirk: plain MD5 ETag)', async () => {
    const Key = 'big/twelve.bin';
    const body = Buffer.alloc(12 * MiB, 7);
    const parts: number[] = [];
    const upload = new Upload({
      client: s3.client,
      partSize: 5 * MiB,
      params: { Bucket: BUCKET, Key, Body: body, Metadata: { 'flowhose-source-etag': '"big"' } },
    });
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) parts.push(p.part);
    });
    const done = await upload.done();
    expect(done.Key).toBe(Key);
    expect(parts.sort()).toEqual([1, 2, 3]);

    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    expect(head.ContentLength).toBe(12 * MiB);
    // Quirk: real S3 gives a multipart object the ETag "<md5 of the part MD5s>-3"; s3rver gives the MD5 of
    // the whole content, in the CompleteMultipartUpload answer and afterwards.
    const md5 = `"${createHash('md5').update(body).digest('hex')}"`;
    expect(done.ETag).toBe(md5);
    expect(head.ETag).toBe(md5);
    expect(head.Metadata).toEqual({ 'flowhose-source-etag': '"big"' });
  });

  it('leaves no object behind when an Upload is aborted mid-stream', async () => {
    const Key = 'aborted/stream.bin';
    const body = new PassThrough();
    const upload = new Upload({
      client: s3.client,
      partSize: 5 * MiB,
      params: { Bucket: BUCKET, Key, Body: body },
    });
    const done = upload.done();
    done.catch(() => {}); // asserted below

    // Keep feeding the stream (respecting backpressure) until the first part has reached the server.
    const stopWriting = new AbortController();
    const chunk = Buffer.alloc(256 * 1024, 1);
    const writer = (async () => {
      while (!stopWriting.signal.aborted) {
        if (!body.write(chunk)) await once(body, 'drain', { signal: stopWriting.signal });
      }
    })().catch((err) => {
      if (!stopWriting.signal.aborted) throw err;
    });
    await new Promise<void>((resolve) => upload.on('httpUploadProgress', () => resolve()));

    await upload.abort();
    stopWriting.abort();
    await writer;
    body.end(); // lets lib-storage's part reader finish; it sees the abort and uploads nothing more

    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    await expect(s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }))).rejects.toMatchObject({
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    });
    expect(await listKeys(s3, 'aborted/')).toEqual([]);
  });

  it('quirk: multipart uploads can be neither listed nor aborted', async () => {
    const Key = 'quirk/mpu.bin';
    const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    expect(UploadId).toMatch(/^[0-9a-f]{32}$/);

    await expect(s3.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).rejects.toMatchObject({
      name: 'NotImplemented',
      $metadata: { httpStatusCode: 501 },
    });
    await expect(
      s3.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId })),
    ).rejects.toMatchObject({ name: 'MethodNotAllowed', $metadata: { httpStatusCode: 405 } });
    // The upload's directory stays in the data directory; it is never listed as an object.
    expect(await readdir(join(s3.dir, BUCKET, '._S3rver_uploads'))).toContain(UploadId);
    expect(await listKeys(s3, 'quirk/')).toEqual([]);
  });

  it('quirk: GetObject/HeadObject ignore If-Match (200, not 412); If-None-Match works (304)', async () => {
    const Key = 'cond/object.txt';
    const { ETag } = await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'v1' }));

    // Real S3 answers 412 PreconditionFailed here; s3rver 3.7.1 serves the object.
    const get = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key, IfMatch: '"wrong"' }));
    expect(get.$metadata.httpStatusCode).toBe(200);
    expect(await get.Body!.transformToString()).toBe('v1');
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key, IfMatch: '"wrong"' }));
    expect(head.$metadata.httpStatusCode).toBe(200);

    await expect(
      s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key, IfNoneMatch: ETag })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 304 } });
  });

  it('records every request it receives: method, decoded path, bucket/key, raw query, status', async () => {
    const since = await s3.mark();
    const Key = 'log/a b+c.txt';
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
    await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'log/missing' })).catch(() => {});
    await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'log/' }));
    await s3.syncRequests();
    const seen = s3.requests.slice(since);
    expect(seen.map((r) => [r.method, r.path, r.bucket, r.key, r.status])).toEqual([
      ['PUT', `/${BUCKET}/${Key}`, BUCKET, Key, 200],
      ['HEAD', `/${BUCKET}/log/missing`, BUCKET, 'log/missing', 404],
      ['GET', `/${BUCKET}/`, BUCKET, '', 200],
    ]);
    expect(seen[2]!.params.get('list-type')).toBe('2');
    expect(seen[2]!.params.get('prefix')).toBe('log/');
    expect(seen[2]!.query).toContain('list-type=2');
    expect(seen.map((r) => r.seq)).toEqual([since, since + 1, since + 2]);
  });

  it('waitForRequest resolves as a later request is reported, can wait for its answer, and times out clearly', async () => {
    const since = await s3.mark();
    const Key = 'wait/later.txt';
    const arrived = s3.waitForRequest((r) => r.method === 'PUT' && r.key === Key, 10_000, since);
    const answered = s3.waitForRequest((r) => r.key === Key && r.status === 200, 10_000, since);
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'later' }));
    const request = await arrived;
    expect(request).toMatchObject({ method: 'PUT', bucket: BUCKET, key: Key });
    expect(await answered).toBe(request);
    // Already seen requests count unless `since` excludes them.
    expect(await s3.waitForRequest((r) => r.key === Key)).toBe(request);
    await expect(s3.waitForRequest((r) => r.key === Key, 50, s3.requests.length)).rejects.toThrow(
      /waitForRequest: no matching request within 50 ms/,
    );
  });

  it('multipartLedger pairs each CreateMultipartUpload with its Complete or Abort request', async () => {
    const create = async (Key: string) =>
      (await s3.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }))).UploadId!;
    const completedId = await create('ledger/completed.bin');
    const part = await s3.client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'ledger/completed.bin',
        UploadId: completedId,
        PartNumber: 1,
        Body: 'one small last part',
      }),
    );
    await s3.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'ledger/completed.bin',
        UploadId: completedId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const abortedId = await create('ledger/aborted.bin');
    await s3.client
      .send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'ledger/aborted.bin', UploadId: abortedId }),
      )
      .catch(() => {}); // 405 from s3rver: the request is what counts
    const openId = await create('ledger/open.bin');
    await s3.syncRequests();

    const ledger = s3.multipartLedger();
    const mine = ledger.uploads.filter((u) => u.key.startsWith('ledger/'));
    expect(mine.map((u) => [u.key, u.uploadId, u.state])).toEqual([
      ['ledger/completed.bin', completedId, 'completed'],
      ['ledger/aborted.bin', abortedId, 'aborted'],
      ['ledger/open.bin', openId, 'open'],
    ]);
    expect(mine[1]!.aborts.map((r) => r.status)).toEqual([405]);
    expect(ledger.open.filter((u) => u.key.startsWith('ledger/')).map((u) => u.uploadId)).toEqual([openId]);
  });

  it('stop() refuses connections; restart() brings the same data back on the same endpoint', async () => {
    const Key = 'restart/kept.txt';
    await s3.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'survives', Metadata: { a: 'b' } }),
    );
    const endpoint = s3.endpoint;

    await s3.stop();
    expect(s3.running).toBe(false);
    await expect(s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }))).rejects.toMatchObject({
      code: 'ECONNREFUSED',
      $metadata: { attempts: 1 },
    });
    await s3.stop(); // idempotent

    await s3.restart();
    expect(s3.running).toBe(true);
    expect(s3.endpoint).toBe(endpoint);
    const since = await s3.mark();
    const get = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    // The request log goes on across restarts.
    expect(await s3.waitForRequest((r) => r.method === 'GET' && r.key === Key, 5_000, since)).toMatchObject({
      bucket: BUCKET,
    });
    expect(await get.Body!.transformToString()).toBe('survives');
    expect(get.Metadata).toEqual({ a: 'b' });
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/' }));
    expect(listed.KeyCount).toBe(1000);
    expect(listed.IsTruncated).toBe(true);

    await s3.restart(); // while running: stops first
    expect((await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }))).ContentLength).toBe(8);
  });

  it('stop() removes objects s3rver left half-written (real S3 never shows a torn write)', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'torn/whole', Body: 'whole' }));
    // What a PUT cut off by the stop leaves: a body without .md5/metadata, or a body that is not the stored MD5's.
    const dir = join(s3.dir, BUCKET, 'torn');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'no-metadata._S3rver_object'), 'half a bo');
    await writeFile(join(dir, 'bad-md5._S3rver_object'), 'half');
    await writeFile(
      join(dir, 'bad-md5._S3rver_object.md5'),
      createHash('md5').update('whole body').digest('hex'),
    );
    await writeFile(join(dir, 'bad-md5._S3rver_metadata.json'), '{"content-type":"text/plain"}');
    await writeFile(join(dir, 'bad-json._S3rver_object'), 'x');
    await writeFile(join(dir, 'bad-json._S3rver_object.md5'), createHash('md5').update('x').digest('hex'));
    await writeFile(join(dir, 'bad-json._S3rver_metadata.json'), '{"content-ty');

    await s3.stop();
    expect([...s3.tornWrites].sort()).toEqual([
      `${BUCKET}/torn/bad-json`,
      `${BUCKET}/torn/bad-md5`,
      `${BUCKET}/torn/no-metadata`,
    ]);
    await s3.restart();
    expect(await listKeys(s3, 'torn/')).toEqual(['torn/whole']);
    await expect(
      s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'torn/no-metadata' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('reports a startup failure with the child stderr', async () => {
    await s3.stop();
    const port = Number(new URL(s3.endpoint).port);
    const squatter = createServer();
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(port, '127.0.0.1', resolve);
    });
    try {
      await expect(s3.restart()).rejects.toThrow(/exited before listening[\s\S]*EADDRINUSE/);
      expect(s3.running).toBe(false);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    await s3.restart();
    expect(await listKeys(s3, 'restart/')).toEqual(['restart/kept.txt']);
  });
});
