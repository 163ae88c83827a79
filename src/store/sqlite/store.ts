// The SQLite backend behind the Store interface. Each method does its work synchronously when called
// (better-sqlite3 has no async I/O), so a decide-and-insert never spans an await and stays in one
// IMMEDIATE transaction; the promise only carries the result or the error.

import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Incident, NewEvent, TimelineEvent } from '../../core/incident.js';
import type { FileRecord } from '../../evidence/types.js';
import type {
  ChainHead,
  CollectionRecord,
  CollectionStatus,
  Decide,
  DeclareInput,
  EvidenceStore,
  EventOutline,
  LocalTimeline,
  IterateOptions,
  OpenedFile,
  RunChanges,
  RunRecord,
  RunStore,
  Store,
  StoreInfo,
  StoreOptions,
  VerifyResult,
  WatchOptions,
  WriteOptions,
} from '../types.js';
import { median } from '../../util/median.js';
import { MIGRATIONS } from '../migrations.js';
import { pause, Wakeups } from '../wake.js';
import { SqliteDatabase } from './database.js';

// For the team store's local outbox: the driver comes with this module, in the same chunk.
export { openSqlite } from './driver.js';
import { SqliteEvidence } from './evidence.js';
import { SqliteRuns } from './runs.js';
import { bounds } from './spans.js';
import { pageHelperShipped, threadPages } from './page-thread.js';

/**
 * From this many seqs (first to last) an incident's pages are read on a helper thread; below, starting
 * one (tens of milliseconds) costs more than it saves. IR_PAGE_THREAD_MIN moves it (for tests: 0 sends
 * every read there; a huge value none).
 */
const PAGE_THREAD_MIN = 20_000;

function pageThreadMin(): number {
  const raw = process.env.IR_PAGE_THREAD_MIN;
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : PAGE_THREAD_MIN;
}

/** Events per page when a timeline is read one event at a time. */
const PAGE = 500;
/**
 * How often a live view looks for new events. SQLite has no notifications across processes; one
 * max(seq) read on an open connection is microseconds, so polling costs nothing worth a daemon.
 */
const POLL_MS = 500;

export class SqliteStore implements Store {
  readonly runs: RunStore;
  readonly evidence: EvidenceStore;

  private constructor(readonly db: SqliteDatabase) {
    this.runs = new Runs(new SqliteRuns(db));
    this.evidence = new Evidence(new SqliteEvidence(db), db);
  }

  static open(path: string, opts: { synchronous?: 'FULL' | 'NORMAL' } & StoreOptions = {}): SqliteStore {
    return new SqliteStore(SqliteDatabase.open(path, opts));
  }

  get location(): string {
    return this.db.path;
  }

  get localDir(): string {
    return dirname(this.db.path);
  }

  async declare(input: DeclareInput, at: Date, actor: string, opts?: WriteOptions): Promise<{ incident: Incident; event: TimelineEvent }> {
    return this.db.declare(input, at, actor, opts);
  }

  async append(incidentId: string, decide: Decide, at: Date, actor: string, opts?: WriteOptions): Promise<{ incident: Incident; events: TimelineEvent[] }> {
    return this.db.append(incidentId, decide, at, actor, opts);
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    return this.db.getIncident(id);
  }

  async listIncidents(opts: { all?: boolean } = {}): Promise<Incident[]> {
    return this.db.listIncidents(opts);
  }

  async events(incidentId: string): Promise<TimelineEvent[]> {
    return this.db.events(incidentId);
  }

  async *iterateEvents(incidentId: string, opts: IterateOptions = {}): AsyncIterable<TimelineEvent> {
    for await (const page of this.eventPages(incidentId, opts)) for (const e of page) yield e;
  }

  eventPages(incidentId: string, opts: IterateOptions = {}): AsyncIterable<TimelineEvent[]> {
    // A long incident in a file: read on a helper thread while the reader works (page-thread.ts).
    const ends = pageHelperShipped() && existsSync(this.db.path) ? bounds(this.db.db, incidentId) : undefined;
    if (ends && ends.last - ends.first + 1 >= pageThreadMin()) {
      const batch = Math.max(1, opts.batch ?? PAGE);
      const job = { path: this.db.path, incidentId, batch, prev: !opts.without?.includes('prevHash'), own: !opts.without?.includes('hash') };
      return threadPages(job, (after) => this.db.streamPage(incidentId, after, batch, opts.without));
    }
    return this.pagesHere(incidentId, opts);
  }

  /** The pages of the incident's events, read on this thread. */
  private async *pagesHere(incidentId: string, opts: IterateOptions): AsyncIterable<TimelineEvent[]> {
    // Paged by seq rather than one open statement: the consumer may write to the store between
    // events, which better-sqlite3 refuses while a statement is still being iterated.
    const batch = Math.max(1, opts.batch ?? PAGE);
    let after = 0;
    for (;;) {
      const page = this.db.streamPage(incidentId, after, batch, opts.without);
      if (page.length) yield page;
      if (page.length < batch) return;
      after = page[page.length - 1].seq;
    }
  }

  async eventOutline(incidentId: string): Promise<EventOutline | undefined> {
    return this.db.eventOutline(incidentId);
  }

  async localTimeline(incidentId: string): Promise<LocalTimeline | undefined> {
    const ends = bounds(this.db.db, incidentId);
    return ends && { path: this.db.path, ...ends };
  }

  async delivery(key: string): Promise<{ incidentId: string; seq: number } | undefined> {
    return this.db.delivery(key);
  }

  async eventsSince(afterSeq: number, incidentId?: string, limit = PAGE): Promise<TimelineEvent[]> {
    return incidentId === undefined ? this.db.allEventsAfter(afterSeq, limit) : this.db.eventsAfter(incidentId, afterSeq, limit);
  }

  async latestSeq(): Promise<number> {
    return this.db.latestSeq();
  }

  watch(signal: AbortSignal, _opts?: WatchOptions): AsyncIterable<void> {
    const wakes = new Wakeups(signal);
    void (async () => {
      // Undefined until the first look, so the first poll wakes the reader: the subscription is "in place".
      let seen: number | undefined;
      while (!signal.aborted) {
        let now: number;
        try {
          now = this.db.latestSeq();
        } catch {
          // The store was closed under the view: there is nothing more to wait for.
          wakes.end();
          return;
        }
        if (now !== seen) {
          seen = now;
          wakes.wake();
        }
        await pause(POLL_MS, signal);
      }
    })();
    return wakes;
  }

  async head(incidentId: string): Promise<ChainHead | undefined> {
    return this.db.head(incidentId);
  }

  async verify(incidentId?: string, anchors: { seq: number; hash: string }[] = []): Promise<VerifyResult> {
    return this.db.verify(incidentId, anchors);
  }

  async describe(): Promise<StoreInfo> {
    const db = this.db.db;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      db.prepare('SELECT 1').get();
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      backend: 'sqlite',
      location: this.location,
      serverVersion: `SQLite ${(db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v}`,
      schemaVersion: db.pragma('user_version', { simple: true }) as number,
      knownSchemaVersion: MIGRATIONS.length,
      latencyMs: median(times),
      incidents: count('incidents'),
      events: count('events'),
    };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

class Runs implements RunStore {
  constructor(private readonly runs: SqliteRuns) {}
  async create(rec: Omit<RunRecord, 'id' | 'stepProcess'> & { id?: string }): Promise<RunRecord> {
    return this.runs.create(rec);
  }
  async update(id: string, changes: RunChanges): Promise<void> {
    this.runs.update(id, changes);
  }
  async get(id: string): Promise<RunRecord | undefined> {
    return this.runs.get(id);
  }
  async unfinished(incidentId: string, runbookId?: string): Promise<RunRecord | undefined> {
    return this.runs.unfinished(incidentId, runbookId);
  }
  async withStepProcess(incidentId: string, runbookId: string): Promise<RunRecord[]> {
    return this.runs.withStepProcess(incidentId, runbookId);
  }
  async forIncident(incidentId: string): Promise<RunRecord[]> {
    return this.runs.forIncident(incidentId);
  }
}

class Evidence implements EvidenceStore {
  constructor(
    private readonly evidence: SqliteEvidence,
    private readonly db: SqliteDatabase,
  ) {}
  async create(rec: Omit<CollectionRecord, 'id'> & { id?: string }, started: (id: string) => NewEvent, actor: string, opts?: WriteOptions): Promise<CollectionRecord> {
    return this.evidence.create(rec, (id) => {
      const event = started(id);
      this.db.append(rec.incidentId, () => event, new Date(rec.startedAt), actor, opts);
    });
  }
  async addFiles(collectionId: string, files: FileRecord[]): Promise<void> {
    this.evidence.addFiles(collectionId, files);
  }
  async addOpened(collectionId: string, f: OpenedFile): Promise<void> {
    this.evidence.addOpened(collectionId, f);
  }
  async opened(collectionId: string): Promise<OpenedFile[]> {
    return this.evidence.opened(collectionId);
  }
  async finish(collectionId: string, status: Exclude<CollectionStatus, 'running'>, finishedAt: string, collected: NewEvent, actor: string, opts?: WriteOptions): Promise<void> {
    const incidentId = this.evidence.get(collectionId)?.incidentId;
    if (!incidentId) throw new Error(`no evidence collection ${collectionId}`);
    this.evidence.finish(collectionId, status, finishedAt, () => {
      this.db.append(incidentId, () => collected, new Date(finishedAt), actor, opts);
    });
  }
  async get(id: string): Promise<CollectionRecord | undefined> {
    return this.evidence.get(id);
  }
  async forIncident(incidentId: string): Promise<CollectionRecord[]> {
    return this.evidence.forIncident(incidentId);
  }
  async files(collectionId: string): Promise<FileRecord[]> {
    return this.evidence.files(collectionId);
  }
}
