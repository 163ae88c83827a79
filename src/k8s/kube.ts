// The lazy @kubernetes/client-node wrapper: finds the kubeconfig (--kubeconfig, KUBECONFIG,
// ~/.kube/config, in-cluster), selects the context, and opens streaming GETs with the kubeconfig's
// TLS and credentials (tokens, client certs, exec plugins) applied by client-node itself.
//
// Why raw GETs rather than the typed CoreV1Api: the typed models drop fields they do not know and
// rewrite timestamps, and they buffer a whole response in memory. Evidence wants the objects
// exactly as the API server sent them, streamed to disk.
//
// Why KubeConfig from its own module rather than the package's index: the index also loads every
// generated API class and model (≈60 MiB of heap and 0.7 s), none of which a raw GET uses. The
// build bundles this import (package.json), so esbuild keeps only what KubeConfig reaches.

import { existsSync } from 'node:fs';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { delimiter, join } from 'node:path';
import { UserError } from '../errors.js';

export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
  env: NodeJS.ProcessEnv;
}

/** Where the kubeconfig comes from, without loading client-node (so "no cluster" costs nothing). */
export function kubeconfigSource(opts: KubeOptions): { kind: 'file' | 'env' | 'default' | 'in-cluster'; path?: string } | undefined {
  if (opts.kubeconfig) return { kind: 'file', path: opts.kubeconfig };
  if (opts.env.KUBECONFIG) return { kind: 'env', path: opts.env.KUBECONFIG };
  const home = opts.env.HOME;
  if (home && existsSync(join(home, '.kube', 'config'))) return { kind: 'default', path: join(home, '.kube', 'config') };
  if (opts.env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return { kind: 'in-cluster' };
  return undefined;
}

/**
 * The kubeconfig cannot be used. `flag` names the option at fault when the user typed it (a typo to
 * fix, exit 2); otherwise the cluster is one unavailable evidence source among several.
 */
export class KubeconfigError extends UserError {
  constructor(
    message: string,
    readonly flag?: '--kubeconfig' | '--context',
  ) {
    super(message);
  }
}

const oneLine = (text: string) => text.split('\n')[0].trim();

/** A failed API request: the HTTP status and the server's Status message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Request options after client-node has applied the kubeconfig (the TLS fields of tls.connect). */
export type KubeRequestOptions = RequestOptions & {
  headers: Record<string, string | string[] | number>;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  pfx?: Buffer;
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
};

/** A non-200 answer as an error: the Status document's message, else the start of the body. */
export function apiError(status: number, statusText: string, body: string): KubeApiError {
  let message = body.trim().slice(0, 500);
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    /* not a Status document */
  }
  return new KubeApiError(status, `${status} ${message || statusText || ''}`.trim());
}

export class Kube {
  private constructor(
    private readonly kc: import('@kubernetes/client-node/dist/config.js').KubeConfig,
    readonly contextName: string,
    readonly server: string,
    readonly namespace: string,
  ) {}

  static async load(opts: KubeOptions): Promise<Kube> {
    const source = kubeconfigSource(opts);
    if (!source) throw new KubeconfigError('no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG');
    if (source.kind === 'file' && !existsSync(source.path!)) throw new KubeconfigError(`kubeconfig not found: ${source.path} (from --kubeconfig)`, '--kubeconfig');
    // Like kubectl, files KUBECONFIG lists that do not exist are passed over; none existing is a problem.
    const envFiles = source.kind === 'env' ? source.path!.split(delimiter).filter(Boolean) : [];
    const present = envFiles.filter((f) => existsSync(f));
    if (source.kind === 'env' && !present.length) throw new KubeconfigError(`kubeconfig not found: ${envFiles.join(delimiter) || '(empty)'} (from KUBECONFIG)`);
    const k8s = await import('@kubernetes/client-node/dist/config.js');
    const kc = new k8s.KubeConfig();
    const from = source.kind === 'file' ? ' (from --kubeconfig)' : source.kind === 'env' ? ' (from KUBECONFIG)' : '';
    let reading = source.path ?? '(in-cluster)';
    try {
      if (source.kind === 'env') {
        reading = present[0];
        kc.loadFromFile(present[0]);
        for (const file of present.slice(1)) {
          reading = file;
          const more = new k8s.KubeConfig();
          more.loadFromFile(file);
          // The first file that names a current-context keeps it, as kubectl does.
          kc.mergeConfig(more, Boolean(kc.getCurrentContext()));
        }
      } else if (source.kind === 'in-cluster') kc.loadFromCluster();
      else kc.loadFromFile(source.path!);
    } catch (err) {
      throw new KubeconfigError(`cannot read kubeconfig ${reading}${from}: ${oneLine((err as Error).message)}`);
    }
    if (opts.context) {
      if (!kc.getContextObject(opts.context)) {
        throw new KubeconfigError(`no context "${opts.context}" in the kubeconfig (has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`, '--context');
      }
      kc.setCurrentContext(opts.context);
    }
    if (!kc.getCurrentContext()) throw new KubeconfigError(`kubeconfig ${source.path ?? '(in-cluster)'}${from} has no current-context (pass --context NAME)`);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeconfigError(`kubeconfig context "${kc.getCurrentContext()}" has no cluster`);
    const ns = kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
    return new Kube(kc, kc.getCurrentContext(), cluster.server.replace(/\/+$/, ''), ns);
  }

  /**
   * The URL and request options of a GET, as client-node sets them up: the agent (TLS, or plain
   * http only when the cluster skips TLS verify), the TLS material, bearer tokens, exec-plugin
   * credentials and basic auth. `proxied` when the cluster names a proxy-url (its agent tunnels).
   */
  async prepare(path: string, query: Record<string, string | number | boolean | undefined>): Promise<{ url: URL; opts: KubeRequestOptions; proxied: boolean }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const opts: KubeRequestOptions = { headers: { Accept: 'application/json, */*' } };
    await this.kc.applyToHTTPSOptions(opts as never);
    return { url, opts, proxied: Boolean(this.kc.getCurrentCluster()?.proxyUrl) };
  }

  /**
   * A streaming GET of an API path. Resolves with the response once headers arrive (status 200);
   * a non-200 answer rejects with the server's Status message. `signal` aborts the request.
   */
  async get(path: string, query: Record<string, string | number | boolean | undefined>, signal: AbortSignal): Promise<IncomingMessage> {
    const { url, opts } = await this.prepare(path, query);
    const { request } = url.protocol === 'http:' ? await import('node:http') : await import('node:https');
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { ...opts, method: 'GET', signal }, (res) => {
        if (res.statusCode === 200) return resolve(res);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 64 * 1024) body += d;
        });
        res.on('end', () => reject(apiError(res.statusCode ?? 0, res.statusMessage ?? '', body)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** A GET whose answer is small enough to parse (discovery, the pod list logs are chosen from). */
  async getJson<T>(path: string, query: Record<string, string | number | boolean | undefined>, signal: AbortSignal): Promise<T> {
    const res = await this.get(path, query, signal);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  }
}
