/** `a/b/obj` → `a/b/obj.csv.gz`; a trailing `.gz` on the source name is dropped first. */
export function outputName(relativePath: string, gzip: boolean): string {
  return relativePath.replace(/\.gz$/i, '') + (gzip ? '.csv.gz' : '.csv');
}

/**
 * `a/b/obj.csv.gz` → `a/b/_obj.rejects.jsonl`. The leading underscore hides the file from Athena,
 * Hive and Spark, which skip names starting with `_` or `.`, so a table over the output prefix
 * never reads rejects as CSV.
 */
export function rejectsName(outputPath: string): string {
  const slash = outputPath.lastIndexOf('/');
  const dir = outputPath.slice(0, slash + 1);
  const base = outputPath.slice(slash + 1).replace(/\.csv(\.gz)?$/, '');
  return `${dir}_${base}.rejects.jsonl`;
}
