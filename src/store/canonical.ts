// Canonical JSON (sorted keys, no whitespace) so a row always hashes the same way.

/**
 * Written with plain loops rather than filter/map/join: it runs on every append (the event's data
 * and the whole incident record, for its digest) and every cache check, where the intermediate
 * arrays were most of its cost. Same output as before: undefined members are left out, undefined
 * in arrays becomes null, everything else is what JSON.stringify says.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return quoteJson(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${quoteJson(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** Printable ASCII but `"` and `\`: text JSON.stringify writes as it is, between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * JSON.stringify of a string. Most texts an event holds (ids, times, hashes, names, types) need no
 * escaping, and a regular expression says so for a fraction of what a call into JSON.stringify costs
 * (a dozen ran per append; a loop over the characters measured no cheaper).
 */
export function quoteJson(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** 253402300800000: 10000-01-01T00:00:00.000Z, where toISOString's years gain a sign and six digits. */
const YEAR_10000 = 253_402_300_800_000;

/** The character code of the digit `n` (0-9). */
const digit = (n: number) => 48 + n;

/**
 * `date.toISOString()`, the form every stored time takes, built here from the UTC fields: V8 formats
 * it through snprintf, which was a tenth of an append's instructions (bench/append.js). The text is
 * made in one piece (String.fromCharCode) rather than joined from parts: a joined text is a rope that
 * each later reader (the quoting, the hash, SQLite's binding) first has to copy flat. Times before
 * 1970 or from the year 10000 on, and invalid dates (RangeError), are left to toISOString itself.
 * test/store/iso-time.test.ts holds it to toISOString.
 */
export function isoTime(date: Date): string {
  const t = date.getTime();
  if (!(t >= 0 && t < YEAR_10000)) return date.toISOString();
  const y = date.getUTCFullYear();
  const mo = date.getUTCMonth() + 1;
  const d = date.getUTCDate();
  const h = date.getUTCHours();
  const mi = date.getUTCMinutes();
  const s = date.getUTCSeconds();
  const ms = date.getUTCMilliseconds();
  return String.fromCharCode(
    digit((y / 1000) | 0), digit(((y / 100) | 0) % 10), digit(((y / 10) | 0) % 10), digit(y % 10), 0x2d,
    digit((mo / 10) | 0), digit(mo % 10), 0x2d,
    digit((d / 10) | 0), digit(d % 10), 0x54,
    digit((h / 10) | 0), digit(h % 10), 0x3a,
    digit((mi / 10) | 0), digit(mi % 10), 0x3a,
    digit((s / 10) | 0), digit(s % 10), 0x2e,
    digit((ms / 100) | 0), digit(((ms / 10) | 0) % 10), digit(ms % 10), 0x5a,
  );
}
