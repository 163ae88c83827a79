// The redactor's prefilter (strings without a trigger word skip the built-in rules and secretlint)
// must never let a secret through: every rule of ir and of secretlint's preset finds its samples
// only in strings the prefilter keeps, and a redactor with it gives exactly what one without it
// gives, for each sample alone, among ordinary strings, and cut across strings at random.

import { describe, expect, it } from 'vitest';
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import { byFirstCharacter, firstThree, holdsTrigger, mayHoldSecret, Redactor } from '../../src/redact/redactor.js';
import { CONTEXT_RULES, RULE_TRIGGERS, SHAPE_RULES } from '../../src/redact/rules.js';
import { SECRETLINT_RULES, SECRETLINT_TRIGGERS, secretlintSpans } from '../../src/redact/secretlint.js';
import { generator, secretCorpus } from '../report/secret-corpus.js';
import { redactEvents } from '../../src/report/model.js';
import type { TimelineEvent } from '../../src/core/incident.js';

/**
 * One sample per rule of secretlint's preset that ir's corpus does not already hold, built at run
 * time (no such value is written in the repository). Prefixes are split so that no scanner reading
 * this file finds them.
 */
function vendorSamples(seed: number): { name: string; text: string }[] {
  const g = generator(seed);
  const j = (...parts: string[]) => parts.join('');
  // 1Password: ops_ and base64 of a JSON object ending in `}` (fQ==).
  const body = { email: 'ops@example.com', secret: g.alnum(90), pad: '' };
  while (JSON.stringify(body).length % 3 !== 1) body.pad += 'x';
  const json = JSON.stringify(body);
  return [
    { name: 'openai', text: `OPENAI key ${j('sk', '-proj-', g.url(74), 'T3Blbk', 'FJ', g.url(74))} in the notebook` },
    { name: 'anthropic', text: `ANTHROPIC ${j('sk-', 'ant-api03-', g.url(95), 'AA')} leaked` },
    { name: 'groq', text: `groq ${j('gs', 'k_', g.alnum(52))} here` },
    { name: 'huggingface', text: `hf ${j('h', 'f_', g.letters(34))} here` },
    { name: 'linear', text: `linear ${j('lin', '_api_', g.alnum(40))} here` },
    { name: 'notion', text: `notion ${j('nt', 'n_', g.digits(11), g.alnum(35))} here` },
    { name: 'sendgrid', text: `mail via ${j('S', 'G.', g.alnum(22), '.', g.alnum(43))} ok` },
    { name: 'shopify', text: `shop ${j('shp', 'at_', g.hex(32))} ok` },
    { name: 'github fine-grained', text: `ci ${j('github', '_pat_', g.alnum(22), '_', g.alnum(59))} ok` },
    { name: 'gitlab', text: `gl ${j('gl', 'pat-', g.url(20))} ok` },
    { name: 'grafana cloud', text: `graf ${j('gl', 'c_', g.alnum(40))} ok` },
    { name: 'grafana service account', text: `graf ${j('gl', 'sa_', g.alnum(32), '_', g.hex(8))} ok` },
    { name: '1password', text: `op ${j('op', 's_', Buffer.from(json).toString('base64'))} ok` },
    { name: 'vault', text: `vault ${j('hv', 's.', g.url(100))} ok` },
    { name: 'vercel', text: `vercel ${j('vc', 'p_', g.alnum(24))} ok` },
    { name: 'databricks', text: `db ${j('da', 'pi', g.hex(32))} ok` },
    { name: 'docker', text: `docker ${j('dc', 'kr_pat_', g.url(27))} ok` },
    { name: 'figma', text: `figma ${j('fi', 'gd_', g.url(40))} ok` },
    { name: 'mongodb', text: `MONGO=${j('mongo', 'db://')}admin:${g.alnum(14)}@mongo-0.internal:27017/orders` },
    { name: 'mysql', text: `${j('my', 'sql://')}app:${g.alnum(14)}@mysql.internal/shop` },
    { name: 'slack webhook', text: `hook ${j('https://hooks.', 'slack', '.com/services/T', g.alnum(9).toUpperCase(), '/B', g.alnum(9).toUpperCase(), '/', g.alnum(24))}` },
    { name: 'npm authToken', text: `//registry.npmjs.org/:${j('_auth', 'Token')}=${g.alnum(36)}` },
    { name: 'github oauth url', text: `${j('https://', g.alnum(40), ':x-oauth', '-basic@github.com/')}org/repo.git` },
    { name: 'PEM key (secretlint form)', text: `-----BEGIN PRIVATE KEY-----\nMII${Array.from({ length: 3 }, () => g.alnum(64)).join('\n')}\n-----END PRIVATE KEY-----` },
    { name: 'k8s env pair, value first (JSON)', text: `env: [{"value": "${g.alnum(18)}", "name": "API_TOKEN"}]` },
    { name: 'aws secret (secretlint form)', text: `AWS_SECRET_ACCESS_KEY: "${g.alnum(40)}"` },
  ];
}

/** Lines a long timeline is mostly made of: none may hold a trigger word, or the test proves nothing. */
function plainLines(seed: number, n: number): string[] {
  const g = generator(seed);
  const lines = [
    () => `observation ${g.int(1e5)}: p99 latency ${200 + g.int(300)}ms on shard ${g.int(16)}`,
    () => `redis-cli -h 127.0.0.1 -p 6379 INFO memory`,
    () => `Step ${g.int(100)}: rolled back deploy v${g.int(9)}.${g.int(20)}.0; errors at baseline`,
    () => `quoted "reply" from the on-call, with a \\ and a "second quote"`,
    () => `a line that ends in a backslash \\`,
    () => `ok`,
    () => `/var/lib/ir/incidents/INC-20261122-001/runbooks/RUN-${g.alnum(6)}/${g.int(999)}.log`,
  ];
  return Array.from({ length: n }, () => lines[g.int(lines.length)]());
}

const pair = () => [new Redactor([], { prefilter: true }), new Redactor([], { prefilter: false })] as const;

describe('redaction prefilter', () => {
  it("names every rule of secretlint's preset it was checked against", () => {
    // A secretlint upgrade that adds, drops or reorders rules fails here: read the new rules'
    // patterns and add their literal words to SECRETLINT_TRIGGERS before updating this list.
    expect(presetRules.map((r) => r.meta.id)).toEqual(SECRETLINT_RULES);
  });

  it('every secretlint rule finds its sample, and only in strings that hold a trigger word', async () => {
    const samples = [...secretCorpus(3), ...vendorSamples(3)];
    const reportedBy = new Set<string>();
    for (const s of samples) {
      const spans = await secretlintSpans(s.text, 0);
      for (const sp of spans) reportedBy.add(sp.kind);
      if (spans.length) expect(mayHoldSecret(s.text), s.name).toBe(true);
    }
    // Each rule is exercised by some sample, but the comment filter (which finds nothing) and the
    // GCP rule, which reads only files named *.json or *.p12 (ir hands secretlint text as .txt).
    expect([...reportedBy].sort()).toEqual(
      ['AWS', 'NPM', 'SLACK', 'PASSWORD', 'OPENAI', 'ANTHROPIC', 'GROQ', 'HUGGINGFACE', 'LINEAR', 'NOTION', 'PRIVATE-KEY', 'SENDGRID', 'SHOPIFY', 'GITHUB', 'GITLAB', 'GRAFANA', 'ONEPASSWORD', 'HASHICORP-VAULT', 'VERCEL', 'DATABRICKS', 'DOCKER', 'FIGMA'].sort(),
    );
  });

  it("every rule of ir's own finds its samples only in strings that hold a trigger word", async () => {
    const samples = [...secretCorpus(4), ...vendorSamples(4)];
    const all = [...SHAPE_RULES, ...CONTEXT_RULES];
    const hit = new Set<number>();
    for (const s of samples) {
      all.forEach((rule, i) => {
        const re = new RegExp(rule.re.source, rule.re.flags);
        if (re.test(s.text)) {
          hit.add(i);
          expect(mayHoldSecret(s.text), `${s.name} (rule ${rule.kind} ${i})`).toBe(true);
        }
      });
    }
    expect(all.filter((_, i) => !hit.has(i)).map((r) => `${r.kind} ${r.re.source.slice(0, 40)}`)).toEqual([]);
  });

  it('the trigger words grouped by first character match where the plain alternation of them does', () => {
    const words = [...new Set([...RULE_TRIGGERS, ...SECRETLINT_TRIGGERS])];
    const grouped = new RegExp(byFirstCharacter(words), 'gi');
    const plain = new RegExp(words.join('|'), 'gi');
    expect(grouped.source).not.toBe(plain.source);
    // Every word as a match of its own (each spelled out from its regex: one letter of a class,
    // an optional part both ways), beside its neighbours, in other cases, and ordinary text.
    const spelled = words.flatMap((w) => {
      const one = w.replace(/\[(.)[^\]]*\]\?/g, '$1').replace(/\[(.)[^\]]*\]/g, '$1').replace(/\\(.)/g, '$1');
      const none = w.replace(/\[[^\]]*\]\?/g, '').replace(/\[(.)[^\]]*\]/g, '$1').replace(/\\(.)/g, '$1');
      return [one, none, one.toUpperCase(), `x${one}y`];
    });
    const texts = [...spelled, spelled.join(''), spelled.join(' '), ...plainLines(6, 200), ...[...secretCorpus(6), ...vendorSamples(6)].map((s) => s.text)];
    const at = (re: RegExp, t: string) => [...t.matchAll(re)].map((m) => m.index);
    for (const t of texts) expect(at(grouped, t), t).toEqual(at(plain, t));
    // Every spelled word is found, so the comparison above is not one of empty lists.
    for (const t of spelled) expect(at(grouped, t).length, t).toBeGreaterThan(0);
  });

  it('the ordinary lines of the test hold no trigger word: they are the part the prefilter skips', () => {
    for (const line of plainLines(5, 200)) expect(mayHoldSecret(line), line).toBe(false);
  });

  it('gives exactly what a full scan gives: each sample alone, and among ordinary strings', async () => {
    for (const seed of [1, 2, 3]) {
      const samples = [...secretCorpus(seed), ...vendorSamples(seed)].map((s) => s.text);
      const [fast, full] = pair();
      for (const text of samples) expect(await fast.redact(text)).toBe(await full.redact(text));
      expect([...fast.counts]).toEqual([...full.counts]);

      const [fastB, fullB] = pair();
      const plain = plainLines(seed, samples.length * 20);
      const mixed = plain.map((line, i) => (i % 20 === 7 ? samples[i / 20 | 0] : line));
      const a = await fastB.redactDeep(mixed.map((text, i) => ({ text, n: i })));
      const b = await fullB.redactDeep(mixed.map((text, i) => ({ text, n: i })));
      expect(a).toEqual(b);
      expect([...fastB.counts]).toEqual([...fullB.counts]);
      expect(fastB.total).toBeGreaterThan(20);
    }
  });

  it('finds what reads across strings as a full scan does: a quoted value or a key cut over several notes', async () => {
    const value = 'Zq8vL2mN4pR7sT1w';
    const batches = [
      // A JSON value left open: it ends at the quote in a later, ordinary string.
      [`{"name":"DB_PASSWORD","value":"${value}`, 'p99 latency 300ms', 'quoted "reply" from the on-call', 'ok'],
      [`{"password": "${value}`, 'ok', 'a "quote"'],
      // Value first: the name comes in a later string that does hold a trigger word.
      [`{"value": "${value}`, 'p99 latency', `", "name": "DB_PASSWORD"}`],
      // Blocked by a backslash before the end of an ordinary string: no match either way.
      [`{"password": "${value}`, 'a line that ends in a backslash \\', 'then a "quote"'],
      // A PEM block over several strings, ordinary ones between.
      ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'ok', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', '-----END RSA PRIVATE KEY-----'],
    ];
    for (const texts of batches) {
      const [fast, full] = pair();
      expect(await fast.redactAll(texts), texts[0]).toEqual(await full.redactAll(texts));
    }
    const [fast] = pair();
    expect((await fast.redactAll(batches[0]))[0]).not.toContain(value);
  });

  it('gives exactly what a full scan gives for samples cut at random places among ordinary strings', async () => {
    const g = generator(11);
    const samples = [...secretCorpus(9), ...vendorSamples(9)].map((s) => s.text);
    for (let round = 0; round < 40; round++) {
      const texts = plainLines(100 + round, 30);
      for (let k = 0; k < 3; k++) {
        const text = samples[g.int(samples.length)];
        const cut = 1 + g.int(text.length - 1);
        const at = g.int(texts.length - 3);
        texts.splice(at, 0, text.slice(0, cut), ...plainLines(200 + round * 3 + k, g.int(3)), text.slice(cut));
      }
      const [fast, full] = pair();
      expect(await fast.redactAll(texts), `round ${round}`).toEqual(await full.redactAll(texts));
      expect([...fast.counts]).toEqual([...full.counts]);
    }
  });

  it('reads trigger words in any case, also beside letters that lowercase to two units or to ASCII', async () => {
    const corpus = secretCorpus(21);
    // U+0130 lowercases to two units (the scan then keeps the text's own indices); U+212A (Kelvin) to `k`.
    const odd = ['\u0130stanbul ops', 'the \u212Aey was rotated', 'PASSWORD ROTATED', 'Authorization header seen'];
    for (const sample of corpus) {
      const texts = [...odd, sample.text, 'plain words', `\u0130 ${sample.text}`];
      const [fast, full] = pair();
      expect(await fast.redactAll(texts), sample.name).toEqual(await full.redactAll(texts));
    }
    expect(mayHoldSecret('PASSWORD=x')).toBe(true);
  });

  it('reads the start of every trigger word, so that strings are told apart by a loop and not by the regex over every character', () => {
    expect(firstThree('api[_-]?key')).toEqual(['api']);
    expect(firstThree('x[_-]?yz')?.sort()).toEqual(['x-y', 'x_y', 'xyz']);
    expect(firstThree('sg\\.')).toEqual(['sg.']);
    expect(firstThree(':\\/\\/')).toEqual(['://']);
    // Too short, or syntax it does not read: the regex alone decides then.
    for (const w of ['ab', 'a?bc', 'a+bc', '[a-z]bc', '[^a]bc', 'a(b)c', 'ab.', 'a\\dc']) expect(firstThree(w), w).toBeUndefined();
    // A trigger word added in a form firstThree does not read would turn the fast scan off: it fails here.
    for (const w of new Set([...RULE_TRIGGERS, ...SECRETLINT_TRIGGERS])) expect(firstThree(w), w).toBeDefined();
  });

  it('tells string by string what the trigger regex tells of each string (lowercased where that keeps its length)', () => {
    const words = [...new Set([...RULE_TRIGGERS, ...SECRETLINT_TRIGGERS])];
    const plain = new RegExp(words.join('|'));
    const plainAnyCase = new RegExp(words.join('|'), 'i');
    const expected = (t: string) => {
      const lower = t.toLowerCase();
      return lower.length === t.length ? plain.test(lower) : plainAnyCase.test(t);
    };
    const spelled = words.flatMap((w) => {
      const one = w.replace(/\[(.)[^\]]*\]\?/g, '$1').replace(/\[(.)[^\]]*\]/g, '$1').replace(/\\(.)/g, '$1');
      const last = w.replace(/\[[^\]]*?(.)\]\?/g, '$1').replace(/\[[^\]]*?(.)\]/g, '$1').replace(/\\(.)/g, '$1');
      const none = w.replace(/\[[^\]]*\]\?/g, '').replace(/\[(.)[^\]]*\]/g, '$1').replace(/\\(.)/g, '$1');
      return [one, last, none, one.toUpperCase(), `x${one}y`, one.slice(0, -1), `${none.slice(0, 2)} ${none.slice(2)}`];
    });
    const odd = ['\u0130stanbul ops', 'the \u212Aey was rotated', 'to\u212Aen', 'TO\u212AEN', 'caf\u00e9 token', '\u0130 secret', 'pass\u0130', '\u017Fecret'];
    const g = generator(31);
    // Pieces of trigger words (whole or cut, in either case) between characters they are made of
    // and a few others: matches, near misses and words across the pieces.
    const alphabet = `${[...new Set(spelled.join(''))].join('')}ABCDEFGHIKPSTWXY \n"\u212A\u0130`;
    const piece = () => {
      const w = spelled[g.int(spelled.length)];
      const from = g.int(2) ? 0 : g.int(w.length);
      const cut = w.slice(from, from + 1 + g.int(w.length));
      return [...cut].map((c) => (g.int(4) ? c : c.toUpperCase())).join('');
    };
    const random = Array.from({ length: 20_000 }, () => Array.from({ length: 1 + g.int(4) }, () => (g.int(3) ? piece() : alphabet[g.int(alphabet.length)])).join(''));
    const texts = [...spelled, ...odd, ...plainLines(8, 300), ...[...secretCorpus(8), ...vendorSamples(8)].map((s) => s.text), ...random];
    let held = 0;
    for (const t of texts) {
      const want = expected(t);
      if (want) held++;
      expect(holdsTrigger(t), JSON.stringify(t)).toBe(want);
    }
    // Both answers are exercised, many times.
    expect(held).toBeGreaterThan(1000);
    expect(texts.length - held).toBeGreaterThan(1000);
  });

  it('replaces a value found in one batch in later batches of strings with no trigger word, and hands a batch with nothing back as it is', async () => {
    const value = 'Zq8vL2mN4pR7sT1w';
    const r = new Redactor();
    const [first] = await r.redactAll([`password: ${value}`, 'ok']);
    expect(first).toBe('password: [REDACTED-PASSWORD-1]');
    expect(await r.redactAll(['p99 latency 300ms', `the value ${value} again`])).toEqual(['p99 latency 300ms', 'the value [REDACTED-PASSWORD-1] again']);
    const plain = ['ok', 'p99 latency 300ms'];
    expect(await new Redactor().redactAll(plain)).toBe(plain);
  });

  it('says a value surely stays unchanged only with no trigger word in it, no pattern of the user and no value found yet', async () => {
    const plain = { text: 'p99 latency 300ms', list: ['ok', { deep: 'shard 3' }], n: 4 };
    expect(new Redactor().unchanged(plain)).toBe(true);
    expect(new Redactor().unchanged({ ...plain, list: ['ok', { deep: 'the TOKEN rotated' }] })).toBe(false);
    expect(new Redactor(['shard \\d']).unchanged(plain)).toBe(false);
    expect(new Redactor([], { prefilter: false }).unchanged(plain)).toBe(false);
    const r = new Redactor();
    await r.redact('password: Zq8vL2mN4pR7sT1w');
    expect(r.unchanged(plain)).toBe(false);
  });

  it('redacts a batch of events whose one secret comes last, or is a value found in an earlier batch', async () => {
    const value = 'Zq8vL2mN4pR7sT1w';
    const event = (seq: number, text: string): TimelineEvent => ({ seq, incidentId: 'INC-1', at: '2026-11-22T02:00:00.000Z', type: 'note.added', actor: 'a', data: { text }, prevHash: '', hash: '' });
    const r = new Redactor();
    const batch = [...Array.from({ length: 499 }, (_, i) => event(i + 1, `observation ${i}`)), event(500, `password: ${value}`)];
    const before = [...batch];
    await redactEvents(batch, r);
    expect(batch[499].data.text).toBe('password: [REDACTED-PASSWORD-1]');
    // Only the event that changed is a new object: the others are the very same.
    expect(batch.slice(0, 499).every((e, i) => e === before[i])).toBe(true);
    expect(before[499].data.text).toBe(`password: ${value}`);
    const later = [event(501, 'observation'), event(502, `seen again: ${value}`)];
    await redactEvents(later, r);
    expect(later.map((e) => e.data.text)).toEqual(['observation', 'seen again: [REDACTED-PASSWORD-1]']);
  });

  it("applies the user's own patterns to every string, trigger word or not", async () => {
    const r = new Redactor(['ticket-(\\d{6,})']);
    expect(await r.redactAll(['ok', 'see ticket-1234567 for it'])).toEqual(['ok', 'see ticket-[REDACTED-CUSTOM-1] for it']);
  });
});
