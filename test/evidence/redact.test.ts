// The redactor behind every text that leaves the machine (postmortem, comms, evidence export): each
// kind of credential, consistent placeholders, user patterns, values that are not secrets, and
// stream chunking. The e2e suites (test/report/redaction.test.ts) run the same corpus through ir.

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/redactor.js';
import { UsageError } from '../../src/errors.js';
import { leaks, secretCorpus } from '../report/secret-corpus.js';

async function through(r: Redactor, chunks: (string | Buffer)[]): Promise<string> {
  let out = '';
  const s = Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).pipe(r.stream());
  for await (const c of s) out += String(c);
  return out;
}

describe('Redactor', () => {
  it('replaces every kind of the corpus, one by one, and names most of them by kind', async () => {
    const corpus = secretCorpus(1);
    expect(corpus.length).toBeGreaterThanOrEqual(12);
    const kinds: Record<string, string> = {};
    for (const p of corpus) {
      const r = new Redactor();
      const out = await r.redact(p.text);
      expect(leaks([p], out), `${p.name}:\n${out}`).toEqual([]);
      kinds[p.name] = [...r.counts.keys()].join(',');
    }
    expect(kinds).toMatchObject({
      'AWS access key id': 'AWS',
      'AWS secret access key': 'AWS',
      'Stripe live key': 'STRIPE',
      'GitHub token': 'GITHUB',
      'Slack bot token': 'SLACK',
      'Slack webhook URL': 'SLACK',
      'PEM private key': 'PRIVATE-KEY',
      'k8s env pair (JSON)': 'SECRET',
      'k8s env pair (YAML)': 'SECRET',
      'connection string': 'PASSWORD',
      JWT: 'JWT',
      'npm token': 'NPM',
      'Authorization: Basic': 'AUTH',
    });
  });

  it('keeps the words around a secret readable', async () => {
    const r = new Redactor();
    expect(await r.redact('curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" x')).toBe('curl -H "Authorization: Basic [REDACTED-AUTH-1]" x');
    expect(await r.redact('DATABASE_URL=postgres://app:hunter2secret@db:5432/shop')).toBe('DATABASE_URL=postgres://app:[REDACTED-PASSWORD-1]@db:5432/shop');
    expect(await r.redact('password=s3cr3t&user=bob')).toBe('password=[REDACTED-PASSWORD-2]&user=bob');
    expect(await r.redact('{"password": "p@ss w0rd", "user": "x"}')).toBe('{"password": "[REDACTED-PASSWORD-3]", "user": "x"}');
    expect(await r.redact('{"name":"DB_PASSWORD","value":"abc def 123"}')).toBe('{"name":"DB_PASSWORD","value":"[REDACTED-SECRET-1]"}');
    expect(await r.redact("export PGPASSWORD='k9 k9 k9'")).toBe("export PGPASSWORD='[REDACTED-PASSWORD-4]'");
  });

  it('leaves ordinary text alone: numbers, references, masks, words', async () => {
    const r = new Redactor();
    const plain = [
      'nothing to see here: status=200',
      'max_tokens: 4096 and token_count=12',
      'password: ${DB_PASSWORD} from the vault',
      'password=**** (masked by the runner)',
      'secretKeyRef: {name: db, key: password}',
      'p99 latency 412ms on shard 7, deploy v4.2.0 by ci',
      'sha256 5f2b9c0e6a1d4e3f8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f',
    ].join('\n');
    expect(await r.redact(plain)).toBe(plain);
    expect(r.total).toBe(0);
  });

  it('maps the same value to the same placeholder everywhere, also where no rule would see it', async () => {
    const r = new Redactor();
    const a = await r.redact('password=alpha1beta then password=beta22gamma');
    const b = await r.redact('again: password=alpha1beta; and bare alpha1beta in a sentence');
    expect(a).toBe('password=[REDACTED-PASSWORD-1] then password=[REDACTED-PASSWORD-2]');
    expect(b).toBe('again: password=[REDACTED-PASSWORD-1]; and bare [REDACTED-PASSWORD-1] in a sentence');
    // Counted once per value, however often it was replaced.
    expect(r.counts.get('PASSWORD')).toBe(2);
    expect(r.summary()).toBe('2 password');
  });

  it('redacts many strings together without letting a finding cross from one into the next', async () => {
    const r = new Redactor();
    const out = await r.redactDeep({ title: 'token: abcdef123456', notes: ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'ordinary note'], n: 3 });
    expect(out).toEqual({ title: 'token: [REDACTED-PASSWORD-1]', notes: ['[REDACTED-PRIVATE-KEY-1]', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'ordinary note'], n: 3 });
  });

  it('learn finds without rewriting; echo replaces only what is known, wherever it occurs, short values learned included', async () => {
    const r = new Redactor();
    await r.learn('Report <https://ci.example/status?token=abc12> and password=hunter2hunter');
    expect(r.total).toBe(2);
    const page = 'status: https://ci.example/status?token=abc12 · hunter2hunter · password=notseenbefore';
    expect(r.echo(page)).toBe('status: https://ci.example/status?token=[REDACTED-PASSWORD-1] · [REDACTED-PASSWORD-2] · password=notseenbefore');
  });

  it('a second pass over already redacted text changes nothing', async () => {
    const r = new Redactor();
    const once = await r.redact(secretCorpus(2).map((p) => p.text).join('\n'));
    expect(await r.redact(once)).toBe(once);
  });

  it('applies user patterns, redacting only the first capture group when there is one', async () => {
    const r = new Redactor(['session=(\\w+)', 'INTERNAL-\\d+']);
    expect(await r.redact('session=abc123 ticket INTERNAL-42')).toBe('session=[REDACTED-CUSTOM-1] ticket [REDACTED-CUSTOM-2]');
    expect(() => new Redactor(['('])).toThrow(UsageError);
    expect(() => new Redactor(['x*'])).toThrow(/matches the empty string/);
  });

  it('a secretlint-disable comment does not switch redaction off', async () => {
    const corpus = secretCorpus(3);
    const github = corpus.find((p) => p.name === 'GitHub token')!;
    const out = await new Redactor().redact(`// secretlint-disable\n${github.text}\n// secretlint-enable`);
    expect(leaks([github], out)).toEqual([]);
  });

  it('redacts a secret split across stream chunks, and a multi-byte character split across reads', async () => {
    const r = new Redactor();
    const euro = Buffer.from('€');
    const out = await through(r, [
      'line one\nconnecting to postgres://app:hun',
      'ter2@db/shop\nAuthoriza',
      'tion: Bearer abcdefghijkl\n',
      Buffer.concat([Buffer.from('price '), euro.subarray(0, 1)]),
      Buffer.concat([euro.subarray(1), Buffer.from('5\nlast line without newline password=zz9')]),
    ]);
    expect(out).toBe('line one\nconnecting to postgres://app:[REDACTED-PASSWORD-1]@db/shop\nAuthorization: Bearer [REDACTED-AUTH-1]\nprice €5\nlast line without newline password=[REDACTED-PASSWORD-2]');
  });

  it('finds a key that straddles the 1 MiB piece boundary of a large stream', async () => {
    const corpus = secretCorpus(4);
    const pem = corpus.find((p) => p.name === 'PEM private key')!;
    const yaml = corpus.find((p) => p.name === 'k8s env pair (YAML)')!;
    const filler = 'GET /health 200 1ms\n'.repeat(Math.ceil((1024 * 1024 - 40 * 1024) / 20));
    const text = `${filler}${pem.text}\n${filler}${yaml.text}\n${filler}`;
    // Cut into the sizes a file read gives, so the pieces end wherever they end.
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 65536) chunks.push(text.slice(i, i + 65536));
    const r = new Redactor();
    const out = await through(r, chunks);
    expect(leaks(corpus, out)).toEqual([]);
    expect(out.length).toBeLessThan(text.length);
    expect(out.split('\n').length).toBe(text.split('\n').length - 9);
  });
});
