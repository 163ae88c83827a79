// The Store seam: what commands and core may ask of any backend (SQLite today), and nothing about SQL.

import type { Incident, NewEvent, TimelineEvent } from '../core/incident.js';
import type { FileRecord } from '../evidence/types.js';

/** The newest event of an incident's chain; written as `SEQ:HASH` where a team keeps it. */
export interface ChainHead {
  incidentId: string;
  seq: number;
  hash: string;
  at: string;
}

export interface DeclareInput {
  title: string;
  severity: string;
  service?: string;
  impact?: string;
  commander?: string;
  detected_at?: string;
}

export interface VerifyProblem {
  incidentId: string;
  seq?: number;
  reason: string;
}

export interface AnchorResult {
  seq: number;
  hash: string;
  incidentId?: string;
  ok: boolean;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  incidents: number;
  events: number;
  problems: VerifyProblem[];
  /** The anchored heads that were checked, and whether the chain still holds each. */
  anchors: AnchorResult[];
}

/**
 * Chooses the events to append from the incident as it stands inside the write lock. Synchronous on
 * purpose: nothing may run between the check and the insert. It sees only the record (which carries
 * what decisions need, such as the action items), so a network backend never loads the timeline
 * inside its transaction.
 */
export type Decide = (incident: Incident) => NewEvent | NewEvent[];

/** How a store is opened. */
export interface StoreOptions {
  /** Written into every new event: where it was written (`host/installation`). */
  origin?: string;
  /** A network store: how long to wait for a connection before calling it unreachable. */
  connectTimeoutMs?: number;
}

/** What `ir store status` reports about a store, whichever backend it is. */
export interface StoreInfo {
  backend: 'sqlite' | 'postgresql';
  /** As `location`: password masked. */
  location: string;
  /** The engine's version (SQLite library, or the server's `server_version`). */
  serverVersion: string;
  /** The schema version the store is at, and the one this ir knows. */
  schemaVersion: number;
  knownSchemaVersion: number;
  /** Median round trip of a few `SELECT 1`, in ms. */
  latencyMs: number;
  incidents: number;
  events: number;
}

/** What a live view hears about the connection behind its wake-ups (the team store only). */
export interface WatchOptions {
  /** The subscription was lost (`lost`, with the cause) or is back after a loss (`back`). */
  onConnection?: (state: 'lost' | 'back', cause?: string) => void;
}

/** For an event written earlier (offline) and delivered now: when the store received it. */
export interface WriteOptions {
  recordedAt?: Date;
  /**
   * Names this write once for all its retries: the store records the key with the write, and a second
   * write with the same key fails with AlreadyDelivered instead of adding the events again.
   */
  deliveryKey?: string;
}

/** A write whose delivery key the store already holds: it committed before (its reply was lost). */
export class AlreadyDelivered extends Error {
  constructor(
    readonly key: string,
    readonly incidentId: string,
    readonly seq: number,
  ) {
    super(`already delivered as event ${seq} of ${incidentId}`);
  }
}

/** How a streamed timeline is read. */
export interface IterateOptions {
  /** Events per page (default: the backend's). */
  batch?: number;
  /**
   * Hashes the reader will not look at (a printed timeline shows neither): not read, and '' in each
   * event. Reading a 64-digit hash costs about as much as the rest of a short event.
   */
  without?: ('prevHash' | 'hash')[];
}

/**
 * What an aligned timeline needs to know before its first row, read without building every event:
 * how many events, each actor, and whether every time is in ir's own ISO form.
 */
export interface EventOutline {
  count: number;
  actors: string[];
  /** Every `at` reads YYYY-MM-DDTHH:MM:SS.mmmZ (as toISOString writes it). */
  isoTimes: boolean;
}

/**
 * An incident's events in a SQLite file on this machine, which another thread can read on its own
 * connection: the seqs of its first and newest event when asked. Events are append-only, so the rows
 * up to `last` read the same on every connection from then on.
 */
export interface LocalTimeline {
  path: string;
  first: number;
  last: number;
}

/** Beyond this many actors an outline is not worth holding; the timeline reads its events instead. */
export const MAX_OUTLINE_ACTORS = 1000;

export interface Store {
  /** Where the store is, for messages: a file path, or a URL with its password masked. */
  readonly location: string;
  /** The local directory holding the store's files (for the disk-full reserve); undefined when remote. */
  readonly localDir: string | undefined;
  readonly runs: RunStore;
  readonly evidence: EvidenceStore;

  /** Opens a new incident with its first event; the id is allocated inside the same transaction. */
  declare(input: DeclareInput, at: Date, actor: string, opts?: WriteOptions): Promise<{ incident: Incident; event: TimelineEvent }>;
  /** Appends what `decide` returns, atomically: decide, chain and insert happen under one write lock. */
  append(incidentId: string, decide: Decide, at: Date, actor: string, opts?: WriteOptions): Promise<{ incident: Incident; events: TimelineEvent[] }>;
  /** The incident as its events say it is. */
  getIncident(id: string): Promise<Incident | undefined>;
  /** Open incidents (or all with `all`), newest first. */
  listIncidents(opts?: { all?: boolean }): Promise<Incident[]>;
  /** An incident's events, oldest first. */
  events(incidentId: string): Promise<TimelineEvent[]>;
  /**
   * The same, one at a time, for timelines too long to hold at once: read in pages of `batch` events
   * (keyset on seq, so each page costs the same however far in), never the whole timeline.
   */
  iterateEvents(incidentId: string, opts?: IterateOptions): AsyncIterable<TimelineEvent>;
  /**
   * The same events a page at a time (up to `batch` each, none empty): for a reader of a million
   * events, one await per page rather than one per event.
   */
  eventPages(incidentId: string, opts?: IterateOptions): AsyncIterable<TimelineEvent[]>;
  /**
   * The outline of an incident's events, answered by the backend's own query in a fraction of a
   * read; undefined when it cannot say cheaply (more than a thousand actors, or offline), and the
   * caller reads the events instead.
   */
  eventOutline?(incidentId: string): Promise<EventOutline | undefined>;
  /**
   * Where the incident's events can be read from other threads (a long timeline is rendered on two):
   * only a store in a local SQLite file can say; undefined for an incident without events.
   */
  localTimeline?(incidentId: string): Promise<LocalTimeline | undefined>;
  /**
   * Events with seq above `afterSeq`, oldest first: of one incident, or of every incident without
   * one; at most `limit` (default 500), so a reader pages by calling again after the last seq.
   * Seqs are store-wide and become visible in order, so nothing can land behind a seq already read.
   */
  eventsSince(afterSeq: number, incidentId?: string, limit?: number): Promise<TimelineEvent[]>;
  /** The seq of the newest event in the store (0 when empty): where a view of everything starts. */
  latestSeq(): Promise<number>;
  /**
   * Wakes the caller whenever the store may have changed, until `signal` aborts: once as soon as
   * the subscription is in place (and again after it was lost and is back), then after writes by
   * anyone. A wake carries no data; wakes may be coalesced, so the reader re-reads after its last seq.
   */
  watch(signal: AbortSignal, opts?: WatchOptions): AsyncIterable<void>;
  /** The newest event of an incident's chain, or undefined for an unknown incident. */
  head(incidentId: string): Promise<ChainHead | undefined>;
  /** Where a write with this delivery key landed, if it did. */
  delivery(key: string): Promise<{ incidentId: string; seq: number } | undefined>;
  /** Walks each incident's chain (or one) and checks anchored heads against it. */
  verify(incidentId?: string, anchors?: { seq: number; hash: string }[]): Promise<VerifyResult>;
  /** Which store this is and how it is doing, for `ir store status`. */
  describe(): Promise<StoreInfo>;
  close(): Promise<void>;
}

export type RunStatus = 'running' | 'interrupted' | 'completed' | 'completed_with_failures' | 'failed' | 'aborted';

export interface RunRecord {
  id: string;
  incidentId: string;
  runbookId: string;
  runbookPath: string;
  runbookSha256: string;
  startedAt: string;
  updatedAt: string;
  status: RunStatus;
  /** Index (across phases) of the next step to offer. */
  nextIndex: number;
  /** The step that had started and not finished; set means the process died or was stopped inside it. */
  currentIndex: number | null;
  /** Variable values, secrets excluded: secrets are asked for or read from the environment again. */
  vars: Record<string, string>;
  failures: number;
  pid: number | null;
  host: string | null;
  /** The process of the step in flight (set when it starts, cleared when it is recorded). */
  stepProcess: StepProcess | null;
}

/** A step's process as recorded when it started: enough to find it again after ir was killed. */
export interface StepProcess {
  pid: number;
  startTicks: number;
  bootId: string;
  startedAt: string;
  host: string;
  /** As shown to the responder (secrets masked). */
  command: string;
  outputFile: string;
}

export type RunChanges = Partial<Pick<RunRecord, 'status' | 'nextIndex' | 'currentIndex' | 'vars' | 'failures' | 'pid' | 'host' | 'updatedAt' | 'stepProcess'>>;

/** Where each runbook run stands: working state for resume, not history (that is in the events). */
export interface RunStore {
  /** A new run id: RUN-<incident suffix>-<n>, unique within the store; or `id` when given (a run made offline). */
  create(rec: Omit<RunRecord, 'id' | 'stepProcess'> & { id?: string }): Promise<RunRecord>;
  update(id: string, changes: RunChanges): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  /** The most recent run that did not finish, for this incident (and runbook, when given). */
  unfinished(incidentId: string, runbookId?: string): Promise<RunRecord | undefined>;
  /** Unfinished runs of this runbook whose step was in flight with a recorded process. */
  withStepProcess(incidentId: string, runbookId: string): Promise<RunRecord[]>;
  forIncident(incidentId: string): Promise<RunRecord[]>;
}

/** A file as it was opened: where, by which collector, from what source. */
export interface OpenedFile {
  collector: string;
  /** Relative to the incident directory. */
  file: string;
  source: string;
  openedAt: string;
}

export type CollectionStatus = 'running' | 'complete' | 'partial';

export interface CollectionRecord {
  id: string;
  incidentId: string;
  startedAt: string;
  finishedAt: string | null;
  status: CollectionStatus;
  collectors: string[];
  since: string | null;
  namespace: string | null;
  selector: string | null;
  kubeContext: string | null;
  collectedBy: string;
  irVersion: string;
  pid: number | null;
  host: string | null;
}

/** Evidence collections and their file records; file records are append-only. */
export interface EvidenceStore {
  /**
   * Allocates the next id for this second (EV-20261123T101500-1, …), inserts the row and appends
   * `started(id)` to the incident (at the collection's start, by `actor`) in one transaction, so a
   * row never exists without its event.
   */
  create(rec: Omit<CollectionRecord, 'id'> & { id?: string }, started: (id: string) => NewEvent, actor: string, opts?: WriteOptions): Promise<CollectionRecord>;
  addFiles(collectionId: string, files: FileRecord[]): Promise<void>;
  /** A file about to be created: recorded before its first byte, so a crash cannot orphan it. */
  addOpened(collectionId: string, f: OpenedFile): Promise<void>;
  /** Files opened in the collection, in the order they were opened. */
  opened(collectionId: string): Promise<OpenedFile[]>;
  /** Marks the collection finished and appends `collected` (at `finishedAt`, by `actor`) in one transaction. */
  finish(collectionId: string, status: Exclude<CollectionStatus, 'running'>, finishedAt: string, collected: NewEvent, actor: string, opts?: WriteOptions): Promise<void>;
  get(id: string): Promise<CollectionRecord | undefined>;
  forIncident(incidentId: string): Promise<CollectionRecord[]>;
  files(collectionId: string): Promise<FileRecord[]>;
}
