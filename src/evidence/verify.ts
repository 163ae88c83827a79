// Rehashes every evidence file of an incident against the custody record: the hashes in the
// hash-chained `evidence.collected` events (or, for a collection that never finished, the rows
// stored as its collectors finished). Anything changed, gone or added is named. Files a collection
// opened but never finished (it was killed) are partial: known, reported with the size and hash
// they have now, and not a custody failure, since no hash was ever promised for them.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pidAlive } from '../exec/process.js';
import type { TimelineEvent } from '../core/incident.js';
import type { CollectionRecord, OpenedFile, Store } from '../store/types.js';
import { MANIFEST_NAME } from './manifest.js';
import type { FileRecord } from './types.js';

export type EvidenceProblemKind = 'modified' | 'missing' | 'unexpected';

export interface EvidenceProblem {
  file: string;
  problem: EvidenceProblemKind;
  expected?: string;
  actual?: string;
}

/** A file of an interrupted collection that was never sealed with a hash: what is on disk now. */
export interface PartialFile {
  file: string;
  collection: string;
  collector: string;
  /** Null when the file was opened but never created. */
  bytes: number | null;
  sha256: string | null;
}

/** A collection made on another machine (a team store): its files are there, not here. */
export interface ElsewhereCollection {
  collection: string;
  host: string;
  collectedBy: string;
  files: number;
}

export interface EvidenceVerifyResult {
  ok: boolean;
  checked: number;
  problems: EvidenceProblem[];
  partial: PartialFile[];
  elsewhere: ElsewhereCollection[];
}

export function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on('data', (b) => {
        hash.update(b as Buffer);
        bytes += (b as Buffer).length;
      })
      .on('end', () => resolve({ bytes, sha256: hash.digest('hex') }))
      .on('error', reject);
  });
}

/** Every regular file under dir, as paths relative to `base` with forward slashes. */
export function walk(dir: string, base: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p).split(sep).join('/'));
  }
  return out;
}

export interface CollectionFacts {
  collection: CollectionRecord;
  /** The collected event, when the collection finished. */
  collected?: TimelineEvent;
  /** What custody vouches for: the event's files if it finished, else the stored rows. */
  files: FileRecord[] | { file: string | null; sha256: string | null; bytes: number; collector: string; status: string; reason?: string }[];
  state: 'complete' | 'partial' | 'running' | 'incomplete';
  /** Files opened and never given a final record (the collection was killed, or still runs). */
  partial: OpenedFile[];
}

const alive = (pid: number | null): boolean => !!pid && pidAlive(pid);

/** Each collection of the incident with its state derived from the store and the timeline. */
export async function collections(store: Store, incidentId: string, host: string): Promise<CollectionFacts[]> {
  const ev = store.evidence;
  const collected = new Map<string, TimelineEvent>();
  for (const e of await store.events(incidentId)) if (e.type === 'evidence.collected') collected.set(String(e.data.collection_id), e);
  const out: CollectionFacts[] = [];
  for (const c of await ev.forIncident(incidentId)) {
    const done = collected.get(c.id);
    const opened = await ev.opened(c.id);
    const unsealed = (files: CollectionFacts['files']) => {
      const sealed = new Set(files.map((f) => f.file).filter(Boolean));
      return opened.filter((o) => !sealed.has(o.file));
    };
    if (done) {
      const files = (done.data.files as CollectionFacts['files']) ?? [];
      out.push({ collection: c, collected: done, files, state: done.data.status === 'complete' ? 'complete' : 'partial', partial: unsealed(files) });
      continue;
    }
    // Started and never finished: still running in a live process here, or killed.
    const running = c.status === 'running' && c.host === host && alive(c.pid);
    const files = await ev.files(c.id);
    // Killed between writing its manifest and recording the end: the manifest is partial too.
    const manifest = { collector: 'manifest', file: `evidence/${c.id}/${MANIFEST_NAME}`, source: 'ir', openedAt: c.startedAt };
    out.push({ collection: c, files, state: running ? 'running' : 'incomplete', partial: [...unsealed(files), manifest] });
  }
  return out;
}

export async function verifyEvidence(store: Store, incidentId: string, incidentDir: string, host: string): Promise<EvidenceVerifyResult> {
  const expected = new Map<string, string>();
  const opened = new Map<string, { collection: string; collector: string }>();
  const all = await collections(store, incidentId, host);
  // Files stay on the machine that collected them. A collection from another host with no directory
  // here is named with its host, not called missing; on its own host (or with its directory here) it
  // is checked as always, so deleting a collection's files is never mistaken for "elsewhere".
  const elsewhere: ElsewhereCollection[] = [];
  const facts = all.filter((c) => {
    const away = !!c.collection.host && c.collection.host !== host && !existsSync(join(incidentDir, 'evidence', c.collection.id));
    if (away) elsewhere.push({ collection: c.collection.id, host: c.collection.host as string, collectedBy: c.collection.collectedBy, files: c.files.filter((f) => f.file).length });
    return !away;
  });
  for (const c of facts) {
    for (const f of c.files) if (f.file && f.sha256) expected.set(f.file, f.sha256);
    const m = c.collected?.data;
    if (m && typeof m.manifest === 'string' && typeof m.manifest_sha256 === 'string') expected.set(m.manifest, m.manifest_sha256);
    for (const o of c.partial) opened.set(o.file, { collection: c.collection.id, collector: o.collector });
  }
  const problems: EvidenceProblem[] = [];
  const partial: PartialFile[] = [];
  const onDisk = new Set(walk(join(incidentDir, 'evidence'), incidentDir));
  for (const [file, o] of [...opened].sort(([a], [b]) => a.localeCompare(b))) {
    if (expected.has(file)) continue;
    if (!onDisk.has(file)) {
      // An opened file that never reached the disk is only worth naming for a collector's file.
      if (o.collector !== 'manifest') partial.push({ file, ...o, bytes: null, sha256: null });
      continue;
    }
    const now = await hashFile(join(incidentDir, file));
    partial.push({ file, ...o, bytes: now.bytes, sha256: now.sha256 });
  }
  let checked = 0;
  for (const [file, sha256] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
    if (!onDisk.has(file)) {
      problems.push({ file, problem: 'missing', expected: sha256 });
      continue;
    }
    checked++;
    const actual = (await hashFile(join(incidentDir, file))).sha256;
    if (actual !== sha256) problems.push({ file, problem: 'modified', expected: sha256, actual });
  }
  for (const file of [...onDisk].sort()) if (!expected.has(file) && !opened.has(file)) problems.push({ file, problem: 'unexpected' });
  problems.sort((a, b) => a.file.localeCompare(b.file));
  return { ok: problems.length === 0, checked, problems, partial, elsewhere };
}
