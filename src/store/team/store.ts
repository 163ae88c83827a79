// The team store as commands see it: PostgreSQL when it answers, and this machine's outbox and
// last-seen copy when it does not, so a responder keeps working when the network is the incident.
// Writes carry a delivery key, so a write whose reply was lost and is then retried from the outbox
// lands once. What was written offline is delivered first, in order, by the next command that
// reaches the server; an event that no longer applies is delivered as `sync.rejected`, not dropped.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { applyEvent, type Incident, type NewEvent, type TimelineEvent } from '../../core/incident.js';
import { replay } from '../../core/replay.js';
import { UserError } from '../../errors.js';
import type { FileRecord } from '../../evidence/types.js';
import { isConnectionError, StoreUnreachable } from '../postgres/errors.js';
import { maskUrl, type PostgresStore } from '../postgres/store.js';
import {
  AlreadyDelivered,
  type ChainHead,
  type CollectionRecord,
  type CollectionStatus,
  type Decide,
  type DeclareInput,
  type EvidenceStore,
  type EventOutline,
  type IterateOptions,
  type OpenedFile,
  type RunChanges,
  type RunRecord,
  type RunStore,
  type Store,
  type StoreInfo,
  type VerifyResult,
  type WatchOptions,
  type WriteOptions,
} from '../types.js';
import { pause, Wakeups } from '../wake.js';
import { LastSeen } from './cache.js';
import { Outbox, type OutboxEntry } from './outbox.js';

export interface TeamOptions {
  /** The responder's home: the outbox and last-seen copy live under it. */
  home: string;
  origin: string;
  /** One line to the responder (stderr). */
  say: (line: string) => void;
  now: () => Date;
  connectTimeoutMs?: number;
}

/** What a delivery did, for `ir store sync` and the line printed when a command delivers. */
export interface SyncReport {
  delivered: number;
  rejected: { entry: number; incidentId: string; reason: string }[];
  undeliverable: { entry: number; reason: string }[];
  mapped: { provisional: string; team: string }[];
  waiting: number;
  /** Set when delivery stopped because the store went away. */
  stopped?: string;
}

/** How often a live view started offline tries the server again. */
const RETRY_MS = 3_000;
const key = () => `w:${randomBytes(12).toString('hex')}`;
const list = (x: NewEvent | NewEvent[]) => (Array.isArray(x) ? x : [x]);
const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

/** The directory of one team store's outbox and cache in a home (a home may use several stores). */
export function teamDir(home: string, url: string): string {
  return join(home, 'team', createHash('sha256').update(maskUrl(url)).digest('hex').slice(0, 12));
}

/** Replaces provisional ids (of incidents, runs, collections) anywhere in a value. */
function mapIds<T>(value: T, ids: Map<string, string>): T {
  if (!ids.size) return value;
  if (typeof value === 'string') return (ids.get(value) ?? value) as T;
  if (Array.isArray(value)) return value.map((v) => mapIds(v, ids)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapIds(v, ids)])) as T;
  return value;
}

export class TeamStore implements Store {
  readonly localDir = undefined;
  readonly runs: RunStore;
  readonly evidence: EvidenceStore;
  readonly cache: LastSeen;
  /** Set once delivery at open ran: what it did. */
  lastSync?: SyncReport;
  private outboxInstance?: Outbox;
  private offlineWrites = 0;
  private readOffline = false;
  /** Collections this process created online, for an offline finish that needs their incident. */
  readonly collectionIncidents = new Map<string, string>();

  private constructor(
    private remote: PostgresStore | undefined,
    private offlineReason: string | undefined,
    readonly location: string,
    readonly dir: string,
    private readonly opts: TeamOptions,
    private readonly url: string,
  ) {
    this.cache = new LastSeen(dir);
    this.runs = new TeamRuns(this);
    this.evidence = new TeamEvidence(this);
  }

  static async open(url: string, opts: TeamOptions): Promise<TeamStore> {
    const location = maskUrl(url);
    const dir = teamDir(opts.home, url);
    let remote: PostgresStore | undefined;
    let reason: string | undefined;
    try {
      const { PostgresStore } = await import('../postgres/store.js');
      remote = await PostgresStore.open(url, { origin: opts.origin, connectTimeoutMs: opts.connectTimeoutMs });
    } catch (err) {
      if (!(err instanceof StoreUnreachable)) throw err;
      reason = err.reason;
    }
    const store = new TeamStore(remote, reason, location, dir, opts, url);
    if (remote && Outbox.mayHaveWaiting(dir)) {
      store.lastSync = await store.sync();
      store.tellSync(store.lastSync);
    }
    return store;
  }

  get online(): boolean {
    return this.remote !== undefined;
  }

  get unreachableReason(): string | undefined {
    return this.offlineReason;
  }

  async outbox(): Promise<Outbox> {
    this.outboxInstance ??= await Outbox.open(this.dir);
    return this.outboxInstance;
  }

  /** Entries waiting, without opening the outbox when there is none. */
  async waitingCount(): Promise<number> {
    if (!Outbox.exists(this.dir)) return 0;
    return (await this.outbox()).waitingCount();
  }

  /** The server, or undefined (offline) after the connection is found lost. */
  private lost(err: unknown): void {
    this.offlineReason = (err as Error).message?.split('\n')[0] || String(err);
    const r = this.remote;
    this.remote = undefined;
    void r?.close().catch(() => undefined);
  }

  /** Runs a call on the server; a lost connection turns this store offline and returns undefined. */
  private async tryRemote<T>(fn: (r: PostgresStore) => Promise<T>): Promise<{ value: T } | undefined> {
    const r = this.remote;
    if (!r) return undefined;
    try {
      return { value: await fn(r) };
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.lost(err);
      return undefined;
    }
  }

  /** Noted now, said at close: a command that also wrote offline says that instead. */
  private tellReading(): void {
    this.readOffline = true;
  }

  private sayReading(): void {
    const asOf = this.cache.asOf();
    this.opts.say(`team store unreachable (${this.location}: ${this.offlineReason}): showing what this machine last saw${asOf ? ` as of ${asOf.slice(0, 19).replace('T', ' ')}Z` : ' (nothing yet)'}, plus its outbox`);
  }

  private tellSync(r: SyncReport): void {
    const say = this.opts.say;
    if (r.delivered) say(`delivered ${r.delivered} ${r.delivered === 1 ? 'entry' : 'entries'} recorded offline to ${this.location}${r.waiting ? `; ${r.waiting} still waiting` : ''}`);
    for (const m of r.mapped) say(`  ${m.provisional} is now ${m.team}`);
    for (const x of r.rejected) say(`  entry ${x.entry} recorded as not applied on ${x.incidentId}: ${x.reason}`);
    for (const x of r.undeliverable) say(`  entry ${x.entry} kept in the outbox, not delivered: ${x.reason}`);
    if (r.stopped) say(`team store unreachable again (${r.stopped}): ${r.waiting} waiting`);
  }

  // ── delivery ───────────────────────────────────────────────────────────────────────────────

  /** Delivers every waiting entry in order through the normal append path. */
  async sync(): Promise<SyncReport> {
    const report: SyncReport = { delivered: 0, rejected: [], undeliverable: [], mapped: [], waiting: 0 };
    if (!Outbox.exists(this.dir)) return report;
    const outbox = await this.outbox();
    const waiting = outbox.waiting();
    for (const entry of waiting) {
      const remote = this.remote;
      if (!remote) break;
      let outcome: Record<string, unknown>;
      try {
        outcome = await this.deliver(remote, outbox, entry);
      } catch (err) {
        if (isConnectionError(err)) {
          this.lost(err);
          report.stopped = this.offlineReason;
          break;
        }
        // Not the network: this entry cannot be delivered as it is. Keep it, say why, go on.
        const reason = (err as Error).message?.split('\n')[0] ?? String(err);
        outcome = { status: 'undeliverable', reason };
        report.undeliverable.push({ entry: entry.n, reason });
      }
      outbox.markDelivered(entry.n, outcome, this.opts.now());
      if (outcome.status === 'delivered' || outcome.status === 'rejected') report.delivered++;
      if (outcome.status === 'rejected') report.rejected.push({ entry: entry.n, incidentId: String(outcome.incident), reason: String(outcome.reason) });
    }
    report.mapped = outbox.unshownMappings();
    for (const m of report.mapped) this.linkIncidentDir(m.provisional, m.team);
    report.waiting = this.remote ? outbox.settle() : outbox.waitingCount();
    return report;
  }

  /** Evidence files of an incident declared offline stay where they were written; its team id points there. */
  private linkIncidentDir(provisional: string, team: string): void {
    const from = join(this.opts.home, 'incidents', provisional);
    const to = join(this.opts.home, 'incidents', team);
    if (!existsSync(from)) return;
    try {
      lstatSync(to);
      return;
    } catch {
      mkdirSync(join(this.opts.home, 'incidents'), { recursive: true, mode: 0o700 });
      symlinkSync(provisional, to);
    }
  }

  private async deliver(remote: PostgresStore, outbox: Outbox, entry: OutboxEntry): Promise<Record<string, unknown>> {
    const ids = outbox.idMap();
    const b = mapIds(entry.body, ids);
    const now = this.opts.now();
    const late: WriteOptions = { recordedAt: now, deliveryKey: entry.key };
    const at = new Date(String(b.at ?? entry.writtenAt));
    const actor = String(b.actor ?? '');
    const unmapped = (id: string) => /-LOCAL-/.test(id) && !ids.has(id);
    const already = (err: unknown) => err instanceof AlreadyDelivered || isUniqueViolation(err);
    switch (entry.op) {
      case 'declare': {
        const provisional = String(entry.body.provisional);
        let team: string;
        let seq: number;
        try {
          const input = { ...(b.input as DeclareInput), provisional_id: provisional } as DeclareInput;
          const r = await remote.declare(input, at, actor, late);
          team = r.incident.id;
          seq = r.event.seq;
        } catch (err) {
          if (!(err instanceof AlreadyDelivered)) throw err;
          team = err.incidentId;
          seq = err.seq;
        }
        outbox.mapId(provisional, team, now);
        return { status: 'delivered', incident: team, seq };
      }
      case 'append': {
        const incidentId = String(b.incident);
        if (unmapped(incidentId)) throw new Error(`${incidentId} was never delivered`);
        const events = b.events as NewEvent[];
        const rejected: string[] = [];
        try {
          const r = await remote.append(
            incidentId,
            (incident) => {
              let current = incident;
              const out: NewEvent[] = [];
              for (const e of events) {
                const decided = replay(current, e);
                const next: NewEvent = decided.ok
                  ? decided.event
                  : { type: 'sync.rejected', data: { original: { type: e.type, data: e.data }, reason: decided.reason, written_at: at.toISOString() } };
                if (!decided.ok) rejected.push(decided.reason);
                current = applyEvent(current, { incidentId, at: at.toISOString(), type: next.type, actor, data: next.data });
                out.push(next);
              }
              return out;
            },
            at,
            actor,
            late,
          );
          const seq = r.events[r.events.length - 1]?.seq;
          return rejected.length ? { status: 'rejected', incident: incidentId, seq, reason: rejected.join('; ') } : { status: 'delivered', incident: incidentId, seq };
        } catch (err) {
          if (err instanceof AlreadyDelivered) return { status: 'delivered', incident: err.incidentId, seq: err.seq };
          throw err;
        }
      }
      case 'run.create': {
        const rec = b.rec as RunRecord;
        if (unmapped(rec.incidentId)) throw new Error(`${rec.incidentId} was never delivered`);
        try {
          await remote.runs.create(rec);
        } catch (err) {
          if (!already(err)) throw err;
        }
        return { status: 'delivered', run: rec.id };
      }
      case 'run.update':
        await remote.runs.update(String(b.id), b.changes as RunChanges);
        return { status: 'delivered', run: b.id };
      case 'evidence.create': {
        const rec = b.rec as CollectionRecord;
        if (unmapped(rec.incidentId)) throw new Error(`${rec.incidentId} was never delivered`);
        try {
          await remote.evidence.create(rec, () => b.started as NewEvent, actor, late);
        } catch (err) {
          if (!already(err)) throw err;
        }
        return { status: 'delivered', collection: rec.id };
      }
      case 'evidence.opened':
        try {
          await remote.evidence.addOpened(String(b.id), b.file as OpenedFile);
        } catch (err) {
          if (!already(err)) throw err;
        }
        return { status: 'delivered', collection: b.id };
      case 'evidence.files':
        try {
          await remote.evidence.addFiles(String(b.id), b.files as FileRecord[]);
        } catch (err) {
          if (!already(err)) throw err;
        }
        return { status: 'delivered', collection: b.id };
      case 'evidence.finish':
        try {
          await remote.evidence.finish(String(b.id), b.status as Exclude<CollectionStatus, 'running'>, String(b.finishedAt), b.collected as NewEvent, actor, late);
        } catch (err) {
          if (!already(err)) throw err;
        }
        return { status: 'delivered', collection: b.id };
    }
    throw new Error(`unknown outbox entry ${entry.op}`);
  }

  // ── what this machine knows while offline ──────────────────────────────────────────────────

  /** The events written here and not yet delivered, for one incident, as timeline entries marked waiting. */
  async pendingEvents(incidentId: string): Promise<TimelineEvent[]> {
    if (!Outbox.exists(this.dir)) return [];
    const out: TimelineEvent[] = [];
    const push = (e: NewEvent, at: string, actor: string) =>
      out.push({ seq: 0, incidentId, at, type: e.type, actor, data: e.data, prevHash: '', hash: '', origin: this.opts.origin, waiting: true });
    for (const entry of (await this.outbox()).waiting()) {
      const b = entry.body;
      const at = String(b.at ?? entry.writtenAt);
      const actor = String(b.actor ?? '');
      if (entry.op === 'declare' && b.provisional === incidentId) push({ type: 'incident.declared', data: b.input as Record<string, unknown> }, at, actor);
      if (entry.op === 'append' && b.incident === incidentId) for (const e of b.events as NewEvent[]) push(e, at, actor);
      if (entry.op === 'evidence.create' && (b.rec as CollectionRecord).incidentId === incidentId) push(b.started as NewEvent, (b.rec as CollectionRecord).startedAt, actor);
      if (entry.op === 'evidence.finish' && b.incident === incidentId) push(b.collected as NewEvent, String(b.finishedAt), actor);
    }
    return out;
  }

  /** Incidents declared here while offline and not yet delivered. */
  private async provisionalIds(): Promise<string[]> {
    if (!Outbox.exists(this.dir)) return [];
    return (await this.outbox())
      .waiting()
      .filter((e) => e.op === 'declare')
      .map((e) => String(e.body.provisional));
  }

  /** The incident as last seen, with what this machine wrote since folded in. */
  async offlineIncident(id: string): Promise<Incident | undefined> {
    let incident = this.cache.incident(id);
    for (const e of await this.pendingEvents(id)) {
      if (!incident && e.type !== 'incident.declared') continue;
      incident = applyEvent(incident, e);
    }
    return incident;
  }

  /** An id as the team store knows it: a provisional id once delivered becomes its team id. */
  private async teamId(id: string): Promise<string> {
    if (!/-LOCAL-/.test(id) || !Outbox.exists(this.dir)) return id;
    return (await this.outbox()).idMap().get(id) ?? id;
  }

  /** Records a write in the outbox, once per command telling the responder. */
  async record(op: Parameters<Outbox['add']>[0], body: Record<string, unknown>, at: Date, deliveryKey?: string): Promise<void> {
    (await this.outbox()).add(op, body, at, deliveryKey);
    this.offlineWrites++;
  }

  /** A new id for something made offline: unique to this installation, so never taken in the team store. */
  async localId(kind: 'INC' | 'RUN' | 'EV', base: string): Promise<string> {
    const outbox = await this.outbox();
    const installation = this.opts.origin.split('/').pop() ?? 'local';
    const n = outbox.nextLocal(`${kind}:${base}`);
    if (kind === 'INC') {
      const host = hostname().split('.')[0].replace(/[^A-Za-z0-9]+/g, '-').toLowerCase() || 'host';
      return `INC-LOCAL-${host}-${installation}-${n}`;
    }
    return `${base}-L${installation}-${n}`;
  }

  /** True while writes must go to the outbox: offline, or entries still wait (order is kept). */
  private async mustQueue(): Promise<boolean> {
    if (!this.remote) return true;
    return Outbox.mayHaveWaiting(this.dir) && (await this.waitingCount()) > 0;
  }

  // ── Store ──────────────────────────────────────────────────────────────────────────────────

  async declare(input: DeclareInput, at: Date, actor: string, opts: WriteOptions = {}): Promise<{ incident: Incident; event: TimelineEvent }> {
    const k = opts.deliveryKey ?? key();
    if (!(await this.mustQueue())) {
      const r = await this.tryRemote((remote) => remote.declare(input, at, actor, { ...opts, deliveryKey: k }));
      if (r) {
        this.cache.putIncidents([r.value.incident], 'some', this.opts.now());
        this.cache.putEvents(r.value.incident.id, [r.value.event]);
        return r.value;
      }
    }
    const provisional = await this.localId('INC', 'INC');
    const data: Record<string, unknown> = { ...input };
    for (const f of Object.keys(data)) if (data[f] === undefined || data[f] === '') delete data[f];
    await this.record('declare', { provisional, input: data, at: at.toISOString(), actor }, at, k);
    const incident = applyEvent(undefined, { incidentId: provisional, at: at.toISOString(), type: 'incident.declared', actor, data });
    return { incident, event: { seq: 0, incidentId: provisional, at: at.toISOString(), type: 'incident.declared', actor, data, prevHash: '', hash: '', waiting: true } };
  }

  async append(incidentId: string, decide: Decide, at: Date, actor: string, opts: WriteOptions = {}): Promise<{ incident: Incident; events: TimelineEvent[] }> {
    const id = await this.teamId(incidentId);
    const k = opts.deliveryKey ?? key();
    if (!(await this.mustQueue())) {
      const r = await this.tryRemote((remote) => remote.append(id, decide, at, actor, { ...opts, deliveryKey: k }));
      if (r) {
        this.cache.putIncidents([r.value.incident], 'some', this.opts.now());
        this.cache.addEvents(id, r.value.events);
        return r.value;
      }
    }
    const incident = await this.offlineIncident(id);
    if (!incident) throw new UserError(`${id} is not known on this machine, and the team store is unreachable (${this.offlineReason ?? 'entries wait in the outbox'})`);
    const wanted = list(decide(incident));
    if (!wanted.length) return { incident, events: [] };
    await this.record('append', { incident: id, events: wanted, at: at.toISOString(), actor }, at, k);
    let current = incident;
    const events = wanted.map((e): TimelineEvent => {
      current = applyEvent(current, { incidentId: id, at: at.toISOString(), type: e.type, actor, data: e.data });
      return { seq: 0, incidentId: id, at: at.toISOString(), type: e.type, actor, data: e.data, prevHash: '', hash: '', origin: this.opts.origin, waiting: true };
    });
    return { incident: current, events };
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    const tid = await this.teamId(id);
    const r = await this.tryRemote((remote) => remote.getIncident(tid));
    if (r) {
      if (r.value) this.cache.putIncidents([r.value], 'some', this.opts.now());
      return r.value;
    }
    this.tellReading();
    return this.offlineIncident(tid);
  }

  async listIncidents(opts: { all?: boolean } = {}): Promise<Incident[]> {
    const r = await this.tryRemote((remote) => remote.listIncidents(opts));
    if (r) {
      this.cache.putIncidents(r.value, opts.all ? 'all' : 'open', this.opts.now());
      return r.value;
    }
    this.tellReading();
    const ids = new Set([...this.cache.incidents().map((i) => i.id), ...(await this.provisionalIds())]);
    const out: Incident[] = [];
    for (const id of ids) {
      const incident = await this.offlineIncident(id);
      if (incident && (opts.all || incident.state !== 'resolved')) out.push(incident);
    }
    return out.sort((a, b) => (a.declaredAt === b.declaredAt ? (a.id < b.id ? 1 : -1) : a.declaredAt < b.declaredAt ? 1 : -1));
  }

  async events(incidentId: string): Promise<TimelineEvent[]> {
    const id = await this.teamId(incidentId);
    const r = await this.tryRemote((remote) => remote.events(id));
    if (r) {
      this.cache.putEvents(id, r.value);
      return r.value;
    }
    this.tellReading();
    return [...this.cache.events(id), ...(await this.pendingEvents(id))];
  }

  async *iterateEvents(incidentId: string, opts?: IterateOptions): AsyncIterable<TimelineEvent> {
    for await (const page of this.eventPages(incidentId, opts)) for (const e of page) yield e;
  }

  async *eventPages(incidentId: string, opts?: IterateOptions): AsyncIterable<TimelineEvent[]> {
    const id = await this.teamId(incidentId);
    if (this.remote) {
      // A connection lost half-way through is an error here, not a silent switch to an older copy.
      // What went by is kept for offline reading, as events() keeps it, once all of it went by.
      const copy = this.cache.eventWriter(id);
      try {
        // Read whole, hashes and all, whatever the reader leaves out: the copy must be one verify trusts.
        for await (const page of this.remote.eventPages(id, { batch: opts?.batch })) {
          for (const e of page) copy.add(e);
          yield page;
        }
        copy.commit();
      } finally {
        copy.close();
      }
      return;
    }
    const all = await this.events(id);
    if (all.length) yield all;
  }

  async eventOutline(incidentId: string): Promise<EventOutline | undefined> {
    // Offline, the events are the cached copy and the outbox, already in memory: read them instead.
    const id = await this.teamId(incidentId);
    return (await this.tryRemote((remote) => remote.eventOutline(id)))?.value;
  }

  async eventsSince(afterSeq: number, incidentId?: string, limit?: number): Promise<TimelineEvent[]> {
    const id = incidentId && (await this.teamId(incidentId));
    const r = await this.tryRemote((remote) => remote.eventsSince(afterSeq, id, limit));
    if (r) return r.value;
    const ids = id ? [id] : this.cache.incidents().map((i) => i.id);
    const seen = ids.flatMap((i) => this.cache.events(i)).filter((e) => e.seq > afterSeq);
    return seen.sort((a, b) => a.seq - b.seq).slice(0, limit ?? seen.length);
  }

  async latestSeq(): Promise<number> {
    const r = await this.tryRemote((remote) => remote.latestSeq());
    if (r) return r.value;
    return Math.max(0, ...this.cache.incidents().flatMap((i) => this.cache.events(i.id).map((e) => e.seq)));
  }

  /**
   * Wake-ups from the server's LISTEN while it answers. Started offline, it tries the server again
   * every few seconds and, once it answers, delivers the outbox and follows the server from then on.
   */
  watch(signal: AbortSignal, opts: WatchOptions = {}): AsyncIterable<void> {
    if (this.remote) return this.remote.watch(signal, opts);
    const wakes = new Wakeups(signal);
    void (async () => {
      opts.onConnection?.('lost', this.offlineReason);
      wakes.wake();
      while (!signal.aborted && !this.remote) {
        await pause(RETRY_MS, signal);
        if (signal.aborted) break;
        try {
          const { PostgresStore } = await import('../postgres/store.js');
          this.remote = await PostgresStore.open(this.url, { origin: this.opts.origin, connectTimeoutMs: this.opts.connectTimeoutMs });
          this.offlineReason = undefined;
        } catch (err) {
          if (!(err instanceof StoreUnreachable)) throw err;
          this.offlineReason = err.reason;
        }
      }
      if (signal.aborted || !this.remote) return wakes.end();
      if (Outbox.mayHaveWaiting(this.dir)) this.tellSync(await this.sync());
      opts.onConnection?.('back');
      for await (const _ of this.remote.watch(signal, opts)) wakes.wake();
      wakes.end();
    })().catch(() => wakes.end());
    return wakes;
  }

  async head(incidentId: string): Promise<ChainHead | undefined> {
    const id = await this.teamId(incidentId);
    const r = await this.tryRemote((remote) => remote.head(id));
    if (r) return r.value;
    this.tellReading();
    const last = this.cache.events(id).pop();
    return last && { incidentId: id, seq: last.seq, hash: last.hash, at: last.at };
  }

  async delivery(k: string): Promise<{ incidentId: string; seq: number } | undefined> {
    const r = await this.tryRemote((remote) => remote.delivery(k));
    if (!r) throw this.unreachable('look up a delivery');
    return r.value;
  }

  async verify(incidentId?: string, anchors?: { seq: number; hash: string }[]): Promise<VerifyResult> {
    const id = incidentId && (await this.teamId(incidentId));
    const r = await this.tryRemote((remote) => remote.verify(id, anchors));
    if (!r) throw this.unreachable('verify the team chain');
    return r.value;
  }

  /** The server's own status; offline there is none to give (`ir store status` exits 1 naming why). */
  async describe(): Promise<StoreInfo> {
    const r = await this.tryRemote((remote) => remote.describe());
    if (!r) throw this.unreachable('report its status');
    return r.value;
  }

  /** An error for what only the server can answer. */
  unreachable(what: string): StoreUnreachable {
    return new StoreUnreachable(this.location, `${this.offlineReason ?? 'not connected'}; cannot ${what} until it answers`);
  }

  /** The server while reachable, for what only it can do (sync, status); undefined offline. */
  server(): PostgresStore | undefined {
    return this.remote;
  }

  async queueOrRemote<T>(online: (r: PostgresStore) => Promise<T>, offline: () => Promise<T>): Promise<T> {
    if (!(await this.mustQueue())) {
      const r = await this.tryRemote(online);
      if (r) return r.value;
    }
    return offline();
  }

  async close(): Promise<void> {
    if (!this.offlineWrites && this.readOffline) this.sayReading();
    if (this.offlineWrites) {
      const n = await this.waitingCount();
      this.opts.say(`team store unreachable: recorded locally, ${n} waiting (${this.location}: ${this.offlineReason ?? 'earlier entries still wait'}); the next command that reaches it delivers them, or \`ir store sync\``);
    }
    this.outboxInstance?.close();
    this.outboxInstance = undefined;
    await this.remote?.close();
  }

  // ── offline runs and collections: folded from the outbox ───────────────────────────────────

  async offlineRuns(): Promise<RunRecord[]> {
    if (!Outbox.exists(this.dir)) return [];
    const runs = new Map<string, RunRecord>();
    for (const e of (await this.outbox()).entries()) {
      if (e.op === 'run.create') {
        const rec = e.body.rec as RunRecord;
        runs.set(rec.id, { ...rec, stepProcess: null });
      } else if (e.op === 'run.update') {
        const run = runs.get(String(e.body.id));
        if (run) runs.set(run.id, { ...run, ...(e.body.changes as RunChanges) });
      }
    }
    return [...runs.values()];
  }

  async offlineCollections(): Promise<{ rec: CollectionRecord; files: FileRecord[]; opened: OpenedFile[] }[]> {
    if (!Outbox.exists(this.dir)) return [];
    const out = new Map<string, { rec: CollectionRecord; files: FileRecord[]; opened: OpenedFile[] }>();
    for (const e of (await this.outbox()).entries()) {
      const b = e.body;
      if (e.op === 'evidence.create') {
        const rec = b.rec as CollectionRecord;
        out.set(rec.id, { rec, files: [], opened: [] });
        continue;
      }
      const c = out.get(String(b.id));
      if (!c) continue;
      if (e.op === 'evidence.opened') c.opened.push(b.file as OpenedFile);
      if (e.op === 'evidence.files') c.files.push(...(b.files as FileRecord[]));
      if (e.op === 'evidence.finish') c.rec = { ...c.rec, status: b.status as CollectionStatus, finishedAt: String(b.finishedAt), pid: null };
    }
    return [...out.values()];
  }
}

class TeamRuns implements RunStore {
  constructor(private readonly team: TeamStore) {}

  async create(rec: Omit<RunRecord, 'id' | 'stepProcess'> & { id?: string }): Promise<RunRecord> {
    return this.team.queueOrRemote(
      (r) => r.runs.create(rec),
      async () => {
        const id = rec.id ?? (await this.team.localId('RUN', rec.incidentId.replace(/^INC-/, 'RUN-')));
        const full: RunRecord = { ...rec, id, stepProcess: null };
        await this.team.record('run.create', { rec: full }, new Date(rec.startedAt));
        return full;
      },
    );
  }

  async update(id: string, changes: RunChanges): Promise<void> {
    await this.team.queueOrRemote(
      (r) => r.runs.update(id, changes),
      () => this.team.record('run.update', { id, changes }, new Date()),
    );
  }

  private async pick(online: (r: PostgresStore) => Promise<RunRecord[]>, keep: (r: RunRecord) => boolean): Promise<RunRecord[]> {
    const server = this.team.server();
    if (server) {
      try {
        const found = await online(server);
        // Runs made offline and not yet delivered are this machine's too.
        const local = (await this.team.offlineRuns()).filter((r) => keep(r) && !found.some((f) => f.id === r.id));
        return [...found, ...local];
      } catch (err) {
        if (!isConnectionError(err)) throw err;
      }
    }
    return (await this.team.offlineRuns()).filter(keep);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    return (await this.pick(async (r) => [await r.runs.get(id)].filter((x): x is RunRecord => !!x), (r) => r.id === id))[0];
  }

  async unfinished(incidentId: string, runbookId?: string): Promise<RunRecord | undefined> {
    const all = await this.pick(
      async (r) => [await r.runs.unfinished(incidentId, runbookId)].filter((x): x is RunRecord => !!x),
      (r) => r.incidentId === incidentId && (!runbookId || r.runbookId === runbookId) && (r.status === 'running' || r.status === 'interrupted'),
    );
    return all.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))[0];
  }

  async withStepProcess(incidentId: string, runbookId: string): Promise<RunRecord[]> {
    return this.pick(
      (r) => r.runs.withStepProcess(incidentId, runbookId),
      (r) => r.incidentId === incidentId && r.runbookId === runbookId && (r.status === 'running' || r.status === 'interrupted') && r.stepProcess !== null,
    );
  }

  async forIncident(incidentId: string): Promise<RunRecord[]> {
    return this.pick((r) => r.runs.forIncident(incidentId), (r) => r.incidentId === incidentId);
  }
}

class TeamEvidence implements EvidenceStore {
  constructor(private readonly team: TeamStore) {}

  async create(rec: Omit<CollectionRecord, 'id'> & { id?: string }, started: (id: string) => NewEvent, actor: string, opts: WriteOptions = {}): Promise<CollectionRecord> {
    const created = await this.team.queueOrRemote(
      (r) => r.evidence.create(rec, started, actor, { ...opts, deliveryKey: opts.deliveryKey ?? key() }),
      async () => {
        const stamp = rec.startedAt.slice(0, 19).replace(/[-:]/g, '');
        const id = rec.id ?? (await this.team.localId('EV', `EV-${stamp}`));
        const full: CollectionRecord = { ...rec, id };
        await this.team.record('evidence.create', { rec: full, started: started(id), actor }, new Date(rec.startedAt));
        return full;
      },
    );
    this.team.collectionIncidents.set(created.id, created.incidentId);
    return created;
  }

  async addFiles(collectionId: string, files: FileRecord[]): Promise<void> {
    if (!files.length) return;
    await this.team.queueOrRemote(
      (r) => r.evidence.addFiles(collectionId, files),
      () => this.team.record('evidence.files', { id: collectionId, files }, new Date()),
    );
  }

  async addOpened(collectionId: string, f: OpenedFile): Promise<void> {
    await this.team.queueOrRemote(
      (r) => r.evidence.addOpened(collectionId, f),
      () => this.team.record('evidence.opened', { id: collectionId, file: f }, new Date(f.openedAt)),
    );
  }

  async finish(collectionId: string, status: Exclude<CollectionStatus, 'running'>, finishedAt: string, collected: NewEvent, actor: string, opts: WriteOptions = {}): Promise<void> {
    await this.team.queueOrRemote(
      (r) => r.evidence.finish(collectionId, status, finishedAt, collected, actor, { ...opts, deliveryKey: opts.deliveryKey ?? key() }),
      async () => {
        const incident = this.team.collectionIncidents.get(collectionId) ?? (await this.get(collectionId))?.incidentId;
        if (!incident) throw new UserError(`evidence collection ${collectionId} is not known on this machine, and the team store is unreachable`);
        await this.team.record('evidence.finish', { id: collectionId, incident, status, finishedAt, collected, actor }, new Date(finishedAt));
      },
    );
  }

  private async local(id: string) {
    return (await this.team.offlineCollections()).find((c) => c.rec.id === id);
  }

  private async readBoth<T>(online: (r: PostgresStore) => Promise<T>, offline: () => Promise<T>, prefer: (v: T) => boolean): Promise<T> {
    const server = this.team.server();
    if (server) {
      try {
        const v = await online(server);
        if (prefer(v)) return v;
      } catch (err) {
        if (!isConnectionError(err)) throw err;
      }
    }
    return offline();
  }

  async opened(collectionId: string): Promise<OpenedFile[]> {
    return this.readBoth((r) => r.evidence.opened(collectionId), async () => (await this.local(collectionId))?.opened ?? [], (v) => v.length > 0);
  }

  async get(id: string): Promise<CollectionRecord | undefined> {
    return this.readBoth((r) => r.evidence.get(id), async () => (await this.local(id))?.rec, (v) => v !== undefined);
  }

  async forIncident(incidentId: string): Promise<CollectionRecord[]> {
    const server = this.team.server();
    let found: CollectionRecord[] = [];
    if (server) {
      try {
        found = await server.evidence.forIncident(incidentId);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
      }
    }
    const local = (await this.team.offlineCollections()).map((c) => c.rec).filter((c) => c.incidentId === incidentId && !found.some((f) => f.id === c.id));
    return [...found, ...local];
  }

  async files(collectionId: string): Promise<FileRecord[]> {
    return this.readBoth((r) => r.evidence.files(collectionId), async () => (await this.local(collectionId))?.files ?? [], (v) => v.length > 0);
  }
}
