/**
 * The function's code, put together offline (no Docker, no registry): the compiled runtime from dist/src (no
 * source maps or declarations) and the production dependency tree exactly as the lockfile installed it, which
 * `npm ls --omit=dev --all --parseable` lists. Dev dependencies (aws-cdk-lib, vitest, typescript, …) stay out.
 *
 *   deploy/.bundle/package.json          {"type": "module"} and the production dependencies
 *   deploy/.bundle/dist/src/…            handler: dist/src/lambda/handler.handler
 *   deploy/.bundle/node_modules/…        @aws-sdk/client-s3, @aws-sdk/lib-storage, … and what they need
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export const HANDLER = 'dist/src/lambda/handler.handler';

export function bundleFunction(root: string, out: string): string {
  const runtime = join(root, 'dist', 'src', 'lambda', 'handler.js');
  if (!existsSync(runtime)) throw new Error(`${runtime} is missing: run npm run build first`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(join(root, 'dist', 'src'), join(out, 'dist', 'src'), {
    recursive: true,
    filter: (path) => !path.endsWith('.map') && !path.endsWith('.d.ts'),
  });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const manifest = { name: pkg.name, version: pkg.version, type: pkg.type, dependencies: pkg.dependencies };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: root,
    encoding: 'utf8',
  });
  const modules = join(root, 'node_modules');
  for (const path of listed.split('\n').filter(Boolean)) {
    const rel = relative(modules, path);
    // Top-level packages only (`a` or `@scope/a`): copying one brings its nested node_modules along.
    if (rel.startsWith('..') || rel === '' || rel.split(sep).includes('node_modules')) continue;
    cpSync(path, join(out, 'node_modules', rel), { recursive: true, dereference: true });
  }
  return out;
}
