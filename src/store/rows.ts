// The rows every backend stores for runbook runs and evidence, and how each becomes a record. One
// copy for SQLite and PostgreSQL; a driver that returns 64-bit integers as strings is allowed for.

import type { FileRecord, FileStatus } from '../evidence/types.js';
import type { CollectionRecord, CollectionStatus, RunRecord, RunStatus } from './types.js';

export interface RunRow {
  id: string;
  incident_id: string;
  runbook_id: string;
  runbook_path: string;
  runbook_sha256: string;
  started_at: string;
  updated_at: string;
  status: RunStatus;
  next_index: number;
  current_index: number | null;
  vars: string;
  failures: number;
  pid: number | null;
  host: string | null;
  step_pid: number | null;
  step_start_ticks: number | string | null;
  step_boot_id: string | null;
  step_started_at: string | null;
  step_host: string | null;
  step_command: string | null;
  step_output: string | null;
}

export const runFromRow = (r: RunRow): RunRecord => ({
  id: r.id,
  incidentId: r.incident_id,
  runbookId: r.runbook_id,
  runbookPath: r.runbook_path,
  runbookSha256: r.runbook_sha256,
  startedAt: r.started_at,
  updatedAt: r.updated_at,
  status: r.status,
  nextIndex: r.next_index,
  currentIndex: r.current_index,
  vars: JSON.parse(r.vars) as Record<string, string>,
  failures: r.failures,
  pid: r.pid,
  host: r.host,
  stepProcess:
    r.step_pid === null
      ? null
      : {
          pid: r.step_pid,
          startTicks: r.step_start_ticks === null ? -1 : Number(r.step_start_ticks),
          bootId: r.step_boot_id ?? '',
          startedAt: r.step_started_at ?? '',
          host: r.step_host ?? '',
          command: r.step_command ?? '',
          outputFile: r.step_output ?? '',
        },
});

export interface CollectionRow {
  id: string;
  incident_id: string;
  started_at: string;
  finished_at: string | null;
  status: CollectionStatus;
  collectors: string;
  since: string | null;
  namespace: string | null;
  selector: string | null;
  kube_context: string | null;
  collected_by: string;
  ir_version: string;
  pid: number | null;
  host: string | null;
}

export const collectionFromRow = (r: CollectionRow): CollectionRecord => ({
  id: r.id,
  incidentId: r.incident_id,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  status: r.status,
  collectors: JSON.parse(r.collectors) as string[],
  since: r.since,
  namespace: r.namespace,
  selector: r.selector,
  kubeContext: r.kube_context,
  collectedBy: r.collected_by,
  irVersion: r.ir_version,
  pid: r.pid,
  host: r.host,
});

export interface FileRow {
  collector: string;
  file: string | null;
  source: string;
  started_at: string;
  finished_at: string;
  bytes: number | string;
  sha256: string | null;
  status: FileStatus;
  reason: string | null;
}

export const fileFromRow = (r: FileRow): FileRecord => ({
  collector: r.collector,
  file: r.file,
  source: r.source,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  bytes: Number(r.bytes),
  sha256: r.sha256,
  status: r.status,
  ...(r.reason ? { reason: r.reason } : {}),
});
