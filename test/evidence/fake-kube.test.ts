// The fake API server is faithful enough for the real kubectl and for @kubernetes/client-node:
// both read the same pods through a temporary kubeconfig.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from '../fixtures/kube/server.js';
import { fixtureData } from '../fixtures/kube/dataset.js';
import { Kube } from '../../src/k8s/kube.js';

const run = promisify(execFile);

describe('fake Kubernetes API server', () => {
  let kube: FakeKube;
  let cache: string;
  // Async on purpose: the server lives in this process, so a synchronous spawn would starve it.
  const kubectl = async (...args: string[]) =>
    (await run('kubectl', ['--kubeconfig', kube.kubeconfigPath, '--cache-dir', cache, '--request-timeout=10s', ...args], { encoding: 'utf8', timeout: 30_000 })).stdout;

  beforeAll(async () => {
    kube = await startFakeKube(fixtureData());
    cache = mkdtempSync(join(tmpdir(), 'ir-kubectl-cache-'));
  });
  afterAll(async () => {
    await kube.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  it('serves the real kubectl: discovery, then `get pods -n NS -o json`', async () => {
    const list = JSON.parse(await kubectl('get', 'pods', '-n', 'shop', '-o', 'json')) as { kind: string; items: { kind: string; metadata: { name: string } }[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((p) => p.metadata.name)).toEqual(['api-7d9f-abc12', 'api-7d9f-def34', 'worker-5c4b-xyz99']);
    expect(list.items.every((p) => p.kind === 'Pod')).toBe(true);
    const paths = kube.requests.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['/api', '/apis', '/api/v1/namespaces/shop/pods']));
  });

  it('serves kubectl logs with --since, --timestamps, --tail and --previous, and label selectors', async () => {
    const recent = (await kubectl('logs', '-n', 'shop', 'api-7d9f-abc12', '-c', 'api', '--since=30m', '--timestamps')).trim().split('\n');
    expect(recent.length).toBeGreaterThanOrEqual(29);
    expect(recent.length).toBeLessThanOrEqual(31);
    expect(recent[0]).toMatch(/^\S+Z GET \/orders 200 #\d+$/);
    expect((await kubectl('logs', '-n', 'shop', 'api-7d9f-abc12', '-c', 'api', '--tail=2')).trim().split('\n')).toEqual(['GET /orders 200 #298', 'GET /orders 200 #299']);
    expect(await kubectl('logs', '-n', 'shop', 'api-7d9f-abc12', '-c', 'api', '--previous', '--tail=1')).toBe('fatal: out of memory #4\n');
    await expect(kubectl('logs', '-n', 'shop', 'api-7d9f-def34', '-c', 'api', '--previous')).rejects.toThrow(/previous terminated container "api" in pod "api-7d9f-def34" not found/);
    const names = (await kubectl('get', 'deploy,rs', '-n', 'shop', '-l', 'app=api', '-o', 'name')).trim().split('\n');
    expect(names).toEqual(['deployment.apps/api', 'replicaset.apps/api-6c8b', 'replicaset.apps/api-7d9f']);
  });

  it('serves @kubernetes/client-node through the same kubeconfig, and refuses secrets', async () => {
    const k = await Kube.load({ kubeconfig: kube.kubeconfigPath, env: {} });
    expect(k.contextName).toBe('fake-cluster');
    expect(k.namespace).toBe('shop');
    const signal = new AbortController().signal;
    const pods = await k.getJson<{ items: { metadata: { name: string } }[] }>('/api/v1/namespaces/shop/pods', { labelSelector: 'app=api' }, signal);
    expect(pods.items.map((p) => p.metadata.name)).toEqual(['api-7d9f-abc12', 'api-7d9f-def34']);
    // The typed API works against it too.
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    const nodes = await kc.makeApiClient(k8s.CoreV1Api).listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual(['node-1', 'node-2']);
    await expect(k.get('/api/v1/namespaces/shop/pods/nope', {}, signal)).rejects.toThrow(/404 pods "nope" not found/);
    // A secrets request is answered 403 and recorded as a violation (stop() would reject).
    await expect(k.get('/api/v1/namespaces/shop/secrets', {}, signal)).rejects.toThrow(/403/);
    expect(kube.violations).toEqual(['GET /api/v1/namespaces/shop/secrets']);
    kube.violations.length = 0;
  });

  it('serves https with its own CA and a token: kubectl verifies it and reads logs, and a wrong token is refused', async () => {
    const secure = await startFakeKube({ ...fixtureData(), tls: true, token: 'fake-token-42' });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const kubectlTls = async (...args: string[]) =>
        (await run('kubectl', ['--kubeconfig', secure.kubeconfigPath, '--cache-dir', cache, '--request-timeout=10s', ...args], { encoding: 'utf8', timeout: 30_000 })).stdout;
      expect(await kubectlTls('logs', '-n', 'shop', 'api-7d9f-abc12', '-c', 'api', '--tail=1')).toBe('GET /orders 200 #299\n');
      expect(secure.requests.every((r) => r.path !== '/api/v1/namespaces/shop/pods/api-7d9f-abc12/log' || r.query.tailLines === '1')).toBe(true);
      await expect(kubectlTls('--token', 'not-the-token', 'get', 'pods', '-n', 'shop')).rejects.toThrow(/Unauthorized|must be logged in/);
    } finally {
      await secure.stop();
    }
  });
});
