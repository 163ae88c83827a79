// `ir evidence collect / list / verify / export` end to end: the built binary against the fake
// Kubernetes API server, a real redis-server and a real PostgreSQL, with one command collector
// made to hang past its timeout.

import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, irAsync, json, tempHome } from '../helpers/cli.js';
import { startAll, startPostgres, startRedis, type PostgresServer, type RedisServer } from '../helpers/services.js';
import { startFakeKube, type FakeKube } from '../fixtures/kube/server.js';
import { fixtureData, SECRET_VALUE } from '../fixtures/kube/dataset.js';

interface FileJson {
  collector: string;
  file: string | null;
  source: string;
  bytes: number;
  sha256: string | null;
  status: string;
  reason?: string;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('evidence collection against fake kube, real redis and real PostgreSQL', () => {
  let home: string;
  let cleanup: () => void;
  let kube: FakeKube;
  let redis: RedisServer;
  let pg: PostgresServer;
  let team: string;
  let incident: string;
  let collected: { collection_id: string; status: string; files: FileJson[]; manifest: string; manifest_sha256: string };
  let code: number;
  let stderr: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    ({ kube, redis, pg } = await startAll({ kube: () => startFakeKube(fixtureData()), redis: () => startRedis(), pg: () => startPostgres() }));
    // The team's evidence.yaml replaces the shipped one: the shipped collectors plus one that hangs.
    team = mkdtempSync(join(tmpdir(), 'ir-team-'));
    writeFileSync(
      join(team, 'evidence.yaml'),
      `${readFileSync(join(ROOT, 'runbooks', 'evidence.yaml'), 'utf8')}\n  - name: stuck-probe\n    description: a probe that prints a line, then hangs\n    timeout: 2s\n    shell: true\n    command: "echo partial-output-before-hang; exec sleep 60"\n`,
    );
    env = {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      PGHOST: '127.0.0.1',
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: 'postgres',
    };
    incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'checkout 500s', '-s', 'SEV-1'])).id;
    const started = Date.now();
    const r = await irAsync(home, ['--runbooks', team, 'evidence', 'collect', '--json', '--kubeconfig', kube.kubeconfigPath, '--selector', 'app=api', '--since', '2h'], { env });
    code = r.code;
    stderr = r.stderr;
    collected = json(r);
    // The hung collector cost its own timeout, not everyone's: far less than its 60 s sleep.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  afterAll(async () => {
    // stop() rejects if anything ever asked the fake server for a secret.
    await Promise.all([kube?.stop(), redis?.stop(), pg?.stop()]);
    rmSync(team, { recursive: true, force: true });
    cleanup?.();
  });

  const byCollector = (name: string) => collected.files.filter((f) => f.collector === name);
  const path = (rel: string) => join(home, 'incidents', incident, rel);

  it("says which kube context and namespace it will read, in its header, before it reads them", async () => {
    // An incident of its own: the other tests count this one's collections.
    const other = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'header check', '-s', 'SEV-3'])).id;
    const r = await irAsync(home, ['evidence', 'collect', '--only', 'k8s-events', '--kubeconfig', kube.kubeconfigPath, '--namespace', 'shop', '--incident', other], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    const header = lines.findIndex((l) => l.startsWith('Collecting EV-'));
    expect(lines[header + 1]).toMatch(/^ {2}kube context \S+ \/ namespace shop$/);
    expect(ir(home, ['resolve', '--incident', other, '--summary', 'header checked']).code).toBe(0);
  });

  it('exits 1 as partial because one collector timed out, and the rest finished', () => {
    expect(code, stderr).toBe(1);
    expect(collected.status).toBe('partial');
    const stuck = byCollector('stuck-probe');
    expect(stuck).toHaveLength(1);
    expect(stuck[0].status).toBe('timeout');
    expect(stuck[0].reason).toMatch(/timed out after 2s; partial output kept/);
    expect(readFileSync(path(stuck[0].file!), 'utf8')).toContain('partial-output-before-hang');
    expect(sha256(path(stuck[0].file!))).toBe(stuck[0].sha256);
  });

  it('produces every expected file, each with the sha256 of its bytes on disk', () => {
    const dir = `evidence/${collected.collection_id}`;
    const expected = [
      'k8s-pods.json',
      'k8s-events.json',
      'k8s-deployments.json',
      'k8s-replicasets.json',
      'k8s-rollout-history.txt',
      'k8s-nodes.json',
      'k8s-services.json',
      'k8s-endpoints.json',
      'k8s-logs/api-7d9f-abc12/api.log',
      'k8s-logs/api-7d9f-abc12/api.previous.log',
      'k8s-logs/api-7d9f-abc12/proxy.log',
      'k8s-logs/api-7d9f-def34/api.log',
      'k8s-logs/api-7d9f-def34/proxy.log',
      'redis-info.txt',
      'redis-slowlog.txt',
      'redis-clients.txt',
      'postgres-activity.txt',
      'postgres-locks.txt',
      'postgres-long-queries.txt',
      'host-uptime.txt',
      'host-disk.txt',
      'host-memory.txt',
    ].map((f) => `${dir}/${f}`);
    const files = new Map(collected.files.filter((f) => f.file).map((f) => [f.file!, f]));
    for (const f of expected) {
      const rec = files.get(f);
      expect(rec, `${f} in ${[...files.keys()].join(', ')}`).toBeDefined();
      expect(rec!.status, `${f}: ${rec!.reason}`).toBe('ok');
      expect(sha256(path(f))).toBe(rec!.sha256);
      expect(statSync(path(f)).size).toBe(rec!.bytes);
      expect(statSync(path(f)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(path(dir)).mode & 0o777).toBe(0o700);
    expect(statSync(path('evidence')).mode & 0o777).toBe(0o700);
    // The worker pod is outside the selector: no logs of it.
    expect([...files.keys()].some((f) => f.includes('worker'))).toBe(false);
  });

  it('collects real content: redis INFO, pg_stat_activity, logs within the window with timestamps', () => {
    const dir = `evidence/${collected.collection_id}`;
    expect(readFileSync(path(`${dir}/redis-info.txt`), 'utf8')).toMatch(/redis_version:/);
    expect(readFileSync(path(`${dir}/redis-clients.txt`), 'utf8')).toMatch(/cmd=client/);
    expect(readFileSync(path(`${dir}/postgres-activity.txt`), 'utf8')).toMatch(/pg_stat_activity/);
    const log = readFileSync(path(`${dir}/k8s-logs/api-7d9f-abc12/api.log`), 'utf8').trim().split('\n');
    // 300 lines a minute apart, the last a minute ago: a 2h window holds about 120 of them.
    expect(log.length).toBeGreaterThanOrEqual(119);
    expect(log.length).toBeLessThanOrEqual(121);
    expect(log[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z GET \/orders 200 #/);
    expect(readFileSync(path(`${dir}/k8s-logs/api-7d9f-abc12/api.previous.log`), 'utf8')).toMatch(/fatal: out of memory/);
    const events = JSON.parse(readFileSync(path(`${dir}/k8s-events.json`), 'utf8')) as { items: { reason: string }[] };
    expect(events.items.map((e) => e.reason)).toEqual(['ScalingReplicaSet', 'OOMKilling', 'BackOff', 'Started']);
    expect(readFileSync(path(`${dir}/k8s-rollout-history.txt`), 'utf8')).toMatch(/1 .*api-6c8b .*2\.14\.1[\s\S]*2 .*api-7d9f .*2\.15\.0/);
  });

  it('never collects secrets: no secrets request, secretKeyRef stays a reference, passwords masked', () => {
    expect(kube.requests.some((r) => r.path.includes('secret'))).toBe(false);
    expect(kube.violations).toEqual([]);
    const pods = readFileSync(path(`evidence/${collected.collection_id}/k8s-pods.json`), 'utf8');
    expect(pods).toContain('secretKeyRef');
    expect(pods).not.toContain(SECRET_VALUE);
    const all = collected.files.filter((f) => f.file).map((f) => readFileSync(path(f.file!), 'utf8')).join('\n');
    expect(all).not.toContain(pg.password);
    expect(JSON.stringify(collected)).not.toContain(pg.password);
  });

  it('records the custody chain: manifest, store rows, started and collected events', () => {
    const manifest = JSON.parse(readFileSync(path(collected.manifest), 'utf8')) as Record<string, unknown> & { files: FileJson[] };
    expect(sha256(path(collected.manifest))).toBe(collected.manifest_sha256);
    expect(manifest).toMatchObject({ collection_id: collected.collection_id, incident, status: 'partial', collected_by: expect.stringMatching(/^tester@/), kube_context: 'fake-cluster', selector: 'app=api', namespace: 'shop' });
    expect(manifest.files.map((f) => f.sha256)).toEqual(collected.files.map((f) => f.sha256));
    expect(manifest.files.find((f) => f.collector === 'k8s-pods')!.source).toMatch(/^GET \/api\/v1\/namespaces\/shop\/pods\?labelSelector=app%3Dapi/);
    const timeline = json<{ events: { type: string; data: Record<string, unknown> }[] }>(ir(home, ['timeline', incident, '--json'])).events;
    const started = timeline.find((e) => e.type === 'evidence.collection_started')!;
    expect(started.data).toMatchObject({ collection_id: collected.collection_id, since: '2h', namespace: 'shop', selector: 'app=api', kube_context: 'fake-cluster' });
    expect(started.data.collectors).toContain('stuck-probe');
    const done = timeline.find((e) => e.type === 'evidence.collected')!;
    expect(done.data).toMatchObject({ collection_id: collected.collection_id, status: 'partial' });
    expect((done.data.files as FileJson[]).length).toBe(collected.files.length);
    const list = json<{ collections: { id: string; state: string; files: number }[] }>(ir(home, ['evidence', 'list', '--json']));
    expect(list.collections).toEqual([expect.objectContaining({ id: collected.collection_id, state: 'partial', files: collected.files.filter((f) => f.file).length })]);
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
  });

  it('verify passes untouched, then names a file changed by one byte, a deleted one and an added one', () => {
    const ok = ir(home, ['evidence', 'verify', '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(json(ok)).toMatchObject({ ok: true, problems: [] });

    const dir = `evidence/${collected.collection_id}`;
    const victim = `${dir}/k8s-nodes.json`;
    const bytes = readFileSync(path(victim));
    bytes[10] = bytes[10] ^ 0x01;
    writeFileSync(path(victim), bytes);
    const one = ir(home, ['evidence', 'verify']);
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(new RegExp(`MODIFIED\\s+${victim.replace(/[.]/g, '\\.')}`));
    expect(one.stdout.trim().split('\n')).toHaveLength(1);

    const gone = `${dir}/k8s-logs/api-7d9f-def34/proxy.log`;
    unlinkSync(path(gone));
    appendFileSync(path(`${dir}/planted.txt`), 'not collected by ir\n');
    const three = json<{ ok: boolean; problems: { file: string; problem: string }[] }>(ir(home, ['evidence', 'verify', '--json']));
    expect(three.ok).toBe(false);
    expect(three.problems).toEqual([
      { file: `${dir}/k8s-logs/api-7d9f-def34/proxy.log`, problem: 'missing', expected: expect.any(String) },
      { file: victim, problem: 'modified', expected: expect.any(String), actual: expect.any(String) },
      { file: `${dir}/planted.txt`, problem: 'unexpected' },
    ]);
    const verified = json<{ events: { type: string; data: Record<string, unknown> }[] }>(ir(home, ['timeline', incident, '--json'])).events.filter((e) => e.type === 'evidence.verified');
    expect(verified.map((e) => e.data.ok)).toEqual([true, false, false]);
    expect(verified[2].data.problems).toEqual([
      { file: gone, problem: 'missing' },
      { file: victim, problem: 'modified' },
      { file: `${dir}/planted.txt`, problem: 'unexpected' },
    ]);
    // Put things back for the export test.
    bytes[10] = bytes[10] ^ 0x01;
    writeFileSync(path(victim), bytes);
    unlinkSync(path(`${dir}/planted.txt`));
  });

  it('export refuses while custody does not hold (a file is still missing)', () => {
    const out = join(home, 'out.tar.gz');
    const refused = ir(home, ['evidence', 'export', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/missing: +evidence\/.*\/k8s-logs\/api-7d9f-def34\/proxy\.log/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('evidence export', () => {
  let home: string;
  let cleanup: () => void;
  let kube: FakeKube;
  let incident: string;

  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    kube = await startFakeKube(fixtureData());
    incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'export', '-s', 'SEV-2'])).id;
    const r = await irAsync(home, ['evidence', 'collect', '--json', '--kubeconfig', kube.kubeconfigPath, '--only', 'k8s-*', '-l', 'app=api']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await kube?.stop();
    cleanup?.();
  });

  it('writes files, manifest, SHA256SUMS and custody.log; --redact replaces the JWT consistently', () => {
    const out = join(home, 'plain.tar.gz');
    const plain = ir(home, ['evidence', 'export', '--out', out, '--no-redact', '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    const doc = json<{ sha256: string; files: number; redacted: boolean }>(plain);
    expect(doc.redacted).toBe(false);
    expect(sha256(out)).toBe(doc.sha256);
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const x = mkdtempSync(join(tmpdir(), 'ir-x-'));
    mkdirSync(join(x, 'plain'));
    mkdirSync(join(x, 'red'));
    expect(spawnSync('tar', ['-xzf', out, '-C', join(x, 'plain')]).status).toBe(0);
    const root = join(x, 'plain', `${incident}-evidence`);
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: root, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(readFileSync(join(root, 'custody.log'), 'utf8')).toMatch(/evidence\.collection_started[\s\S]*evidence\.collected/);
    const log = readdirFind(root, 'api-7d9f-def34/api.log');
    expect(readFileSync(log, 'utf8')).toContain('eyJhbGciOiJIUzI1NiJ9');

    const redOut = join(home, 'red.tar.gz');
    const red = ir(home, ['evidence', 'export', '--out', redOut, '--redact', '--redact-pattern', 'GET /(orders)', '--json']);
    expect(red.code, red.stderr).toBe(0);
    expect(json(red)).toMatchObject({ redacted: true });
    expect(spawnSync('tar', ['-xzf', redOut, '-C', join(x, 'red')]).status).toBe(0);
    const redRoot = join(x, 'red', `${incident}-evidence`);
    const redLog = readFileSync(readdirFind(redRoot, 'api-7d9f-def34/api.log'), 'utf8');
    expect(redLog).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    // The same token on ten lines: one placeholder, the same every time.
    expect(redLog.match(/\[REDACTED-JWT-1\]/g)).toHaveLength(10);
    expect(redLog).not.toMatch(/REDACTED-JWT-2/);
    const orders = readFileSync(readdirFind(redRoot, 'api-7d9f-abc12/api.log'), 'utf8');
    expect(orders).toContain('GET /[REDACTED-CUSTOM-1] 200');
    expect(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: redRoot }).status).toBe(0);
    // Originals untouched.
    expect(ir(home, ['evidence', 'verify']).code).toBe(0);
    const types = json<{ events: { type: string; data: Record<string, unknown> }[] }>(ir(home, ['timeline', incident, '--json'])).events.filter((e) => e.type === 'evidence.exported');
    expect(types.map((e) => e.data.redacted)).toEqual([false, true]);
    rmSync(x, { recursive: true, force: true });
  });

  it("redacts the team's own patterns from ir.yaml too, without --redact-pattern", () => {
    const team = mkdtempSync(join(tmpdir(), 'ir-team-'));
    writeFileSync(join(team, 'ir.yaml'), "redaction:\n  - 'GET /(orders)'\n");
    const x = mkdtempSync(join(tmpdir(), 'ir-x-'));
    try {
      const out = join(home, 'team.tar.gz');
      const r = ir(home, ['evidence', 'export', '--out', out, '--json'], { env: { IR_RUNBOOKS: team } });
      expect(r.code, r.stderr).toBe(0);
      expect(spawnSync('tar', ['-xzf', out, '-C', x]).status).toBe(0);
      const orders = readFileSync(readdirFind(join(x, `${incident}-evidence`), 'api-7d9f-abc12/api.log'), 'utf8');
      expect(orders).toContain('GET /[REDACTED-CUSTOM-1] 200');
      expect(orders).not.toContain('GET /orders');
    } finally {
      rmSync(x, { recursive: true, force: true });
      rmSync(team, { recursive: true, force: true });
    }
  });
});

function readdirFind(root: string, suffix: string): string {
  const out = spawnSync('find', [root, '-type', 'f', '-path', `*${suffix}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  if (out.length !== 1) throw new Error(`expected one file ending ${suffix} under ${root}, found ${out.length}`);
  return out[0];
}
