'use strict';
/**
 * Runs one s3rver 3.7.1 instance for the test harness in ./server.ts. Usage:
 *
 *   node --openssl-legacy-provider s3rver-child.cjs <port> <directory> [bucket...]
 *
 * Binds 127.0.0.1:<port> (0 picks a free port), stores data under <directory>, creates the named buckets
 * (existing ones are kept) and prints one line `{"port":N}` to stdout once it is listening. Exits on
 * SIGTERM/SIGINT, and when the parent's IPC channel (if any) closes, so it never outlives the test process.
 *
 * After the ready line, every HTTP request is reported on stdout as JSON lines:
 *
 *   {"req":{"id":1,"method":"PUT","path":"/bucket/key","query":"x-id=PutObject"}}   when its headers arrived
 *   {"res":{"id":1,"status":200}}                                                   when the response was sent
 *   {"res":{"id":1,"aborted":true}}                         when the connection closed before the response
 *
 * `path` is the raw (percent-encoded) path and `query` the raw query string without `?`. The answer to a
 * CreateMultipartUpload also carries `"uploadId"`, so the parent can pair it with its Complete/Abort request.
 * stdout is a pipe, which Node writes synchronously on Linux: no line is lost when the process exits.
 *
 * `--openssl-legacy-provider` is needed because s3rver encrypts ListObjectsV2 continuation tokens with DES,
 * which OpenSSL 3 refuses otherwise (truncated listings would answer 500 ERR_OSSL_EVP_UNSUPPORTED).
 */
const S3rver = require('s3rver');

const [portArg, directory, ...buckets] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !directory) {
  process.stderr.write('usage: s3rver-child.cjs <port> <directory> [bucket...]\n');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port,
  silent: true,
  directory,
  resetOnClose: false,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});

let nextId = 0;
const report = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

// First in the middleware chain (Koa composes `middleware` when run() starts listening): sees every request
// before s3rver's own handling, and the final XML body after it.
server.middleware.unshift(async (ctx, next) => {
  const id = ++nextId;
  const { req, res } = ctx;
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  const isCreateMultipart = req.method === 'POST' && new URLSearchParams(query).has('uploads');
  let uploadId;
  let answered = false;
  res.once('finish', () => {
    answered = true;
    report({ res: { id, status: res.statusCode, ...(uploadId ? { uploadId } : {}) } });
  });
  res.once('close', () => {
    if (!answered) report({ res: { id, aborted: true } });
  });
  report({ req: { id, method: req.method, path, query } });
  try {
    await next();
  } finally {
    if (isCreateMultipart && typeof ctx.body === 'string') {
      uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(ctx.body)?.[1];
    }
  }
});

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  // Do not wait for clients' keep-alive or in-flight requests: the harness uses stop() to simulate an outage.
  setTimeout(() => process.exit(code), 2000).unref();
  const closed = server.httpServer ? server.close() : Promise.resolve();
  server.httpServer?.closeAllConnections();
  closed.then(
    () => process.exit(code),
    () => process.exit(code),
  );
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.on('disconnect', () => stop(0));

server.run().then(
  (address) => {
    if (stopping) return;
    // Node closes idle keep-alive connections after 5 s, racing a client that reuses one just
    // then; a test run is shorter than this.
    if (server.httpServer) server.httpServer.keepAliveTimeout = 10 * 60_000;
    process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  },
  (err) => {
    process.stderr.write(`s3rver failed to start: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
