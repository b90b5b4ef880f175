#!/usr/bin/env node
'use strict';
// libuv's thread pool runs the zlib and fs work of every worker thread. It is sized once, on its
// first use, from UV_THREADPOOL_SIZE, and loading ES modules already uses it; so the size is set
// here, in CommonJS, before anything else is loaded. Default: two per worker (gunzip and gzip of
// one object each) plus two for file I/O, never below libuv's own default of 4.
const { availableParallelism } = require('node:os');

function optionValue(args, names) {
  for (let i = 0; i < args.length; i++) {
    for (const name of names) {
      if (args[i] === name) return args[i + 1];
      if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
    }
  }
  return undefined;
}

if (!process.env.UV_THREADPOOL_SIZE) {
  const args = process.argv.slice(2);
  const explicit = Number(optionValue(args, ['--zlib-threads']));
  const workers = Number(optionValue(args, ['--workers', '-w'])) || availableParallelism();
  const members = Number(optionValue(args, ['--parallel-gzip'])) || 0;
  const size = Number.isInteger(explicit) && explicit > 0 ? explicit : Math.max(2 * workers + 2, members + 2);
  process.env.UV_THREADPOOL_SIZE = String(Math.min(1024, Math.max(4, size)));
}

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
