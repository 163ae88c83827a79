// Where a runbook connects: the shipped runbooks take PostgreSQL, Redis and the kube context from
// the environment the responder exported, say where they will connect before the first step and
// before each step that touches a cluster, and --dry-run lists the programs that are missing.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, tempHome } from '../helpers/cli.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../helpers/services.js';

interface Event {
  type: string;
  data: Record<string, unknown>;
}
const events = (home: string, id: string) => json<{ events: Event[] }>(ir(home, ['timeline', id, '--json'])).events;
const declare = (home: string, title: string) => json<{ id: string }>(ir(home, ['declare', '--json', '-t', title, '-s', 'SEV-1'])).id;

/** A kubeconfig whose current context names a namespace, as `kubectl config set-context --current --namespace` leaves it. */
function kubeconfig(dir: string, context: string, namespace?: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `kubeconfig-${context}`);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `current-context: ${context}`,
      'contexts:',
      `- name: ${context}`,
      `  context: {cluster: c1, user: u1${namespace ? `, namespace: ${namespace}` : ''}}`,
      '- name: other',
      '  context: {cluster: c1, user: u1, namespace: elsewhere}',
      'clusters:',
      '- name: c1',
      '  cluster: {server: "https://127.0.0.1:1"}',
      'users:',
      '- name: u1',
      '  user: {token: not-used}',
    ].join('\n'),
  );
  return file;
}

describe('shipped runbooks connect where the environment says (--dry-run)', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('PGHOST=10.0.3.7 PGPORT=6543 PGUSER=app: postgres-connection-exhaustion runs psql -h 10.0.3.7 -p 6543 -U app, and says so first', () => {
    const r = ir(home, ['runbook', 'postgres-connection-exhaustion', '--dry-run'], { env: { PGHOST: '10.0.3.7', PGPORT: '6543', PGUSER: 'app', PGDATABASE: 'shop' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('psql -h 10.0.3.7 -p 6543 -U app -d shop');
    expect(r.stdout).not.toContain('-h 127.0.0.1');
    expect(r.stdout.split('\n')[1]).toMatch(/^connects to: postgres app@10\.0\.3\.7:6543\/shop · kube/);
    // A flag still wins over the environment.
    expect(ir(home, ['runbook', 'postgres-connection-exhaustion', '--dry-run', '--var', 'port=7000'], { env: { PGPORT: '6543' } }).stdout).toContain('-p 7000 ');
  });

  it('REDIS_HOST/REDIS_PORT: redis-failure runs redis-cli -h 10.0.0.9 -p 6380', () => {
    const r = ir(home, ['runbook', 'redis-failure', '--dry-run'], { env: { REDIS_HOST: '10.0.0.9', REDIS_PORT: '6380' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('redis-cli -h 10.0.0.9 -p 6380 PING');
    expect(r.stdout).not.toContain('-p 6379');
    expect(r.stdout).toMatch(/connects to: redis 10\.0\.0\.9:6380/);
  });

  it('PG* reach the other PostgreSQL runbooks too; a bad value from the environment is exit 2 naming it', () => {
    const env = { PGHOST: 'db.internal', PGPORT: '6543', PGUSER: 'app', PGDATABASE: 'shop' };
    expect(ir(home, ['runbook', 'data-corruption-restore', '--dry-run'], { env }).stdout).toContain('-h db.internal -p 6543 -U app');
    expect(ir(home, ['runbook', 'postgres-primary-failover', '--dry-run'], { env }).stdout).toMatch(/psql -h 127\.0\.0\.1 -p 6543 -U app -d shop/);
    const bad = ir(home, ['runbook', 'redis-failure', '--dry-run'], { env: { REDIS_PORT: '99999' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^ir: port \(from \$REDIS_PORT\): "99999" is not a port/);
  });

  it('the kube context\'s namespace is the default namespace; the context is shown before the first step and at each kubectl step', () => {
    const env = { KUBECONFIG: kubeconfig(join(home, 'kube'), 'prod-eu', 'shop') };
    const r = ir(home, ['runbook', 'redis-failure', '--dry-run'], { env });
    expect(r.stdout).toContain('kubectl rollout restart statefulset/redis -n shop');
    expect(r.stdout).toMatch(/connects to: redis 127\.0\.0\.1:6379 · kube context prod-eu \/ namespace shop/);
    expect(r.stdout).toMatch(/\(restart-redis, run\)[^\n]*\n\s+kube context prod-eu \/ namespace shop\n\s+\$ kubectl rollout restart/);
    expect(ir(home, ['runbook', 'redis-failure', '--dry-run', '--var', 'namespace=staging'], { env }).stdout).toContain('-n staging');
    // A context without a namespace: the runbook's default, and kubectl's "default" nowhere assumed for it.
    const plain = ir(home, ['runbook', 'redis-failure', '--dry-run'], { env: { KUBECONFIG: kubeconfig(join(home, 'kube'), 'dev') } });
    expect(plain.stdout).toContain('-n production');
    expect(plain.stdout).toMatch(/kube context dev \/ namespace production/);
  });
});

describe('a real run takes its connection from the environment', () => {
  let home: string;
  let cleanup: () => void;
  let redis: RedisServer;
  let pg: PostgresServer;
  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  });
  afterAll(async () => {
    await Promise.all([redis.stop(), pg.stop()]);
    cleanup();
  });

  it('redis-failure --yes with REDIS_HOST/REDIS_PORT reaches the real redis-server; the target (and the kube context at each kubectl step) is shown and recorded', () => {
    const id = declare(home, 'redis from env');
    const KUBECONFIG = kubeconfig(join(home, 'kube'), 'prod-eu', 'shop');
    const r = ir(home, ['runbook', 'redis-failure', '--yes', '--incident', id], { env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), KUBECONFIG } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`connects to: redis 127\\.0\\.0\\.1:${redis.port} · kube context prod-eu / namespace shop`));
    // Each step that touches the cluster says which one, right above its command.
    expect(r.stdout).toMatch(/Restart Redis[^\n]*\n(?: {2}[^\n]*\n)*? {2}kube context prod-eu \/ namespace shop\n {2}\$ kubectl rollout restart statefulset\/redis -n shop/);
    const all = events(home, id);
    expect(all.find((e) => e.type === 'runbook.step' && e.data.step === 'ping')!.data).toMatchObject({ outcome: 'ok', command: `redis-cli -h 127.0.0.1 -p ${redis.port} PING` });
    expect(all.find((e) => e.type === 'runbook.started')!.data.connects_to).toContain(`redis 127.0.0.1:${redis.port}`);
  });

  it('postgres-connection-exhaustion --yes with PGHOST/PGPORT/PGUSER reaches the real PostgreSQL', () => {
    const id = declare(home, 'pg from env');
    const r = ir(home, ['runbook', 'postgres-connection-exhaustion', '--yes', '--incident', id], { env: { PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const connect = events(home, id).find((e) => e.type === 'runbook.step' && e.data.step === 'connect')!.data;
    expect(connect).toMatchObject({ outcome: 'ok', matched: true });
    expect(String(connect.command)).toContain(`psql -h 127.0.0.1 -p ${pg.port} -U ${pg.user}`);
  });
});

describe('--dry-run checks the programs the steps need', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('lists the missing ones with their step counts (exit 0); --json prints one document with steps, targets and missing programs', () => {
    // A PATH without mongosh and mongorestore, but with the shell tools.
    const r = ir(home, ['runbook', 'mongodb-outage', '--dry-run'], { env: { PATH: '/usr/bin:/bin' } });
    expect(r.code).toBe(0);
    const line = r.stdout.trimEnd().split('\n').at(-1)!;
    expect(line).toMatch(/^missing programs: mongosh \(\d+ steps\)/);
    const doc = json<{
      runbook: string;
      connects_to: { kind: string; target: string }[];
      missing_programs: { program: string; steps: string[] }[];
      phases: { steps: { id: string; kind: string; command?: string }[] }[];
    }>(ir(home, ['runbook', 'redis-failure', '--dry-run', '--json'], { env: { REDIS_HOST: '10.0.0.9', PATH: '/nonexistent', KUBECONFIG: kubeconfig(join(home, 'kube'), 'prod-eu', 'shop') } }));
    expect(doc.runbook).toBe('redis-failure');
    expect(doc.connects_to).toEqual([
      { kind: 'redis', target: '10.0.0.9:6379' },
      { kind: 'kube', target: 'context prod-eu / namespace shop', context: 'prod-eu', namespace: 'shop' },
    ]);
    expect(doc.missing_programs.map((m) => m.program).sort()).toEqual(['kubectl', 'redis-cli']);
    expect(doc.missing_programs.find((m) => m.program === 'redis-cli')!.steps).toContain('ping');
    const ping = doc.phases.flatMap((p) => p.steps).find((s) => s.id === 'ping')!;
    expect(ping).toMatchObject({ kind: 'run', command: 'redis-cli -h 10.0.0.9 -p 6379 PING' });
  });
});

