// Regulatory deadline clocks: which authorities must be told within how long of discovering a
// breach (GDPR, PCI DSS, SOX by default), and how each clock stands at a moment.

import { UsageError } from '../errors.js';
import type { Incident, NewEvent } from './incident.js';
import { formatDuration } from '../util/duration.js';

/** One regime as the team defines it (severities.yaml `regimes:`, or the built-in default). */
export interface Regime {
  id: string;
  name: string;
  /** Who must be told, e.g. "supervisory authority via the DPO". */
  notify: string;
  /** Milliseconds from discovery; 0 means immediately (due at discovery). */
  withinMs: number;
  description?: string;
}

/** The seed's deadlines; a team's severities.yaml may override any of them by id or add others. */
export const DEFAULT_REGIMES: readonly Regime[] = [
  { id: 'gdpr', name: 'GDPR', notify: 'supervisory authority via the DPO', withinMs: 72 * 3_600_000, description: 'Personal data of EU/UK residents (Art. 33: within 72h of becoming aware)' },
  { id: 'pci', name: 'PCI DSS', notify: 'card brands and acquirer', withinMs: 24 * 3_600_000, description: 'Cardholder data affected' },
  { id: 'sox', name: 'SOX', notify: 'audit committee', withinMs: 0, description: 'Financial reporting or its controls affected' },
];

/**
 * One clock as the incident record keeps it. The definition is copied in when the clock starts, so
 * a later edit of severities.yaml does not move a deadline that was already running.
 */
export interface RegimeClock {
  id: string;
  name: string;
  notify: string;
  withinMs: number;
  discoveredAt: string;
  dueAt: string;
  startedAt: string;
  startedBy: string;
  notifiedAt?: string;
  notifiedBy?: string;
  /** The evidence of notification: a case number, a ticket, a message id. */
  ref?: string;
  /** Set when the clock was withdrawn (`ir regime remove --reason`); the history stays. */
  removedAt?: string;
  removedReason?: string;
}

export type RegimeState = 'running' | 'overdue' | 'met' | 'missed' | 'removed';

export interface RegimeView {
  clock: RegimeClock;
  state: RegimeState;
  /** Running: time left (negative when overdue). Notified: how early (positive) or late (negative). */
  remainingMs: number;
}

export function regimeView(clock: RegimeClock, now: Date): RegimeView {
  const due = new Date(clock.dueAt).getTime();
  if (clock.removedAt) return { clock, state: 'removed', remainingMs: 0 };
  if (clock.notifiedAt) {
    const margin = due - new Date(clock.notifiedAt).getTime();
    return { clock, state: margin >= 0 ? 'met' : 'missed', remainingMs: margin };
  }
  const left = due - now.getTime();
  // Due at discovery ("immediately") is overdue from that instant until someone is told.
  return { clock, state: left > 0 ? 'running' : 'overdue', remainingMs: left };
}

/** The clocks of an incident, in the order they were started. */
export function regimeViews(incident: Incident, now: Date): RegimeView[] {
  return (incident.regimes ?? []).map((c) => regimeView(c, now));
}

/** The regimes a configuration defines (the defaults when it says nothing). */
export function regimesOf(config: { regimes?: Regime[] }): readonly Regime[] {
  return config.regimes ?? DEFAULT_REGIMES;
}

/** A regime by id, forgiving case; the message names the file and the ids it defines. */
export function findRegime(regimes: readonly Regime[], id: string, file: string, flag: string): Regime {
  const found = regimes.find((r) => r.id === id) ?? regimes.find((r) => r.id.toLowerCase() === id.trim().toLowerCase());
  if (!found) throw new UsageError(`${flag}: unknown regime "${id}": ${file} defines ${regimes.map((r) => r.id).join(', ')}`);
  return found;
}

/** `gdpr,pci` (or repeated flags) as regimes, each once. */
export function parseRegimeList(texts: string[], regimes: readonly Regime[], file: string, flag: string): Regime[] {
  const ids = texts.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  if (!ids.length) throw new UsageError(`${flag} needs a regime id: ${file} defines ${regimes.map((r) => r.id).join(', ')}`);
  const out: Regime[] = [];
  for (const id of ids) {
    const r = findRegime(regimes, id, file, flag);
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

/** The clock that is live for a regime id (started, not withdrawn). */
export function liveClock(incident: Incident, id: string): RegimeClock | undefined {
  return incident.regimes?.find((c) => c.id === id && !c.removedAt);
}

/**
 * The `regime.started` events for these regimes, skipping any whose clock already runs (the
 * returned `already` names them) so starting twice never moves a deadline.
 */
export function startEvents(incident: Incident, regimes: Regime[], discoveredAt: Date): { events: NewEvent[]; already: string[] } {
  const events: NewEvent[] = [];
  const already: string[] = [];
  for (const r of regimes) {
    if (liveClock(incident, r.id)) {
      already.push(r.id);
      continue;
    }
    events.push({
      type: 'regime.started',
      data: {
        regime: r.id,
        name: r.name,
        notify: r.notify,
        within_seconds: r.withinMs / 1000,
        discovered_at: discoveredAt.toISOString(),
        due_at: new Date(discoveredAt.getTime() + r.withinMs).toISOString(),
      },
    });
  }
  return { events, already };
}

/** The discovery time a clock counts from when none is given: when the problem began, else the declaration. */
export function defaultDiscovery(incident: Incident): Date {
  return new Date(incident.detectedAt ?? incident.declaredAt);
}

/** The record after a regime event (called from applyEvent). */
export function applyRegimeEvent(incident: Incident, type: string, at: string, actor: string, d: Record<string, unknown>): Incident {
  const id = String(d.regime);
  const clocks = incident.regimes ?? [];
  if (type === 'regime.started') {
    const clock: RegimeClock = {
      id,
      name: String(d.name ?? id),
      notify: String(d.notify ?? ''),
      withinMs: Number(d.within_seconds ?? 0) * 1000,
      discoveredAt: String(d.discovered_at ?? at),
      dueAt: String(d.due_at ?? d.discovered_at ?? at),
      startedAt: at,
      startedBy: actor,
    };
    // A regime withdrawn and started again gets a new clock in the old one's place.
    const i = clocks.findIndex((c) => c.id === id);
    return { ...incident, regimes: i < 0 ? [...clocks, clock] : clocks.map((c, j) => (j === i ? clock : c)) };
  }
  const change = (fn: (c: RegimeClock) => RegimeClock) => ({ ...incident, regimes: clocks.map((c) => (c.id === id && !c.removedAt ? fn(c) : c)) });
  if (type === 'regime.notified') {
    return change((c) => ({ ...c, notifiedAt: String(d.notified_at ?? at), notifiedBy: String(d.by ?? actor), ...(typeof d.ref === 'string' ? { ref: d.ref } : {}) }));
  }
  if (type === 'regime.removed') return change((c) => ({ ...c, removedAt: at, removedReason: String(d.reason ?? '') }));
  return incident;
}

/**
 * Regulatory deadlines are counted in hours ("within 72h"), so they read in hours too: 49h, 1h30m;
 * under an hour the usual 45m, 30s.
 */
export function hoursText(ms: number): string {
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  if (h === 0) return formatDuration(abs);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  return `${h}h${m ? `${String(m).padStart(2, '0')}m` : ''}`;
}
