// The hash chain's meaning, shared by every backend: event hash, record digest, head notation.

import crypto, { createHash } from 'node:crypto';
import { applyEvent, PROJECTION_RULES, type Incident, type TimelineEvent } from '../core/incident.js';
import { canonicalJson } from './canonical.js';
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
 * append and every verify, where sorting keys for each row was most of the cost. The keys stand in
 * canonical (sorted) order; an absent (not null) field is left out, as canonicalJson leaves out
 * undefined — absent on events written before the digest existed (state_sha256, schema 4) or
 * before origins (schema 7), and recorded_at absent unless the event arrived late, so old hashes hold.
 * test/store/stream.test.ts holds it to canonicalJson.
 */
export function eventBody(row: { seq: number; incident_id: string; at: string; type: string; actor: string; data: string; state_sha256?: string | null; origin?: string | null; recorded_at?: string | null }): string {
  const q = JSON.stringify;
  return `{"actor":${q(row.actor)},"at":${q(row.at)},"data":${q(row.data)},"incident_id":${q(row.incident_id)}${row.origin == null ? '' : `,"origin":${q(row.origin)}`}${
    row.recorded_at == null ? '' : `,"recorded_at":${q(row.recorded_at)}`
  },"seq":${q(row.seq)}${row.state_sha256 == null ? '' : `,"state_sha256":${q(row.state_sha256)}`},"type":${q(row.type)}}`;
}

/** sha256 of a string, hex: one call (no Hash object per event) where Node has it. */
export const sha256Hex: (text: string) => string = typeof (crypto as { hash?: unknown }).hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => createHash('sha256').update(text).digest('hex');

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

/**
 * What `verify` checks of one incident, fed its event rows in seq order by whichever backend reads
 * them: each row links to the one before and hashes to its hash, the chain starts with the
 * declaration, ends at the incident's head, and folds into the record the row caches.
 */
export class ChainWalk {
  events = 0;
  private prev = GENESIS_HASH;
  private lastSeq: number | undefined;
  private bad: VerifyProblem | undefined;
  private derived: Incident | undefined;

  constructor(private readonly incidentId: string) {}

  push(row: Omit<EventRow, 'seq'> & { seq: number | string }): void {
    const r = typeof row.seq === 'number' ? (row as EventRow) : { ...row, seq: Number(row.seq) };
    this.events++;
    if (this.bad) return;
    const at = (reason: string) => (this.bad = { incidentId: this.incidentId, seq: r.seq, reason });
    if (this.derived === undefined && r.type !== 'incident.declared') {
      at("the chain does not begin with the incident's declaration");
      return;
    }
    if (r.prev_hash !== this.prev) at('prev_hash does not link to the event before it (an event was removed or reordered)');
    else if (eventHash(this.prev, r) !== r.hash) at('contents do not match its hash (the event was modified)');
    else {
      try {
        this.derived = applyEvent(this.derived, toEvent(r, true));
      } catch {
        at('data is not valid JSON');
      }
    }
    this.prev = r.hash;
    this.lastSeq = r.seq;
  }

  /** The first problem of the chain against its incident row, or undefined when it holds. */
  finish(row: RecordRow & { head_seq: number | string; head_hash: string }): VerifyProblem | undefined {
    if (this.bad) return this.bad;
    const headSeq = Number(row.head_seq);
    if (this.lastSeq !== headSeq || this.prev !== row.head_hash) {
      return { incidentId: this.incidentId, seq: this.lastSeq, reason: `the chain ends at event ${this.lastSeq ?? 'none'} but the incident's head is event ${headSeq} (events were removed from the end)` };
    }
    const field = this.derived && recordDifference(row, this.derived);
    return field ? { incidentId: this.incidentId, reason: `the incident record was changed outside its events: ${field}` } : undefined;
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
