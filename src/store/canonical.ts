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

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `date.toISOString()`, the form every stored time takes, built here from the UTC fields: V8 formats
 * it through snprintf, which was a tenth of an append's instructions (bench/append.js). Times before
 * 1970 or from the year 10000 on, and invalid dates (RangeError), are left to toISOString itself.
 * test/store/iso-time.test.ts holds it to toISOString.
 */
export function isoTime(date: Date): string {
  const t = date.getTime();
  if (!(t >= 0 && t < YEAR_10000)) return date.toISOString();
  const ms = date.getUTCMilliseconds();
  return `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
