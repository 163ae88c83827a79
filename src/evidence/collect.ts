// One evidence collection from start to custody: the started event and row, the collectors run in
// parallel with their records stored as each finishes, the manifest, and the collected event.
// Every file is recorded as it is opened, before its first byte. A process killed half-way leaves
// the started event, the opened files, the finished collectors' rows, and no collected event:
// `ir evidence list` reports that collection as incomplete and its unfinished files as partial.
// An interruption (a signal, a closed terminal) or a full disk still ends in a recorded collection:
// a small reserve file beside the database is given back when the store's own disk fills, so the
// end of the collection can still be written there.

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Clock } from '../context.js';
import type { Store } from '../store/store.js';
import { EvidenceStore } from '../store/evidence.js';
import { MANIFEST_FORMAT, MANIFEST_NAME, manifestFiles, writeManifest, type Manifest } from './manifest.js';
import { runCollectors, type SchedulerEvents } from './scheduler.js';
import type { Collector, CollectParams, FileRecord } from './types.js';

export interface CollectInput extends CollectParams {
  incidentDir: string;
  collectors: Collector[];
  concurrency: number;
  kubeContext: string | null;
  actor: string;
  host: string;
  irVersion: string;
  clock: Clock;
  /** Aborted by a signal or a closed terminal; its reason (an Error) names which. */
  signal?: AbortSignal;
  graceMs?: number;
  /** Sources that could not be used at all (a broken kubeconfig): the collection is partial. */
  unavailable?: { source: string; reason: string }[];
}

export interface CollectResult {
  collectionId: string;
  dir: string;
  status: 'complete' | 'partial';
  files: FileRecord[];
  durationMs: number;
  /** Null when the manifest could not be written (a full disk); the store still has every record. */
  manifest: string | null;
  manifestSha256: string | null;
  manifestError?: string;
  /** Why the collection was cut short (e.g. "interrupted by SIGTERM"), if it was. */
  interrupted?: string;
}

/** Room kept beside the database for recording the end of a collection when the disk fills. */
const RESERVE_BYTES = 2 * 1024 * 1024;
const RESERVE_PREFIX = '.ir-reserve-';

const storeFull = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' ? code : undefined;
};

/**
 * Writes the reserve (random bytes, so a compressing filesystem cannot shrink it) and removes
 * reserves that a killed collection left behind. No reserve when the disk is already full.
 */
function takeReserve(store: Store, evidence: EvidenceStore, id: string): string | undefined {
  const dir = dirname(store.path);
  for (const name of readdirSync(dir).filter((n) => n.startsWith(RESERVE_PREFIX))) {
    const owner = evidence.get(name.slice(RESERVE_PREFIX.length));
    if (!owner || owner.status !== 'running' || !owner.pid || owner.pid === process.pid || !alive(owner.pid)) rmSync(join(dir, name), { force: true });
  }
  const path = join(dir, `${RESERVE_PREFIX}${id}`);
  try {
    writeFileSync(path, randomBytes(RESERVE_BYTES), { flag: 'wx', mode: 0o600 });
    return path;
  } catch {
    rmSync(path, { force: true });
    return undefined;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Creates a directory and its missing parents 0700, and tightens ones ir owns that exist. */
export function privateDir(path: string, tighten: string[] = []): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  for (const p of [...tighten, path]) chmodSync(p, 0o700);
}

export async function collect(store: Store, input: CollectInput, events: SchedulerEvents & { onStarted?(id: string, dir: string): void } = {}): Promise<CollectResult> {
  const evidence = new EvidenceStore(store);
  const startedAt = input.clock.now();
  const collectedBy = `${input.actor}@${input.host}`;
  const names = input.collectors.map((c) => c.name);
  const record = evidence.create(
    {
      incidentId: input.incidentId,
      startedAt: startedAt.toISOString(),
      finishedAt: null,
      status: 'running',
      collectors: names,
      since: input.since.toISOString(),
      namespace: input.namespace ?? null,
      selector: input.selector ?? null,
      kubeContext: input.kubeContext,
      collectedBy,
      irVersion: input.irVersion,
      pid: process.pid,
      host: input.host,
    },
    (id) =>
      store.append(
        input.incidentId,
        () => ({
          type: 'evidence.collection_started',
          data: {
            collection_id: id,
            collectors: names,
            since: input.sinceText,
            window_start: input.since.toISOString(),
            namespace: input.namespace ?? null,
            selector: input.selector ?? null,
            kube_context: input.kubeContext,
            collected_by: collectedBy,
            ir_version: input.irVersion,
          },
        }),
        startedAt,
        input.actor,
      ),
  );
  const evidenceRoot = join(input.incidentDir, 'evidence');
  const dir = join(evidenceRoot, record.id);
  privateDir(dir, [join(input.incidentDir, '..'), input.incidentDir, evidenceRoot]);
  events.onStarted?.(record.id, dir);

  // Collectors stop on the caller's signal, or when the store can no longer record what they do.
  const stop = new AbortController();
  const onOuter = () => stop.abort(input.signal!.reason);
  if (input.signal?.aborted) onOuter();
  else input.signal?.addEventListener('abort', onOuter, { once: true });
  let reserve = takeReserve(store, evidence, record.id);
  /** A store write; on a full disk, stop collecting, give back the reserve and try once more. */
  const room = <T>(write: () => T): T => {
    try {
      return write();
    } catch (err) {
      const code = storeFull(err);
      if (!code) throw err;
      if (!stop.signal.aborted) stop.abort(new Error(`interrupted: the disk holding the store is full (${code})`));
      if (!reserve) throw err;
      rmSync(reserve, { force: true });
      reserve = undefined;
      return write();
    }
  };
  try {
    return await collectInto(store, evidence, input, events, { record, dir, startedAt, collectedBy, stop: stop.signal, room });
  } finally {
    input.signal?.removeEventListener('abort', onOuter);
    if (reserve) rmSync(reserve, { force: true });
  }
}

interface Running {
  record: { id: string };
  dir: string;
  startedAt: Date;
  collectedBy: string;
  stop: AbortSignal;
  room: <T>(write: () => T) => T;
}

async function collectInto(store: Store, evidence: EvidenceStore, input: CollectInput, events: SchedulerEvents, run: Running): Promise<CollectResult> {
  const { record, dir, startedAt, collectedBy, room } = run;

  const files = await runCollectors(input.collectors, {
    dir,
    relativeTo: input.incidentDir,
    concurrency: input.concurrency,
    signal: run.stop,
    graceMs: input.graceMs,
    now: () => input.clock.now(),
    ...events,
    // Throws when it cannot be recorded: the file is then never created.
    onOpened: (name, f) => room(() => evidence.addOpened(record.id, { collector: name, ...f })),
    onFinished: (name, records) => {
      // Stored as each collector finishes: a kill -9 later keeps these.
      try {
        room(() => evidence.addFiles(record.id, records));
      } catch {
        // The store's disk is full even after the reserve: collecting has been stopped, and the
        // collected event (or, failing that, the one-line error) carries these records.
      }
      events.onFinished?.(name, records);
    },
  });

  const finishedAt = input.clock.now();
  const interrupted = run.stop.aborted ? (run.stop.reason instanceof Error ? run.stop.reason.message : 'interrupted') : undefined;
  const unavailable = input.unavailable ?? [];
  const allOk = files.every((f) => f.status === 'ok' || f.status === 'skipped');
  const manifestPath = join(dir, MANIFEST_NAME);
  const facts = (status: 'complete' | 'partial'): Manifest => ({
    format: MANIFEST_FORMAT,
    collection_id: record.id,
    incident: input.incidentId,
    status,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    collected_by: collectedBy,
    ir_version: input.irVersion,
    kube_context: input.kubeContext,
    namespace: input.namespace ?? null,
    selector: input.selector ?? null,
    since: input.sinceText,
    window_start: input.since.toISOString(),
    ...(interrupted ? { interrupted } : {}),
    ...(unavailable.length ? { unavailable } : {}),
    files: manifestFiles(files),
  });
  let status: 'complete' | 'partial' = allOk && !interrupted && !unavailable.length ? 'complete' : 'partial';
  let manifestSha256: string | null = null;
  let manifestError: string | undefined;
  try {
    manifestSha256 = writeManifest(manifestPath, facts(status));
  } catch (err) {
    // Most likely the disk is full. A half-written manifest would only mislead: the store and the
    // timeline hold every fact it would have held.
    manifestError = `manifest not written: ${(err as Error).message}`;
    status = 'partial';
    rmSync(manifestPath, { force: true });
  }
  const durationMs = finishedAt.getTime() - startedAt.getTime();
  const manifest = manifestSha256 ? relative(input.incidentDir, manifestPath) : null;
  // The collected event carries every file record, so a failed per-collector row above is covered.
  room(() => evidence.finish(record.id, status, finishedAt.toISOString(), () =>
    store.append(
      input.incidentId,
      () => ({
        type: 'evidence.collected',
        data: {
          collection_id: record.id,
          status,
          files: files.map((f) => ({ collector: f.collector, file: f.file, sha256: f.sha256, bytes: f.bytes, status: f.status, ...(f.reason ? { reason: f.reason } : {}) })),
          duration_ms: durationMs,
          ...(interrupted ? { interrupted } : {}),
          ...(unavailable.length ? { unavailable } : {}),
          manifest,
          manifest_sha256: manifestSha256,
          ...(manifestError ? { manifest_error: manifestError } : {}),
        },
      }),
      finishedAt,
      input.actor,
    ),
  ));
  return { collectionId: record.id, dir, status, files, durationMs, manifest, manifestSha256, ...(manifestError ? { manifestError } : {}), ...(interrupted ? { interrupted } : {}) };
}
