// Canonical JSON (sorted keys, no whitespace) so a row always hashes the same way.

/**
 * Written with plain loops rather than filter/map/join: it runs on every append (the event's data
 * and the whole incident record, for its digest) and every cache check, where the intermediate
 * arrays were most of its cost. Same output as before: undefined members are left out, undefined
 * in arrays becomes null, everything else is what JSON.stringify says.
 */
export function canonicalJson(value: unknown): string {
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
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}
