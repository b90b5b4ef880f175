import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every module a file imports, following relative imports (`.js` names point at `.ts` sources). */
function importsOf(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const specifiers = [
    ...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm),
  ].map((m) => m[1]!);
  seen.set(file, specifiers);
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) importsOf(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

it('src/core imports no node:* module and no package, not even through src/wasm', () => {
  const core = readdirSync(join(SRC, 'core')).filter((name) => name.endsWith('.ts'));
  expect(core).toContain('converter.ts');
  const impure: string[] = [];
  const seen = new Map<string, string[]>();
  for (const name of core) importsOf(join(SRC, 'core', name), seen);
  for (const [file, specifiers] of seen) {
    for (const specifier of specifiers) {
      if (!specifier.startsWith('.')) impure.push(`${file.slice(SRC.length)} imports ${specifier}`);
    }
  }
  expect([...seen.keys()].some((file) => file.endsWith('wasm/abi.ts'))).toBe(true);
  expect(impure).toEqual([]);
});
