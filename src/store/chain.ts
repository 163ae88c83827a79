// The hash chain's meaning, shared by every backend: event hash, record digest, head notation.

import { createHash } from 'node:crypto';
import type { Incident } from '../core/incident.js';
import { canonicalJson } from './canonical.js';

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
export function eventHash(prevHash: string, row: Omit<EventRow, 'prev_hash' | 'hash' | 'state_sha256'> & { state_sha256?: string | null }): string {
  const body = canonicalJson({
    seq: row.seq,
    incident_id: row.incident_id,
    at: row.at,
    type: row.type,
    actor: row.actor,
    data: row.data,
    // Absent (not null) on events written before the digest existed, so their hashes still hold.
    state_sha256: row.state_sha256 ?? undefined,
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

/**
 * The digest of an incident record. Each event carries the digest of the record it produces, inside
 * its hash, so the cached record can be checked against the chain in O(1) instead of refolding.
 */
export function recordDigest(incident: Incident): string {
  return createHash('sha256').update(canonicalJson(incident)).digest('hex');
}

/** Fields the incident projection gained after records were first cached. */
export const PROJECTION_ADDED = ['actions'] as const;

/** Whether a cached record has every field today's projection has (trusted() folds otherwise). */
export function isCurrentShape(doc: Incident): boolean {
  return Array.isArray(doc.actions);
}
