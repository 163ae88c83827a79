// Paging through PagerDuty's Events API v2 with the minimal ir.yaml, against a stand-in on loopback
// that checks every request: a whole incident makes exactly the documented requests; 429 with
// Retry-After is waited out; a 5xx storm leaves the page pending (the command still exits 0),
// `ir status` shows it, and `ir outbox retry` delivers it later, before the newer ones; a refusal
// (400) is final; an unset variable is a pending message with its reason; the routing key is never
// written anywhere. One run on the PostgreSQL team store.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { irAsync, json, tempHome } from '../helpers/cli.js';
import { pagerduty, type Stand } from '../helpers/providers.js';
import { loadedModules } from '../helpers/trace.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const KEY2 = 'ffeeddccbbaa99887766554433221100';

const minimal = (port: number) => `pagerduty:\n  routing_key_env: PD_ROUTING_KEY\n  events_url: http://127.0.0.1:${port}/v2/enqueue\n`;

interface Msg {
  id: string;
  provider: string;
  action: string;
  state: string;
  attempts: number;
  error: string | null;
  ref: string | null;
  target: string;
}

describe('PagerDuty', () => {
  let pd: Stand;
  let home: string;
  let cleanup: () => void;
  let dir: string;
  beforeEach(async () => {
    pd = await pagerduty();
    ({ home, cleanup } = tempHome('ir-pd-'));
    dir = mkdtempSync(join(tmpdir(), 'ir-pd-runbooks-'));
  });
  afterEach(async () => {
    await pd.close();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (args: string[], env: Record<string, string | undefined> = {}) =>
    irAsync(home, args, { env: { IR_RUNBOOKS: dir, PD_ROUTING_KEY: KEY, PD_SECONDARY_KEY: KEY2, IR_NOTIFY_BACKOFF_MS: '50', ...env } });
  const outbox = async (all = true) => json<{ messages: Msg[] }>(await run(['outbox', '--json', ...(all ? ['--all'] : [])])).messages;

  it('a whole incident makes exactly the documented sequence of requests', async () => {
    writeFileSync(join(dir, 'ir.yaml'), `${minimal(pd.port)}escalation:\n  - notify: Secondary on-call\n    routing_key_env: PD_SECONDARY_KEY\n`);
    const d = await run(['declare', '--json', '-t', 'Checkout returns 500s', '-s', 'SEV-1', '--service', 'checkout', '--commander', 'erin']);
    expect(d.code, d.stderr).toBe(0);
    const id = json<{ id: string }>(d).id;
    expect(d.stderr).toContain(`PagerDuty trigger sent (dedup_key ${id}).`);
    for (const args of [['ack'], ['comms', 'update', '-m', 'rolled back'], ['comms', 'update', '-m', 'error rate falling'], ['escalate', '--reason', 'need the database team'], ['resolve', '--summary', 'rollback fixed it']]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(pd.problems).toEqual([]);
    expect(pd.seen.map((s) => [s.body.event_action, s.body.routing_key, s.body.dedup_key])).toEqual([
      ['trigger', KEY, id],
      ['acknowledge', KEY, id],
      ['trigger', KEY2, id],
      ['resolve', KEY, id],
      ['resolve', KEY2, id],
    ]);
    expect(pd.seen[0].body.payload).toEqual({
      summary: '[SEV-1] Checkout returns 500s',
      source: expect.any(String),
      severity: 'critical',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      custom_details: { ir_id: id, severity: 'SEV-1', commander: 'erin', service: 'checkout' },
    });
    expect(pd.seen[2].body.payload).toMatchObject({ severity: 'critical', custom_details: { ir_id: id } });
    // Every page is in the timeline with its outcome, the provider's dedup_key as the reference.
    const events = json<{ events: { type: string; data: Record<string, unknown> }[] }>(await run(['timeline', '--json'])).events;
    // Each send is claimed first (notify.sending), so no other command sends the same message meanwhile.
    expect(events.filter((e) => e.type === 'notify.sending').map((e) => e.data.msg)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    const notify = events.filter((e) => e.type.startsWith('notify.') && e.type !== 'notify.sending').map((e) => [e.type, e.data.msg, e.data.action]);
    expect(notify).toEqual([
      ['notify.queued', 'm1', 'trigger'],
      ['notify.sent', 'm1', 'trigger'],
      ['notify.queued', 'm2', 'acknowledge'],
      ['notify.sent', 'm2', 'acknowledge'],
      ['notify.queued', 'm3', 'trigger'],
      ['notify.sent', 'm3', 'trigger'],
      ['notify.queued', 'm4', 'resolve'],
      ['notify.queued', 'm5', 'resolve'],
      ['notify.sent', 'm4', 'resolve'],
      ['notify.sent', 'm5', 'resolve'],
    ]);
    // Recorded before it was sent: the queued event comes before the stand-in saw the request.
    expect(events.find((e) => e.type === 'notify.sent')!.data).toMatchObject({ ref: id, attempts: 1 });
    expect((await outbox()).every((m) => m.state === 'sent')).toBe(true);
  });

  it('the minimal ir.yaml: escalate pages nobody extra, says so, exits 0 and records the escalation', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    expect((await run(['declare', '-t', 'Search slow', '-s', 'SEV-3'])).code).toBe(0);
    const e = await run(['escalate']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/names no escalation target for "Secondary on-call": nobody extra is paged/);
    expect(e.stdout).toMatch(/Escalated to Secondary on-call/);
    expect(pd.seen.map((s) => s.body.event_action)).toEqual(['trigger']);
    expect(pd.seen[0].body.payload).toMatchObject({ severity: 'warning' });
  });

  it('ir severity triggers again with the new severity (same dedup_key) on every key triggered so far', async () => {
    writeFileSync(join(dir, 'ir.yaml'), `${minimal(pd.port)}escalation:\n  - notify: Secondary on-call\n    routing_key_env: PD_SECONDARY_KEY\n`);
    const id = json<{ id: string }>(await run(['declare', '--json', '-t', 'Slow search', '-s', 'SEV-3'])).id;
    expect((await run(['escalate'])).code).toBe(0);
    const r = await run(['severity', 'SEV-1', '--reason', 'all regions']);
    expect(r.code, r.stderr).toBe(0);
    expect(pd.problems).toEqual([]);
    expect(pd.seen.map((s) => [s.body.event_action, s.body.routing_key, s.body.dedup_key, (s.body.payload as { severity: string }).severity])).toEqual([
      ['trigger', KEY, id, 'warning'],
      ['trigger', KEY2, id, 'warning'],
      ['trigger', KEY, id, 'critical'],
      ['trigger', KEY2, id, 'critical'],
    ]);
    expect((pd.seen[3].body.payload as { summary: string }).summary).toBe('[SEV-1] Slow search');
  });

  it('ir outbox retry with a message id that does not exist is exit 2, naming it', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    await run(['declare', '-t', 'Ids', '-s', 'SEV-3']);
    const r = await run(['outbox', 'retry', 'm9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no message m9; `ir outbox --all` lists them/);
    const bad = await run(['outbox', 'retry', 'nonsense']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"nonsense" is not a message id/);
  });

  it('an escalation target that names no step of severities.yaml is pointed out at ir escalate', async () => {
    writeFileSync(join(dir, 'ir.yaml'), `${minimal(pd.port)}escalation:\n  - notify: Secondry on-call\n    routing_key_env: PD_SECONDARY_KEY\n`);
    expect((await run(['declare', '-t', 'Typo', '-s', 'SEV-3'])).code).toBe(0);
    const e = await run(['escalate']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/ir\.yaml: escalation target "Secondry on-call" matches no step of .*severities\.yaml \(Primary on-call, Secondary on-call/);
    expect(e.stderr).toMatch(/names no escalation target for "Secondary on-call": nobody extra is paged/);
    expect(pd.seen).toHaveLength(1);
  });

  it('429 with Retry-After, then success: delivered after waiting at least Retry-After', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    pd.script.push({ status: 429, headers: { 'retry-after': '2' }, body: { status: 'throttle event', message: 'Requests for this service are arriving too quickly' } });
    const d = await run(['declare', '-t', 'Throttled', '-s', 'SEV-2']);
    expect(d.code, d.stderr).toBe(0);
    expect(pd.seen).toHaveLength(2);
    expect(pd.seen[1].at - pd.seen[0].at).toBeGreaterThanOrEqual(2000);
    expect(pd.seen[1].body).toEqual(pd.seen[0].body);
    expect(d.stderr).toMatch(/PagerDuty trigger sent/);
    expect((await outbox())[0]).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('a 5xx storm: pending, exit 0, shown by status; later acks wait behind it; ir outbox retry delivers in order', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    pd.always = { status: 503, body: { status: 'unavailable' } };
    const env = { IR_NOTIFY_BUDGET_MS: '1500' };
    const d = await run(['declare', '-t', 'Storm', '-s', 'SEV-1'], env);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/PagerDuty trigger pending \(HTTP 503 ×\d+\); `ir outbox` retries\./);
    const tries = pd.seen.length;
    expect(tries).toBeGreaterThan(1);
    const status = await run(['status'], { COLUMNS: '200' });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/INC-\d{8}-\d{3}\/m1 {2}PagerDuty trigger → PD_ROUTING_KEY {2}pending {2}\d+ attempts: HTTP 503/);
    // Status only shows: with a message pending, it loads neither the sender nor Node's fetch.
    const urls = loadedModules(home, ['status'], { IR_RUNBOOKS: dir });
    expect(urls.some((u) => u.startsWith('node:internal/deps/undici'))).toBe(false);
    const chunks = urls.filter((u) => u.startsWith('file:') && u.includes('/dist/bin/')).map((u) => readFileSync(fileURLToPath(u), 'utf8'));
    expect(chunks.some((c) => /^\/\/ dist\/notify\/(send|plan)\.js$/m.test(c))).toBe(false);
    expect(chunks.some((c) => /^\/\/ dist\/commands\/incident\/status\.js$/m.test(c))).toBe(true);
    const statusJson = json<{ incidents: { messages: Msg[] }[] }>(await run(['status', '--json']));
    expect(statusJson.incidents[0].messages[0]).toMatchObject({ state: 'pending', action: 'trigger' });
    // The acknowledge is queued, but does not overtake its trigger: nothing new reaches PagerDuty as an ack.
    const a = await run(['ack'], env);
    expect(a.code, a.stderr).toBe(0);
    expect(pd.seen.slice(tries).every((s) => s.body.event_action === 'trigger')).toBe(true);
    expect((await outbox(false)).map((m) => [m.id.split('/')[1], m.action, m.state])).toEqual([
      ['m1', 'trigger', 'pending'],
      ['m2', 'acknowledge', 'pending'],
    ]);
    const still = await run(['outbox', 'retry'], env);
    expect(still.code).toBe(1);
    expect(still.stderr).toMatch(/not sent/);
    // PagerDuty is back.
    pd.always = undefined;
    const before = pd.seen.length;
    const r = await run(['outbox', 'retry']);
    expect(r.code, r.stderr).toBe(0);
    expect(pd.seen.slice(before).map((s) => s.body.event_action)).toEqual(['trigger', 'acknowledge']);
    expect(pd.problems).toEqual([]);
    expect(await outbox(false)).toEqual([]);
    expect((await run(['outbox'])).stdout).toMatch(/Nothing waiting/);
    expect((await run(['status'])).stdout).not.toMatch(/not sent/);
  });

  it('two commands retrying at once send a pending message once', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    pd.always = { status: 503 };
    expect((await run(['declare', '-t', 'Race', '-s', 'SEV-2'], { IR_NOTIFY_BUDGET_MS: '300' })).code).toBe(0);
    pd.always = undefined;
    pd.delayMs = 1500;
    const before = pd.seen.length;
    const [a, b] = await Promise.all([run(['outbox', 'retry']), run(['outbox', 'retry'])]);
    expect(pd.seen.length - before, `${a.stderr}\n${b.stderr}`).toBe(1);
    expect([a.code, b.code]).toContain(0);
    const other = a.code === 0 ? b : a;
    if (other.code !== 0) expect(other.stderr).toMatch(/PagerDuty trigger INC-\d{8}-\d{3}\/m1 pending \(being sent by [^/]+\/\d+\)/);
    expect((await outbox())[0]).toMatchObject({ state: 'sent' });
  });

  it('a 400 is final: not retried, shown as failed; retrying it by id sends it again', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    pd.script.push({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid' } });
    const d = await run(['declare', '-t', 'Refused', '-s', 'SEV-2']);
    expect(d.code).toBe(0);
    expect(d.stderr).toMatch(/PagerDuty trigger failed for good: HTTP 400/);
    expect(pd.seen).toHaveLength(1);
    const [m] = await outbox(false);
    expect(m).toMatchObject({ state: 'failed', attempts: 1, error: expect.stringMatching(/HTTP 400/) });
    // A later ack is not held back by a refused trigger.
    expect((await run(['ack'])).code).toBe(0);
    expect(pd.seen.map((s) => s.body.event_action)).toEqual(['trigger', 'acknowledge']);
    const again = await run(['outbox', 'retry', m.id]);
    expect(again.code, again.stderr).toBe(0);
    expect(pd.seen.map((s) => s.body.event_action)).toEqual(['trigger', 'acknowledge', 'trigger']);
  });

  it('an unset routing key variable: pending with the reason, nothing sent, exit 0', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    const d = await run(['declare', '-t', 'No key', '-s', 'SEV-2'], { PD_ROUTING_KEY: undefined });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/PagerDuty trigger pending \(PD_ROUTING_KEY is not set/);
    expect(pd.seen).toHaveLength(0);
    expect((await outbox())[0]).toMatchObject({ state: 'pending', error: expect.stringMatching(/PD_ROUTING_KEY is not set/) });
    const r = await run(['outbox', 'retry']);
    expect(r.code, r.stderr).toBe(0);
    expect(pd.seen).toHaveLength(1);
  });

  it('the routing key never reaches the timeline, ir show --json, the postmortem or the store file', async () => {
    writeFileSync(join(dir, 'ir.yaml'), `${minimal(pd.port)}escalation:\n  - notify: Secondary on-call\n    routing_key_env: PD_SECONDARY_KEY\n`);
    const id = json<{ id: string }>(await run(['declare', '--json', '-t', 'Secret check', '-s', 'SEV-1'])).id;
    await run(['escalate']);
    await run(['resolve', '--summary', 'done']);
    expect(pd.seen).toHaveLength(4);
    const outputs = await Promise.all([['timeline', '--json'], ['show', '--json'], ['postmortem'], ['outbox', '--all', '--json'], ['timeline']].map((a) => run([...a, '--incident', id])));
    for (const o of outputs) {
      expect(o.code, o.stderr).toBe(0);
      for (const k of [KEY, KEY2]) {
        expect(o.stdout).not.toContain(k);
        expect(o.stdout).not.toContain(k.slice(0, 12));
      }
    }
    const db = ['ir.db', 'ir.db-wal'].map((f) => (existsSync(join(home, f)) ? readFileSync(join(home, f)).toString('latin1') : '')).join('');
    expect(db).toContain(id);
    expect(db).not.toContain(KEY);
    expect(db).not.toContain(KEY2);
  });
});

describe('PagerDuty on the PostgreSQL team store', () => {
  let pg: PostgresServer;
  let pd: Stand;
  const { home, cleanup } = tempHome('ir-pd-team-');
  const dir = mkdtempSync(join(tmpdir(), 'ir-pd-team-runbooks-'));
  let url: string;
  beforeAll(async () => {
    [pg, pd] = await Promise.all([startPostgres(), pagerduty()]);
    psql(pg, 'postgres', 'CREATE DATABASE notify');
    url = `postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/notify`;
  }, 60_000);
  afterAll(async () => {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([pg?.stop(), pd?.close()]);
  });

  it('records, sends and retries through the team store the same way', async () => {
    writeFileSync(join(dir, 'ir.yaml'), minimal(pd.port));
    const run = (args: string[], env: Record<string, string> = {}) => irAsync(home, args, { env: { IR_STORE: url, IR_RUNBOOKS: dir, PD_ROUTING_KEY: KEY, IR_NOTIFY_BACKOFF_MS: '50', ...env } });
    const d = await run(['declare', '--json', '-t', 'Team store page', '-s', 'SEV-1']);
    expect(d.code, d.stderr).toBe(0);
    const id = json<{ id: string }>(d).id;
    pd.always = { status: 502 };
    expect((await run(['ack'], { IR_NOTIFY_BUDGET_MS: '500' })).code).toBe(0);
    pd.always = undefined;
    const pending = json<{ messages: Msg[] }>(await run(['outbox', '--json'])).messages;
    expect(pending).toMatchObject([{ id: `${id}/m2`, action: 'acknowledge', state: 'pending' }]);
    const r = await run(['outbox', 'retry']);
    expect(r.code, r.stderr).toBe(0);
    expect((await run(['resolve', '--summary', 'fixed'])).code).toBe(0);
    expect(pd.problems).toEqual([]);
    const actions = pd.seen.map((s) => s.body.event_action);
    expect(actions.filter((a) => a !== 'acknowledge')).toEqual(['trigger', 'resolve']);
    expect(actions.at(-2)).toBe('acknowledge');
    const all = json<{ messages: Msg[] }>(await run(['outbox', '--all', '--json'])).messages;
    expect(all.map((m) => [m.action, m.state])).toEqual([
      ['trigger', 'sent'],
      ['acknowledge', 'sent'],
      ['resolve', 'sent'],
    ]);
    const timeline = await run(['timeline', '--json']);
    expect(timeline.stdout).not.toContain(KEY);
    const verify = await run(['timeline', '--verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 60_000);
});
