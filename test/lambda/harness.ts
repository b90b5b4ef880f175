/**
 * What the Lambda tests share: one s3rver per test file (test/s3/server.ts), credentials in process.env for the
 * handler (it runs in-process and the SDK reads them there), AWS's documented event fixtures, the built CLI for
 * side-by-side outputs, and small S3 helpers over the real SDK.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { generateObject, type ObjectOptions } from '../../src/gen/corpus.js';
import type { S3TestServer } from '../s3/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'flowhose.cjs');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'lambda');

export const fixture = <T = Record<string, unknown>>(name: string): T =>
  JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;

/** The credentials the in-process handler's SDK finds; returns how to put process.env back. */
export function useServerCredentials(s3: S3TestServer): () => void {
  const saved = Object.fromEntries(Object.keys(s3.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, s3.env);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Tiny Firehose objects, distinct per seed. */
export const firehose = (seed: number, extra: Partial<ObjectOptions> = {}) =>
  generateObject({ seed, targetBytes: 1500, eventsMin: 2, eventsMax: 6, ...extra });

/** Neither gzip nor JSON: fails as one object, never as the batch. */
export const CORRUPT = Buffer.from('\x7fthis is not a Firehose object\n');

export async function put(s3: S3TestServer, bucket: string, key: string, body: Buffer): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export interface Listed {
  Key: string;
  Etag: string;
  Size: number;
  LastModified: number;
}

/** ListObjectsV2 as Step Functions' ItemReader turns it into items (LastModified in epoch seconds). */
export async function listItems(s3: S3TestServer, bucket: string, prefix: string): Promise<Listed[]> {
  const items: Listed[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3.client, pageSize: 1000 },
    { Bucket: bucket, Prefix: prefix },
  )) {
    for (const o of page.Contents ?? []) {
      items.push({
        Key: o.Key!,
        Etag: o.ETag!,
        Size: o.Size!,
        LastModified: Math.floor(o.LastModified!.getTime() / 1000),
      });
    }
  }
  return items;
}

export async function getBytes(s3: S3TestServer, bucket: string, key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/** Every object below a prefix: key (relative to the prefix) → bytes. */
export async function snapshot(
  s3: S3TestServer,
  bucket: string,
  prefix: string,
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const item of await listItems(s3, bucket, prefix))
    out.set(item.Key.slice(prefix.length), await getBytes(s3, bucket, item.Key));
  return out;
}

/** `node bin/flowhose.cjs convert …` against the server. */
export function cli(s3: S3TestServer, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'convert', ...args, '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...s3.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** A Lambda context with a fixed amount of time left, or a sequence of answers (the last one repeats). */
export function timeLeft(...ms: number[]) {
  let call = 0;
  return { getRemainingTimeInMillis: () => ms[Math.min(call++, ms.length - 1)]! };
}

/** S3's key encoding in notifications: form-style, `+` for a space, `/` left alone. */
export const notificationKey = (key: string): string =>
  key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
