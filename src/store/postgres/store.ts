// The PostgreSQL backend behind the Store interface: the team store. Same tables, chain and record
// digest as SQLite; appends are serialised per incident by a row lock, so the chain never forks.

import type { Pool, PoolClient, PoolConfig } from 'pg';
import { OperationError, UsageError, UserError } from '../../errors.js';
import { applyEvent, type Incident, type NewEvent, type TimelineEvent } from '../../core/incident.js';
import type { FileRecord } from '../../evidence/types.js';
import { canonicalJson } from '../canonical.js';
import { ChainWalk, eventHash, formatHead, GENESIS_HASH, judgeAnchor, isCurrentShape, recordDigest, toEvent, type EventRow } from '../chain.js';
import {
  AlreadyDelivered,
  type AnchorResult,
  type ChainHead,
  type StoreInfo,
  type CollectionRecord,
  type CollectionStatus,
  type Decide,
  type DeclareInput,
  type EvidenceStore,
  type EventOutline,
  MAX_OUTLINE_ACTORS,
  type IterateOptions,
  type OpenedFile,
  type RunChanges,
  type RunRecord,
  type RunStore,
  type Store,
  type StoreOptions,
  type VerifyResult,
  type WriteOptions,
  type WatchOptions,
} from '../types.js';
import { median } from '../../util/median.js';
import { pause, Wakeups } from '../wake.js';
import { PG_MIGRATIONS } from './migrations.js';
import { isConnectionError, StoreUnreachable } from './errors.js';
import { collectionFromRow, fileFromRow, runFromRow, type CollectionRow, type FileRow, type RunRow } from '../rows.js';

/** Held (transaction-scoped) while migrating, so clients starting together migrate once. */
const MIGRATION_LOCK = 0x69720001;
/**
 * Held from taking a seq to commit. seq is store-wide (anchors name an event by seq alone) and is
 * max+1 under this lock rather than a sequence: seqs then commit in order and without gaps, so a
 * reader that asks for "events after seq N" can never miss one that commits late with a lower seq.
 * Writers hold it for milliseconds, as SQLite's single writer lock.
 */
const SEQ_LOCK = 0x69720002;
/** Namespace (first key) of the per-prefix locks that make evidence ids race-free. */
const ID_LOCK = 0x69720003;
/** Namespace of the per-source-incident locks that keep two imports of one incident from both inserting it. */
const IMPORT_LOCK = 0x69720004;
const PAGE = 500;
const INSERT_BATCH = 2000;

/** One event ready to chain: its data already canonical JSON. */
interface PreparedEvent {
  type: string;
  data: string;
  at: string;
  actor: string;
  origin: string | null;
  recordedAt: string | null;
}
/** The channel every append notifies at commit (payload `INCIDENT:SEQ`, a hint only). */
const CHANNEL = 'ir_events';
/** Backoff between attempts to get a lost LISTEN connection back. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

interface IncidentRow {
  id: string;
  state: string;
  severity: string;
  declared_at: string;
  resolved_at: string | null;
  doc: string;
  head_seq: string;
  head_hash: string;
}

type DbEventRow = Omit<EventRow, 'seq'> & { seq: string | number };

/** An incident's head event, selected beside its row under `h_` names (events `e`). */
const EVENT_FIELDS = ['seq', 'incident_id', 'at', 'type', 'actor', 'data', 'prev_hash', 'hash', 'state_sha256', 'origin', 'recorded_at'] as const;
const HEAD_COLUMNS = EVENT_FIELDS.map((f) => `e.${f} AS h_${f}`).join(', ');
type HeadColumns = { [K in (typeof EVENT_FIELDS)[number] as `h_${K}`]: DbEventRow[K] | null };
const headOf = (row: HeadColumns): DbEventRow | undefined =>
  row.h_seq === null ? undefined : (Object.fromEntries(EVENT_FIELDS.map((f) => [f, row[`h_${f}`]])) as unknown as DbEventRow);

/** One incident of another store as `importIncident` takes it; its chain verified by the caller. */
export interface ImportSource {
  /** The source home's `host/installation`; the installation identifies it across imports. */
  origin: string;
  incidentId: string;
  events: TimelineEvent[];
  runs: RunRecord[];
  collections: { record: CollectionRecord; files: FileRecord[]; opened: OpenedFile[] }[];
}

export interface ImportResult {
  sourceId: string;
  teamId: string;
  /** imported: new here; updated: imported before, newer events added; unchanged: nothing to add. */
  status: 'imported' | 'updated' | 'unchanged';
  /** Source events added by this import (the `store.imported` record not counted). */
  events: number;
  runs: number;
  collections: number;
  /** Source id → team id, for runs and collections whose id was taken. */
  renamed: { runs: Record<string, string>; collections: Record<string, string> };
  sourceHead: string;
}

/** The data of a `store.imported` event: where the events came from, so the import can be proved. */
interface ImportRecord {
  source: { origin: string; installation: string; incident: string; head: string; seq: number; hash: string };
  events: number;
  from_seq: number | null;
  runs: Record<string, string>;
  collections: Record<string, string>;
}

/**
 * node-postgres, loaded on first use. On load pg asks whether it runs in a Cloudflare Worker: with no
 * global `navigator` (Node 20 has none) it constructs a `Response`, which makes Node load its whole
 * fetch implementation (undici), about a fifth of `ir note`'s start-up on the team store. A
 * navigator that exists only while pg loads answers the question without it.
 */
export async function loadPg(): Promise<typeof import('pg').default> {
  if ('navigator' in globalThis) return (await import('pg')).default;
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    return (await import('pg')).default;
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}

/** The location with any password replaced, fit for messages and `location`. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/pass/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/** A driver error, without anything that could carry a credential. */
function cause(err: unknown, location: string, raw: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  let out = msg.split(raw).join(location);
  try {
    const pw = decodeURIComponent(new URL(raw).password);
    if (pw) out = out.split(pw).join('***');
  } catch {
    // not a URL: nothing more to mask
  }
  return out.split('\n')[0];
}

/**
 * How long to wait for the server, in ms: `connect_timeout` in the URL (seconds, as libpq reads it),
 * else IR_STORE_TIMEOUT, else 3 s — short, because the network may be what is broken. pg's JS client
 * ignores connect_timeout in a URL and would wait forever. A value that is not a positive number of
 * seconds is a usage error naming where it came from.
 */
export function connectTimeout(url: string, env: NodeJS.ProcessEnv = process.env): number {
  let fromUrl: string | null = null;
  try {
    fromUrl = new URL(url).searchParams.get('connect_timeout');
  } catch {
    // an unparsable URL fails in the driver with its own message
  }
  const seconds = (text: string, name: string): number => {
    const n = Number(text);
    if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !(n > 0)) throw new UsageError(`${name}: "${text}" is not a number of seconds greater than 0`);
    return Math.round(n * 1000);
  };
  if (fromUrl !== null) return seconds(fromUrl, 'connect_timeout in the store URL');
  if (env.IR_STORE_TIMEOUT) return seconds(env.IR_STORE_TIMEOUT, 'IR_STORE_TIMEOUT');
  return 3000;
}

/**
 * The URL as pg should see it. An sslmode other than disable gets uselibpqcompat=true (unless the
 * URL says otherwise), so `sslmode=require` means what it means to psql and every libpq client, and
 * pg-connection-string does not print its multi-line warning about the aliasing it does otherwise.
 */
function driverUrl(url: string): string {
  try {
    const u = new URL(url);
    const mode = u.searchParams.get('sslmode');
    if (mode && mode !== 'disable' && !u.searchParams.has('uselibpqcompat')) u.searchParams.set('uselibpqcompat', 'true');
    // Ours, read above; pg would pass it to the server as an unknown startup parameter otherwise.
    u.searchParams.delete('connect_timeout');
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * The pool's connection settings, as pg would parse the URL itself, with the password looked up as
 * libpq does: the URL's, else PGPASSWORD, else a .pgpass file (PGPASSFILE or ~/.pgpass, 0600).
 * pg can read .pgpass itself but then prints a deprecation notice on every such connection; asking
 * pgpass here keeps stderr to what ir has to say.
 */
async function poolConfig(url: string): Promise<PoolConfig> {
  const { parse } = await import('pg-connection-string');
  const parsed = parse(driverUrl(url)) as PoolConfig & { port?: string | number | null };
  const config: PoolConfig = { ...parsed, port: parsed.port ? Number(parsed.port) : undefined };
  if (parsed.password || process.env.PGPASSWORD) return config;
  config.password = async () => {
    const { default: pgpass } = await import('pgpass');
    const found = await new Promise<string | undefined>((resolve) =>
      pgpass({ host: config.host ?? process.env.PGHOST ?? 'localhost', port: config.port ?? process.env.PGPORT ?? 5432, database: config.database ?? process.env.PGDATABASE, user: config.user ?? process.env.PGUSER ?? process.env.USER }, resolve),
    );
    if (found === undefined) throw new Error('the server wants a password and none was given: put it in the URL, PGPASSWORD or ~/.pgpass');
    return found;
  };
  return config;
}

export class PostgresStore implements Store {
  readonly runs: RunStore;
  readonly evidence: EvidenceStore;
  readonly localDir = undefined;

  private constructor(
    private readonly pool: Pool,
    readonly location: string,
    private readonly origin: string | null,
    /** With its credentials: only ever handed to the driver, never shown. */
    private readonly url: string,
  ) {
    this.runs = new Runs(this);
    this.evidence = new Evidence(this);
  }

  static async open(url: string, opts: StoreOptions = {}): Promise<PostgresStore> {
    const location = maskUrl(url);
    const timeoutMs = opts.connectTimeoutMs ?? connectTimeout(url);
    const pg = await loadPg();
    // pg-pool drops a client whose connect failed without closing its socket: after a failure on
    // the client's side (no password to give) the server holds it open until its own
    // authentication_timeout (a minute), and ir could not exit before then.
    const Base = pg.Client as unknown as new (config: unknown) => { connect(cb?: (err: Error | null) => void): unknown; connection?: { stream?: { destroy(): void } } };
    class Client extends Base {
      override connect(cb?: (err: Error | null) => void): unknown {
        if (!cb) return super.connect();
        return super.connect((err) => {
          if (err) this.connection?.stream?.destroy();
          cb(err);
        });
      }
    }
    const pool = new pg.Pool({ ...(await poolConfig(url)), max: 4, connectionTimeoutMillis: timeoutMs, Client: Client as unknown as PoolConfig['Client'] });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, location, opts.origin ?? null, url);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof UserError) throw err;
      let why = cause(err, location, url);
      if (/timeout/i.test(why)) why = `no answer within ${timeoutMs / 1000} s (connect_timeout in the URL or IR_STORE_TIMEOUT sets the limit)`;
      if (isConnectionError(err)) throw new StoreUnreachable(location, why);
      throw new UserError(`cannot open the team store ${location}: ${why}`);
    }
    return store;
  }

  /** Applies missing migrations once, however many clients start together. */
  private async migrate(): Promise<void> {
    const known = PG_MIGRATIONS.length;
    const current = async (c: Pool | PoolClient): Promise<number> => {
      const exists = await c.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
      if (!exists.rows[0].t) return 0;
      const { rows } = await c.query<{ v: number | null }>(`SELECT max(version) AS v FROM schema_migrations`);
      return rows[0].v ?? 0;
    };
    const newer = (v: number) => new UserError(`${this.location} was written by a newer ir (schema ${v}; this ir knows schema ${known}): upgrade ir`);
    const seen = await current(this.pool);
    if (seen > known) throw newer(seen);
    if (seen === known) return;
    try {
      await this.tx(async (c) => {
        await c.query(`SELECT pg_advisory_xact_lock($1)`, [MIGRATION_LOCK]);
        await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
        // Another client may have migrated while this one waited for the lock: look again.
        const v = await current(c);
        if (v > known) throw newer(v);
        for (let i = v; i < known; i++) {
          await c.query(PG_MIGRATIONS[i]);
          await c.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [i + 1]);
        }
      });
    } catch (err) {
      // A responder role (`ir store grants`) has no DDL rights, by design: say who can migrate.
      if ((err as { code?: string }).code === '42501') {
        throw new UserError(
          `${this.location} is at schema ${seen} and this ir needs schema ${known}, which this user may not create: the owner of ir's tables runs \`ir store status\` once with this ir (then \`ir store grants\` for responders)`,
        );
      }
      throw err;
    }
  }

  /** Runs fn in one transaction on one connection: committed if it returns, rolled back if it throws. */
  async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.pool.query<R>(sql, params).then((r) => r.rows);
  }

  async declare(input: DeclareInput, at: Date, actor: string, opts: WriteOptions = {}): Promise<{ incident: Incident; event: TimelineEvent }> {
    return this.tx(async (c) => {
      const day = at.toISOString().slice(0, 10).replaceAll('-', '');
      // The counter row's lock serialises declarations of one day across every client.
      const { rows } = await c.query<{ n: number }>(
        `INSERT INTO id_counters (scope, n) VALUES ($1, 1) ON CONFLICT (scope) DO UPDATE SET n = id_counters.n + 1 RETURNING n`,
        [`INC-${day}`],
      );
      const id = `INC-${day}-${String(rows[0].n).padStart(3, '0')}`;
      const data: Record<string, unknown> = { ...input };
      for (const k of Object.keys(data)) if (data[k] === undefined || data[k] === '') delete data[k];
      await c.query(
        `INSERT INTO incidents (id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash) VALUES ($1, 'investigating', $2, $3, NULL, '{}', 0, $4)`,
        [id, String(input.severity), at.toISOString(), GENESIS_HASH],
      );
      const { event, incident } = await this.insertEvents(c, id, GENESIS_HASH, undefined, [{ type: 'incident.declared', data }], at, actor, opts);
      return { incident, event: event[0] };
    });
  }

  async append(incidentId: string, decide: Decide, at: Date, actor: string, opts: WriteOptions = {}): Promise<{ incident: Incident; events: TimelineEvent[] }> {
    return this.tx((c) => this.appendIn(c, incidentId, decide, at, actor, opts));
  }

  /** The append inside a caller's transaction (evidence rows commit with their events). */
  async appendIn(c: PoolClient, incidentId: string, decide: Decide, at: Date, actor: string, opts: WriteOptions = {}): Promise<{ incident: Incident; events: TimelineEvent[] }> {
    // The row lock serialises writers of this incident; under READ COMMITTED a writer that waited
    // reads the head its predecessor committed, and the statements after it see that event.
    const { rows } = await c.query<IncidentRow>(`SELECT * FROM incidents WHERE id = $1 FOR UPDATE`, [incidentId]);
    const row = rows[0];
    if (!row) throw new Error(`no incident ${incidentId}`);
    let incident = await this.record(c, row);
    if (!incident) throw new Error(`incident ${incidentId} has no events`);
    const wanted = decide(incident);
    const list = Array.isArray(wanted) ? wanted : [wanted];
    if (!list.length) return { incident, events: [] };
    const written = await this.insertEvents(c, incidentId, row.head_hash, incident, list, at, actor, opts);
    incident = written.incident;
    return { incident, events: written.event };
  }

  async delivery(key: string): Promise<{ incidentId: string; seq: number } | undefined> {
    const [row] = await this.query<{ incident_id: string; seq: string }>(`SELECT incident_id, seq FROM deliveries WHERE key = $1`, [key]);
    return row && { incidentId: row.incident_id, seq: Number(row.seq) };
  }

  /** Chains and inserts events after `prevHash`, then moves the incident's head and cached record. */
  private async insertEvents(c: PoolClient, incidentId: string, prevHash: string, before: Incident | undefined, list: NewEvent[], at: Date, actor: string, opts: WriteOptions): Promise<{ event: TimelineEvent[]; incident: Incident }> {
    // Everything that can fail on the client (JSON of the data) fails before the seq lock is taken.
    const when = at.toISOString();
    const recordedAt = opts.recordedAt?.toISOString() ?? null;
    const prepared = list.map((e) => ({ type: e.type, data: canonicalJson(e.data), at: when, actor, origin: this.origin, recordedAt }));
    return this.insertChained(c, incidentId, prevHash, before, prepared, opts.deliveryKey ?? null);
  }

  /** The chaining itself, for events that each bring their own time, actor and origin (an import). */
  private async insertChained(c: PoolClient, incidentId: string, prevHash: string, before: Incident | undefined, prepared: PreparedEvent[], deliveryKey: string | null): Promise<{ event: TimelineEvent[]; incident: Incident }> {
    await c.query(`SELECT pg_advisory_xact_lock($1)`, [SEQ_LOCK]);
    const { rows } = await c.query<{ next: string }>(`SELECT coalesce(max(seq), 0) + 1 AS next FROM events`);
    let seq = Number(rows[0].next);
    let head = prevHash;
    let incident = before;
    const events: TimelineEvent[] = [];
    const values: unknown[][] = [];
    for (const e of prepared) {
      const fields = { incident_id: incidentId, at: e.at, type: e.type, actor: e.actor, data: e.data };
      incident = applyEvent(incident, { incidentId, at: fields.at, type: fields.type, actor: e.actor, data: JSON.parse(fields.data) as Record<string, unknown> });
      const row = { seq, ...fields, state_sha256: recordDigest(incident), origin: e.origin, recorded_at: e.recordedAt };
      const hash = eventHash(head, row);
      values.push([row.seq, row.incident_id, row.at, row.type, row.actor, row.data, head, hash, row.state_sha256, row.origin, row.recorded_at]);
      events.push(toEvent({ ...row, prev_hash: head, hash }));
      head = hash;
      seq++;
    }
    // Bound the statement's parameters (PostgreSQL allows 65535) when an import brings thousands:
    // every batch but the last goes first; the last goes with the head, delivery and notification.
    const tuples = (count: number) => Array.from({ length: count }, (_, i) => `(${Array.from({ length: 11 }, (_, j) => `$${i * 11 + j + 1}`).join(', ')})`).join(', ');
    let from = 0;
    for (; values.length - from > INSERT_BATCH; from += INSERT_BATCH) {
      await c.query(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at) VALUES ${tuples(INSERT_BATCH)}`, values.slice(from, from + INSERT_BATCH).flat());
    }
    const params: unknown[] = values.slice(from).flat();
    const lastTuples = tuples(values.length - from);
    const last = events[events.length - 1];
    const inc = incident as Incident;
    const n = params.length;
    params.push(inc.state, inc.severity, inc.resolvedAt ?? null, JSON.stringify(inc), last.seq, last.hash, incidentId, `${incidentId}:${last.seq}`);
    // One statement for the events, the head and the notification: every round trip here is spent
    // holding the incident's lock and the seq lock, which every other writer of the team waits for.
    // The notification is delivered at commit, and only then: a follower re-reads after its last
    // seq, so the payload is a hint.
    const key = deliveryKey;
    params.push(key, new Date().toISOString());
    const { rows: done } = await c.query<{ delivered: number }>(
      `WITH appended AS (
         INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at) VALUES ${lastTuples}
       ), head AS (
         UPDATE incidents SET state = $${n + 1}, severity = $${n + 2}, resolved_at = $${n + 3}, doc = $${n + 4}, head_seq = $${n + 5}, head_hash = $${n + 6} WHERE id = $${n + 7}
       ), delivered AS (
         INSERT INTO deliveries (key, incident_id, seq, delivered_at)
         SELECT $${n + 9}::text, $${n + 7}, $${n + 5}, $${n + 10} WHERE $${n + 9}::text IS NOT NULL
         ON CONFLICT (key) DO NOTHING RETURNING 1
       )
       SELECT pg_notify('ir_events', $${n + 8}), (SELECT count(*)::int FROM delivered) AS delivered`,
      params,
    );
    // A keyed write whose key is taken was delivered before (a concurrent delivery waited on the key's
    // row and found it committed): this one rolls back, so the events are never written twice.
    if (key && done[0].delivered === 0) {
      const [prior] = (await c.query<{ incident_id: string; seq: string }>(`SELECT incident_id, seq FROM deliveries WHERE key = $1`, [key])).rows;
      throw new AlreadyDelivered(key, prior.incident_id, Number(prior.seq));
    }
    return { event: events, incident: inc };
  }

  /**
   * The incident as its events say it is: the cached `doc` only when the head event's hash
   * recomputes, the row's head is that event, and that event's digest is the digest of the doc.
   */
  private async record(c: Pool | PoolClient, row: IncidentRow): Promise<Incident | undefined> {
    const { rows } = await c.query<DbEventRow>(`SELECT * FROM events WHERE incident_id = $1 AND seq = $2`, [row.id, row.head_seq]);
    const trusted = rows[0] && this.trusted(row, rows[0]);
    return trusted ?? this.derive(c, row.id);
  }

  private trusted(row: IncidentRow, head: DbEventRow): Incident | undefined {
    if (head.state_sha256 === null || head.hash !== row.head_hash) return undefined;
    if (eventHash(head.prev_hash, { ...head, seq: Number(head.seq) }) !== head.hash) return undefined;
    let doc: Incident;
    try {
      doc = JSON.parse(row.doc) as Incident;
    } catch {
      return undefined;
    }
    if (recordDigest(doc) !== head.state_sha256 || !isCurrentShape(doc)) return undefined;
    if (doc.state !== row.state || doc.severity !== row.severity || doc.declaredAt !== row.declared_at || (doc.resolvedAt ?? null) !== row.resolved_at) return undefined;
    return doc;
  }

  /** Folds an incident's events into its record, a page at a time. */
  private async derive(c: Pool | PoolClient, id: string): Promise<Incident | undefined> {
    let incident: Incident | undefined;
    let after = 0;
    for (;;) {
      const { rows } = await c.query<DbEventRow>(`SELECT * FROM events WHERE incident_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [id, after, PAGE * 4]);
      for (const r of rows) {
        const e = toEvent(r);
        // A chain that does not start with its declaration is for verify to report; skip, don't crash.
        if (!incident && e.type !== 'incident.declared') continue;
        incident = applyEvent(incident, e);
      }
      if (rows.length < PAGE * 4) return incident;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    const rows = await this.query<IncidentRow>(`SELECT * FROM incidents WHERE id = $1`, [id]);
    return rows[0] && this.record(this.pool, rows[0]);
  }

  async listIncidents(opts: { all?: boolean } = {}): Promise<Incident[]> {
    // Each row comes with its head event in the same query: one round trip for the list, not one
    // per incident (10k incidents were 10k queries). A row whose cache the head does not vouch for
    // is folded from its events, as record() does.
    const rows = await this.query<IncidentRow & HeadColumns>(
      `SELECT i.*, ${HEAD_COLUMNS} FROM incidents i LEFT JOIN events e ON e.incident_id = i.id AND e.seq = i.head_seq ORDER BY i.declared_at DESC, i.id DESC`,
    );
    const out: Incident[] = [];
    for (const row of rows) {
      const head = headOf(row);
      const incident = (head ? this.trusted(row, head) : undefined) ?? (await this.derive(this.pool, row.id));
      if (incident && (opts.all || incident.state !== 'resolved')) out.push(incident);
    }
    return out.sort((a, b) => (a.declaredAt === b.declaredAt ? (a.id < b.id ? 1 : -1) : a.declaredAt < b.declaredAt ? 1 : -1));
  }

  async events(incidentId: string): Promise<TimelineEvent[]> {
    return (await this.query<DbEventRow>(`SELECT * FROM events WHERE incident_id = $1 ORDER BY seq`, [incidentId])).map((r) => toEvent(r));
  }

  async *iterateEvents(incidentId: string, opts: IterateOptions = {}): AsyncIterable<TimelineEvent> {
    for await (const page of this.eventPages(incidentId, opts)) for (const e of page) yield e;
  }

  async *eventPages(incidentId: string, opts: IterateOptions = {}): AsyncIterable<TimelineEvent[]> {
    // Keyset pages on (incident_id, seq): each is one indexed range read, however far in, and no
    // transaction or cursor is held open while the consumer works on a page.
    const batch = Math.max(1, opts.batch ?? PAGE);
    // A hash the reader has no use for does not cross the wire.
    const prev = opts.without?.includes('prevHash') ? `'' AS prev_hash` : 'prev_hash';
    const own = opts.without?.includes('hash') ? `'' AS hash` : 'hash';
    let after = 0;
    for (;;) {
      const page = await this.query<DbEventRow>(
        `SELECT seq, incident_id, at, type, actor, data, ${prev}, ${own}, origin, recorded_at FROM events WHERE incident_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [incidentId, after, batch],
      );
      if (page.length) yield page.map((r) => toEvent(r));
      if (page.length < batch) return;
      after = Number(page[page.length - 1].seq);
    }
  }

  async eventOutline(incidentId: string): Promise<EventOutline | undefined> {
    const rows = await this.query<{ actor: string; n: string; iso: boolean }>(
      `SELECT actor, count(*) AS n, bool_and(at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$') AS iso
         FROM events WHERE incident_id = $1 GROUP BY actor LIMIT ${MAX_OUTLINE_ACTORS + 1}`,
      [incidentId],
    );
    if (rows.length > MAX_OUTLINE_ACTORS) return undefined;
    const outline: EventOutline = { count: 0, actors: [], isoTimes: true };
    for (const r of rows) {
      outline.actors.push(r.actor);
      outline.count += Number(r.n);
      if (!r.iso) outline.isoTimes = false;
    }
    return outline;
  }

  async eventsSince(afterSeq: number, incidentId?: string, limit = PAGE): Promise<TimelineEvent[]> {
    const rows =
      incidentId === undefined
        ? await this.query<DbEventRow>(`SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])
        : await this.query<DbEventRow>(`SELECT * FROM events WHERE incident_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [incidentId, afterSeq, limit]);
    return rows.map((r) => toEvent(r));
  }

  async latestSeq(): Promise<number> {
    const [row] = await this.query<{ seq: string }>(`SELECT coalesce(max(seq), 0) AS seq FROM events`);
    return Number(row.seq);
  }

  watch(signal: AbortSignal, opts: WatchOptions = {}): AsyncIterable<void> {
    const wakes = new Wakeups(signal);
    void this.listen(signal, wakes, opts).catch(() => wakes.end());
    return wakes;
  }

  /**
   * Keeps one LISTEN connection of its own (a pooled one would be handed to other queries and
   * released): connects, listens, wakes the reader, and when the connection is lost tries again
   * with a growing pause, waking the reader once it is back so it reads what it missed meanwhile.
   */
  private async listen(signal: AbortSignal, wakes: Wakeups, opts: WatchOptions): Promise<void> {
    const pg = await loadPg();
    let delay = 0;
    let lost = false;
    // The same settings as the pool (password from .pgpass, sslmode as libpq means it).
    const settings = await poolConfig(this.url);
    while (!signal.aborted) {
      // keepAlive: a server that vanished without a FIN (a cut network) is noticed, not waited on forever.
      const client = new pg.Client({ ...settings, keepAlive: true, keepAliveInitialDelayMillis: 5_000, connectionTimeoutMillis: 10_000 });
      let why = 'the connection ended';
      const ended = new Promise<void>((resolve) => {
        client.on('error', (err) => {
          why = cause(err, this.location, this.url);
          resolve();
        });
        client.on('end', () => resolve());
      });
      const stop = () => void client.end().catch(() => undefined);
      signal.addEventListener('abort', stop, { once: true });
      try {
        await client.connect();
        client.on('notification', (n) => {
          if (n.channel === CHANNEL) wakes.wake();
        });
        await client.query(`LISTEN ${CHANNEL}`);
        if (lost) opts.onConnection?.('back');
        lost = false;
        delay = 0;
        wakes.wake();
        await ended;
      } catch (err) {
        why = cause(err, this.location, this.url);
      } finally {
        signal.removeEventListener('abort', stop);
        stop();
      }
      if (signal.aborted) break;
      if (!lost) opts.onConnection?.('lost', why);
      lost = true;
      delay = Math.min(delay ? delay * 2 : RECONNECT_MIN_MS, RECONNECT_MAX_MS);
      await pause(delay, signal);
    }
    wakes.end();
  }

  async head(incidentId: string): Promise<ChainHead | undefined> {
    const rows = await this.query<{ seq: string; hash: string; at: string }>(`SELECT seq, hash, at FROM events WHERE incident_id = $1 ORDER BY seq DESC LIMIT 1`, [incidentId]);
    return rows[0] ? { incidentId, seq: Number(rows[0].seq), hash: rows[0].hash, at: rows[0].at } : undefined;
  }

  /** Walks each incident's chain: every prev_hash links, every hash recomputes, the head matches. */
  async verify(incidentId?: string, anchors: { seq: number; hash: string }[] = []): Promise<VerifyResult> {
    const incidents = incidentId
      ? await this.query<IncidentRow>(`SELECT * FROM incidents WHERE id = $1`, [incidentId])
      : await this.query<IncidentRow>(`SELECT * FROM incidents ORDER BY id`);
    const result: VerifyResult = { ok: true, incidents: incidents.length, events: 0, problems: [], anchors: [] };
    const intact = new Set<string>();
    for (const inc of incidents) {
      const walk = new ChainWalk(inc.id);
      for (let after = 0; ; ) {
        const page = await this.query<DbEventRow>(`SELECT * FROM events WHERE incident_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [inc.id, after, PAGE * 4]);
        for (const r of page) walk.push(r);
        if (page.length < PAGE * 4) break;
        after = Number(page[page.length - 1].seq);
      }
      result.events += walk.events;
      const bad = walk.finish(inc);
      if (bad) result.problems.push(bad);
      else intact.add(inc.id);
    }
    for (const a of anchors) result.anchors.push(await this.checkAnchor(a, intact, incidentId));
    for (const a of result.anchors) if (!a.ok) result.problems.push({ incidentId: a.incidentId ?? incidentId ?? '?', seq: a.seq, reason: a.reason });
    result.ok = result.problems.length === 0;
    return result;
  }

  /** An anchored head is proof only while the chain still contains it: the rules in chain.ts, over these tables. */
  private checkAnchor(anchor: { seq: number; hash: string }, intact: Set<string>, incidentId?: string): Promise<AnchorResult> {
    return judgeAnchor(anchor, intact, incidentId, {
      bySeq: async (seq) => (await this.query<{ incident_id: string; hash: string }>(`SELECT incident_id, hash FROM events WHERE seq = $1`, [seq]))[0],
      byHash: async (hash) => (await this.query<{ incident_id: string; seq: string }>(`SELECT incident_id, seq FROM events WHERE hash = $1 LIMIT 1`, [hash]))[0],
      incidentExists: async (id) => (await this.query(`SELECT 1 FROM incidents WHERE id = $1`, [id])).length > 0,
      laterCount: async (id, seq) => (await this.query<{ later: number }>(`SELECT count(*)::int AS later FROM events WHERE incident_id = $1 AND seq > $2`, [id, seq]))[0].later,
    });
  }

  async describe(): Promise<StoreInfo> {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      await this.pool.query('SELECT 1');
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const [{ server_version }] = await this.query<{ server_version: string }>('SHOW server_version');
    const [{ v }] = await this.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const [{ incidents, events }] = await this.query<{ incidents: number; events: number }>(
      'SELECT (SELECT count(*)::int FROM incidents) AS incidents, (SELECT count(*)::int FROM events) AS events',
    );
    return {
      backend: 'postgresql',
      location: this.location,
      serverVersion: `PostgreSQL ${server_version}`,
      schemaVersion: v ?? 0,
      knownSchemaVersion: PG_MIGRATIONS.length,
      latencyMs: median(times),
      incidents,
      events,
    };
  }

  /**
   * Brings one incident of another store (a responder's SQLite home) into this one, in one
   * transaction. The chain is re-sequenced and re-hashed here (seq is store-wide) with each event's
   * time, actor, type, data and origin kept; a `store.imported` event at its end records the source
   * (origin, id, head) so the import can be proved and is never repeated: a later import of the same
   * incident adds only the events written after that head. The id is kept when free, else the day's
   * next team id is taken; run and collection ids are renamed only if taken, and event data that
   * names a renamed one is rewritten to match. With `dryRun` the same work is rolled back.
   */
  async importIncident(src: ImportSource, actor: string, at: Date, opts: { dryRun?: boolean; avoid?: ReadonlySet<string> } = {}): Promise<ImportResult> {
    const installation = src.origin.split('/').pop() as string;
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      // Two migrations of the same home at once would both see "not imported yet".
      await c.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [IMPORT_LOCK, `${installation}:${src.incidentId}`]);
      const previous = await this.lastImport(c, installation, src.incidentId);
      const sourceHead = src.events[src.events.length - 1];
      const result: ImportResult = {
        sourceId: src.incidentId,
        teamId: previous?.incidentId ?? src.incidentId,
        status: previous ? 'updated' : 'imported',
        events: 0,
        runs: 0,
        collections: 0,
        renamed: { runs: { ...(previous?.runs ?? {}) }, collections: { ...(previous?.collections ?? {}) } },
        sourceHead: formatHead(sourceHead),
      };
      let prevHash = GENESIS_HASH;
      let before: Incident | undefined;
      let fresh = src.events;
      if (previous) {
        const { rows } = await c.query<IncidentRow>(`SELECT * FROM incidents WHERE id = $1 FOR UPDATE`, [previous.incidentId]);
        if (!rows[0]) throw new OperationError(`${src.incidentId} was imported as ${previous.incidentId}, which is no longer in ${this.location}`);
        prevHash = rows[0].head_hash;
        before = await this.record(c, rows[0]);
        fresh = src.events.filter((e) => e.seq > previous.sourceSeq);
      } else {
        result.teamId = await this.claimIncidentId(c, src.incidentId, opts.avoid ?? new Set());
        const first = src.events[0];
        await c.query(
          `INSERT INTO incidents (id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash) VALUES ($1, 'investigating', $2, $3, NULL, '{}', 0, $4)`,
          [result.teamId, String(first.data.severity), first.at, GENESIS_HASH],
        );
      }
      // Runs and collections first: the events that name them are rewritten with their team ids.
      const known = new Set(Object.keys(result.renamed.runs));
      for (const run of src.runs) {
        if (known.has(run.id)) {
          await this.updateImportedRun(c, result.renamed.runs[run.id], run);
          continue;
        }
        const id = await this.claimRunId(c, run.id, result.teamId);
        await this.insertRun(c, { ...run, id, incidentId: result.teamId });
        result.renamed.runs[run.id] = id;
        result.runs++;
      }
      const knownCollections = new Set(Object.keys(result.renamed.collections));
      for (const col of src.collections) {
        let id = result.renamed.collections[col.record.id];
        if (knownCollections.has(col.record.id)) {
          await c.query(`UPDATE evidence_collections SET status = $1, finished_at = $2, pid = $3 WHERE id = $4`, [col.record.status, col.record.finishedAt, col.record.pid, id]);
        } else {
          id = await this.claimCollectionId(c, col.record.id);
          await this.insertCollection(c, { ...col.record, id, incidentId: result.teamId });
          result.renamed.collections[col.record.id] = id;
          result.collections++;
        }
        await this.insertFiles(c, id, col.files, col.opened);
      }
      if (fresh.length || result.runs || result.collections) {
        const rename = (e: TimelineEvent): Record<string, unknown> => {
          const data = { ...e.data };
          if (typeof data.run_id === 'string' && result.renamed.runs[data.run_id]) data.run_id = result.renamed.runs[data.run_id];
          if (typeof data.collection_id === 'string' && result.renamed.collections[data.collection_id]) data.collection_id = result.renamed.collections[data.collection_id];
          return data;
        };
        const prepared: PreparedEvent[] = fresh.map((e) => ({ type: e.type, data: canonicalJson(rename(e)), at: e.at, actor: e.actor, origin: e.origin ?? null, recordedAt: e.recordedAt ?? null }));
        const record: ImportRecord = {
          source: { origin: src.origin, installation, incident: src.incidentId, head: formatHead(sourceHead), seq: sourceHead.seq, hash: sourceHead.hash },
          events: fresh.length,
          from_seq: fresh.length ? fresh[0].seq : null,
          // Every id so far, kept or renamed: the next import of this incident knows what it has.
          runs: { ...result.renamed.runs },
          collections: { ...result.renamed.collections },
        };
        prepared.push({ type: 'store.imported', data: canonicalJson(record), at: at.toISOString(), actor, origin: this.origin, recordedAt: null });
        await this.insertChained(c, result.teamId, prevHash, before, prepared, null);
        result.events = fresh.length;
      } else {
        result.status = 'unchanged';
      }
      // The team's next declaration of that day must not reuse an imported number.
      const m = /^INC-(\d{8})-(\d+)$/.exec(result.teamId);
      if (m) {
        await c.query(
          `INSERT INTO id_counters (scope, n) VALUES ($1, $2) ON CONFLICT (scope) DO UPDATE SET n = GREATEST(id_counters.n, EXCLUDED.n)`,
          [`INC-${m[1]}`, Number(m[2])],
        );
      }
      // The caller reports renames only; ids kept as they were need no mention.
      for (const [a, b] of Object.entries(result.renamed.runs)) if (a === b) delete result.renamed.runs[a];
      for (const [a, b] of Object.entries(result.renamed.collections)) if (a === b) delete result.renamed.collections[a];
      await c.query(opts.dryRun ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /** The newest `store.imported` record of this source incident: where it went, and its ids there. */
  private async lastImport(c: PoolClient, installation: string, sourceId: string): Promise<{ incidentId: string; sourceSeq: number; runs: Record<string, string>; collections: Record<string, string> } | undefined> {
    const { rows } = await c.query<{ incident_id: string; data: string }>(`SELECT incident_id, data FROM events WHERE type = 'store.imported' ORDER BY seq DESC`);
    for (const r of rows) {
      const d = JSON.parse(r.data) as ImportRecord;
      if (d.source?.installation !== installation || d.source.incident !== sourceId) continue;
      // Each record carries the whole map so far, so the newest one is enough.
      return { incidentId: r.incident_id, sourceSeq: d.source.seq, runs: d.runs ?? {}, collections: d.collections ?? {} };
    }
    return undefined;
  }

  /**
   * The source's id when the team store has no such incident, else that day's next team id that is
   * also not in `avoid` (the source's other ids: their evidence directories sit next to this one's).
   */
  private async claimIncidentId(c: PoolClient, wanted: string, avoid: ReadonlySet<string>): Promise<string> {
    const taken = async (id: string) => (await c.query(`SELECT 1 FROM incidents WHERE id = $1`, [id])).rowCount !== 0;
    if (!(await taken(wanted))) return wanted;
    const day = /^INC-(\d{8})-/.exec(wanted)?.[1] ?? new Date().toISOString().slice(0, 10).replaceAll('-', '');
    for (;;) {
      const { rows } = await c.query<{ n: number }>(
        `INSERT INTO id_counters (scope, n) VALUES ($1, 1) ON CONFLICT (scope) DO UPDATE SET n = id_counters.n + 1 RETURNING n`,
        [`INC-${day}`],
      );
      const id = `INC-${day}-${String(rows[0].n).padStart(3, '0')}`;
      if (!avoid.has(id) && !(await taken(id))) return id;
    }
  }

  /** RUN-<team suffix>-<n>: the source's number when free, else the incident's next. */
  private async claimRunId(c: PoolClient, sourceRunId: string, teamIncident: string): Promise<string> {
    const base = teamIncident.replace(/^INC-/, 'RUN-');
    const n = /-(\d+)$/.exec(sourceRunId)?.[1] ?? '1';
    const taken = async (id: string) => (await c.query(`SELECT 1 FROM runbook_runs WHERE id = $1`, [id])).rowCount !== 0;
    let id = `${base}-${n}`;
    for (let k = 1; await taken(id); k++) id = `${base}-${k}`;
    return id;
  }

  /** EV-<stamp>-<n>: the source's id when free, else the next for its second (as Evidence.create). */
  private async claimCollectionId(c: PoolClient, sourceId: string): Promise<string> {
    const prefix = sourceId.replace(/\d+$/, '');
    await c.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [ID_LOCK, prefix]);
    const taken = async (id: string) => (await c.query(`SELECT 1 FROM evidence_collections WHERE id = $1`, [id])).rowCount !== 0;
    if (!(await taken(sourceId))) return sourceId;
    const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int + 1 AS n FROM evidence_collections WHERE id LIKE $1`, [`${prefix}%`]);
    let id = `${prefix}${rows[0].n}`;
    for (let k = rows[0].n + 1; await taken(id); k++) id = `${prefix}${k}`;
    return id;
  }

  private async insertRun(c: PoolClient, r: RunRecord): Promise<void> {
    const p = r.stepProcess;
    await c.query(
      `INSERT INTO runbook_runs (id, incident_id, runbook_id, runbook_path, runbook_sha256, started_at, updated_at, status, next_index, current_index, vars, failures, pid, host,
         step_pid, step_start_ticks, step_boot_id, step_started_at, step_host, step_command, step_output)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
      [r.id, r.incidentId, r.runbookId, r.runbookPath, r.runbookSha256, r.startedAt, r.updatedAt, r.status, r.nextIndex, r.currentIndex, JSON.stringify(r.vars), r.failures, r.pid, r.host,
        p?.pid ?? null, p?.startTicks ?? null, p?.bootId ?? null, p?.startedAt ?? null, p?.host ?? null, p?.command ?? null, p?.outputFile ?? null],
    );
  }

  /** A run imported before has moved on locally since: its working state follows. */
  private async updateImportedRun(c: PoolClient, id: string, r: RunRecord): Promise<void> {
    await c.query(`UPDATE runbook_runs SET status = $1, next_index = $2, current_index = $3, vars = $4, failures = $5, updated_at = $6 WHERE id = $7`, [
      r.status, r.nextIndex, r.currentIndex, JSON.stringify(r.vars), r.failures, r.updatedAt, id,
    ]);
  }

  private async insertCollection(c: PoolClient, r: CollectionRecord): Promise<void> {
    await c.query(
      `INSERT INTO evidence_collections (id, incident_id, started_at, finished_at, status, collectors, since, namespace, selector, kube_context, collected_by, ir_version, pid, host)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [r.id, r.incidentId, r.startedAt, r.finishedAt, r.status, JSON.stringify(r.collectors), r.since, r.namespace, r.selector, r.kubeContext, r.collectedBy, r.irVersion, r.pid, r.host],
    );
  }

  /** File records not yet in the team store (they are append-only: a record is added, never changed). */
  private async insertFiles(c: PoolClient, collectionId: string, files: FileRecord[], opened: OpenedFile[]): Promise<void> {
    const { rows } = await c.query<{ collector: string; file: string | null; source: string }>(`SELECT collector, file, source FROM evidence_files WHERE collection_id = $1`, [collectionId]);
    const have = new Set(rows.map((r) => `${r.collector}\0${r.file ?? ''}\0${r.source}`));
    for (const f of files) {
      if (have.has(`${f.collector}\0${f.file ?? ''}\0${f.source}`)) continue;
      await c.query(
        `INSERT INTO evidence_files (collection_id, collector, file, source, started_at, finished_at, bytes, sha256, status, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [collectionId, f.collector, f.file, f.source, f.startedAt, f.finishedAt, f.bytes, f.sha256, f.status, f.reason ?? null],
      );
    }
    for (const o of opened) {
      await c.query(
        `INSERT INTO evidence_files_opened (collection_id, collector, file, source, opened_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (collection_id, file) DO NOTHING`,
        [collectionId, o.collector, o.file, o.source, o.openedAt],
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}


class Runs implements RunStore {
  constructor(private readonly store: PostgresStore) {}

  async create(rec: Omit<RunRecord, 'id' | 'stepProcess'> & { id?: string }): Promise<RunRecord> {
    return this.store.tx(async (c) => {
      // The incident's row lock makes counting and inserting one step for every client.
      const locked = await c.query(`SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE`, [rec.incidentId]);
      if (!locked.rowCount) throw new Error(`no incident ${rec.incidentId}`);
      const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int + 1 AS n FROM runbook_runs WHERE incident_id = $1`, [rec.incidentId]);
      const id = rec.id ?? `${rec.incidentId.replace(/^INC-/, 'RUN-')}-${rows[0].n}`;
      await c.query(
        `INSERT INTO runbook_runs (id, incident_id, runbook_id, runbook_path, runbook_sha256, started_at, updated_at, status, next_index, current_index, vars, failures, pid, host)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [id, rec.incidentId, rec.runbookId, rec.runbookPath, rec.runbookSha256, rec.startedAt, rec.updatedAt, rec.status, rec.nextIndex, rec.currentIndex, JSON.stringify(rec.vars), rec.failures, rec.pid, rec.host],
      );
      const { id: _given, ...rest } = rec;
      return { ...rest, id, stepProcess: null };
    });
  }

  async update(id: string, changes: RunChanges): Promise<void> {
    const cols: string[] = [];
    const values: unknown[] = [];
    const set = (col: string, v: unknown) => {
      values.push(v);
      cols.push(`${col} = $${values.length}`);
    };
    if (changes.stepProcess !== undefined) {
      const p = changes.stepProcess;
      set('step_pid', p?.pid ?? null);
      set('step_start_ticks', p?.startTicks ?? null);
      set('step_boot_id', p?.bootId ?? null);
      set('step_started_at', p?.startedAt ?? null);
      set('step_host', p?.host ?? null);
      set('step_command', p?.command ?? null);
      set('step_output', p?.outputFile ?? null);
    }
    const map: Record<string, string> = { status: 'status', nextIndex: 'next_index', currentIndex: 'current_index', vars: 'vars', failures: 'failures', pid: 'pid', host: 'host', updatedAt: 'updated_at' };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || k === 'stepProcess') continue;
      set(map[k], k === 'vars' ? JSON.stringify(v) : v);
    }
    if (!cols.length) return;
    values.push(id);
    await this.store.query(`UPDATE runbook_runs SET ${cols.join(', ')} WHERE id = $${values.length}`, values);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const [r] = await this.store.query<RunRow>(`SELECT * FROM runbook_runs WHERE id = $1`, [id]);
    return r && runFromRow(r);
  }

  async unfinished(incidentId: string, runbookId?: string): Promise<RunRecord | undefined> {
    const [r] = await this.store.query<RunRow>(
      `SELECT * FROM runbook_runs WHERE incident_id = $1 AND status IN ('running', 'interrupted') ${runbookId ? 'AND runbook_id = $2' : ''}
       ORDER BY started_at DESC, ord DESC LIMIT 1`,
      runbookId ? [incidentId, runbookId] : [incidentId],
    );
    return r && runFromRow(r);
  }

  async withStepProcess(incidentId: string, runbookId: string): Promise<RunRecord[]> {
    const rows = await this.store.query<RunRow>(
      `SELECT * FROM runbook_runs WHERE incident_id = $1 AND runbook_id = $2 AND status IN ('running', 'interrupted') AND step_pid IS NOT NULL ORDER BY started_at, ord`,
      [incidentId, runbookId],
    );
    return rows.map(runFromRow);
  }

  async forIncident(incidentId: string): Promise<RunRecord[]> {
    return (await this.store.query<RunRow>(`SELECT * FROM runbook_runs WHERE incident_id = $1 ORDER BY started_at, ord`, [incidentId])).map(runFromRow);
  }
}

class Evidence implements EvidenceStore {
  constructor(private readonly store: PostgresStore) {}

  async create(rec: Omit<CollectionRecord, 'id'> & { id?: string }, started: (id: string) => NewEvent, actor: string, opts?: WriteOptions): Promise<CollectionRecord> {
    return this.store.tx(async (c) => {
      const stamp = rec.startedAt.slice(0, 19).replace(/[-:]/g, '');
      const prefix = `EV-${stamp}-`;
      // Collections of any incident may start in the same second: a lock per prefix, held to commit.
      await c.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [ID_LOCK, prefix]);
      const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int + 1 AS n FROM evidence_collections WHERE id LIKE $1`, [`${prefix}%`]);
      const id = rec.id ?? `${prefix}${rows[0].n}`;
      await c.query(
        `INSERT INTO evidence_collections (id, incident_id, started_at, finished_at, status, collectors, since, namespace, selector, kube_context, collected_by, ir_version, pid, host)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [id, rec.incidentId, rec.startedAt, rec.finishedAt, rec.status, JSON.stringify(rec.collectors), rec.since, rec.namespace, rec.selector, rec.kubeContext, rec.collectedBy, rec.irVersion, rec.pid, rec.host],
      );
      const event = started(id);
      await this.store.appendIn(c, rec.incidentId, () => event, new Date(rec.startedAt), actor, opts);
      const { id: _given, ...rest } = rec;
      return { ...rest, id };
    });
  }

  async addFiles(collectionId: string, files: FileRecord[]): Promise<void> {
    if (!files.length) return;
    await this.store.tx(async (c) => {
      for (const f of files) {
        await c.query(
          `INSERT INTO evidence_files (collection_id, collector, file, source, started_at, finished_at, bytes, sha256, status, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [collectionId, f.collector, f.file, f.source, f.startedAt, f.finishedAt, f.bytes, f.sha256, f.status, f.reason ?? null],
        );
      }
    });
  }

  async addOpened(collectionId: string, f: OpenedFile): Promise<void> {
    await this.store.query(`INSERT INTO evidence_files_opened (collection_id, collector, file, source, opened_at) VALUES ($1, $2, $3, $4, $5)`, [collectionId, f.collector, f.file, f.source, f.openedAt]);
  }

  async opened(collectionId: string): Promise<OpenedFile[]> {
    const rows = await this.store.query<{ collector: string; file: string; source: string; opened_at: string }>(
      `SELECT collector, file, source, opened_at FROM evidence_files_opened WHERE collection_id = $1 ORDER BY id`,
      [collectionId],
    );
    return rows.map((r) => ({ collector: r.collector, file: r.file, source: r.source, openedAt: r.opened_at }));
  }

  async finish(collectionId: string, status: Exclude<CollectionStatus, 'running'>, finishedAt: string, collected: NewEvent, actor: string, opts?: WriteOptions): Promise<void> {
    await this.store.tx(async (c) => {
      const { rows } = await c.query<{ incident_id: string }>(`UPDATE evidence_collections SET status = $1, finished_at = $2, pid = NULL WHERE id = $3 RETURNING incident_id`, [status, finishedAt, collectionId]);
      if (!rows[0]) throw new Error(`no evidence collection ${collectionId}`);
      await this.store.appendIn(c, rows[0].incident_id, () => collected, new Date(finishedAt), actor, opts);
    });
  }

  async get(id: string): Promise<CollectionRecord | undefined> {
    const [r] = await this.store.query<CollectionRow>(`SELECT * FROM evidence_collections WHERE id = $1`, [id]);
    return r && collectionFromRow(r);
  }

  async forIncident(incidentId: string): Promise<CollectionRecord[]> {
    return (await this.store.query<CollectionRow>(`SELECT * FROM evidence_collections WHERE incident_id = $1 ORDER BY started_at, ord`, [incidentId])).map(collectionFromRow);
  }

  async files(collectionId: string): Promise<FileRecord[]> {
    const rows = await this.store.query<FileRow>(`SELECT * FROM evidence_files WHERE collection_id = $1 ORDER BY id`, [collectionId]);
    return rows.map(fileFromRow);
  }
}
