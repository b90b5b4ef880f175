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
    process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  },
  (err) => {
    process.stderr.write(`s3rver failed to start: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
