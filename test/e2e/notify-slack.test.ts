// Slack threads through a bot token: the declaration's announcement opens the incident's thread, its
// ts is recorded, every later post (ack, comms --post, escalate) replies in it, and the resolution is
// broadcast to the channel too — checked request by request by a chat.postMessage stand-in (Bearer
// header, channel, thread_ts). Mentions in user text are escaped; a pending opener holds the replies.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { irAsync, json, tempHome } from '../helpers/cli.js';
import { slack, type Stand } from '../helpers/providers.js';
import { hook as webhook } from '../report/hook.js';

const TOKEN = 'xoxb-1111111111-2222222222-abcdefghijklmnopqrstuvwx';

describe('Slack threads', () => {
  let sl: Stand;
  let home: string;
  let cleanup: () => void;
  let dir: string;
  beforeEach(async () => {
    sl = await slack(TOKEN);
    ({ home, cleanup } = tempHome('ir-slack-'));
    dir = mkdtempSync(join(tmpdir(), 'ir-slack-runbooks-'));
    writeFileSync(join(dir, 'ir.yaml'), `slack:\n  token_env: SLACK_BOT_TOKEN\n  channel: C0123\n  api_url: http://127.0.0.1:${sl.port}/api\n`);
  });
  afterEach(async () => {
    await sl.close();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (args: string[], env: Record<string, string | undefined> = {}) => irAsync(home, args, { env: { IR_RUNBOOKS: dir, SLACK_BOT_TOKEN: TOKEN, IR_NOTIFY_BACKOFF_MS: '50', ...env } });

  it('a whole incident: the announcement opens the thread, updates reply in it, the resolution is broadcast', async () => {
    const d = await run(['declare', '--json', '-t', 'Checkout <!channel> down for <@U0BADBAD>', '-s', 'SEV-1', '--impact', 'cards & wallets <https://evil.example|click>']);
    expect(d.code, d.stderr).toBe(0);
    const id = json<{ id: string }>(d).id;
    for (const args of [['ack'], ['comms', 'update', '--post', '-m', 'rolled back'], ['comms', 'update', '--post', '-m', 'error rate falling'], ['escalate', '--reason', 'need <!here> DBAs'], ['resolve', '--summary', 'rollback fixed it']]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(sl.problems).toEqual([]);
    const ts = '1764000000.000001';
    expect(sl.seen.map((s) => [s.body.channel, s.body.thread_ts, s.body.reply_broadcast])).toEqual([
      ['C0123', undefined, undefined],
      ['C0123', ts, undefined],
      ['C0123', ts, undefined],
      ['C0123', ts, undefined],
      ['C0123', ts, undefined],
      ['C0123', ts, true],
    ]);
    for (const s of sl.seen) expect(s.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const texts = sl.seen.map((s) => String(s.body.text));
    expect(texts[0]).toContain(`Checkout &lt;!channel&gt; down for &lt;@U0BADBAD&gt;`);
    expect(texts[0]).toContain('cards &amp; wallets &lt;https://evil.example|click&gt;');
    expect(texts[1]).toMatch(/^Acknowledged by tester/);
    expect(texts[2]).toContain('rolled back');
    expect(texts[3]).toContain('error rate falling');
    expect(texts[4]).toContain('Escalated to Secondary on-call (@oncall-sre-secondary): need &lt;!here&gt; DBAs');
    expect(texts[5]).toContain('Resolved by tester: rollback fixed it');
    // The thread's ts is on record, as the reference of the opening message.
    const events = json<{ events: { type: string; data: Record<string, unknown> }[] }>(await run(['timeline', '--json', '--incident', id])).events;
    expect(events.find((e) => e.type === 'notify.sent')!.data).toMatchObject({ msg: 'm1', provider: 'slack', action: 'open', ref: ts });
    expect(events.filter((e) => e.type === 'notify.sent')).toHaveLength(6);
    for (const o of [JSON.stringify(events), (await run(['show', '--json', '--incident', id])).stdout, (await run(['postmortem', id])).stdout]) expect(o).not.toContain(TOKEN.slice(5, 20));
  });

  it('while the opener is pending, later posts wait behind it; once it goes out they reply in its thread', async () => {
    sl.always = { status: 500, body: { ok: false, error: 'internal_error' } };
    const env = { IR_NOTIFY_BUDGET_MS: '600' };
    const d = await run(['declare', '-t', 'Opener pending', '-s', 'SEV-2'], env);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/Slack open pending \(HTTP 500 ×\d+\); `ir outbox` retries/);
    const u = await run(['comms', 'update', '--post', '--json', '-m', 'first update'], env);
    expect(u.code, u.stderr).toBe(0);
    expect(json<{ queued: { state: string } }>(u).queued).toMatchObject({ state: 'pending' });
    const hits = sl.seen.length;
    expect(sl.seen.every((s) => s.body.thread_ts === undefined && !String(s.body.text).includes('first update'))).toBe(true);
    sl.always = undefined;
    const r = await run(['outbox', 'retry']);
    expect(r.code, r.stderr).toBe(0);
    const after = sl.seen.slice(hits);
    expect(after).toHaveLength(2);
    expect(after[0].body.thread_ts).toBeUndefined();
    const opener = json<{ messages: { id: string; ref: string | null }[] }>(await run(['outbox', '--all', '--json'])).messages[0];
    expect(opener.id).toMatch(/\/m1$/);
    expect(after[1].body).toMatchObject({ thread_ts: opener.ref, text: expect.stringContaining('first update') });
    expect(sl.problems).toEqual([]);
  });

  it('429 ratelimited with Retry-After is waited out; ok:false with HTTP 200 is a failure, final for a bad channel', async () => {
    sl.script.push({ status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } });
    const d = await run(['declare', '-t', 'Rate limited', '-s', 'SEV-3']);
    expect(d.code, d.stderr).toBe(0);
    expect(sl.seen).toHaveLength(2);
    expect(sl.seen[1].at - sl.seen[0].at).toBeGreaterThanOrEqual(1000);
    sl.script.push({ status: 200, body: { ok: false, error: 'channel_not_found' } });
    const u = await run(['comms', 'update', '--post']);
    expect(u.code).toBe(0);
    expect(u.stderr).toMatch(/Slack reply failed for good: Slack: channel_not_found/);
    expect(sl.seen).toHaveLength(3);
    const out = json<{ messages: { state: string; error: string | null }[] }>(await run(['outbox', '--json'])).messages;
    expect(out).toMatchObject([{ state: 'failed', error: 'Slack: channel_not_found' }]);
  });

  it('a bot configured after the declaration: the first comms --post opens the thread, the next replies in it', async () => {
    rmSync(join(dir, 'ir.yaml'));
    expect((await run(['declare', '-t', 'Before the bot', '-s', 'SEV-2'])).code).toBe(0);
    writeFileSync(join(dir, 'ir.yaml'), `slack:\n  token_env: SLACK_BOT_TOKEN\n  channel: C0123\n  api_url: http://127.0.0.1:${sl.port}/api\n`);
    expect((await run(['comms', 'initial', '--post'])).code).toBe(0);
    expect((await run(['comms', 'update', '--post', '-m', 'next'])).code).toBe(0);
    expect(sl.problems).toEqual([]);
    expect(sl.seen.map((s) => s.body.thread_ts)).toEqual([undefined, '1764000000.000001']);
  });

  it('the incoming webhook in ir.yaml (webhook_url_env) still posts, without threads', async () => {
    writeFileSync(join(dir, 'ir.yaml'), 'slack:\n  webhook_url_env: TEAM_SLACK_WEBHOOK\n');
    const hook = await webhook([200]);
    try {
      expect((await run(['declare', '-t', 'Webhook team', '-s', 'SEV-3'])).code).toBe(0);
      expect(sl.seen).toHaveLength(0); // no bot: the declaration posts nothing by itself
      const r = await run(['comms', 'update', '--post', '--json'], { TEAM_SLACK_WEBHOOK: hook.url });
      expect(r.code, r.stderr).toBe(0);
      expect(hook.bodies).toHaveLength(1);
      expect(Object.keys(hook.bodies[0].body)).toEqual(['text']);
      const missing = await run(['comms', 'update', '--post']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/--post needs a webhook: set IR_SLACK_WEBHOOK or TEAM_SLACK_WEBHOOK \(named in ir\.yaml\)/);
    } finally {
      await hook.close();
    }
  });
});
