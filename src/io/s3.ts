import { PassThrough, type Readable } from 'node:stream';
import {
  type AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { forwardTo } from './forward.js';
import { DEFAULT_S3_TIMEOUT_SECONDS, type S3Location, type S3Settings } from './s3-url.js';
import type { ObjectSink } from './sink.js';
import { guardStalls } from './stall-guard.js';

interface ClientPair {
  /** Every request but GetObject. */
  client: S3Client;
  /** GetObject, whose body is guarded by guardStalls() rather than by a socket timeout. */
  bodies: S3Client;
  timeoutMs: number;
}

const clients = new Map<string, ClientPair>();
/** From the client s3Client() hands out to its pair, for openS3Source(). */
const pairs = new WeakMap<S3Client, ClientPair>();

/**
 * One client per settings per thread: connection pools and credentials are reused across objects.
 *
 * Every request has a timeout, so a dead or stalled endpoint fails as a retryable TimeoutError
 * instead of hanging: a connect timeout, and an idle-socket timeout (no byte either way), which
 * also ends an upload that stopped moving but never a slow one that moves. A GetObject body is
 * read at the pace of the conversion, and a paused body leaves its socket idle too, so GetObject
 * goes through a companion client whose timeout ends at the response headers, and its body is
 * watched by guardStalls(), which counts only the time the reader waits.
 */
export function s3Client(settings: S3Settings): S3Client {
  const key = JSON.stringify(settings);
  let pair = clients.get(key);
  if (!pair) {
    const timeoutMs = Math.round((settings.timeoutSeconds ?? DEFAULT_S3_TIMEOUT_SECONDS) * 1000);
    const config: S3ClientConfig = {
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      maxAttempts: settings.maxAttempts,
      retryMode: 'adaptive',
      followRegionRedirects: true,
    };
    if (settings.endpoint) {
      config.endpoint = settings.endpoint;
      // S3-compatible stores often reject the newer streaming checksum trailers; send checksums
      // only where the API requires them.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    pair = {
      client: new S3Client({
        ...config,
        requestHandler: { connectionTimeout: timeoutMs, socketTimeout: timeoutMs },
      }),
      bodies: new S3Client({
        ...config,
        requestHandler: {
          connectionTimeout: timeoutMs,
          requestTimeout: timeoutMs,
          throwOnRequestTimeout: true,
        },
      }),
      timeoutMs,
    };
    clients.set(key, pair);
    pairs.set(pair.client, pair);
  }
  return pair.client;
}

export interface ListedObject {
  key: string;
  etag: string;
  size: number;
  lastModified: number;
}

/**
 * Lists a prefix page by page, lazily: the next page is requested only when the consumer has taken
 * the previous one, so the dispatcher's window, not the prefix, bounds memory. Keys come in S3's
 * lexicographic (UTF-8 binary) order.
 */
export async function* listObjects(
  client: S3Client,
  location: S3Location,
  startAfter?: string,
  signal?: AbortSignal,
): AsyncGenerator<ListedObject> {
  const pages = paginateListObjectsV2(
    { client, pageSize: 1000 },
    { Bucket: location.bucket, Prefix: location.prefix || undefined, StartAfter: startAfter },
    { abortSignal: signal },
  );
  try {
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith('/')) continue; // folder placeholders
        yield {
          key: object.Key,
          etag: object.ETag ?? '',
          size: object.Size ?? 0,
          lastModified: object.LastModified?.getTime() ?? 0,
        };
      }
    }
  } catch (error) {
    throw new Error(`cannot list s3://${location.bucket}/${location.prefix}: ${describeSdkError(error)}`, {
      cause: error,
    });
  }
}

/** `Name: message`, and how many attempts the SDK made when it retried. */
function describeSdkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
  const name = error.name !== 'Error' ? `${error.name}: ` : '';
  return `${name}${error.message}${attempts && attempts > 1 ? ` (${attempts} attempts)` : ''}`;
}

export async function headObject(client: S3Client, bucket: string, key: string, signal?: AbortSignal) {
  try {
    return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return undefined;
    throw error;
  }
}

/**
 * Streams an object; with an ETag, only that version (a changed object fails with 412 instead).
 * Sent through the client's companion for bodies (see s3Client()), and the body is guarded so that
 * a transfer that stops sending fails as a retryable TimeoutError (code ETIMEDOUT).
 */
export async function openS3Source(
  client: S3Client,
  bucket: string,
  key: string,
  etag: string | undefined,
  signal?: AbortSignal,
): Promise<{ stream: Readable; etag: string; lastModified: number }> {
  const pair = pairs.get(client);
  const response = await (pair?.bodies ?? client).send(
    new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag || undefined }),
    {
      abortSignal: signal,
    },
  );
  const body = response.Body as Readable;
  const timeoutMs = pair?.timeoutMs;
  return {
    stream: timeoutMs ? guardStalls(body, timeoutMs, () => stalledError(bucket, key, timeoutMs)) : body,
    etag: response.ETag ?? etag ?? '',
    lastModified: response.LastModified?.getTime() ?? 0,
  };
}

function stalledError(bucket: string, key: string, timeoutMs: number): Error {
  return Object.assign(
    new Error(`s3://${bucket}/${key} stopped sending: no data for ${timeoutMs / 1000} s (ETIMEDOUT)`),
    { name: 'TimeoutError', code: 'ETIMEDOUT' },
  );
}

/**
 * Uploads through lib-storage: a single PUT for small outputs, multipart (queueSize × partSize
 * bytes buffered at most) for large ones. The body is ended only by commit(), so nothing becomes
 * visible at the key before the caller says so (after the rejects are safely stored, say), and
 * abort() aborts the multipart upload so no parts are left behind.
 */
export function openS3Sink(
  client: S3Client,
  settings: S3Settings,
  bucket: string,
  key: string,
  contentType: string,
  metadata: Record<string, string>,
): ObjectSink {
  const body = new PassThrough({ highWaterMark: 256 * 1024 });
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType, Metadata: metadata },
    partSize: settings.partSize,
    queueSize: settings.queueSize,
    leavePartsOnError: false,
  });
  let failure: unknown;
  let aborting = false;
  const done = upload.done();
  done.catch((error) => {
    if (!aborting) failure ??= error; // observed by commit() and failure(); abort() makes it reject on purpose
  });
  // The pipeline writes here; finishing this stream does not end the upload's body.
  const stream = forwardTo(body, 'the upload stopped taking data');
  return {
    stream,
    async commit() {
      body.end();
      await done;
    },
    failure: () => failure,
    async abort() {
      aborting = true;
      stream.destroy();
      body.destroy();
      await upload.abort().catch(() => {});
      await done.catch(() => {});
      // Upload#abort() only signals: lib-storage sends AbortMultipartUpload later, in the
      // background, once in-flight requests settle, and a process that exits first leaves the
      // upload open. So wait for the create, then send the abort ourselves and wait for it.
      const internal = upload as unknown as {
        createMultiPartPromise?: Promise<unknown>;
        abortMultipartUploadCommand?: AbortMultipartUploadCommand | null;
      };
      await internal.createMultiPartPromise?.catch(() => {});
      const command = internal.abortMultipartUploadCommand;
      if (command) {
        internal.abortMultipartUploadCommand = null;
        await client.send(command).catch(() => {}); // NoSuchUpload if lib-storage got there first
      }
    },
  };
}

/**
 * Aborts the multipart uploads left open at a key (a worker that died mid-upload could not).
 * Best effort: some S3-compatible stores do not implement ListMultipartUploads.
 */
export async function abortOpenUploads(client: S3Client, bucket: string, key: string): Promise<number> {
  const { ListMultipartUploadsCommand, AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  let aborted = 0;
  for (const upload of listed.Uploads ?? []) {
    if (upload.Key !== key || !upload.UploadId) continue;
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }),
    );
    aborted++;
  }
  return aborted;
}

/** A small object's body as text (a commit record); undefined when there is no such object. */
export async function getText(
  client: S3Client,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: signal,
    });
    return await response.Body?.transformToString('utf8');
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export async function deleteObject(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
