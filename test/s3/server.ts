/**
 * A real S3-compatible server for integration tests: s3rver 3.7.1 on 127.0.0.1, in a child process started
 * with `node --openssl-legacy-provider` (s3rver encrypts ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 refuses otherwise; the flag stays out of the test process). Talk to it with the real AWS SDK v3
 * through `client`, or hand `env` to a spawned CLI.
 *
 *   const s3 = await startS3Server({ buckets: ['in', 'out'] });
 *   afterAll(() => s3.destroy());
 *
 * s3rver quirks that tests must live with (see server.test.ts): no ListMultipartUploads (NotImplemented),
 * no AbortMultipartUpload (405 MethodNotAllowed), GetObject ignores If-Match.
 *
 * Every HTTP request the server receives is recorded in `requests` (the child reports each one on its stdout),
 * so tests can assert what a run sent, wait for a request to arrive (`waitForRequest`, resolved as the report
 * comes in, never by polling), and check that every multipart upload was completed or aborted
 * (`multipartLedger`), which s3rver itself cannot list.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

const CHILD_SCRIPT = fileURLToPath(new URL('./s3rver-child.cjs', import.meta.url));
const STARTUP_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_LIMIT = 64 * 1024;

export const S3_TEST_ACCESS_KEY_ID = 'S3RVER';
export const S3_TEST_SECRET_ACCESS_KEY = 'S3RVER';
export const S3_TEST_REGION = 'us-east-1';

/** One HTTP request the server received, recorded when its headers arrived and updated when it was answered. */
export interface S3Request {
  /** Position in `requests` (0-based, across restarts). */
  readonly seq: number;
  readonly method: string;
  /** The decoded path: `/bucket/key` (path-style; `/` for ListBuckets). */
  readonly path: string;
  /** The raw query string without `?`, e.g. `uploads=` or `uploadId=…&partNumber=2`. */
  readonly query: string;
  /** The query string, decoded. */
  readonly params: URLSearchParams;
  /** From `path`: the bucket ('' for service-level requests) and the decoded key ('' for bucket-level ones). */
  readonly bucket: string;
  readonly key: string;
  /** HTTP status once the response was sent; undefined while pending or when the connection closed first. */
  status?: number;
  /** The connection closed before the response was sent (the client gave up, or the server was stopped). */
  aborted?: boolean;
  /** For a CreateMultipartUpload the server answered: the UploadId it handed out. */
  uploadId?: string;
}

export interface MultipartUploadRecord {
  bucket: string;
  key: string;
  /** From the CreateMultipartUpload answer; undefined when the client never got one. */
  uploadId?: string;
  create: S3Request;
  /** CompleteMultipartUpload requests (POST with uploadId) for this upload, whatever their answer. */
  completes: S3Request[];
  /** AbortMultipartUpload requests (DELETE with uploadId). s3rver answers them 405, so the request is what counts. */
  aborts: S3Request[];
  /**
   * `completed`: a Complete was answered 2xx. `aborted`: an Abort was requested. `failed`: the create was answered
   * with an error (no upload exists). `open`: none of these, the parts would be left behind on real S3.
   */
  state: 'open' | 'completed' | 'aborted' | 'failed';
}

export interface MultipartLedger {
  uploads: MultipartUploadRecord[];
  /** Uploads in state `open`: created (or possibly created: the answer never arrived) and never finished. */
  open: MultipartUploadRecord[];
}

export interface S3TestServer {
  /** `http://127.0.0.1:PORT`; the same across restart(). */
  readonly endpoint: string;
  /** s3rver's data directory (a fresh temporary directory); the same across restart(). */
  readonly dir: string;
  /** Path-style, us-east-1, static credentials S3RVER/S3RVER, maxAttempts 1 (a stopped server fails fast). */
  readonly client: S3Client;
  /** For spawning the CLI: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3. */
  readonly env: Record<string, string>;
  /** True while the server process is up. */
  readonly running: boolean;
  /**
   * Stops the server process; the data directory is KEPT so that restart() can bring the same data back on
   * the same port. Requests meanwhile fail with ECONNREFUSED. Idempotent. Call destroy() to clean up.
   *
   * s3rver's store is not crash-safe: a PUT or CompleteMultipartUpload cut off by the stop can leave an object
   * with part of its body, or without (or with half of) its metadata file; s3rver would then serve the torn
   * object, or fail listings with 500. Real S3 never shows a write that did not complete, so stop() removes
   * such torn objects (an object counts as written once its metadata file parses and its stored MD5 matches
   * its body; an overwrite torn this way loses the old version too). Their `bucket/key`s go to `tornWrites`.
   */
  stop(): Promise<void>;
  /** `bucket/key` of every torn object stop() removed (see stop()), across restarts. */
  readonly tornWrites: readonly string[];
  /** Starts the server again (stopping it first if it runs) on the same port with the same data directory. */
  restart(): Promise<void>;
  /** Final teardown: stop(), destroy the client, remove the data directory. Idempotent. */
  destroy(): Promise<void>;
  /** Every request received so far, in arrival order, across restarts (a live array: it keeps growing). */
  readonly requests: readonly S3Request[];
  /**
   * Resolves with the first request (at index `since` or later of `requests`; default 0, i.e. including those
   * already seen) for which `predicate` holds. The predicate is evaluated again when a request is answered, so it
   * may wait for a status. Resolved from the child's report as it arrives; rejects after `timeoutMs`.
   */
  waitForRequest(
    predicate: (request: S3Request) => boolean,
    timeoutMs?: number,
    since?: number,
  ): Promise<S3Request>;
  /**
   * A barrier: sends one request of its own and resolves once the server reported it, so everything the server
   * received before it is in `requests`. Use it before inspecting `requests` after a client finished.
   * The barrier request itself is not recorded.
   */
  syncRequests(timeoutMs?: number): Promise<void>;
  /**
   * syncRequests(), then the current length of `requests`: a position from which on every request comes after
   * this call (reports travel apart from the HTTP answers, so `requests.length` alone may miss stragglers that
   * a client already saw answered). Pass it as `since` to waitForRequest or slice `requests` with it.
   */
  mark(): Promise<number>;
  /** Pairs each CreateMultipartUpload with its Complete/Abort requests (call syncRequests() first). */
  multipartLedger(): MultipartLedger;
}

export interface StartS3ServerOptions {
  /** Buckets to create before the server starts listening. */
  buckets?: string[];
}

interface Started {
  child: ChildProcess;
  port: number;
}

/** One line of the child's request log (see s3rver-child.cjs). */
type ChildReport =
  | { req: { id: number; method: string; path: string; query: string } }
  | { res: { id: number; status?: number; aborted?: boolean; uploadId?: string } };

const SYNC_PATH = '/__flowhose_sync__/'; // not a valid bucket name: never collides with a test's requests
const DEFAULT_WAIT_MS = 30_000;

interface Waiter {
  predicate: (request: S3Request) => boolean;
  since: number;
  resolve: (request: S3Request) => void;
  reject: (error: Error) => void;
}

function describeRequest(r: S3Request): string {
  const state = r.status !== undefined ? String(r.status) : r.aborted ? 'aborted' : 'pending';
  return `${r.method} ${r.path}${r.query ? `?${r.query}` : ''} ${state}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'flowhose-s3-'));
  let current: Started | undefined;
  let destroyed = false;

  // ── request log ────────────────────────────────────────────────────────────────────────────────────────────
  const requests: S3Request[] = [];
  const waiters = new Set<Waiter>();
  const syncs = new Map<string, () => void>();
  let syncCounter = 0;
  let generation = 0;
  let byId = new Map<number, S3Request>(); // ids restart with each child

  const offer = (request: S3Request) => {
    for (const waiter of waiters) {
      if (request.seq < waiter.since) continue;
      let match: boolean;
      try {
        match = waiter.predicate(request);
      } catch (err) {
        waiters.delete(waiter);
        waiter.reject(err as Error);
        continue;
      }
      if (match) {
        waiters.delete(waiter);
        waiter.resolve(request);
      }
    }
  };

  const onReport = (report: ChildReport) => {
    if ('req' in report) {
      const { id, method, path, query } = report.req;
      if (path.startsWith(SYNC_PATH)) {
        syncs.get(path)?.();
        return;
      }
      const decoded = safeDecode(path);
      const slash = decoded.indexOf('/', 1);
      const request: S3Request = {
        seq: requests.length,
        method,
        path: decoded,
        query,
        params: new URLSearchParams(query),
        bucket: slash < 0 ? decoded.slice(1) : decoded.slice(1, slash),
        key: slash < 0 ? '' : decoded.slice(slash + 1),
      };
      requests.push(request);
      byId.set(id, request);
      offer(request);
    } else {
      const request = byId.get(report.res.id);
      if (!request) return; // a barrier request
      byId.delete(report.res.id);
      if (report.res.status !== undefined) request.status = report.res.status;
      if (report.res.aborted) request.aborted = true;
      if (report.res.uploadId) request.uploadId = report.res.uploadId;
      offer(request);
    }
  };
  const onChild = () => {
    generation++;
    byId = new Map();
    return generation;
  };

  // The child also exits when its IPC channel closes (parent gone, even by SIGKILL); this covers a normal exit.
  const onExit = () => {
    current?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.on('exit', onExit);

  try {
    onChild();
    current = await spawnS3rver(0, dir, options.buckets ?? [], onReport);
  } catch (err) {
    process.off('exit', onExit);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const port = current.port;
  const endpoint = `http://127.0.0.1:${port}`;

  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: S3_TEST_REGION,
    credentials: { accessKeyId: S3_TEST_ACCESS_KEY_ID, secretAccessKey: S3_TEST_SECRET_ACCESS_KEY },
    maxAttempts: 1,
  });

  const tornWrites: string[] = [];
  const stop = async (scrub = true) => {
    const started = current;
    current = undefined;
    if (started) {
      await killChild(started.child);
      if (scrub) tornWrites.push(...(await removeTornWrites(dir)));
    }
  };

  const syncRequests = async (timeoutMs = DEFAULT_WAIT_MS): Promise<void> => {
    if (!current) throw new Error('syncRequests: the server is not running');
    const path = `${SYNC_PATH}${++syncCounter}`;
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<void>((resolve, reject) => {
      syncs.set(path, resolve);
      timer = setTimeout(
        () => reject(new Error(`syncRequests: the server did not report ${path} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const response = await fetch(`${endpoint}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      await seen;
    } finally {
      clearTimeout(timer);
      syncs.delete(path);
    }
  };

  return {
    endpoint,
    dir,
    client,
    env: {
      AWS_ACCESS_KEY_ID: S3_TEST_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3_TEST_SECRET_ACCESS_KEY,
      AWS_REGION: S3_TEST_REGION,
      AWS_ENDPOINT_URL_S3: endpoint,
    },
    get running() {
      return current !== undefined && isAlive(current.child);
    },
    stop: () => stop(),
    async restart() {
      if (destroyed) throw new Error('startS3Server: restart() after destroy()');
      await stop();
      // Buckets live in the data directory already; configuring them again would only log warnings.
      onChild();
      const started = await spawnS3rver(port, dir, [], onReport);
      if (started.port !== port) {
        await killChild(started.child);
        throw new Error(`startS3Server: restarted s3rver listens on ${started.port}, not ${port}`);
      }
      current = started;
    },
    get requests() {
      return requests;
    },
    get tornWrites() {
      return tornWrites;
    },
    waitForRequest(predicate, timeoutMs = DEFAULT_WAIT_MS, since = 0) {
      for (let i = since; i < requests.length; i++) {
        if (predicate(requests[i]!)) return Promise.resolve(requests[i]!);
      }
      if (destroyed) return Promise.reject(new Error('waitForRequest: the server was destroyed'));
      return new Promise<S3Request>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const last = requests.slice(-5).map(describeRequest).join('; ');
          reject(
            new Error(
              `waitForRequest: no matching request within ${timeoutMs} ms ` +
                `(${requests.length - Math.min(since, requests.length)} requests seen since #${since}` +
                `${last ? `; the last ones: ${last}` : ''}; predicate: ${predicate.toString().slice(0, 200)})`,
            ),
          );
        }, timeoutMs);
        const waiter: Waiter = {
          predicate,
          since,
          resolve: (request) => {
            clearTimeout(timer);
            resolve(request);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        waiters.add(waiter);
      });
    },
    syncRequests,
    async mark() {
      await syncRequests();
      return requests.length;
    },
    multipartLedger() {
      return buildLedger(requests);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const waiter of waiters) waiter.reject(new Error('waitForRequest: the server was destroyed'));
      waiters.clear();
      await stop(false); // the directory goes anyway
      client.destroy();
      process.off('exit', onExit);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

const OBJECT_SUFFIX = '._S3rver_object';
const METADATA_SUFFIX = '._S3rver_metadata.json';

/**
 * Removes the objects s3rver left half-written when it was stopped (see S3TestServer.stop()). s3rver writes an
 * object as: body (`<name>._S3rver_object`), then `<name>._S3rver_object.md5`, then
 * `<name>._S3rver_metadata.json`; an object missing either, or whose MD5 does not match, is torn.
 * Returns their `bucket/key`s.
 */
async function removeTornWrites(dir: string): Promise<string[]> {
  const torn: string[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(OBJECT_SUFFIX)) continue;
    const objectPath = join(entry.parentPath, entry.name);
    const metadataPath = objectPath.slice(0, -OBJECT_SUFFIX.length) + METADATA_SUFFIX;
    if (await isWhole(objectPath, metadataPath)) continue;
    await Promise.all([objectPath, `${objectPath}.md5`, metadataPath].map((p) => rm(p, { force: true })));
    torn.push(
      objectPath
        .slice(dir.length + 1, -OBJECT_SUFFIX.length)
        .split('\\')
        .join('/'),
    );
  }
  return torn;
}

async function isWhole(objectPath: string, metadataPath: string): Promise<boolean> {
  try {
    JSON.parse(await readFile(metadataPath, 'utf8'));
    const stored = (await readFile(`${objectPath}.md5`, 'utf8')).trim();
    const hash = createHash('md5');
    for await (const chunk of createReadStream(objectPath)) hash.update(chunk as Buffer);
    return hash.digest('hex') === stored;
  } catch {
    return false;
  }
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Pairs CreateMultipartUpload requests with the Complete/Abort requests that name their UploadId. */
export function buildLedger(requests: readonly S3Request[]): MultipartLedger {
  const uploads: MultipartUploadRecord[] = [];
  const byUploadId = new Map<string, MultipartUploadRecord>();
  for (const r of requests) {
    if (r.method === 'POST' && r.params.has('uploads')) {
      const record: MultipartUploadRecord = {
        bucket: r.bucket,
        key: r.key,
        uploadId: r.uploadId,
        create: r,
        completes: [],
        aborts: [],
        state: 'open',
      };
      uploads.push(record);
      if (r.uploadId) byUploadId.set(r.uploadId, record);
    }
  }
  for (const r of requests) {
    const uploadId = r.params.get('uploadId');
    if (!uploadId) continue;
    const record = byUploadId.get(uploadId);
    if (!record) continue;
    if (r.method === 'POST') record.completes.push(r);
    else if (r.method === 'DELETE') record.aborts.push(r);
  }
  for (const record of uploads) {
    const createStatus = record.create.status;
    if (createStatus !== undefined && createStatus >= 300) record.state = 'failed';
    else if (record.completes.some((c) => c.status !== undefined && c.status < 300))
      record.state = 'completed';
    else if (record.aborts.length > 0) record.state = 'aborted';
  }
  return { uploads, open: uploads.filter((u) => u.state === 'open') };
}

/**
 * Starts the child and resolves once it printed its `{"port":N}` line; every later stdout line is a request
 * report, handed to `onReport` as it arrives.
 */
function spawnS3rver(
  port: number,
  dir: string,
  buckets: string[],
  onReport: (report: ChildReport) => void,
): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--openssl-legacy-provider', CHILD_SCRIPT, String(port), dir, ...buckets],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    let stderr = '';
    let stdout = '';
    let settled = false;

    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_LIMIT);
    });
    child.stdout!.setEncoding('utf8');

    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const tail = stderr.trim();
      reject(new Error(`startS3Server: s3rver ${why}${tail ? `; its stderr:\n${tail}` : ' (no stderr)'}`));
    };

    let isReady = false;
    const onLine = (line: string) => {
      let report: ChildReport;
      try {
        report = JSON.parse(line);
      } catch {
        return; // not ours (s3rver is silent, but a dependency might print)
      }
      if (report && typeof report === 'object' && ('req' in report || 'res' in report)) onReport(report);
    };
    // Keeps draining stdout for the child's whole life, so it can never block on a full pipe.
    const onStdout = (s: string) => {
      stdout += s;
      let nl = stdout.indexOf('\n');
      while (nl >= 0) {
        const line = stdout.slice(0, nl);
        stdout = stdout.slice(nl + 1);
        if (isReady) onLine(line);
        else onReady(line);
        nl = stdout.indexOf('\n');
      }
    };
    const onReady = (line: string) => {
      if (settled) return;
      let ready: { port?: unknown };
      try {
        ready = JSON.parse(line);
      } catch {
        fail(`printed ${JSON.stringify(line)} instead of its ready line`);
        return;
      }
      if (typeof ready.port !== 'number') {
        fail(`printed ${JSON.stringify(line)} instead of {"port":N}`);
        return;
      }
      settled = true;
      clearTimeout(timer);
      isReady = true;
      resolve({ child, port: ready.port });
    };
    child.stdout!.on('data', onStdout);

    child.on('error', (err) => fail(`could not be spawned: ${err.message}`));
    child.on('close', (code, signal) =>
      fail(`exited before listening (${signal ? `signal ${signal}` : `exit code ${code}`})`),
    );
    const timer = setTimeout(
      () => fail(`did not report listening within ${STARTUP_TIMEOUT_MS} ms`),
      STARTUP_TIMEOUT_MS,
    );
  });
}

/** SIGTERM (the child closes s3rver and exits), SIGKILL if it lingers; resolves once it has exited. */
function killChild(child: ChildProcess): Promise<void> {
  if (!isAlive(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
