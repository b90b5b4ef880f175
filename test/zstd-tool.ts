/**
 * The zstd command-line tool (Debian's `zstd`, its own libzstd) as the independent reader of zstd
 * output; .ci/run installs it. zstd tests run where node:zlib has zstd and this tool is there, and
 * are reported as skipped elsewhere (Node 20 has no zstd).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { zstdAvailable } from '../src/streams/codecs.js';

export const ZSTD_TOOL = spawnSync('zstd', ['--version']).status === 0;

/** Node writes zstd here and the tool can read it back. */
export const CAN_ZSTD = zstdAvailable() && ZSTD_TOOL;

/** `zstd -dc`: every frame, decompressed and concatenated; throws on a bad checksum or a torn frame. */
export const unzstd = (bytes: Buffer): Buffer =>
  execFileSync('zstd', ['-dc'], { input: bytes, maxBuffer: 1024 ** 3, stdio: 'pipe' });

/** What `zstd -lv` reads in a file: its frames, and whether they carry a checksum. */
export function zstdInfo(path: string): { frames: number; checksum: boolean } {
  const listing = execFileSync('zstd', ['-lv', path], { encoding: 'utf8', stdio: 'pipe' });
  const match = /Zstandard Frames: (\d+)/.exec(listing);
  if (!match) throw new Error(`zstd -lv ${path} printed no frame count:\n${listing}`);
  return { frames: Number(match[1]), checksum: /Check: XXH64/.test(listing) };
}
