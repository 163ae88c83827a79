// `ir evidence collect`: run the Kubernetes and command collectors in parallel, each file streamed
// to disk and hashed as written, recorded in the store and the timeline as the chain of custody.
// Exit 0 when every collector succeeded or was skipped, 1 when any failed or timed out or a source
// (a broken kubeconfig) could not be used; 128+N when signal N (or a closed output, SIGPIPE) ended
// it, after the collection has been recorded as partial.

import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { CancelledError, EXIT, OperationError, UsageError } from '../../errors.js';
import { displayPath, SHIPPED_RUNBOOKS, teamOrShipped } from '../../config/paths.js';
import { DURATION_HINT, formatDuration, parseDuration } from '../../util/duration.js';
import { columns } from '../../io/format.js';
import type { Collector } from '../../evidence/types.js';
import { manifestFiles } from '../../evidence/manifest.js';
import type { Kube } from '../../k8s/kube.js';
import type { Interruption, InterruptWatch } from '../../evidence/interrupt.js';

export interface CollectOptions {
  only?: string;
  skip?: string;
  since: string;
  namespace?: string;
  selector?: string;
  context?: string;
  kubeconfig?: string;
  concurrency: string;
  timeout: string;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('collect')
    .description('collect evidence from the cluster and the hosts, in parallel, checksummed as written')
    .option('--only <names>', 'only these collectors (comma-separated; k8s-* style wildcards)')
    .option('--skip <names>', 'leave out these collectors (comma-separated; wildcards)')
    .option('--since <duration>', 'the window: logs, commits and container output since then', '2h')
    .option('-n, --namespace <ns>', "the namespace (default: the kube context's, else default)")
    .option('-l, --selector <labels>', 'label selector for pods, logs, deployments, replica sets, services (e.g. app=api)')
    .option('--context <name>', 'kubeconfig context (default: current-context)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)')
    .option('--concurrency <n>', 'collectors running at once', '4')
    .option('--timeout <duration>', 'per-collector timeout, unless evidence.yaml sets one', '300s')
    .addHelpText(
      'after',
      '\nExamples:\n  ir evidence collect --namespace shop --selector app=api --since 2h\n  ir evidence collect --only k8s-logs,k8s-events\n  ir evidence collect --skip "docker-*" --json\n\nCommand collectors come from evidence.yaml in the runbook directory (else the shipped one).\nFiles: <home>/incidents/<ID>/evidence/<EV-id>/<collector>.<ext>, k8s-logs/<pod>/<container>[.previous].log',
    )
    .action(bind((cmd: Command) => run(cmd.opts<CollectOptions>(), ctx)));
};

const names = (list?: string) =>
  (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** --only/--skip: exact names or `*` wildcards; a pattern that matches nothing is a usage error. */
export function selectCollectors(all: Collector[], only?: string, skip?: string): Collector[] {
  const known = all.map((c) => c.name);
  const match = (pattern: string) => {
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const hits = known.filter((n) => re.test(n));
    if (!hits.length) throw new UsageError(`no collector named "${pattern}"`, { details: [`collectors: ${known.join(', ')}`] });
    return hits;
  };
  const onlySet = only !== undefined ? new Set(names(only).flatMap(match)) : undefined;
  const skipSet = new Set(names(skip).flatMap(match));
  return all.filter((c) => (!onlySet || onlySet.has(c.name)) && !skipSet.has(c.name));
}

/** A collection ended by a signal other than Ctrl-C: the same record, the signal's exit code. */
class InterruptedError extends CancelledError {
  override readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export async function run(opts: CollectOptions, ctx: Context): Promise<number> {
  const sinceMs = parseDuration(opts.since);
  if (!sinceMs) throw new UsageError(`--since must be ${DURATION_HINT}, not "${opts.since}"`);
  const timeoutMs = parseDuration(opts.timeout);
  if (!timeoutMs) throw new UsageError(`--timeout must be ${DURATION_HINT}, not "${opts.timeout}"`);
  const concurrency = Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency must be a whole number from 1 to 64, not "${opts.concurrency}"`);

  const incident = await ctx.currentIncident();
  const store = await ctx.store();
  const now = ctx.now();
  const since = new Date(now.getTime() - sinceMs);

  // A signal or a closed output from here on stops the collectors and still records the collection.
  const { watchInterruptions } = await import('../../evidence/interrupt.js');
  const cancel = new AbortController();
  const watch = watchInterruptions(ctx.io, (i: Interruption) => cancel.abort(new Error(i.reason)));
  try {
    return await collectWith(opts, ctx, { incident, store, since, sinceMs, timeoutMs, concurrency, cancel, watch });
  } finally {
    watch.dispose();
  }
}

interface Prepared {
  incident: Awaited<ReturnType<Context['currentIncident']>>;
  store: Awaited<ReturnType<Context['store']>>;
  since: Date;
  sinceMs: number;
  timeoutMs: number;
  concurrency: number;
  cancel: AbortController;
  watch: InterruptWatch;
}

async function collectWith(opts: CollectOptions, ctx: Context, p: Prepared): Promise<number> {
  const { incident, store, since, sinceMs, timeoutMs, concurrency, cancel, watch } = p;
  const { kubernetesCollectors } = await import('../../evidence/k8s.js');
  const { commandCollectors, loadEvidenceConfig } = await import('../../evidence/commands.js');
  const { kubeconfigSource } = await import('../../k8s/kube.js');
  const say = (line: string) => {
    if (!watch.closed.has('stderr')) ctx.err(line);
  };

  // The cluster, loaded once for every Kubernetes collector (client-node is imported only here).
  let kube: Kube | undefined;
  const kubeOpts = { kubeconfig: opts.kubeconfig, context: opts.context, env: ctx.env };
  const haveCluster = kubeconfigSource(kubeOpts) !== undefined;
  const params = { incidentId: incident.id, since, sinceText: opts.since, namespace: opts.namespace, selector: opts.selector };
  const target: { unavailable?: string; kube(): Promise<Kube>; namespace(): Promise<string> } = {
    unavailable: haveCluster ? undefined : 'no kubeconfig (pass --kubeconfig FILE or set KUBECONFIG)',
    kube: async () => kube!,
    namespace: async () => opts.namespace ?? kube!.namespace,
  };
  const k8s = kubernetesCollectors(target, params, timeoutMs);
  const configFile = teamOrShipped(ctx.runbookDir().dir, 'evidence.yaml', SHIPPED_RUNBOOKS);
  const specs = loadEvidenceConfig(configFile, displayPath(configFile, ctx.io.cwd));
  const vars: Record<string, string> = {
    IR_INCIDENT: incident.id,
    IR_SINCE: since.toISOString(),
    IR_SINCE_SECONDS: String(Math.round(sinceMs / 1000)),
    ...(opts.namespace ? { IR_NAMESPACE: opts.namespace } : {}),
    ...(opts.selector ? { IR_SELECTOR: opts.selector } : {}),
  };
  const commands = commandCollectors(specs, { env: ctx.env, cwd: ctx.io.cwd, vars, defaultTimeoutMs: timeoutMs });
  const selected = selectCollectors([...k8s, ...commands], opts.only, opts.skip);
  if (!selected.length) throw new UsageError('--only/--skip left no collectors to run');

  // A kubeconfig that cannot be used is one unavailable source, not a reason to lose the host's
  // evidence: its collectors are skipped with the reason and the collection is partial. Only a
  // name typed on the command line that does not exist is a usage error (a typo to fix now).
  const unavailable: { source: string; reason: string }[] = [];
  if (haveCluster && selected.some((c) => c.kind === 'kubernetes')) {
    const { Kube, KubeconfigError } = await import('../../k8s/kube.js');
    try {
      kube = await Kube.load(kubeOpts);
    } catch (err) {
      if (!(err instanceof KubeconfigError) || err.flag) throw err;
      target.unavailable = err.message;
      unavailable.push({ source: 'kubernetes', reason: err.message });
      say(`ir: warning: ${err.message}; skipping the Kubernetes collectors, collecting the rest`);
    }
    if (kube) {
      if (!opts.namespace) vars.IR_NAMESPACE = kube.namespace;
      const { collectAll } = await import('../../evidence/gc.js');
      collectAll();
    }
  } else if ((opts.kubeconfig || opts.context) && !haveCluster) {
    throw new UsageError('--context given but no kubeconfig found (pass --kubeconfig FILE or set KUBECONFIG)');
  }

  const { collect } = await import('../../evidence/collect.js');
  const { Progress } = await import('../../evidence/progress.js');
  const { version } = await import('../../version.js');
  const progress = new Progress(ctx.io.stderr, ctx.io.stderr.isTTY === true && !ctx.json && !watch.closed.has('stderr'), ctx.json);
  let result;
  try {
    result = await collect(
      store,
      {
        ...params,
        namespace: kube ? (opts.namespace ?? kube.namespace) : opts.namespace,
        incidentDir: ctx.incidentDir(incident.id),
        collectors: selected,
        concurrency,
        kubeContext: kube?.contextName ?? null,
        actor: ctx.actor(),
        host: hostname(),
        irVersion: version(),
        clock: ctx.clock,
        signal: cancel.signal,
        unavailable,
      },
      {
        onStarted: (id, dir) => {
          if (!ctx.json) {
            say(`Collecting ${id} for ${incident.id} into ${displayPath(dir, ctx.io.cwd)} (${selected.length} collectors, ${concurrency} at a time)`);
            // The cluster it will read, before it reads it: the wrong context at 3 a.m. is evidence of the wrong incident.
            if (kube) say(`  kube context ${kube.contextName} / namespace ${opts.namespace ?? kube.namespace}`);
          }
        },
        onState: (n, s, b, r) => {
          if (!watch.closed.has('stderr')) progress.onState(n, s, b, r);
        },
        onBytes: (n, b) => {
          if (!watch.closed.has('stderr')) progress.onBytes(n, b);
        },
      },
    );
  } catch (err) {
    throw recordingFailed(err, store.location);
  } finally {
    if (!watch.closed.has('stderr')) progress.end();
  }
  const interruption = watch.interruption;
  const manifestShown = result.manifest ? displayPath(`${ctx.incidentDir(incident.id)}/${result.manifest}`, ctx.io.cwd) : `none (${result.manifestError})`;

  if (watch.closed.has('stdout')) {
    // Nobody is reading the results any more; the record is complete without them.
  } else if (ctx.json) {
    ctx.printJson({
      collection_id: result.collectionId,
      incident: incident.id,
      status: result.status,
      dir: result.dir,
      manifest: result.manifest,
      manifest_sha256: result.manifestSha256,
      kube_context: kube?.contextName ?? null,
      duration_ms: result.durationMs,
      ...(result.interrupted ? { interrupted: result.interrupted } : {}),
      ...(unavailable.length ? { unavailable } : {}),
      ...(result.manifestError ? { manifest_error: result.manifestError } : {}),
      files: manifestFiles(result.files),
    });
  } else {
    const { formatBytes } = await import('../../evidence/progress.js');
    ctx.out(
      columns(
        ['COLLECTOR', 'STATUS', 'BYTES', 'SHA256', 'FILE'],
        result.files.map((f) => [f.collector, f.status, f.file ? formatBytes(f.bytes) : '-', f.sha256 ? f.sha256.slice(0, 12) : '-', f.file ? `${f.file}${f.reason ? `  (${f.reason})` : ''}` : (f.reason ?? '-')]),
      ),
    );
    const kept = result.files.filter((f) => f.file);
    const bad = result.files.filter((f) => f.status === 'failed' || f.status === 'timeout');
    ctx.out(
      `\n${result.collectionId} ${result.status}: ${kept.length} files, ${formatBytes(kept.reduce((n, f) => n + f.bytes, 0))} in ${formatDuration(result.durationMs)}` +
        `${bad.length ? `; ${bad.length} failed or timed out` : ''}. Manifest: ${manifestShown}`,
    );
  }
  await flushed(ctx);
  if (interruption) {
    const message = `collection ${interruption.reason}; ${result.collectionId} recorded as partial`;
    if (interruption.closed) {
      say(`ir: ${message}`);
      return interruption.exitCode;
    }
    if (ctx.json) return interruption.exitCode; // the one JSON document is already out
    if (interruption.exitCode === EXIT.CANCELLED) throw new CancelledError(message);
    throw new InterruptedError(message, interruption.exitCode);
  }
  // A full disk is said once, in one line, whatever the number of files it cut short.
  const full = result.files.find((f) => /^disk full/.test(f.reason ?? ''))?.reason?.split(';')[0] ?? (/disk holding the store is full/.test(result.interrupted ?? '') ? result.interrupted!.replace(/^interrupted: /, '') : result.manifestError);
  if (full) {
    const failed = new Set(result.files.filter((f) => f.status === 'failed').map((f) => f.collector)).size;
    say(`ir: ${full}; ${failed} of ${selected.length} collectors failed or did not start; what was written is kept and hashed, ${result.collectionId} recorded as partial`);
  }
  return result.status === 'complete' ? 0 : 1;
}

/** Waits until what was written to the process's stdout has been handed over (or failed). */
async function flushed(ctx: Context): Promise<void> {
  if ((ctx.io.stdout as unknown) !== process.stdout || process.stdout.destroyed) return;
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  // A write error is emitted after its callback: let it reach the interruption watch first.
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The store could not record (its disk is full too): say so in one line, exit 1. */
function recordingFailed(err: unknown, dbPath: string): unknown {
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new OperationError(`disk full: could not record the collection in ${dbPath} (${code}); the files written so far are kept, and \`ir evidence list\` shows the collection incomplete`);
  }
  return err;
}
