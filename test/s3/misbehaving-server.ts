/**
 * A small S3 look-alike on 127.0.0.1 that misbehaves on purpose, for the timeout and Ctrl-C tests: per
 * request it answers properly, never answers (`silent`: it accepts the connection and reads the request,
 * then says nothing), or sends the headers and half the body, then stalls (`half`). It speaks just enough
 * S3 for flowhose: ListObjectsV2, GetObject, HeadObject (404 for unknown keys) and PutObject, path-style.
 *
 *   const s3 = await startMisbehavingS3({ bucket: 'src', objects: { 'in/a.gz': bytes }, behave: … });
 *   afterAll(() => s3.close());
 *
 * A stalled answer stays stalled until the client gives up or close() destroys its connection; the server
 * also closes itself after `lifetimeMs`, so a test that forgets close() leaves nothing behind.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Behaviour = 'answer' | 'silent' | 'half';
export type RequestKind = 'list' | 'get' | 'head' | 'put' | 'other';

export interface SeenRequest {
  kind: RequestKind;
  method: string;
  key: string;
}

export interface MisbehavingS3 {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** For a spawned CLI: static credentials, region, AWS_ENDPOINT_URL_S3. */
  readonly env: Record<string, string>;
  /** Every request received, in arrival order. */
  readonly requests: readonly SeenRequest[];
  /** Resolves with the first request (seen or still to come) for which `predicate` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (request: SeenRequest) => boolean, timeoutMs?: number): Promise<SeenRequest>;
  /** Destroys every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

export interface MisbehavingOptions {
  bucket: string;
  /** Keys and bodies the bucket holds (what ListObjectsV2 lists and GetObject serves). */
  objects: Record<string, Buffer>;
  /** How to treat each request; default: answer everything. */
  behave?: (request: SeenRequest) => Behaviour;
  lifetimeMs?: number;
}

const LAST_MODIFIED = new Date('2020-02-01T00:00:00Z');
const etagOf = (key: string) => `"${Buffer.from(key).toString('hex').slice(0, 32).padEnd(32, '0')}"`;
const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function kindOf(method: string, key: string, query: URLSearchParams): RequestKind {
  if (method === 'GET' && key === '' && query.get('list-type') === '2') return 'list';
  if (key === '') return 'other';
  if (method === 'GET') return 'get';
  if (method === 'HEAD') return 'head';
  if (method === 'PUT' && !query.has('uploadId')) return 'put';
  return 'other';
}

function listing(options: MisbehavingOptions, query: URLSearchParams): string {
  const prefix = query.get('prefix') ?? '';
  const startAfter = query.get('start-after') ?? '';
  const keys = Object.keys(options.objects)
    .filter((k) => k.startsWith(prefix) && k > startAfter)
    .sort();
  const contents = keys
    .map(
      (k) =>
        `<Contents><Key>${escapeXml(k)}</Key><LastModified>${LAST_MODIFIED.toISOString()}</LastModified>` +
        `<ETag>${escapeXml(etagOf(k))}</ETag><Size>${options.objects[k]!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>${escapeXml(options.bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix>` +
    `<KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}` +
    '</ListBucketResult>'
  );
}

function notFound(res: ServerResponse, method: string): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';
  res.writeHead(404, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(method === 'HEAD' ? undefined : body);
}

/** Sends `body` as the answer, or half of it and then nothing (`half`). */
function send(
  res: ServerResponse,
  behaviour: Behaviour,
  headers: Record<string, string | number>,
  body: Buffer,
) {
  res.writeHead(200, { ...headers, 'content-length': body.length });
  if (behaviour === 'half') res.write(body.subarray(0, Math.floor(body.length / 2)));
  else res.end(body);
}

export async function startMisbehavingS3(options: MisbehavingOptions): Promise<MisbehavingS3> {
  const requests: SeenRequest[] = [];
  const waiters = new Set<{ predicate: (r: SeenRequest) => boolean; resolve: (r: SeenRequest) => void }>();
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const request: SeenRequest = {
      kind: kindOf(req.method ?? '', key, url.searchParams),
      method: req.method ?? '',
      key,
    };
    requests.push(request);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(request)) {
        waiters.delete(waiter);
        waiter.resolve(request);
      }
    }
    const behaviour = options.behave?.(request) ?? 'answer';
    req.resume(); // take any request body, so that the client's writes never block
    if (behaviour === 'silent' || decodeURIComponent(bucket) !== options.bucket) return;
    const body = options.objects[key];
    switch (request.kind) {
      case 'list':
        send(
          res,
          behaviour,
          { 'content-type': 'application/xml' },
          Buffer.from(listing(options, url.searchParams)),
        );
        return;
      case 'get':
      case 'head':
        if (!body) return notFound(res, request.method);
        if (request.kind === 'head') {
          res.writeHead(200, {
            'content-length': body.length,
            etag: etagOf(key),
            'last-modified': LAST_MODIFIED.toUTCString(),
          });
          res.end();
          return;
        }
        send(
          res,
          behaviour,
          {
            'content-type': 'application/octet-stream',
            etag: etagOf(key),
            'last-modified': LAST_MODIFIED.toUTCString(),
          },
          body,
        );
        return;
      case 'put':
        req.on('end', () => {
          if (behaviour === 'answer') {
            res.writeHead(200, { etag: etagOf(key), 'content-length': 0 });
            res.end();
          }
        });
        return;
      default:
        res.writeHead(501, { 'content-length': 0 });
        res.end();
    }
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 0; // keep idle connections: the stalls, not the server, must end them
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const endpoint = `http://127.0.0.1:${port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      clearTimeout(lifetime);
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closed;
  };
  const lifetime = setTimeout(close, options.lifetimeMs ?? 120_000);
  lifetime.unref();

  return {
    endpoint,
    env: {
      AWS_ACCESS_KEY_ID: 'TEST',
      AWS_SECRET_ACCESS_KEY: 'TEST',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: endpoint,
    },
    requests,
    waitFor(predicate, timeoutMs = 30_000) {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (r: SeenRequest) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching request within ${timeoutMs} ms; seen: ${JSON.stringify(requests)}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close,
  };
}
