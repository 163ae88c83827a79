// The hash chain's meaning, shared by every backend: event hash, record digest, head notation.

import { sha256HexJs } from './sha256.js';
import { applyEvent, PROJECTED_TYPES, PROJECTION_RULES, type Incident, type TimelineEvent } from '../core/incident.js';
import { canonicalJson, quoteJson } from './canonical.js';
import type { AnchorResult, VerifyProblem } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The columns of one event as stored; every backend keeps exactly these. */
export interface EventRow {
  seq: number;
  incident_id: string;
  at: string;
  type: string;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
  /** sha256 of the canonical incident record after this event; null on events older than schema 4. */
  state_sha256: string | null;
  /** Where the event was written (`host/installation`); null on events older than schema 7. */
  origin?: string | null;
  /** When the store received an event written earlier offline; null when that was at `at`. */
  recorded_at?: string | null;
}

export function formatHead(head: { seq: number; hash: string }): string {
  return `${head.seq}:${head.hash}`;
}

/** `SEQ:HASH` (as printed by `ir timeline --head` and written into reports) or undefined. */
export function parseHead(text: string): { seq: number; hash: string } | undefined {
  const m = /^\s*(\d+):([0-9a-f]{64})\s*$/i.exec(text);
  return m ? { seq: Number(m[1]), hash: m[2].toLowerCase() } : undefined;
}

/** The hash of one event row: sha256 over the previous hash and the row's canonical JSON. */
export function eventHash(
  prevHash: string,
  row: Omit<EventRow, 'prev_hash' | 'hash' | 'state_sha256' | 'origin' | 'recorded_at'> & { state_sha256?: string | null; origin?: string | null; recorded_at?: string | null },
): string {
  return sha256Hex(prevHash + eventBody(row));
}

/**
 * canonicalJson of an event row, written out for its fixed shape: this runs once per event on every
 * append and every cache check, where sorting keys for each row was most of the cost. The keys stand
 * in canonical (sorted) order; an absent (not null) field is left out, as canonicalJson leaves out
 * undefined — absent on events written before the digest existed (state_sha256, schema 4) or
 * before origins (schema 7), and recorded_at absent unless the event arrived late, so old hashes hold.
 * The data is JSON text, quotes and all, so it goes to JSON.stringify without asking.
 * test/store/stream.test.ts holds it to canonicalJson.
 */
export function eventBody(row: { seq: number; incident_id: string; at: string; type: string; actor: string; data: string; state_sha256?: string | null; origin?: string | null; recorded_at?: string | null }): string {
  return `{"actor":${LAST.actor.of(row.actor)},"at":${q(row.at)},"data":${JSON.stringify(row.data)},"incident_id":${LAST.incident.of(row.incident_id)}${row.origin == null ? '' : `,"origin":${q(row.origin)}`}${
    row.recorded_at == null ? '' : `,"recorded_at":${q(row.recorded_at)}`
  },"seq":${q(row.seq)}${row.state_sha256 == null ? '' : `,"state_sha256":${LAST.state.of(row.state_sha256)}`},"type":${LAST.type.of(row.type)}}`;
}

/**
 * The JSON of a field, remembered while the field repeats (actor, type, incident, digest do, row after
 * row). A row read from a file may hold something else than text there: it gets JSON.stringify's JSON.
 */
class Quoted {
  private value: unknown = '';
  private json: string | undefined = '""';
  of(value: unknown): string | undefined {
    if (value !== this.value) {
      this.value = value;
      this.json = q(value);
    }
    return this.json;
  }
}

/** The JSON eventBody last wrote for each field that mostly repeats from one event to the next. */
const LAST = { actor: new Quoted(), incident: new Quoted(), state: new Quoted(), type: new Quoted() };

/**
 * JSON.stringify of one field: a text by the quick way (quoteJson), a finite number as its own
 * string (what JSON.stringify writes for one); a row read from a file may hold anything else.
 */
function q(value: unknown): string | undefined {
  if (typeof value === 'string') return quoteJson(value);
  if (typeof value === 'number' && Number.isFinite(value)) return `${value}`;
  return JSON.stringify(value);
}

/**
 * sha256 of a string, hex. The first few KiB a process hashes are hashed in JavaScript: `ir note`
 * hashes about three short texts, and loading node:crypto would cost it ~5 ms. Past that budget
 * (verify, long imports, bulk appends) Node's native hash, with one call and no Hash object per event
 * where Node has crypto.hash. Both give the same digest (test/store/sha256.test.ts).
 */
export function sha256Hex(text: string): string {
  if (jsBudget > 0) {
    jsBudget -= text.length;
    return sha256HexJs(text);
  }
  return (nativeSha256Hex ??= loadNativeSha256())(text);
}

/** Characters left to hash in JavaScript before Node's hash is worth loading (cold JS runs ~0.3 ms/KiB). */
let jsBudget = 16 * 1024;
let nativeSha256Hex: ((text: string) => string) | undefined;

function loadNativeSha256(): (text: string) => string {
  // getBuiltinModule, not an import: an ES import of node:crypto would load it with the chain.
  const crypto = process.getBuiltinModule('node:crypto');
  return typeof (crypto as { hash?: unknown }).hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');
}

/**
 * The digest of an incident record. Each event carries the digest of the record it produces, inside
 * its hash, so the cached record can be checked against the chain in O(1) instead of refolding.
 */
export function recordDigest(incident: Incident): string {
  return sha256Hex(canonicalJson(incident));
}

/** Fields the incident projection gained after records were first cached. */
export const PROJECTION_ADDED = ['actions'] as const;

/**
 * Fields whose rule changed with PROJECTION_RULES 2 (mitigatedAt: monitoring, not mitigating;
 * acknowledgedSeverity: new): a record cached under older rules holds them as those rules said.
 */
export const PROJECTION_RULED = ['rules', 'mitigatedAt', 'acknowledgedSeverity'] as const;

/** Whether a cached record was made by today's projection (trusted() folds otherwise). */
export function isCurrentShape(doc: Incident): boolean {
  return Array.isArray(doc.actions) && doc.rules === PROJECTION_RULES;
}

/** The incident row's columns that mirror the record, as every backend stores them. */
export interface RecordRow {
  state: string;
  severity: string;
  declared_at: string;
  resolved_at: string | null;
  doc: string;
}

/**
 * The first field where the stored incident row disagrees with the record its events produce, as
 * `field: "stored" in the record, "derived" by the events`; undefined when they agree.
 */
export function recordDifference(row: RecordRow, derived: Incident): string | undefined {
  const say = (field: string, stored: unknown, expected: unknown) =>
    `${field} is ${stored === undefined ? 'missing' : JSON.stringify(stored)} in the record but ${expected === undefined ? 'absent' : JSON.stringify(expected)} by its events`;
  const columns: [string, unknown, unknown][] = [
    ['state', row.state, derived.state],
    ['severity', row.severity, derived.severity],
    ['declared_at', row.declared_at, derived.declaredAt],
    ['resolved_at', row.resolved_at ?? undefined, derived.resolvedAt],
  ];
  for (const [field, stored, expected] of columns) if (stored !== expected) return say(field, stored, expected);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(row.doc) as Record<string, unknown>;
  } catch {
    return 'the cached record is not valid JSON';
  }
  const want = JSON.parse(JSON.stringify(derived)) as Record<string, unknown>;
  // A record cached before the projection gained a field has none; its events still say the rest.
  for (const key of PROJECTION_ADDED) if (!(key in doc)) delete want[key];
  if (doc.rules !== PROJECTION_RULES) {
    for (const key of PROJECTION_RULED) {
      delete want[key];
      delete doc[key];
    }
  }
  for (const key of [...new Set([...Object.keys(want), ...Object.keys(doc)])].sort()) {
    if (canonicalJson(doc[key]) !== canonicalJson(want[key])) {
      const a = doc[key];
      const b = want[key];
      if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
        const inner = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().find((k) => canonicalJson((a as Record<string, unknown>)[k]) !== canonicalJson((b as Record<string, unknown>)[k]));
        if (inner) return say(`${key}.${inner}`, (a as Record<string, unknown>)[inner], (b as Record<string, unknown>)[inner]);
      }
      return say(key, a, b);
    }
  }
  return undefined;
}

/** An event's stored data, parsed; `strict` throws on data that is not JSON instead of keeping it. */
export function parseEventData(text: string, strict = false): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    if (strict) throw err;
    return { unreadable: text };
  }
}

/** A stored event row as the timeline event commands see (a driver may hand seq over as a string). */
export function toEvent(row: Omit<EventRow, 'seq'> & { seq: number | string }, strict = false): TimelineEvent {
  const event: TimelineEvent = { seq: Number(row.seq), incidentId: row.incident_id, at: row.at, type: row.type, actor: row.actor, data: parseEventData(row.data, strict), prevHash: row.prev_hash, hash: row.hash };
  if (row.origin) event.origin = row.origin;
  if (row.recorded_at) event.recordedAt = row.recorded_at;
  return event;
}

/** Why a walk stops at an event; `rank` orders the checks made on one event (lower runs first). */
export interface ChainProblem {
  seq: number;
  rank: number;
  reason: string;
}

const START = { rank: 0, reason: "the chain does not begin with the incident's declaration" };
const LINK = { rank: 1, reason: 'prev_hash does not link to the event before it (an event was removed or reordered)' };
const HASH = { rank: 2, reason: 'contents do not match its hash (the event was modified)' };
const DATA = { rank: 3, reason: 'data is not valid JSON' };

/** The earlier of two problems: by seq, then by the order the checks run on one event. */
export function firstProblem(a: ChainProblem | undefined, b: ChainProblem | undefined): ChainProblem | undefined {
  if (!a || !b) return a ?? b;
  return a.seq < b.seq || (a.seq === b.seq && a.rank <= b.rank) ? a : b;
}

/** The columns of the row with this seq that ChainStretch.built is not handed. */
export type RowRest = (seq: number) => { at: string; type: string; actor: string; data: string };

/** JSON of the types the record is made of, as an event body ends with them (ChainStretch.built). */
const QUOTED_PROJECTED: ReadonlySet<string> = new Set([...PROJECTED_TYPES].map((t) => JSON.stringify(t)));
const QUOTED_DECLARED = JSON.stringify('incident.declared');

/** What precedes the type's JSON at the end of an event body. */
const TYPE_KEY = ',"type":';

/**
 * One stretch of an incident's chain, fed its rows in seq order as positional columns (no object per
 * row): each row links to the one before, hashes to its hash, holds JSON data; a stretch that starts
 * the chain also checks it begins with the declaration and, with `fold`, folds the record. Stretches
 * after the first are checked apart (a helper thread can take one): their first row's link to the
 * stretch before is left to joinStretches, since only that stretch knows the hash it must link to.
 */
export class ChainStretch {
  events = 0;
  firstSeq: number | undefined;
  firstPrev: string | undefined;
  lastSeq: number | undefined;
  lastHash: string | undefined;
  problem: ChainProblem | undefined;
  derived: Incident | undefined;
  /** A problem met folding rows of later stretches into this one's record (foldRow). */
  foldProblem: ChainProblem | undefined;
  /**
   * With `keep`, the rows of the types the record is made of (PROJECTED_TYPES), for the first stretch
   * to fold: at most `keep` of them, undefined once there were more.
   */
  kept: ProjectedRow[] | undefined;
  private prev: string | undefined;
  /** The type (as JSON) of the row built() saw last, and whether the record is made of it. */
  private builtType = '';
  private builtProjected = false;
  private readonly qActor = new Quoted();
  private readonly qAt = new Quoted();
  private readonly qType = new Quoted();
  private readonly qState = new Quoted();
  private readonly qIncident: string;

  constructor(
    private readonly incidentId: string,
    private readonly opts: { start: boolean; fold: boolean; keep?: number },
  ) {
    this.prev = opts.start ? GENESIS_HASH : undefined;
    if (opts.keep !== undefined) this.kept = [];
    this.qIncident = JSON.stringify(incidentId);
  }

  row(seq: number, at: string, type: string, actor: string, data: string, prevHash: string, hash: string, state: string | null, origin: string | null | undefined, recordedAt: string | null | undefined): void {
    this.events++;
    if (this.problem) return;
    if (this.firstSeq === undefined) {
      this.firstSeq = seq;
      this.firstPrev = prevHash;
      if (this.opts.start && type !== 'incident.declared') {
        this.problem = { seq, ...START };
        return;
      }
    }
    if (this.prev !== undefined && prevHash !== this.prev) this.problem = { seq, ...LINK };
    else {
      // eventBody, written out here with the repeating fields' JSON remembered: same text, byte for byte.
      const body = `{"actor":${this.qActor.of(actor)},"at":${this.qAt.of(at)},"data":${JSON.stringify(data)},"incident_id":${this.qIncident}${origin == null ? '' : `,"origin":${JSON.stringify(origin)}`}${
        recordedAt == null ? '' : `,"recorded_at":${JSON.stringify(recordedAt)}`
      },"seq":${JSON.stringify(seq)}${state == null ? '' : `,"state_sha256":${this.qState.of(state)}`},"type":${this.qType.of(type)}}`;
      if (sha256Hex(prevHash + body) !== hash) this.problem = { seq, ...HASH };
      else if (this.opts.fold) this.fold(seq, at, type, actor, data, 'problem');
      else if (!isJson(data)) this.problem = { seq, ...DATA };
      else if (this.kept && PROJECTED_TYPES.has(type)) {
        if (this.kept.length < (this.opts.keep ?? 0)) this.kept.push([seq, at, type, actor, data]);
        else this.kept = undefined;
      }
    }
    this.prev = hash;
    this.lastSeq = seq;
    this.lastHash = hash;
  }

  /**
   * A row from a reader that builds its hash input itself (SQLite, with json_quote: see stretch.ts):
   * `input` is prev_hash followed by eventBody's text, `jsonValid` says the reader found data to be
   * JSON, and `rest` fetches the columns left out, for the few rows that need them (the types the
   * record is made of, data the reader could not vouch for). The checks, their order and their
   * verdicts are row()'s.
   */
  built(seq: number, hash: string, prevHash: string, input: string, jsonValid: boolean, rest: RowRest): void {
    this.events++;
    if (this.problem) return;
    // The body ends with the type's JSON after its key; a bare `"` never stands inside a quoted
    // string, so the key's last occurrence is the key. JSON.stringify is one to one, so comparing
    // quoted types compares types.
    const quotedType = input.slice(input.lastIndexOf(TYPE_KEY) + TYPE_KEY.length, -1);
    if (this.firstSeq === undefined) {
      this.firstSeq = seq;
      this.firstPrev = prevHash;
      if (this.opts.start && quotedType !== QUOTED_DECLARED) {
        this.problem = { seq, ...START };
        return;
      }
    }
    // Rows of one type come in runs: the lookup is made when the type changes.
    if (quotedType !== this.builtType) {
      this.builtType = quotedType;
      this.builtProjected = QUOTED_PROJECTED.has(quotedType);
    }
    const projected = this.builtProjected;
    if (this.prev !== undefined && prevHash !== this.prev) this.problem = { seq, ...LINK };
    else if (sha256Hex(input) !== hash) this.problem = { seq, ...HASH };
    // A `\u0000` anywhere in the input (in data or not, escaped or not) only sends data to JSON.parse.
    else if (projected || !jsonValid || input.includes('\\u0000')) {
      const r = rest(seq);
      if (this.opts.fold) this.fold(seq, r.at, r.type, r.actor, r.data, 'problem');
      else if (!isJson(r.data)) this.problem = { seq, ...DATA };
      else if (this.kept && projected) {
        if (this.kept.length < (this.opts.keep ?? 0)) this.kept.push([seq, r.at, r.type, r.actor, r.data]);
        else this.kept = undefined;
      }
    }
    this.prev = hash;
    this.lastSeq = seq;
    this.lastHash = hash;
  }

  /** A first stretch walked elsewhere (a helper thread), from its summary: ready to fold later stretches' rows. */
  static resume(incidentId: string, summary: StretchSummary): ChainStretch {
    const s = new ChainStretch(incidentId, { start: true, fold: true });
    Object.assign(s, { events: summary.events, firstSeq: summary.firstSeq, firstPrev: summary.firstPrev, lastSeq: summary.lastSeq, lastHash: summary.lastHash, problem: summary.problem, derived: summary.derived });
    return s;
  }

  /** Folds a row another stretch checks (links, hash) into this stretch's record. */
  foldRow(seq: number, at: string, type: string, actor: string, data: string): void {
    if (!this.foldProblem) this.fold(seq, at, type, actor, data, 'foldProblem');
  }

  private fold(seq: number, at: string, type: string, actor: string, data: string, into: 'problem' | 'foldProblem'): void {
    try {
      const parsed = JSON.parse(data) as Record<string, unknown>;
      // Types the projection does not read leave the record as it was: only their JSON is checked.
      if (PROJECTED_TYPES.has(type)) this.derived = applyEvent(this.derived, { incidentId: this.incidentId, at, type, actor, data: parsed });
    } catch {
      this[into] = { seq, ...DATA };
    }
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** seq, at, type, actor, data of an event the record is made of. */
export type ProjectedRow = [number, string, string, string, string];

/** What a stretch checked apart hands back (from a helper thread, as a structured clone). */
export interface StretchSummary {
  events: number;
  /** Its rows the record is made of, up to its problem; undefined when there were too many to keep. */
  kept?: ProjectedRow[];
  firstSeq?: number;
  firstPrev?: string;
  lastSeq?: number;
  lastHash?: string;
  problem?: ChainProblem;
  /** The record folded so far, from a stretch that starts the chain. */
  derived?: Incident;
}

export function summarize(s: ChainStretch): StretchSummary {
  return { events: s.events, kept: s.kept, firstSeq: s.firstSeq, firstPrev: s.firstPrev, lastSeq: s.lastSeq, lastHash: s.lastHash, problem: s.problem, derived: s.derived };
}

/**
 * The chain as one walk would have seen it, from its first stretch (which folded every later
 * stretch's rows with foldRow) and the later stretches in order: the first problem by seq, the end
 * of the chain, the record.
 */
export function joinStretches(first: ChainStretch, later: StretchSummary[]): { events: number; problem?: ChainProblem; lastSeq?: number; lastHash?: string; derived?: Incident } {
  let problem = first.problem;
  let events = first.events;
  let lastSeq = first.lastSeq;
  let lastHash = first.lastHash;
  for (const s of later) {
    events += s.events;
    if (s.firstSeq === undefined) continue;
    if (lastHash !== undefined && s.firstPrev !== lastHash) problem = firstProblem(problem, { seq: s.firstSeq, ...LINK });
    problem = firstProblem(problem, s.problem);
    lastSeq = s.lastSeq;
    lastHash = s.lastHash;
  }
  problem = firstProblem(problem, first.foldProblem);
  return { events, problem, lastSeq, lastHash, derived: first.derived };
}

/** The first problem of a walked chain against its incident row, or undefined when it holds. */
export function chainVerdict(
  incidentId: string,
  walked: { problem?: ChainProblem; lastSeq?: number; lastHash?: string; derived?: Incident },
  row: RecordRow & { head_seq: number | string; head_hash: string },
): VerifyProblem | undefined {
  if (walked.problem) return { incidentId, seq: walked.problem.seq, reason: walked.problem.reason };
  const headSeq = Number(row.head_seq);
  if (walked.lastSeq !== headSeq || (walked.lastHash ?? GENESIS_HASH) !== row.head_hash) {
    return { incidentId, seq: walked.lastSeq, reason: `the chain ends at event ${walked.lastSeq ?? 'none'} but the incident's head is event ${headSeq} (events were removed from the end)` };
  }
  const field = walked.derived && recordDifference(row, walked.derived);
  return field ? { incidentId, reason: `the incident record was changed outside its events: ${field}` } : undefined;
}

/**
 * What `verify` checks of one incident, fed its event rows in seq order by whichever backend reads
 * them: each row links to the one before and hashes to its hash, the chain starts with the
 * declaration, ends at the incident's head, and folds into the record the row caches.
 */
export class ChainWalk {
  private readonly stretch: ChainStretch;

  constructor(private readonly incidentId: string) {
    this.stretch = new ChainStretch(incidentId, { start: true, fold: true });
  }

  get events(): number {
    return this.stretch.events;
  }

  push(row: Omit<EventRow, 'seq'> & { seq: number | string }): void {
    this.stretch.row(Number(row.seq), row.at, row.type, row.actor, row.data, row.prev_hash, row.hash, row.state_sha256, row.origin, row.recorded_at);
  }

  /** The first problem of the chain against its incident row, or undefined when it holds. */
  finish(row: RecordRow & { head_seq: number | string; head_hash: string }): VerifyProblem | undefined {
    return chainVerdict(this.incidentId, joinStretches(this.stretch, []), row);
  }
}

/** What judging an anchored head needs to look up; each backend answers from its own tables. */
export interface AnchorLookups {
  /** The event with this seq, store-wide. */
  bySeq(seq: number): Promise<{ incident_id: string; hash: string } | undefined> | { incident_id: string; hash: string } | undefined;
  /** Some event with this hash, store-wide. */
  byHash(hash: string): Promise<{ incident_id: string; seq: number | string } | undefined> | { incident_id: string; seq: number | string } | undefined;
  incidentExists(id: string): Promise<boolean> | boolean;
  /** Events of the incident after seq. */
  laterCount(incidentId: string, seq: number): Promise<number> | number;
}

/**
 * An anchored head (kept outside ir: a postmortem's front matter, a posted message, a paste) is
 * proof only while the chain still contains it: the event with that seq exists, has that hash,
 * and its incident's chain verified intact up to and past it (`intact`).
 */
export async function judgeAnchor(anchor: { seq: number; hash: string }, intact: Set<string>, incidentId: string | undefined, look: AnchorLookups): Promise<AnchorResult> {
  const base = { seq: anchor.seq, hash: anchor.hash };
  const row = await look.bySeq(anchor.seq);
  if (!row) {
    const byHash = await look.byHash(anchor.hash);
    const where = byHash ? ` (that hash is now event ${byHash.seq})` : '';
    return { ...base, incidentId: byHash?.incident_id, ok: false, reason: `the anchored head ${formatHead(anchor)} is no longer in the store${where}: events up to it were removed, or its incident was deleted` };
  }
  if (row.hash !== anchor.hash) {
    return { ...base, incidentId: row.incident_id, ok: false, reason: `event ${anchor.seq} no longer has the anchored hash: the chain was rewritten from there or before` };
  }
  if (incidentId && row.incident_id !== incidentId) {
    return { ...base, incidentId: row.incident_id, ok: false, reason: `the anchored head belongs to ${row.incident_id}, not ${incidentId}` };
  }
  if (!intact.has(row.incident_id)) {
    const known = await look.incidentExists(row.incident_id);
    return { ...base, incidentId: row.incident_id, ok: false, reason: known ? `the chain of ${row.incident_id} holds the anchored head but does not verify` : `the anchored head's incident ${row.incident_id} was deleted` };
  }
  const later = await look.laterCount(row.incident_id, anchor.seq);
  return { ...base, incidentId: row.incident_id, ok: true, reason: `the chain of ${row.incident_id} still contains the anchored head${later ? ` and ${later} later event${later === 1 ? '' : 's'}` : ' as its newest event'}` };
}
