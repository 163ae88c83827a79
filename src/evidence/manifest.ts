// manifest.json: the facts of one collection beside its files, readable without ir or its database.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { FileRecord } from './types.js';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 'ir-evidence-manifest/1';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  collection_id: string;
  incident: string;
  status: 'complete' | 'partial';
  started_at: string;
  finished_at: string;
  collected_by: string;
  ir_version: string;
  kube_context: string | null;
  namespace: string | null;
  selector: string | null;
  since: string;
  window_start: string;
  /** Why the collection was cut short (a signal, a closed terminal), when it was. */
  interrupted?: string;
  /** Sources that could not be used at all, e.g. a kubeconfig that does not exist. */
  unavailable?: { source: string; reason: string }[];
  files: {
    collector: string;
    file: string | null;
    source: string;
    started_at: string;
    finished_at: string;
    bytes: number;
    sha256: string | null;
    status: string;
    reason?: string;
  }[];
}

export function manifestFiles(files: FileRecord[]): Manifest['files'] {
  return files.map((f) => ({
    collector: f.collector,
    file: f.file,
    source: f.source,
    started_at: f.startedAt,
    finished_at: f.finishedAt,
    bytes: f.bytes,
    sha256: f.sha256,
    status: f.status,
    ...(f.reason ? { reason: f.reason } : {}),
  }));
}

/** Writes the manifest (0600, never over an existing one) and returns its sha256. */
export function writeManifest(path: string, manifest: Manifest): string {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  return createHash('sha256').update(text).digest('hex');
}
