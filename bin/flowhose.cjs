#!/usr/bin/env node
'use strict';
// libuv's thread pool runs the zlib and fs work of every worker thread. It is sized once, on its
// first use, from UV_THREADPOOL_SIZE, and loading ES modules already uses it; so the size is set
// here, in CommonJS, before anything else is loaded. Default: two per worker (gunzip and gzip of
// one object each) plus two for file I/O, never below libuv's own default of 4.
const { availableParallelism } = require('node:os');

/** --zlib-threads' range: the option table (src/cli/options.ts) validates the same one. */
const ZLIB_THREADS = { min: 1, max: 1024 };

function optionValue(args, names) {
  for (let i = 0; i < args.length; i++) {
    for (const name of names) {
      if (args[i] === name) return args[i + 1];
      if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
    }
  }
  return undefined;
}

/** A valid --zlib-threads value as a number, else undefined (the option table then rejects it: exit 1). */
function explicitThreads(value) {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= ZLIB_THREADS.min && n <= ZLIB_THREADS.max ? n : undefined;
}

/** The pool size for a command line: --zlib-threads as given, else UV_THREADPOOL_SIZE, else the default. */
function threadPoolSize(args, env) {
  const explicit = explicitThreads(optionValue(args, ['--zlib-threads']));
  if (explicit !== undefined) return String(explicit);
  if (env.UV_THREADPOOL_SIZE) return env.UV_THREADPOOL_SIZE;
  const workers = Number(optionValue(args, ['--workers', '-w'])) || availableParallelism();
  const members = Number(optionValue(args, ['--parallel-gzip'])) || 0;
  return String(Math.min(ZLIB_THREADS.max, Math.max(4, 2 * workers + 2, members + 2)));
}

module.exports = { explicitThreads, threadPoolSize };

if (require.main === module) {
  process.env.UV_THREADPOOL_SIZE = threadPoolSize(process.argv.slice(2), process.env);
  // `flowhose bench` lives in dist/bench: the benchmarks import the converter, never the reverse.
  const bench = process.argv[2] === 'bench';
  import(bench ? '../dist/bench/cli.js' : '../dist/src/cli/main.js').then(
    async (cli) => {
      process.exitCode = await cli.main(process.argv.slice(bench ? 3 : 2));
    },
    (error) => {
      console.error(`flowhose: cannot start: ${error.message} (run npm run build first?)`);
      process.exitCode = 1;
    },
  );
}
