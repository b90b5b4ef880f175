/**
 * Writes epoch milliseconds as ISO-8601 UTC with milliseconds (`2020-02-01T00:39:38.000Z`, what
 * Date.prototype.toISOString gives) straight into a byte buffer: the date part is cached per day and
 * the time of day written with integer arithmetic, so a row costs no Date and no string whatever order
 * its times come in. The CSV and NDJSON encoders share it; the wasm path mirrors it.
 */
export class IsoTimeWriter {
  private cachedDay = Number.NaN;
  private cachedDate: Uint8Array = new Uint8Array(0);

  /** How many bytes write(ms) writes: 24, more past year 9999 or before year 0. */
  bytes(ms: number): number {
    return this.dateOf(Math.floor(ms / 86_400_000)).length + 13;
  }

  /** Writes `ms` at out[p…] and returns the end. */
  write(ms: number, out: Uint8Array, p: number): number {
    const day = Math.floor(ms / 86_400_000);
    const date = this.dateOf(day);
    for (let k = 0; k < date.length; k++) out[p++] = date[k]!;
    let t = ms - day * 86_400_000;
    const hours = Math.floor(t / 3_600_000);
    t -= hours * 3_600_000;
    const minutes = Math.floor(t / 60_000);
    t -= minutes * 60_000;
    const seconds = Math.floor(t / 1000);
    const milli = t - seconds * 1000;
    out[p++] = 0x30 + Math.floor(hours / 10);
    out[p++] = 0x30 + (hours % 10);
    out[p++] = 0x3a;
    out[p++] = 0x30 + Math.floor(minutes / 10);
    out[p++] = 0x30 + (minutes % 10);
    out[p++] = 0x3a;
    out[p++] = 0x30 + Math.floor(seconds / 10);
    out[p++] = 0x30 + (seconds % 10);
    out[p++] = 0x2e;
    out[p++] = 0x30 + Math.floor(milli / 100);
    out[p++] = 0x30 + (Math.floor(milli / 10) % 10);
    out[p++] = 0x30 + (milli % 10);
    out[p++] = 0x5a; // Z
    return p;
  }

  /** `2020-02-01T` for the day, cached: rows come in time order, or nearly. */
  private dateOf(day: number): Uint8Array {
    if (day !== this.cachedDay) {
      const iso = new Date(day * 86_400_000).toISOString();
      this.cachedDate = Uint8Array.from(iso.slice(0, iso.indexOf('T') + 1), (ch) => ch.charCodeAt(0));
      this.cachedDay = day;
    }
    return this.cachedDate;
  }
}
