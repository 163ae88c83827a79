// Status messages: drafted from the incident, posted to a local stand-in for a Slack webhook with
// retries on 5xx, and recorded (which restarts the update clock) whether or not the post worked.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, irAsync, ir, json, tempHome } from '../helpers/cli.js';
import { hook } from './hook.js';

describe('ir comms', () => {
  let home: string;
  let cleanup: () => void;
  let id: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    id = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'Search is slow', '-s', 'SEV-1', '--service', 'search', '--impact', 'Search takes 10s for all users', '--commander', 'erin'])).id;
    ir(home, ['note', 'internal: shard 7 is hot, node ip-10-0-3-7']);
  });
  afterAll(() => cleanup());

  it('drafts the initial message from the incident and records it', () => {
    const r = ir(home, ['comms', 'initial']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`*[SEV-1] Search is slow* (${id})`);
    expect(r.stdout).toContain('*Impact:* Search takes 10s for all users');
    expect(r.stdout).toContain('*Incident commander:* erin');
    expect(r.stdout).toMatch(/\*Next update:\* by \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/);
    const events = json<{ events: { type: string; data: Record<string, unknown> }[] }>(ir(home, ['timeline', '--json'])).events;
    expect(events.at(-1)).toMatchObject({ type: 'comms.sent', data: { kind: 'initial', posted: false } });
  });

  it('customer messages carry no internal detail', () => {
    const r = ir(home, ['comms', 'customer', '--preview']);
    expect(r.stdout).toContain('Search takes 10s for all users');
    expect(r.stdout).not.toMatch(/INC-|shard 7|ip-10|erin|SEV-1/);
  });

  it('a 500 then 200 is retried and posted; the payload is the message', async () => {
    const h = await hook([500, 200]);
    try {
      const r = await irAsync(home, ['comms', 'update', '--message', 'Shard rebalanced', '--post', '--json'], { env: { IR_SLACK_WEBHOOK: h.url } });
      expect(r.code, r.stderr).toBe(0);
      const doc = json<{ text: string; posted: { ok: boolean; attempts: number } }>(r);
      expect(doc.posted).toMatchObject({ ok: true, attempts: 2 });
      expect(h.bodies).toHaveLength(2);
      expect(h.bodies[1]).toEqual({ method: 'POST', type: 'application/json', body: { text: doc.text } });
      expect(doc.text).toContain('Shard rebalanced');
      const last = json<{ events: { type: string; at: string; data: Record<string, unknown> }[] }>(ir(home, ['timeline', '--json'])).events.at(-1)!;
      expect(last).toMatchObject({ type: 'comms.sent', data: { kind: 'update', posted: true, attempts: 2, target: expect.stringMatching(/^127\.0\.0\.1:\d+$/) } });
      expect(JSON.stringify(last)).not.toContain('/services/T000'); // the webhook path is a secret
      // The update clock restarted at the message, and the message announces that new deadline.
      const status = json<{ incidents: { sla: { update: { due: string; remaining_seconds: number } } }[] }>(ir(home, ['status', '--json']));
      expect(status.incidents[0].sla.update.remaining_seconds).toBeGreaterThan(14 * 60);
      const due = status.incidents[0].sla.update.due;
      expect(Date.parse(due)).toBe(Date.parse(String(last.at)) + 15 * 60_000);
      expect(doc.text).toContain(`*Next update:* by ${due.slice(0, 10)} ${due.slice(11, 19)}Z`);
    } finally {
      await h.close();
    }
  });

  it('a permanent failure exits 1, still prints the message, and records the attempt', async () => {
    const h = await hook([503]);
    try {
      const r = await irAsync(home, ['comms', 'update', '--message', 'Still working', '--post'], { env: { IR_SLACK_WEBHOOK: h.url } });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('Still working');
      expect(r.stderr).toMatch(/posting to 127\.0\.0\.1:\d+ failed after 4 attempts: HTTP 503/);
      expect(h.bodies).toHaveLength(4);
      const last = json<{ events: { type: string; data: Record<string, unknown> }[] }>(ir(home, ['timeline', '--json'])).events.at(-1)!;
      expect(last).toMatchObject({ type: 'comms.sent', data: { posted: false, attempts: 4, error: expect.stringMatching(/HTTP 503/) } });
    } finally {
      await h.close();
    }
  });

  it('a 4xx is not retried; --post without a webhook is a usage error', async () => {
    const h = await hook([404]);
    try {
      const r = await irAsync(home, ['comms', 'update', '--post'], { env: { IR_SLACK_WEBHOOK: h.url } });
      expect(r.code).toBe(1);
      expect(h.bodies).toHaveLength(1);
    } finally {
      await h.close();
    }
    expect(ir(home, ['comms', 'update', '--post'], { env: { IR_SLACK_WEBHOOK: undefined } }).code).toBe(2);
  });
});

describe('escalation and action items', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('`ir show` after two escalations names who was told and the next level, then that the chain is exhausted', () => {
    const { home: own, cleanup: done } = tempHome();
    try {
      ir(own, ['declare', '-t', 'Nobody answers', '-s', 'SEV-1']);
      const fresh = ir(own, ['show']);
      expect(fresh.stdout).toMatch(/escalation +told Primary on-call; next: Secondary on-call \(@oncall-sre-secondary\) at 15m if nobody acknowledges/);
      expect(ir(own, ['escalate', '--reason', 'no answer']).code).toBe(0);
      expect(ir(own, ['escalate']).code).toBe(0);
      const after = ir(own, ['show']);
      expect(after.code).toBe(0);
      expect(after.stdout).toMatch(/escalation +told Primary on-call, Secondary on-call, SRE lead; next: Engineering director \(@eng-director\)/);
      expect(after.stdout).not.toMatch(/should have been told: Primary on-call$/m);
      const card = json<{ sla: { told: string[]; next_escalation: { notify: string } | null } }>(ir(own, ['show', '--json'])).sla;
      expect(card.told).toEqual(['Primary on-call', 'Secondary on-call', 'SRE lead']);
      expect(card.next_escalation).toMatchObject({ notify: 'Engineering director' });
      ir(own, ['escalate']);
      ir(own, ['escalate']);
      expect(ir(own, ['show']).stdout).toMatch(/escalation +told Primary on-call, Secondary on-call, SRE lead, Engineering director, CTO: the chain is exhausted/);
      expect(json<{ sla: { next_escalation: unknown } }>(ir(own, ['show', '--json'])).sla.next_escalation).toBeNull();
    } finally {
      done();
    }
  });

  it('escalate walks the chain; actions are added, listed, done; runbook follow-ups are offered at resolve', () => {
    ir(home, ['declare', '-t', 'x', '-s', 'SEV-0']);
    const first = json<{ events: { data: Record<string, unknown> }[] }>(ir(home, ['escalate', '--reason', 'no answer', '--json']));
    expect(first.events[0].data).toMatchObject({ level: 1, notify: 'Secondary on-call', reason: 'no answer' });
    expect(json<{ events: { data: Record<string, unknown> }[] }>(ir(home, ['escalate', '--json'])).events[0].data).toMatchObject({ notify: 'SRE lead' });
    ir(home, ['escalate']);
    ir(home, ['escalate']);
    const last = ir(home, ['escalate']);
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/already escalated to the last level \(CTO\)/);

    expect(ir(home, ['action', 'add', 'Add', 'an', 'alert', '--owner', 'dana', '--due', '2026-12-01']).code).toBe(0);
    expect(ir(home, ['action', 'add', 'Fix runbook', '--due', 'next tuesday']).code).toBe(2);
    ir(home, ['action', 'add', 'Second item', '--due', '2w']);
    expect(ir(home, ['action', 'done', '1']).code).toBe(0);
    expect(ir(home, ['action', 'done', '1']).code).toBe(2);
    const list = json<{ actions: { n: number; done: boolean; owner: string | null }[] }>(ir(home, ['action', 'list', '--json'])).actions;
    expect(list.map((a) => [a.n, a.done, a.owner])).toEqual([[1, true, 'dana'], [2, false, null]]);
    const all = json<{ actions: { n: number }[] }>(ir(home, ['action', 'list', '--all', '--json'])).actions;
    expect(all.map((a) => a.n)).toEqual([2]);

    const rb = ['--runbooks', join(ROOT, 'test', 'fixtures', 'runbooks')];
    expect(ir(home, ['runbook', 'injection', '--yes', ...rb]).code).toBe(0);
    const quiet = ir(home, ['resolve', '--summary', 'done', ...rb]);
    expect(quiet.stderr).toMatch(/Runbook follow-ups not yet action items[\s\S]*Validate deploy tags before they reach a shell/);
    ir(home, ['reopen', json<{ incidents: { id: string }[] }>(ir(home, ['list', '--all', '--json'])).incidents[0].id, '--reason', 'again']);
    expect(ir(home, ['resolve', '--summary', 'done again', '--follow-ups', ...rb]).code).toBe(0);
    const after = json<{ actions: { n: number; text: string }[] }>(ir(home, ['action', 'list', '--json'])).actions;
    expect(after.at(-1)).toMatchObject({ n: 3, text: 'Validate deploy tags before they reach a shell' });
    // After resolution, with nothing open, action items go to the latest incident.
    expect(ir(home, ['action', 'add', 'Written at the postmortem review']).code).toBe(0);
    expect(json<{ actions: { n: number }[] }>(ir(home, ['action', 'list', '--json'])).actions.at(-1)).toMatchObject({ n: 4 });
  });
});
