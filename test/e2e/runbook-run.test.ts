// `ir runbook ID --yes` against real servers and real processes: checks pass while the service is up,
// the on_failure path is taken when it is down, output is saved and hashed, values never escape.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, json, tempHome } from '../helpers/cli.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../helpers/services.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runbooks');

interface Event {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

function events(home: string, id: string): Event[] {
  return json<{ events: Event[] }>(ir(home, ['timeline', id, '--json'])).events;
}

function stepEvents(home: string, id: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const e of events(home, id)) if (e.type === 'runbook.step') out[String(e.data.step)] = e.data;
  return out;
}

function declare(home: string, title: string): string {
  const r = ir(home, ['declare', '--json', '-t', title, '-s', 'SEV-1']);
  expect(r.code, r.stderr).toBe(0);
  return json<{ id: string }>(r).id;
}

describe('redis-failure runbook against a real redis-server', () => {
  let home: string;
  let cleanup: () => void;
  let redis: RedisServer;
  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
    cleanup();
  });

  it('passes its checks while Redis is up; output saved and hashed', () => {
    const id = declare(home, 'cache up');
    const r = ir(home, ['runbook', 'redis-failure', '--yes', '--var', `port=${redis.port}`, '--incident', id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('PONG');
    const steps = stepEvents(home, id);
    expect(steps.ping).toMatchObject({ outcome: 'ok', exit_code: 0, matched: true, command: `redis-cli -h 127.0.0.1 -p ${redis.port} PING` });
    expect(steps.memory).toMatchObject({ outcome: 'ok', matched: true });
    // Destructive steps are never run by --yes, and say so.
    expect(steps['restart-redis']).toMatchObject({ outcome: 'skipped', destructive: true });
    expect(String(steps['restart-redis'].reason)).toMatch(/destructive/);
    for (const s of Object.values(steps).filter((s) => s.output_file)) {
      const body = readFileSync(String(s.output_file));
      expect(createHash('sha256').update(body).digest('hex')).toBe(s.sha256);
      expect(body.length).toBe(s.bytes);
    }
    expect(readFileSync(String(steps.ping.output_file), 'utf8')).toBe('PONG\n');
    const kinds = events(home, id).map((e) => e.type);
    expect(kinds[1]).toBe('runbook.started');
    expect(kinds).toContain('runbook.verify');
    expect(kinds[kinds.length - 1]).toBe('runbook.finished');
    expect(events(home, id).at(-1)!.data).toMatchObject({ status: 'completed', failed: 0 });
  });

  it('with Redis stopped, the same run takes the on_failure path, records it, and exits 1', async () => {
    const id = declare(home, 'cache down');
    const port = redis.port;
    await redis.stop();
    const r = ir(home, ['runbook', 'redis-failure', '--yes', '--var', `port=${port}`, '--incident', id]);
    expect(r.code).toBe(1);
    const steps = stepEvents(home, id);
    expect(steps.ping).toMatchObject({ outcome: 'failed', matched: false, on_failure: 'goto restart-redis' });
    expect(steps.ping.exit_code).not.toBe(0);
    // The steps between the failed check and its on_failure target were jumped over.
    expect(steps.replication).toBeUndefined();
    expect(steps['restart-redis']).toMatchObject({ outcome: 'skipped' });
    expect(r.stderr).toMatch(/jumping to "restart-redis"/);
    expect(events(home, id).at(-1)!.data).toMatchObject({ status: 'failed' });
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
  });
});

describe('postgres-connection-exhaustion runbook against a real PostgreSQL', () => {
  let home: string;
  let cleanup: () => void;
  let pg: PostgresServer;
  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg.stop();
    cleanup();
  });

  const args = () => ['runbook', 'postgres-connection-exhaustion', '--yes', '--var', `port=${pg.port}`];

  it('passes its checks (pg_stat_activity) while PostgreSQL is up, and never records the password', () => {
    const id = declare(home, 'db slow');
    const r = ir(home, [...args(), '--incident', id], { env: { PGPASSWORD: pg.password } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const steps = stepEvents(home, id);
    expect(steps.connect).toMatchObject({ outcome: 'ok', matched: true });
    const activity = Object.values(steps).filter((s) => String(s.command ?? '').includes('pg_stat_activity') && s.outcome === 'ok');
    expect(activity.length).toBeGreaterThan(0);
    expect(Object.values(steps).filter((s) => String(s.command ?? '').includes('pg_terminate_backend')).every((s) => s.outcome === 'skipped' || s.outcome === 'declined')).toBe(true);
    const everything = ir(home, ['timeline', id, '--json']).stdout + Object.values(steps).map((s) => (s.output_file ? readFileSync(String(s.output_file), 'utf8') : '')).join('');
    expect(everything).not.toContain(pg.password);
  });

  it('with PostgreSQL stopped: on_failure path, failure recorded, exit 1', async () => {
    const id = declare(home, 'db down');
    const keep = { ...pg };
    await pg.stop();
    const r = ir(home, [...args(), '--incident', id], { env: { PGPASSWORD: keep.password } });
    expect(r.code).toBe(1);
    const steps = stepEvents(home, id);
    expect(steps.connect.outcome).toBe('failed');
    expect(String(steps.connect.on_failure)).toMatch(/^goto /);
  });
});

describe('runbook engine behaviour (fixtures)', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());
  const rb = ['--runbooks', FIXTURES];

  it('values reach the command as one literal argument, with and without a shell', () => {
    const id = declare(home, 'injection');
    const pwned = join(home, 'pwned');
    for (const value of [`x; touch ${pwned}`, '$(id)', '`id`', '--all-namespaces', `'; touch ${pwned}; '`, 'a b  c', `$(touch ${pwned})`]) {
      const r = ir(home, ['runbook', 'injection', '--yes', '--var', `value=${value}`, '--incident', id, ...rb]);
      expect(r.code, r.stderr).toBe(0);
      const steps = stepEvents(home, id);
      expect(readFileSync(String(steps.argv.output_file), 'utf8')).toBe(`[${value}]\n[--literal-after]\n`);
      expect(readFileSync(String(steps['argv-inside-word'].output_file), 'utf8')).toBe(`[prefix-${value}-suffix]\n`);
      expect(readFileSync(String(steps.shell.output_file), 'utf8')).toBe(`[${value}]\n`);
      expect(existsSync(pwned)).toBe(false);
    }
  });

  it('--json prints one summary document on stdout; the walk-through goes to stderr', () => {
    const id = declare(home, 'json');
    const r = ir(home, ['runbook', 'injection', '--yes', '--json', '--incident', id, ...rb]);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ status: string; run_id: string; steps: { step: string; outcome: string }[] }>(r);
    expect(doc.status).toBe('completed');
    expect(doc.steps.map((s) => [s.step, s.outcome])).toEqual([['argv', 'ok'], ['argv-inside-word', 'ok'], ['shell', 'ok']]);
    expect(r.stderr).toContain('[harmless]');
  });

  it('secrets are masked on screen, in saved output and in the timeline; timeouts kill the process group; budgets and on_failure', () => {
    const id = declare(home, 'secrets');
    const secret = 'tok-98765-SECRET';
    const nap = `${60 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const r = ir(home, ['runbook', 'secrets-timeouts', '--yes', '--var', `nap=${nap}`, '--incident', id, ...rb], { env: { IR_TEST_TOKEN: secret } });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stdout).toContain('token is **** and env has ****');
    const steps = stepEvents(home, id);
    expect(readFileSync(String(steps.leak.output_file), 'utf8')).toBe('token is **** and env has ****\n');
    expect(JSON.stringify(events(home, id))).not.toContain(secret);
    expect(steps.hang).toMatchObject({ outcome: 'timeout', on_failure: 'goto cleanup' });
    expect(Number(steps.hang.duration_ms)).toBeLessThan(10_000);
    expect(steps['skipped-by-jump']).toBeUndefined();
    expect(steps.cleanup).toMatchObject({ outcome: 'ok' });
    expect(steps['must-fail']).toMatchObject({ outcome: 'failed', matched: false, on_failure: 'abort' });
    expect(steps.never).toBeUndefined();
    const overrun = events(home, id).filter((e) => e.type === 'runbook.phase_overrun');
    expect(overrun).toHaveLength(1);
    expect(overrun[0].data).toMatchObject({ phase: 'quick', within_s: 1 });
    expect(r.stderr).toMatch(/over its 1s budget/);
    expect(events(home, id).at(-1)!.data).toMatchObject({ status: 'aborted' });
    // The pipeline's grandchild did not survive the timeout.
    expect(processList()).not.toContain(`sleep ${nap}`);
  });

  it('--dry-run prints every step filled in and records nothing; no terminal and no --yes is exit 2', () => {
    const before = ir(home, ['timeline', '--verify', '--json']);
    const dry = ir(home, ['runbook', 'injection', '--dry-run', '--var', 'value=v1', ...rb]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('printf \'[%s]\\n\' v1 --literal-after');
    expect(json<{ events: number }>(ir(home, ['timeline', '--verify', '--json'])).events).toBe(json<{ events: number }>(before).events);
    const noTty = ir(home, ['runbook', 'injection', ...rb, '--incident', declare(home, 'x')]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/pass --yes/);
    expect(ir(home, ['runbook', 'no-such-runbook', '--yes', ...rb]).stderr).toMatch(/no runbook "no-such-runbook"/);
    expect(ir(home, ['runbook', 'injection', '--yes', '--var', 'nope=1', ...rb]).stderr).toMatch(/has no variable "nope"/);
  });

  it('without an open incident and without a terminal, says how to declare one', () => {
    const { home: h, cleanup: c } = tempHome();
    try {
      const r = ir(h, ['runbook', 'injection', '--yes', ...rb]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no open incident.*ir declare --title "Values stay one literal argument"/);
    } finally {
      c();
    }
  });
});

/** Command lines of every process on the machine, from /proc. */
function processList(): string {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      /* exited meanwhile */
    }
  }
  return out.join('\n');
}
