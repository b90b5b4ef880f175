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
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
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
   */
  stop(): Promise<void>;
  /** Starts the server again (stopping it first if it runs) on the same port with the same data directory. */
  restart(): Promise<void>;
  /** Final teardown: stop(), destroy the client, remove the data directory. Idempotent. */
  destroy(): Promise<void>;
}

export interface StartS3ServerOptions {
  /** Buckets to create before the server starts listening. */
  buckets?: string[];
}

interface Started {
  child: ChildProcess;
  port: number;
}

export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'flowhose-s3-'));
  let current: Started | undefined;
  let destroyed = false;

  // The child also exits when its IPC channel closes (parent gone, even by SIGKILL); this covers a normal exit.
  const onExit = () => {
    current?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.on('exit', onExit);

  try {
    current = await spawnS3rver(0, dir, options.buckets ?? []);
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

  const stop = async () => {
    const started = current;
    current = undefined;
    if (started) await killChild(started.child);
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
    stop,
    async restart() {
      if (destroyed) throw new Error('startS3Server: restart() after destroy()');
      await stop();
      // Buckets live in the data directory already; configuring them again would only log warnings.
      const started = await spawnS3rver(port, dir, []);
      if (started.port !== port) {
        await killChild(started.child);
        throw new Error(`startS3Server: restarted s3rver listens on ${started.port}, not ${port}`);
      }
      current = started;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stop();
      client.destroy();
      process.off('exit', onExit);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Starts the child and resolves once it printed its `{"port":N}` line. */
function spawnS3rver(port: number, dir: string, buckets: string[]): Promise<Started> {
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

    const onStdout = (s: string) => {
      if (settled) return;
      stdout += s;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      const line = stdout.slice(0, nl);
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
      // Keep draining stdout so the child can never block on a full pipe.
      child.stdout!.off('data', onStdout);
      child.stdout!.resume();
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
