import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * hyparquet-writer is loaded only when Parquet is asked for: no module that the CLI, the library or
 * the worker loads imports it (or the Parquet encoder) statically; row-formats.ts reaches the encoder
 * through import(). Type-only imports are erased, so they do not count.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function staticImports(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const specifiers = [
    ...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm),
  ].map((m) => m[1]!);
  seen.set(file, specifiers);
  for (const specifier of specifiers) {
    if (specifier.startsWith('.'))
      staticImports(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

it('the CLI, the library and the worker load hyparquet-writer only through import()', () => {
  const seen = new Map<string, string[]>();
  for (const entry of ['src/cli/main.ts', 'src/index.ts', 'workers/convert.ts'])
    staticImports(resolve(ROOT, entry), seen);
  expect([...seen.keys()].some((file) => file.endsWith('streams/row-formats.ts'))).toBe(true);
  const eager = [...seen]
    .filter(
      ([file, specifiers]) =>
        file.endsWith('parquet-encoder.ts') || specifiers.some((s) => s.startsWith('hyparquet')),
    )
    .map(([file]) => file.slice(ROOT.length));
  expect(eager).toEqual([]);
  expect(readFileSync(resolve(ROOT, 'src/streams/row-formats.ts'), 'utf8')).toContain(
    "await import('./parquet-encoder.js')",
  );
});
