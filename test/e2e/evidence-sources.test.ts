// A kubeconfig that cannot be used is one failed evidence source, not the end of the collection:
// the Kubernetes collectors are skipped with the reason, redis and the host are still collected
// (against a real redis-server), one warning line is printed, and the collection is partial (exit 1).
// A --kubeconfig or --context typed on the command line that names nothing is a usage error (exit 2).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, irAsync, json, tempHome } from '../helpers/cli.js';
import { startRedis, type RedisServer } from '../helpers/services.js';

interface CollectJson {
  collection_id: string;
  status: string;
  unavailable?: { source: string; reason: string }[];
  files: { collector: string; file: string | null; status: string; reason?: string; sha256: string | null }[];
}

describe('evidence collect with an unusable kubeconfig', () => {
  let redis: RedisServer;
  let scratch: string;
  const homes: (() => void)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    scratch = mkdtempSync(join(tmpdir(), 'ir-kcfg-'));
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(scratch, { recursive: true, force: true });
    for (const c of homes) c();
  });

  async function collect(env: Record<string, string | undefined>, args: string[] = []) {
    const { home, cleanup } = tempHome();
    homes.push(cleanup);
    const incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'kubeconfig gone', '-s', 'SEV-2'])).id;
    const r = await irAsync(home, ['evidence', 'collect', '--json', ...args], { env: { HOME: home, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), PGHOST: undefined, ...env } });
    return { home, incident, r };
  }

  const missing = () => join(scratch, 'no-such-kubeconfig');
  const garbage = () => {
    const p = join(scratch, 'garbage.yaml');
    writeFileSync(p, 'apiVersion: v1\nclusters: [ {\n');
    return p;
  };
  const noContext = () => {
    const p = join(scratch, 'no-context.yaml');
    writeFileSync(p, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\n');
    return p;
  };

  it.each([
    ['KUBECONFIG naming a missing file', missing, /^kubeconfig not found: .*no-such-kubeconfig \(from KUBECONFIG\)$/],
    ['KUBECONFIG naming an invalid file', garbage, /^cannot read kubeconfig .*garbage\.yaml \(from KUBECONFIG\): /],
    ['KUBECONFIG without a current context', noContext, /^kubeconfig .*no-context\.yaml \(from KUBECONFIG\) has no current-context/],
  ])('%s: redis and host collected, k8s collectors skipped with the reason, one warning, exit 1 partial', async (_name, kubeconfig, reason) => {
    const { home, incident, r } = await collect({ KUBECONFIG: kubeconfig() });
    expect(r.code, r.stderr).toBe(1);
    const doc = json<CollectJson>(r);
    expect(doc.status).toBe('partial');
    expect(doc.unavailable).toEqual([{ source: 'kubernetes', reason: expect.stringMatching(reason) }]);

    const k8s = doc.files.filter((f) => f.collector.startsWith('k8s-'));
    expect(k8s).toHaveLength(8);
    for (const f of k8s) expect(f).toMatchObject({ status: 'skipped', file: null, reason: expect.stringMatching(reason) });

    for (const name of ['redis-info', 'redis-slowlog', 'redis-clients', 'host-uptime', 'host-disk']) {
      expect(doc.files.find((f) => f.collector === name), name).toMatchObject({ status: 'ok', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
    const info = doc.files.find((f) => f.collector === 'redis-info')!;
    expect(readFileSync(join(home, 'incidents', incident, info.file!), 'utf8')).toMatch(/redis_version:/);

    // One warning line on stderr, no stack trace, nothing else said.
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ir: warning: .*; skipping the Kubernetes collectors, collecting the rest$/);

    const list = json<{ collections: { state: string; skipped: string[] }[] }>(ir(home, ['evidence', 'list', '--json']));
    expect(list.collections[0].state).toBe('partial');
    expect(list.collections[0].skipped).toEqual(expect.arrayContaining(['k8s-pods', 'k8s-logs']));
    const manifest = JSON.parse(readFileSync(join(home, 'incidents', incident, 'evidence', doc.collection_id, 'manifest.json'), 'utf8')) as { status: string; unavailable: unknown };
    expect(manifest).toMatchObject({ status: 'partial', unavailable: doc.unavailable });
  });

  it('a --kubeconfig typed on the command line that does not exist is a usage error: exit 2, nothing started', async () => {
    const { home, r } = await collect({ KUBECONFIG: undefined }, ['--kubeconfig', missing()]);
    expect(r.code).toBe(2);
    expect(json<{ error: { message: string } }>(r).error.message).toMatch(/kubeconfig not found: .*no-such-kubeconfig \(from --kubeconfig\)/);
    expect(json<{ collections: unknown[] }>(ir(home, ['evidence', 'list', '--json'])).collections).toEqual([]);
  });
});
