// Opsgenie's Alert API as the second pager behind the same outbox: create on declare (alias = the
// incident id, priority from the severity), acknowledge, escalate to the level's escalation, close —
// each request checked by a stand-in (GenieKey header, paths with identifierType=alias), each
// requestId recorded. Both pagers side by side: one being down does not hold the other back.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { irAsync, json, tempHome } from '../helpers/cli.js';
import { opsgenie, pagerduty, type Stand } from '../helpers/providers.js';

const KEY = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const PD_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

describe('Opsgenie', () => {
  let og: Stand;
  let home: string;
  let cleanup: () => void;
  let dir: string;
  beforeEach(async () => {
    og = await opsgenie(KEY);
    ({ home, cleanup } = tempHome('ir-og-'));
    dir = mkdtempSync(join(tmpdir(), 'ir-og-runbooks-'));
  });
  afterEach(async () => {
    await og.close();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (args: string[], env: Record<string, string | undefined> = {}) => irAsync(home, args, { env: { IR_RUNBOOKS: dir, OPSGENIE_API_KEY: KEY, PD_ROUTING_KEY: PD_KEY, IR_NOTIFY_BACKOFF_MS: '50', ...env } });
  const config = (extra = '') =>
    writeFileSync(join(dir, 'ir.yaml'), `opsgenie:\n  api_key_env: OPSGENIE_API_KEY\n  api_url: http://127.0.0.1:${og.port}\nescalation:\n  - notify: Secondary on-call\n    opsgenie_escalation: sre-secondary\n${extra}`);

  it('a whole incident makes exactly the documented sequence of Alert API requests', async () => {
    config();
    const d = await run(['declare', '--json', '-t', 'Payments failing', '-s', 'SEV-1', '--service', 'payments', '--commander', 'erin']);
    expect(d.code, d.stderr).toBe(0);
    const id = json<{ id: string }>(d).id;
    for (const args of [['ack'], ['comms', 'update', '-m', 'one'], ['comms', 'update', '-m', 'two'], ['escalate'], ['resolve', '--summary', 'card processor failover']]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(og.problems).toEqual([]);
    expect(og.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /v2/alerts',
      `POST /v2/alerts/${id}/acknowledge?identifierType=alias`,
      `POST /v2/alerts/${id}/escalate?identifierType=alias`,
      `POST /v2/alerts/${id}/close?identifierType=alias`,
    ]);
    for (const s of og.seen) expect(s.headers.authorization).toBe(`GenieKey ${KEY}`);
    expect(og.seen[0].body).toEqual({
      message: '[SEV-1] Payments failing',
      alias: id,
      description: 'Payments failing',
      priority: 'P2',
      details: { ir_id: id, severity: 'SEV-1', commander: 'erin', service: 'payments' },
      source: expect.any(String),
    });
    expect(og.seen[2].body).toMatchObject({ escalation: { name: 'sre-secondary' } });
    expect(og.seen[3].body).toMatchObject({ note: 'Resolved in ir by tester: card processor failover' });
    const sent = json<{ events: { type: string; data: Record<string, unknown> }[] }>(await run(['timeline', '--json', '--incident', id])).events.filter((e) => e.type === 'notify.sent');
    expect(sent.map((e) => e.data.action)).toEqual(['create', 'acknowledge', 'escalate', 'close']);
    for (const e of sent) expect(e.data.ref).toMatch(/^[0-9a-f-]{36}$/);
    expect((await run(['timeline', '--json', '--incident', id])).stdout).not.toContain(KEY);
  });

  it('with PagerDuty down, Opsgenie still goes out; PagerDuty waits for `ir outbox retry`', async () => {
    const pd = await pagerduty();
    try {
      config(`pagerduty:\n  routing_key_env: PD_ROUTING_KEY\n  events_url: http://127.0.0.1:${pd.port}/v2/enqueue\n`);
      pd.always = { status: 503 };
      const d = await run(['declare', '-t', 'Two pagers', '-s', 'SEV-0'], { IR_NOTIFY_BUDGET_MS: '800' });
      expect(d.code, d.stderr).toBe(0);
      expect(d.stderr).toMatch(/Opsgenie create sent/);
      expect(d.stderr).toMatch(/PagerDuty trigger pending \(HTTP 503/);
      expect(og.seen[0].body).toMatchObject({ priority: 'P1' });
      pd.always = undefined;
      expect((await run(['outbox', 'retry'])).code).toBe(0);
      expect(pd.seen.at(-1)!.body).toMatchObject({ event_action: 'trigger', payload: { severity: 'critical' } });
      expect(og.seen).toHaveLength(1);
    } finally {
      await pd.close();
    }
  });
});
