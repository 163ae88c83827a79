// Secrets pasted into an incident never leave the machine: a corpus of token kinds, put into the
// title, impact, notes, summary and root cause, is absent from the postmortem (stdout and file),
// from status messages (screen and the body a webhook receives) and from an evidence export
// (unpacked and searched), each value one placeholder throughout; the local timeline keeps the
// originals, and --no-redact, which says so, shows them. Also: Slack escaping of posted text, the
// chain head in what leaves, and the scanner loaded only by the commands that need it.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irAsync, irEnv, json, tempHome } from '../helpers/cli.js';
import { hook } from './hook.js';
import { leaks, secretCorpus, type Pasted } from './secret-corpus.js';

interface Event {
  seq: number;
  type: string;
  data: Record<string, unknown>;
  hash: string;
}

const timeline = (home: string, id: string) => json<{ events: Event[] }>(ir(home, ['timeline', id, '--json'])).events;

function ok(r: { code: number; stdout: string; stderr: string }, what: string) {
  expect(r.code, `${what}\n${r.stderr}`).toBe(0);
  return r;
}

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
}

/** The placeholder that took the place of the text right after `marker` wherever `marker` occurs. */
function placeholdersAfter(text: string, marker: string): string[] {
  const out: string[] = [];
  for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) {
    const m = /^\[REDACTED-[A-Z0-9-]+-\d+\]/.exec(text.slice(i + marker.length));
    out.push(m ? m[0] : `(no placeholder: ${text.slice(i + marker.length, i + marker.length + 12)}…)`);
  }
  return out;
}

describe('secrets pasted into an incident', () => {
  let home: string;
  let cleanup: () => void;
  let id: string;
  let corpus: Pasted[];
  let declared: { id: string; announcement_draft: string };
  const by = (name: string) => corpus.find((p) => p.name === name)!;

  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    corpus = secretCorpus(11);
    const stripe = by('Stripe live key');
    const password = by('password= in a note');
    declared = json<{ id: string; announcement_draft: string }>(ok(ir(home, ['declare', '--json', '-t', `Checkout down, ${stripe.text}`, '-s', 'SEV-2', '--service', 'checkout', '--impact', `All checkouts failed; ${password.text}`]), 'declare'));
    id = declared.id;
    for (const p of corpus) ok(ir(home, ['note', p.text]), `note ${p.name}`);
    // The same password once more, bare, where no rule would know it for one.
    ok(ir(home, ['note', `later someone typed ${password.secrets[0]} into the chat`]), 'note');
  });
  afterAll(() => cleanup());

  it("declare's announcement draft (pasted into chat) carries none of those in the title and impact", () => {
    expect(declared.announcement_draft).toMatch(/Checkout down/);
    expect(leaks(corpus, declared.announcement_draft)).toEqual([]);
  });

  it('status messages, on screen and as posted, carry none of them', async () => {
    const h = await hook([200]);
    try {
      const message = corpus.map((p) => p.text).join('\n');
      const update = await irAsync(home, ['comms', 'update', '--message', message, '--post', '--json'], { env: { IR_SLACK_WEBHOOK: h.url } });
      expect(update.code, update.stderr).toBe(0);
      const doc = json<{ text: string; redacted: boolean; posted: { ok: boolean } }>(update);
      expect(h.bodies).toHaveLength(1);
      expect(leaks(corpus, JSON.stringify(h.bodies))).toEqual([]);
      expect(leaks(corpus, doc.text)).toEqual([]);
      expect(doc).toMatchObject({ redacted: true, posted: { ok: true } });
      expect(doc.text).toContain('[REDACTED-');
      for (const kind of ['initial', 'customer', 'update']) {
        const r = ok(ir(home, ['comms', kind, '--message', message, '--preview']), `comms ${kind}`);
        expect(leaks(corpus, r.stdout), `comms ${kind}`).toEqual([]);
        expect(r.stderr).toMatch(/^Redacted \d+ .* in the message\.$/m);
      }
      // What was sent is what is recorded as sent.
      const sent = timeline(home, id).filter((e) => e.type === 'comms.sent');
      expect(leaks(corpus, JSON.stringify(sent))).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('--no-redact shows them, and says that redaction is off', () => {
    const r = ok(ir(home, ['comms', 'update', '--message', by('GitHub token').text, '--preview', '--no-redact']), 'comms --no-redact');
    expect(r.stdout).toContain(by('GitHub token').secrets[0]);
    expect(r.stdout).toContain(by('password= in a note').secrets[0]);
    expect(r.stderr).toMatch(/Redaction is OFF \(--no-redact\)/);
  });

  it('the postmortem, on stdout and in a file, carries none of them; the same value is the same placeholder', () => {
    ok(ir(home, ['resolve', '--summary', `Rotated ${by('GitHub token').text}`, '--root-cause', `The app logged ${by('connection string').text}`]), 'resolve');
    const r = ok(ir(home, ['postmortem', id]), 'postmortem');
    expect(leaks(corpus, r.stdout)).toEqual([]);
    expect(r.stderr).toMatch(/^Redacted \d+ .* in the report\.$/m);
    const out = join(home, 'pm.md');
    ok(ir(home, ['postmortem', id, '--out', out]), 'postmortem --out');
    const file = readFileSync(out, 'utf8');
    expect(leaks(corpus, file)).toEqual([]);
    expect(file).toMatch(/^redacted: true$/m);

    // The password: in the impact, in its note, and bare in a later note — one placeholder.
    const password = by('password= in a note').secrets[0];
    const seen = new Set([...placeholdersAfter(file, 'password='), ...placeholdersAfter(file, 'later someone typed ')]);
    expect([...seen]).toHaveLength(1);
    expect([...seen][0]).toMatch(/^\[REDACTED-PASSWORD-\d+\]$/);
    expect(file).not.toContain(password);
    // The GitHub token: in a note, in the summary (and the resolved message) — one placeholder.
    const github = new Set([...placeholdersAfter(file, 'CI clones with '), ...placeholdersAfter(file, 'Rotated CI clones with ')]);
    expect([...github]).toEqual([expect.stringMatching(/^\[REDACTED-GITHUB-\d+\]$/)]);
    // Different values, different placeholders.
    expect(github.has([...seen][0])).toBe(false);
  });

  it('the local timeline keeps the originals', () => {
    const events = timeline(home, id);
    const notes = events.filter((e) => e.type === 'note.added').map((e) => e.data.text);
    for (const p of corpus) expect(notes).toContain(p.text);
    expect(events[0].data.title).toBe(`Checkout down, ${by('Stripe live key').text}`);
    const human = ok(ir(home, ['timeline', id]), 'timeline');
    for (const name of ['AWS access key id', 'GitHub token', 'Slack bot token', 'JWT', 'npm token']) expect(human.stdout).toContain(by(name).secrets[0]);
  });

  it('postmortem --no-redact shows them and says so, in the front matter and on stderr', () => {
    const r = ok(ir(home, ['postmortem', id, '--no-redact']), 'postmortem --no-redact');
    for (const name of ['password= in a note', 'AWS access key id', 'Stripe live key', 'k8s env pair (JSON)']) expect(r.stdout).toContain(by(name).secrets[0]);
    expect(r.stdout).toMatch(/^redacted: false$/m);
    expect(r.stderr).toMatch(/Redaction is OFF \(--no-redact\)/);
  });

  it("a secret in a team's own template is redacted too, wherever it lands", () => {
    const team = join(home, 'team');
    mkdirSync(join(team, 'templates'), { recursive: true });
    // A value that is nowhere in the record: only a scan of the template itself can know it.
    const hookUrl = secretCorpus(99).find((p) => p.name === 'Slack webhook URL')!;
    writeFileSync(join(team, 'templates', 'postmortem.md'), `# {{incident.title}}\n\nDiscuss in ${hookUrl.text}\n\n{{#each timeline}}\n| {{time}} | {{text}} |\n{{/each}}\n`);
    const r = ok(ir(home, ['postmortem', id, '--draft', '--runbooks', team]), 'postmortem with a team template');
    expect(leaks([...corpus, hookUrl], r.stdout)).toEqual([]);
    expect(r.stdout).toMatch(/^Discuss in alerts go to \[REDACTED-SLACK-\d+\]$/m);
  });

  it("the postmortem's front matter carries the chain head: the last event of `ir timeline --json`", () => {
    const last = timeline(home, id).at(-1)!;
    const r = ok(ir(home, ['postmortem', id]), 'postmortem');
    const front = /^---\n([\s\S]*?)\n---\n/.exec(r.stdout)?.[1] ?? '';
    expect(front).toContain(`chain_head: "${last.seq}:${last.hash}"`);
    expect(last.hash).toMatch(/^[0-9a-f]{64}$/);
    const doc = json<{ chain_head: string }>(ok(ir(home, ['postmortem', id, '--json']), 'postmortem --json'));
    expect(doc.chain_head).toBe(`${last.seq}:${last.hash}`);
  });
});

describe('status messages carry the chain head', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('printed and posted, as of the event before the message was recorded', async () => {
    const id = json<{ id: string }>(ok(ir(home, ['declare', '--json', '-t', 'Search slow', '-s', 'SEV-3']), 'declare')).id;
    ok(ir(home, ['note', 'shard 7 hot']), 'note');
    const h = await hook([200]);
    try {
      const before = timeline(home, id).at(-1)!;
      const anchor = `${before.seq}:${before.hash}`;
      const r = await irAsync(home, ['comms', 'update', '--post'], { env: { IR_SLACK_WEBHOOK: h.url } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`ir chain head as of this message: \`${anchor}\``);
      expect(h.bodies[0].body.text).toContain(anchor);
      const sent = timeline(home, id).at(-1)!;
      expect(sent).toMatchObject({ type: 'comms.sent', seq: before.seq + 1, data: { chain_head: anchor } });
      // Customer text carries no internal detail: the anchor goes to stderr, and to the team's webhook.
      const c = await irAsync(home, ['comms', 'customer', '--post'], { env: { IR_SLACK_WEBHOOK: h.url } });
      expect(c.code, c.stderr).toBe(0);
      const head = timeline(home, id).at(-2)!;
      expect(c.stdout).not.toContain(head.hash);
      expect(c.stderr).toContain(`Chain head as of this message: ${head.seq}:${head.hash}`);
      expect(h.bodies[1].body.text).toContain(`${head.seq}:${head.hash}`);
    } finally {
      await h.close();
    }
  });
});

describe('the chain heads that left the machine', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('verify with `ir timeline --verify --head` while the record holds them, and fail once its tail is cut back past them', async () => {
    const id = json<{ id: string }>(ok(ir(home, ['declare', '--json', '-t', 'Anchored', '-s', 'SEV-2']), 'declare')).id;
    ok(ir(home, ['note', 'first look']), 'note');
    const h = await hook([200]);
    let posted: string;
    try {
      expect((await irAsync(home, ['comms', 'update', '--post'], { env: { IR_SLACK_WEBHOOK: h.url } })).code).toBe(0);
      posted = /ir chain head as of this message: `(\d+:[0-9a-f]{64})`/.exec(h.bodies[0].body.text)?.[1] ?? 'none in the post';
    } finally {
      await h.close();
    }
    ok(ir(home, ['note', 'rolled back']), 'note');
    ok(ir(home, ['resolve', '--summary', 'rolled back']), 'resolve');
    const report = /^chain_head: "(\d+:[0-9a-f]{64})"$/m.exec(ok(ir(home, ['postmortem', id]), 'postmortem').stdout)?.[1] ?? 'none in the report';
    for (const anchor of [posted, report]) expect(ir(home, ['timeline', '--verify', '--head', anchor]).code, anchor).toBe(0);

    // Cut the record back to before the message, the head pointer moved too: each anchor that left
    // the machine is reported as no longer in the chain.
    const seq = Number(posted.split(':')[0]);
    const db = join(home, 'ir.db');
    const keep = execFileSync('sqlite3', [db, `SELECT seq || '|' || hash FROM events WHERE incident_id = '${id}' AND seq < ${seq} ORDER BY seq DESC LIMIT 1`], { encoding: 'utf8' }).trim().split('|');
    execFileSync('sqlite3', [db, `DROP TRIGGER IF EXISTS events_append_only_delete; DELETE FROM events WHERE incident_id = '${id}' AND seq >= ${seq}; UPDATE incidents SET head_seq = ${keep[0]}, head_hash = '${keep[1]}' WHERE id = '${id}';`]);
    for (const anchor of [posted, report]) {
      const r = ir(home, ['timeline', '--verify', '--head', anchor, '--json']);
      expect(r.code, anchor).toBe(1);
      expect(json<{ anchors: { head: string; ok: boolean; reason: string }[] }>(r).anchors).toEqual([expect.objectContaining({ head: anchor, ok: false, reason: expect.stringMatching(/no longer in the store/) })]);
    }
  });
});

describe('Slack escaping', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('posted text escapes &, < and > so mentions in titles and notes stay text; the screen shows them as written', async () => {
    ok(ir(home, ['declare', '-t', '<!channel> checkout & payments <@U024BE7LH>', '-s', 'SEV-2', '--impact', 'a<b && c>d']), 'declare');
    ok(ir(home, ['note', '<!here> see <#C0123|ops> & <https://evil.example|click>']), 'note');
    const h = await hook([200]);
    try {
      const r = await irAsync(home, ['comms', 'update', '--post', '--json'], { env: { IR_SLACK_WEBHOOK: h.url } });
      expect(r.code, r.stderr).toBe(0);
      const posted = h.bodies[0].body.text;
      expect(posted).toContain('&lt;!channel&gt; checkout &amp; payments &lt;@U024BE7LH&gt;');
      expect(posted).toContain('a&lt;b &amp;&amp; c&gt;d');
      expect(posted).toContain('&lt;!here&gt; see &lt;#C0123|ops&gt; &amp; &lt;https://evil.example|click&gt;');
      expect(posted).not.toMatch(/[<>]/);
      expect(posted.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
      const doc = json<{ text: string; posted: { text: string } }>(r);
      expect(doc.text).toContain('<!channel> checkout & payments <@U024BE7LH>');
      expect(doc.posted.text).toBe(posted);
    } finally {
      await h.close();
    }
  });
});

describe('evidence export', () => {
  let home: string;
  let cleanup: () => void;
  let id: string;
  let corpus: Pasted[];
  let team: string;

  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    corpus = secretCorpus(23);
    // Two collectors whose output holds the corpus; the second repeats some values of the first.
    team = join(home, 'team');
    mkdirSync(team);
    writeFileSync(join(home, 'app.log'), corpus.map((p, i) => `2026-11-22T02:4${i % 10}:00Z app: ${p.text}`).join('\n') + '\n');
    writeFileSync(join(home, 'env.txt'), corpus.filter((_, i) => i % 2 === 0).map((p) => `seen again: ${p.text}`).join('\n') + '\n');
    writeFileSync(
      join(team, 'evidence.yaml'),
      `collectors:\n  - name: app-log\n    description: the app log\n    command: [cat, ${JSON.stringify(join(home, 'app.log'))}]\n  - name: env-dump\n    description: an env dump\n    command: [cat, ${JSON.stringify(join(home, 'env.txt'))}]\n`,
    );
    id = json<{ id: string }>(ok(ir(home, ['declare', '--json', '-t', 'export', '-s', 'SEV-2']), 'declare')).id;
    ok(ir(home, ['evidence', 'collect', '--only', 'app-log,env-dump', '--runbooks', team]), 'collect');
  });
  afterAll(() => cleanup());

  function unpack(archive: string, into: string): string[] {
    mkdirSync(into, { recursive: true });
    const t = spawnSync('tar', ['-xzf', archive, '-C', into], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    return files(into);
  }

  it('redacts by default: no file of the archive holds a secret; the same value has one placeholder in every file', () => {
    const archive = join(home, 'default.tar.gz');
    const r = ok(ir(home, ['evidence', 'export', '--out', archive]), 'export');
    const all = unpack(archive, join(home, 'x-default'));
    expect(all.map((f) => f.split('/').pop())).toEqual(expect.arrayContaining(['app-log.txt', 'env-dump.txt', 'custody.log', 'SHA256SUMS', 'manifest.json']));
    for (const f of all) expect(leaks(corpus, readFileSync(f, 'utf8')), f).toEqual([]);
    expect(r.stdout).toMatch(/redacted \(\d+ /);
    const app = readFileSync(all.find((f) => f.endsWith('app-log.txt'))!, 'utf8');
    const env = readFileSync(all.find((f) => f.endsWith('env-dump.txt'))!, 'utf8');
    for (const [name, marker] of [
      ['password= in a note', 'password='],
      ['GitHub token', 'CI clones with '],
      ['JWT', 'session cookie was '],
    ] as const) {
      expect(corpus.findIndex((p) => p.name === name) % 2, `${name} is in both files`).toBe(0);
      const inApp = placeholdersAfter(app, marker);
      const inEnv = placeholdersAfter(env, marker);
      expect(inApp.length).toBeGreaterThan(0);
      expect(inEnv).toEqual(inApp);
    }
    const sums = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(home, 'x-default', `${id}-evidence`), encoding: 'utf8' });
    expect(sums.status, sums.stdout).toBe(0);
    expect(ir(home, ['evidence', 'verify']).code).toBe(0);
  });

  it('--no-redact archives the files as collected, and says so', () => {
    const archive = join(home, 'raw.tar.gz');
    const r = ok(ir(home, ['evidence', 'export', '--out', archive, '--no-redact', '--json']), 'export --no-redact');
    expect(json(r)).toMatchObject({ redacted: false });
    expect(r.stderr).toMatch(/Redaction is OFF \(--no-redact\)/);
    const all = unpack(archive, join(home, 'x-raw'));
    const app = readFileSync(all.find((f) => f.endsWith('app-log.txt'))!, 'utf8');
    expect(leaks(corpus, app)).toHaveLength(corpus.flatMap((p) => p.secrets).length);
    expect(readFileSync(all.find((f) => f.endsWith('custody.log'))!, 'utf8')).toMatch(/NOT redacted/);
    expect(ir(home, ['evidence', 'export', '--out', join(home, 'bad.tar.gz'), '--no-redact', '--redact-pattern', 'x(y)']).code).toBe(2);
    const exported = timeline(home, id).filter((e) => e.type === 'evidence.exported');
    expect(exported.map((e) => e.data.redacted)).toEqual([true, false]);
  });
});

describe('the secret scanner is loaded only where something leaves the machine', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  function loaded(args: string[]): string[] {
    const trace = join(home, `trace-${args.join('-').replace(/\W/g, '')}.txt`);
    rmSync(trace, { force: true });
    const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test/helpers/trace-imports.mjs'), BIN, ...args], { env: irEnv(home, { IR_TRACE_FILE: trace }), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  }
  const scanner = (urls: string[]) => urls.some((u) => u.includes('/node_modules/@secretlint/'));

  it('not by --help, note or timeline; by declare (its announcement draft), postmortem and comms', () => {
    expect(scanner(loaded(['--help']))).toBe(false);
    // Text without a word any rule needs is not handed to secretlint: a plain title does not load it.
    expect(scanner(loaded(['declare', '-t', 'trace', '-s', 'SEV-4']))).toBe(false);
    loaded(['resolve', '--summary', 'traced']);
    expect(scanner(loaded(['declare', '-t', 'trace the leaked token', '-s', 'SEV-4']))).toBe(true);
    expect(scanner(loaded(['note', 'password=abcdef123']))).toBe(false);
    expect(scanner(loaded(['timeline']))).toBe(false);
    expect(scanner(loaded(['postmortem', '--draft']))).toBe(true);
    expect(scanner(loaded(['comms', 'update', '--preview']))).toBe(true);
    expect(statSync(join(home, 'ir.db')).size).toBeGreaterThan(0);
  });
});
