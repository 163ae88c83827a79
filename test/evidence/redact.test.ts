// Export redaction: each kind of credential, consistent placeholders across files, stream chunking.

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Redaction } from '../../src/evidence/redact.js';
import { UsageError } from '../../src/errors.js';

async function through(r: Redaction, chunks: string[]): Promise<string> {
  let out = '';
  const s = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(r.stream());
  for await (const c of s) out += String(c);
  return out;
}

describe('Redaction', () => {
  it('replaces tokens, passwords, Authorization values, connection-string credentials, AWS keys and JWTs', () => {
    const r = new Redaction();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlX3g';
    expect(r.apply('curl -H "Authorization: Basic dXNlcjpwYXNz" x')).toBe('curl -H "Authorization: Basic [REDACTED-AUTH-1]" x');
    expect(r.apply('token: Bearer abcdef0123456789xyz')).toBe('token: Bearer [REDACTED-TOKEN-1]');
    expect(r.apply(`auth=Bearer ${jwt}`)).toBe('auth=Bearer [REDACTED-JWT-1]');
    expect(r.apply('DATABASE_URL=postgres://app:hunter2secret@db:5432/shop')).toBe('DATABASE_URL=postgres://app:[REDACTED-PASSWORD-1]@db:5432/shop');
    expect(r.apply('password=s3cr3t&user=bob')).toBe('password=[REDACTED-PASSWORD-2]&user=bob');
    expect(r.apply('{"password": "p@ss w0rd", "user": "x"}')).toBe('{"password": "[REDACTED-PASSWORD-3]", "user": "x"}');
    expect(r.apply('key AKIAIOSFODNN7EXAMPLE used')).toBe('key [REDACTED-AWS-KEY-1] used');
    expect(r.apply('nothing to see here: status=200')).toBe('nothing to see here: status=200');
  });

  it('maps the same value to the same placeholder everywhere, different values to different ones', () => {
    const r = new Redaction();
    const a = r.apply('password=alpha1 then password=beta22');
    const b = r.apply('again: password=alpha1');
    expect(a).toBe('password=[REDACTED-PASSWORD-1] then password=[REDACTED-PASSWORD-2]');
    expect(b).toBe('again: password=[REDACTED-PASSWORD-1]');
    expect(r.counts.get('PASSWORD')).toBe(3);
  });

  it('applies user patterns, redacting only the first capture group when there is one', () => {
    const r = new Redaction(['session=(\\w+)', 'INTERNAL-\\d+']);
    expect(r.apply('session=abc123 ticket INTERNAL-42')).toBe('session=[REDACTED-CUSTOM-1] ticket [REDACTED-CUSTOM-2]');
    expect(() => new Redaction(['('])).toThrow(UsageError);
    expect(() => new Redaction(['x*'])).toThrow(/matches the empty string/);
  });

  it('redacts a secret split across stream chunks', async () => {
    const r = new Redaction();
    const out = await through(r, ['line one\nconnecting to postgres://app:hun', 'ter2@db/shop\nAuthoriza', 'tion: Bearer abcdefghijkl\nlast line without newline password=zz9']);
    expect(out).toBe('line one\nconnecting to postgres://app:[REDACTED-PASSWORD-1]@db/shop\nAuthorization: Bearer [REDACTED-AUTH-1]\nlast line without newline password=[REDACTED-PASSWORD-2]');
  });
});
