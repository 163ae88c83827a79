// The way `ir evidence collect` reads the API, end to end with the built binary: a cluster over TLS
// (its CA and a bearer token from the kubeconfig, as real clusters are reached), pods whose logs come
// in odd HTTP chunks, and a pod whose connection is cut half-way. Every whole file is byte for byte
// the log the server holds, with its sha256; the cut one is kept, hashed as it is on disk, and
// recorded failed with the reason; `ir evidence verify` then holds; the token is nowhere on disk.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, irAsync, json, tempHome } from '../helpers/cli.js';
import { startFakeKube, type FakeKube } from '../fixtures/kube/server.js';

interface CollectJson {
  collection_id: string;
  status: string;
  files: { collector: string; file: string | null; status: string; reason?: string; sha256: string | null; bytes: number }[];
}

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.tls-test-token.c2lnbmF0dXJl';
const lines = Array.from({ length: 20_000 }, (_, i) => ({ ts: new Date(Date.now() - 60_000 + i).toISOString(), text: `level=info seq=${i} path=/api/v1/orders ${'é'.repeat(i % 37)}` }));
const text = lines.map((l) => `${l.ts} ${l.text}\n`).join('');
const pod = (name: string) => ({
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '1', labels: { app: 'api' } },
  spec: { containers: [{ name: 'api', image: 'api:1' }] },
  status: { containerStatuses: [{ name: 'api', restartCount: 0 }] },
});
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('evidence collect over TLS, odd chunking and a cut connection', () => {
  let kube: FakeKube;
  let home: string;
  let cleanup: () => void;

  beforeAll(async () => {
    kube = await startFakeKube({
      tls: true,
      token: TOKEN,
      namespace: 'shop',
      pods: ['api-0', 'api-1', 'api-2'].map(pod),
      logs: {
        'shop/api-0/api': lines,
        'shop/api-1/api': { lines, chunkBytes: [1, 5, 333, 8192, 2] },
        'shop/api-2/api': { lines, dropAfter: 250_000 },
      },
    });
    ({ home, cleanup } = tempHome());
  });
  afterAll(async () => {
    await kube?.stop();
    cleanup?.();
  });

  it('writes each whole log byte for byte with its sha256, keeps and hashes the cut one as failed with the reason, and verify holds', async () => {
    const incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'tls cluster', '-s', 'SEV-2'])).id;
    const r = await irAsync(home, ['evidence', 'collect', '--json', '--only', 'k8s-logs,k8s-pods', '--kubeconfig', kube.kubeconfigPath, '--since', '1h']);
    expect(r.code, r.stderr).toBe(1);
    const doc = json<CollectJson>(r);
    expect(doc.status).toBe('partial');
    const file = (name: string) => doc.files.find((f) => f.file?.endsWith(name))!;
    const disk = (name: string) => readFileSync(join(home, 'incidents', incident, file(name).file!));

    for (const name of ['api-0/api.log', 'api-1/api.log']) {
      expect(disk(name).toString(), name).toBe(text);
      expect(file(name)).toMatchObject({ status: 'ok', bytes: Buffer.byteLength(text), sha256: sha256(disk(name)) });
    }
    const cut = file('api-2/api.log');
    expect(disk('api-2/api.log').equals(Buffer.from(text).subarray(0, 250_000))).toBe(true);
    expect(cut).toMatchObject({ status: 'failed', bytes: 250_000, sha256: sha256(disk('api-2/api.log')) });
    expect(cut.reason).toMatch(/^the connection to 127\.0\.0\.1:\d+ closed before the response ended \(250000 bytes of body received\)$/);
    const pods = JSON.parse(disk('k8s-pods.json').toString()) as { kind: string; items: { metadata: { name: string } }[] };
    expect(pods.items.map((p) => p.metadata.name)).toEqual(['api-0', 'api-1', 'api-2']);
    expect(file('k8s-pods.json').status).toBe('ok');

    // Every request carried the token over TLS; none was refused.
    expect(kube.requests.filter((q) => q.path.endsWith('/log'))).toHaveLength(3);
    const verify = await irAsync(home, ['evidence', 'verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const db = readFileSync(join(home, 'ir.db'));
    expect(db.includes(TOKEN)).toBe(false);
  });
});
