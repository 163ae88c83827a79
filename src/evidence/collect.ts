// One evidence collection from start to custody: the started event and row, the collectors run in
// parallel with their records stored as each finishes, the manifest, and the collected event.
// Every file is recorded as it is opened, before its first byte. A process killed half-way leaves
// the started event, the opened files, the finished collectors' rows, and no collected event:
// `ir evidence list` reports that collection as incomplete and its unfinished files as partial.
// An interruption (a signal, a closed terminal) or a full disk still ends in a recorded collection:
// a small reserve file beside the database is given back when the store's own disk fills, so the
// end of the collection can still be written there.

import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Clock } from '../context.js';
import type { Store } from '../store/types.js';
import { diskFullCode, takeReserve } from '../store/reserve.js';
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

/** Creates a directory and its missing parents 0700, and tightens ones ir owns that exist. */
export function privateDir(path: string, tighten: string[] = []): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  for (const p of [...tighten, path]) chmodSync(p, 0o700);
}

export async function collect(store: Store, input: CollectInput, events: SchedulerEvents & { onStarted?(id: string, dir: string): void } = {}): Promise<CollectResult> {
  const evidence = store.evidence;
  const startedAt = input.clock.now();
  const collectedBy = `${input.actor}@${input.host}`;
  const names = input.collectors.map((c) => c.name);
  const record = await evidence.create(
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
    (id) => ({
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
    input.actor,
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
  // A store that is not on this machine's disk needs no room kept on it.
  const reserve = store.localDir ? takeReserve(store.localDir, RESERVE_BYTES) : { release: () => false };
  /** A store write; on a full disk, stop collecting, give back the reserve and try once more. */
  const room = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (err) {
      const code = diskFullCode(err);
      if (!code) throw err;
      if (!stop.signal.aborted) stop.abort(new Error(`interrupted: the disk holding the store is full (${code})`));
      if (!reserve.release()) throw err;
      return await write();
    }
  };
  try {
    return await collectInto(evidence, input, events, { record, dir, startedAt, collectedBy, stop: stop.signal, room });
  } finally {
    input.signal?.removeEventListener('abort', onOuter);
    reserve.release();
  }
}

interface Running {
  record: { id: string };
  dir: string;
  startedAt: Date;
  collectedBy: string;
  stop: AbortSignal;
  room: <T>(write: () => Promise<T>) => Promise<T>;
}

async function collectInto(evidence: Store['evidence'], input: CollectInput, events: SchedulerEvents, run: Running): Promise<CollectResult> {
  const { record, dir, startedAt, collectedBy, room } = run;

  const stored: Promise<void>[] = [];
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
      stored.push(
        room(() => evidence.addFiles(record.id, records)).catch(() => {
          // The store's disk is full even after the reserve: collecting has been stopped, and the
          // collected event (or, failing that, the one-line error) carries these records.
        }),
      );
      events.onFinished?.(name, records);
    },
  });

  await Promise.all(stored);
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
  const collected = {
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
  };
  await room(() => evidence.finish(record.id, status, finishedAt.toISOString(), collected, input.actor));
  return { collectionId: record.id, dir, status, files, durationMs, manifest, manifestSha256, ...(manifestError ? { manifestError } : {}), ...(interrupted ? { interrupted } : {}) };
}
