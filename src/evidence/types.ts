// The shapes shared by collectors, the scheduler, the store and the manifest.

import type { HashingFileWriter } from './writer.js';

export type FileStatus = 'ok' | 'failed' | 'timeout' | 'skipped';

/** One evidence file (or, with `file` null, a collector that produced none: skipped or failed early). */
export interface FileRecord {
  collector: string;
  /** Relative to the incident directory, e.g. evidence/EV-20261123T101500-1/k8s-pods.json. */
  file: string | null;
  /** The API call or the command (secrets masked) the bytes came from. */
  source: string;
  startedAt: string;
  finishedAt: string;
  bytes: number;
  sha256: string | null;
  status: FileStatus;
  reason?: string;
}

/** One evidence file being written by a collector. */
export interface EvidenceFile {
  /** Absolute path (for writers that are not ours, such as runCommand). */
  readonly path: string;
  /** The hashing stream; created on first use so external writers can own the file instead. */
  writer(): HashingFileWriter;
  /** The collector is done with this file; `status` defaults to ok. */
  done(status?: Exclude<FileStatus, 'skipped'>, reason?: string): Promise<void>;
  /** For a file runCommand wrote and hashed itself. */
  doneExternal(result: { bytes: number; sha256: string }, status?: Exclude<FileStatus, 'skipped'>, reason?: string): void;
}

export interface CollectorRun {
  /** Aborted at the collector's timeout or on Ctrl-C: stop and return. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /**
   * A new evidence file, `name` relative to the collection directory (e.g. k8s-logs/pod/c.log).
   * Resolves once the store has recorded it as opened; rejects, and no file is made, if it cannot.
   */
  file(name: string, source: string): Promise<EvidenceFile>;
}

export interface Collector {
  name: string;
  kind: 'kubernetes' | 'command';
  description: string;
  timeoutMs: number;
  /** Why this collector cannot run here (a missing binary, no cluster); undefined when it can. */
  skipReason?: () => Promise<string | undefined> | string | undefined;
  /** Writes its files; throws to fail (what it wrote so far is kept). */
  run(r: CollectorRun): Promise<void>;
}

/** Parameters every collector sees: the window and the cluster scope. */
export interface CollectParams {
  incidentId: string;
  /** Start of the window. */
  since: Date;
  /** The window as typed, e.g. 2h. */
  sinceText: string;
  namespace?: string;
  selector?: string;
}
