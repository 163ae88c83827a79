// Kubernetes collectors: raw API objects and pod logs, streamed to disk through the client-node
// wrapper. No collector here ever asks for secrets: pod specs keep their secretKeyRef references,
// which is what the API returns, and nothing resolves them.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kube } from '../k8s/kube.js';
import { download } from './download.js';
import type { Collector, CollectorRun, CollectParams } from './types.js';

export const K8S_COLLECTORS = ['k8s-pods', 'k8s-logs', 'k8s-events', 'k8s-deployments', 'k8s-replicasets', 'k8s-nodes', 'k8s-services', 'k8s-endpoints'] as const;

export interface K8sTarget {
  /** Loaded on first use, shared by every Kubernetes collector of a collection. */
  kube(): Promise<Kube>;
  /** Why there is no cluster to talk to (no kubeconfig); undefined when there is one. */
  unavailable?: string;
  namespace(): Promise<string>;
}

interface PodLike {
  metadata: { name: string };
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[] };
  status?: { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
}
interface ContainerStatus {
  name: string;
  restartCount?: number;
  lastState?: { terminated?: unknown };
}

const describe = (path: string, query: Record<string, string | number | boolean | undefined>) => {
  const q = Object.entries(query).filter(([, v]) => v !== undefined && v !== '');
  return `GET ${path}${q.length ? `?${new URLSearchParams(q.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : ''}`;
};

/** One API list, streamed byte for byte into one file. */
async function streamList(target: K8sTarget, r: CollectorRun, name: string, path: (ns: string) => string, query: Record<string, string | undefined>): Promise<void> {
  const kube = await target.kube();
  const p = path(await target.namespace());
  const file = await r.file(name, `${describe(p, query)} (context ${kube.contextName})`);
  await download(kube, p, query, file.writer(), r.signal);
  await file.done();
}

const timeOf = (e: Record<string, unknown>): number => {
  const meta = (e.metadata ?? {}) as Record<string, unknown>;
  for (const v of [e.eventTime, e.lastTimestamp, (e.series as Record<string, unknown> | undefined)?.lastObservedTime, e.firstTimestamp, meta.creationTimestamp]) {
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  }
  return 0;
};

export function kubernetesCollectors(target: K8sTarget, params: CollectParams, timeoutMs: number): Collector[] {
  const sel = params.selector;
  const ns = (suffix: string) => (n: string) => `/api/v1/namespaces/${encodeURIComponent(n)}/${suffix}`;
  const apps = (suffix: string) => (n: string) => `/apis/apps/v1/namespaces/${encodeURIComponent(n)}/${suffix}`;
  const skipReason = () => target.unavailable;
  const sinceSeconds = Math.max(1, Math.round((Date.now() - params.since.getTime()) / 1000));
  const list = (name: string, description: string, path: (n: string) => string, query: Record<string, string | undefined>): Collector => ({
    name,
    kind: 'kubernetes',
    description,
    timeoutMs,
    skipReason,
    run: (r) => streamList(target, r, `${name}.json`, path, query),
  });

  return [
    list('k8s-pods', 'pods, full objects', ns('pods'), { labelSelector: sel }),
    {
      name: 'k8s-logs',
      kind: 'kubernetes',
      description: `logs of every container of the selected pods since ${params.sinceText}, with previous logs of restarted containers`,
      timeoutMs,
      skipReason,
      run: async (r) => {
        const kube = await target.kube();
        const namespace = await target.namespace();
        const pods = await kube.getJson<{ items: PodLike[] }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { labelSelector: sel }, r.signal);
        const jobs: { pod: string; container: string; previous: boolean }[] = [];
        for (const pod of pods.items ?? []) {
          const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
          for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
            jobs.push({ pod: pod.metadata.name, container: c.name, previous: false });
            const st = statuses.find((s) => s.name === c.name);
            if (st && ((st.restartCount ?? 0) > 0 || st.lastState?.terminated)) jobs.push({ pod: pod.metadata.name, container: c.name, previous: true });
          }
        }
        const failures: string[] = [];
        // A few logs at once: one slow kubelet should not serialise the rest.
        const worker = async () => {
          for (let job = jobs.shift(); job && !r.signal.aborted; job = jobs.shift()) {
            const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(job.pod)}/log`;
            const query = { container: job.container, timestamps: true, sinceSeconds, previous: job.previous || undefined };
            const file = await r.file(`k8s-logs/${job.pod}/${job.container}${job.previous ? '.previous' : ''}.log`, `${describe(path, query)} (context ${kube.contextName})`);
            const w = file.writer();
            try {
              await download(kube, path, query, w, r.signal);
              await file.done();
            } catch (err) {
              if (r.signal.aborted) throw err;
              failures.push(`${job.pod}/${job.container}${job.previous ? ' (previous)' : ''}`);
              await file.done('failed', (err as Error).message);
            }
          }
        };
        await Promise.all([worker(), worker(), worker(), worker()]);
        if (r.signal.aborted) throw r.signal.reason;
        if (failures.length) throw new Error(`could not read ${failures.length} log${failures.length === 1 ? '' : 's'}: ${failures.join(', ')}`);
      },
    },
    {
      name: 'k8s-events',
      kind: 'kubernetes',
      description: 'events of the namespace, oldest first',
      timeoutMs,
      skipReason,
      run: async (r) => {
        const kube = await target.kube();
        const path = ns('events')(await target.namespace());
        const file = await r.file('k8s-events.json', `${describe(path, {})} (context ${kube.contextName}), sorted by time`);
        const w = file.writer();
        // Sorting needs the whole list; event lists are bounded by the API server's TTL (1h by default).
        const doc = await kube.getJson<{ items?: Record<string, unknown>[] }>(path, {}, r.signal);
        doc.items = [...(doc.items ?? [])].sort((a, b) => timeOf(a) - timeOf(b));
        await pipeline(Readable.from([Buffer.from(`${JSON.stringify(doc, null, 2)}\n`)]), w);
        await file.done();
      },
    },
    list('k8s-deployments', 'deployments', apps('deployments'), { labelSelector: sel }),
    {
      name: 'k8s-replicasets',
      kind: 'kubernetes',
      description: 'replica sets and the rollout history they make up',
      timeoutMs,
      skipReason,
      run: async (r) => {
        await streamList(target, r, 'k8s-replicasets.json', apps('replicasets'), { labelSelector: sel });
        const kube = await target.kube();
        const path = apps('replicasets')(await target.namespace());
        const file = await r.file('k8s-rollout-history.txt', `derived from ${describe(path, { labelSelector: sel })}`);
        const doc = await kube.getJson<{ items?: ReplicaSetLike[] }>(path, { labelSelector: sel }, r.signal);
        await pipeline(Readable.from([Buffer.from(rolloutHistory(doc.items ?? []))]), file.writer());
        await file.done();
      },
    },
    list('k8s-nodes', 'nodes (cluster-wide)', () => '/api/v1/nodes', {}),
    list('k8s-services', 'services', ns('services'), { labelSelector: sel }),
    list('k8s-endpoints', 'endpoints', ns('endpoints'), { labelSelector: sel }),
  ];
}

interface ReplicaSetLike {
  metadata?: { name?: string; creationTimestamp?: string; annotations?: Record<string, string>; ownerReferences?: { kind?: string; name?: string }[] };
  spec?: { replicas?: number; template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

/** `kubectl rollout history`, from the replica sets: one line per revision, per deployment. */
export function rolloutHistory(items: ReplicaSetLike[]): string {
  const byDeployment = new Map<string, ReplicaSetLike[]>();
  for (const rs of items) {
    const owner = rs.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name ?? '(no deployment)';
    byDeployment.set(owner, [...(byDeployment.get(owner) ?? []), rs]);
  }
  const out: string[] = [];
  for (const [deployment, list] of [...byDeployment].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`deployment ${deployment}`, 'REVISION  CREATED                   REPLICAS  REPLICASET  IMAGES');
    const rev = (rs: ReplicaSetLike) => Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    for (const rs of [...list].sort((a, b) => rev(a) - rev(b))) {
      const images = (rs.spec?.template?.spec?.containers ?? []).map((c) => `${c.name}=${c.image ?? '?'}`).join(',');
      out.push(`${String(rev(rs)).padEnd(8)}  ${(rs.metadata?.creationTimestamp ?? '-').padEnd(24)}  ${String(rs.spec?.replicas ?? 0).padEnd(8)}  ${rs.metadata?.name ?? '?'}  ${images}`);
    }
    out.push('');
  }
  return out.join('\n');
}
