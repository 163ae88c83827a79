// Evidence collections and their files in SQLite, next to the events: what was collected, from where, by
// whom, with which hash. File rows are append-only (triggers), written as each collector finishes.

import type { FileRecord } from '../../evidence/types.js';
import type { CollectionRecord, CollectionStatus, OpenedFile } from '../types.js';
import type { SqliteDatabase } from './database.js';
import { collectionFromRow, fileFromRow, type CollectionRow, type FileRow } from '../rows.js';

export class SqliteEvidence {
  constructor(private readonly store: SqliteDatabase) {}

  /**
   * Allocates the next id for this second (EV-20261123T101500-1, -2, …) and inserts the row; `also`
   * runs in the same transaction (the started event), so a row never exists without its event.
   */
  create(rec: Omit<CollectionRecord, 'id'> & { id?: string }, also: (id: string) => void): CollectionRecord {
    return this.store.write(() => {
      const stamp = rec.startedAt.slice(0, 19).replace(/[-:]/g, '');
      const prefix = `EV-${stamp}-`;
      const { n } = this.store.db.prepare(`SELECT count(*) + 1 AS n FROM evidence_collections WHERE id LIKE ?`).get(`${prefix}%`) as { n: number };
      const id = rec.id ?? `${prefix}${n}`;
      this.store.db
        .prepare(
          `INSERT INTO evidence_collections (id, incident_id, started_at, finished_at, status, collectors, since, namespace, selector, kube_context, collected_by, ir_version, pid, host)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, rec.incidentId, rec.startedAt, rec.finishedAt, rec.status, JSON.stringify(rec.collectors), rec.since, rec.namespace, rec.selector, rec.kubeContext, rec.collectedBy, rec.irVersion, rec.pid, rec.host);
      also(id);
      const { id: _given, ...rest } = rec;
      return { ...rest, id };
    });
  }

  addFiles(collectionId: string, files: FileRecord[]): void {
    const insert = this.store.db.prepare(
      `INSERT INTO evidence_files (collection_id, collector, file, source, started_at, finished_at, bytes, sha256, status, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.store.write(() => {
      for (const f of files) insert.run(collectionId, f.collector, f.file, f.source, f.startedAt, f.finishedAt, f.bytes, f.sha256, f.status, f.reason ?? null);
    });
  }

  /** A file about to be created: recorded before its first byte, so a crash cannot orphan it. */
  addOpened(collectionId: string, f: OpenedFile): void {
    this.store.write(() => {
      this.store.db
        .prepare(`INSERT INTO evidence_files_opened (collection_id, collector, file, source, opened_at) VALUES (?, ?, ?, ?, ?)`)
        .run(collectionId, f.collector, f.file, f.source, f.openedAt);
    });
  }

  /** Files opened in the collection, in the order they were opened. */
  opened(collectionId: string): OpenedFile[] {
    return (
      this.store.db.prepare(`SELECT collector, file, source, opened_at FROM evidence_files_opened WHERE collection_id = ? ORDER BY id`).all(collectionId) as {
        collector: string;
        file: string;
        source: string;
        opened_at: string;
      }[]
    ).map((r) => ({ collector: r.collector, file: r.file, source: r.source, openedAt: r.opened_at }));
  }

  /** Marks the collection finished; `also` (the collected event) commits with it. */
  finish(collectionId: string, status: Exclude<CollectionStatus, 'running'>, finishedAt: string, also: () => void): void {
    this.store.write(() => {
      this.store.db.prepare(`UPDATE evidence_collections SET status = ?, finished_at = ?, pid = NULL WHERE id = ?`).run(status, finishedAt, collectionId);
      also();
    });
  }

  get(id: string): CollectionRecord | undefined {
    const r = this.store.db.prepare(`SELECT * FROM evidence_collections WHERE id = ?`).get(id) as CollectionRow | undefined;
    return r && collectionFromRow(r);
  }

  forIncident(incidentId: string): CollectionRecord[] {
    return (this.store.db.prepare(`SELECT * FROM evidence_collections WHERE incident_id = ? ORDER BY started_at, rowid`).all(incidentId) as CollectionRow[]).map(collectionFromRow);
  }

  files(collectionId: string): FileRecord[] {
    return (this.store.db.prepare(`SELECT * FROM evidence_files WHERE collection_id = ? ORDER BY id`).all(collectionId) as FileRow[]).map(fileFromRow);
  }
}
