// The incident lifecycle: event types, how each event changes an incident, and which changes are allowed.

import { UsageError, UserError } from '../errors.js';
import { applyRegimeEvent, type RegimeClock } from './regime.js';

export const STATES = ['investigating', 'identified', 'mitigating', 'monitoring', 'resolved'] as const;
export type IncidentState = (typeof STATES)[number];

export const DEFAULT_ROLES = ['commander', 'scribe', 'comms'] as const;

/**
 * Which rules produced a record. A record cached under older rules (no number: before mitigation
 * meant monitoring, and before the acknowledging severity was kept) is folded again from its
 * events when read, and `--verify` does not hold the fields whose rule changed against it.
 */
export const PROJECTION_RULES = 2;

export interface Incident {
  /** PROJECTION_RULES when the record was made; absent on records cached by an older ir. */
  rules?: number;
  id: string;
  title: string;
  severity: string;
  state: IncidentState;
  service?: string;
  impact?: string;
  /** Role name → person. The incident commander is roles.commander. */
  roles: Record<string, string>;
  declaredAt: string;
  declaredBy: string;
  detectedAt?: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  /** The severity in force when it was acknowledged: the respond-by SLA is judged against it. */
  acknowledgedSeverity?: string;
  /**
   * When the impact stopped: the first time the incident reached monitoring, or its resolution —
   * the "time to mitigate" mark. Entering mitigating means mitigation began, not that it worked.
   */
  mitigatedAt?: string;
  resolvedAt?: string;
  summary?: string;
  rootCause?: string;
  /** Last status update sent or drafted for sending; resets the update clock. */
  lastUpdateAt?: string;
  /** Highest escalation level recorded (index into the chain), -1 when none. */
  escalationLevel: number;
  reopenCount: number;
  /**
   * Action items by number, so appending one (or marking one done) decides on the record alone and a
   * backend never loads the whole timeline inside its write lock. Owner, due and times stay in the
   * events (core/actions.ts), which is where lists and reports read them.
   */
  actions: ActionState[];
  /**
   * Regulatory deadline clocks (core/regime.ts), in the order started; absent until the first one
   * starts, so the records (and digests) of incidents without regimes are as before.
   */
  regimes?: RegimeClock[];
  /**
   * Outbound messages (pages, chat posts) in the order they were queued, with where each stands.
   * Absent until the first one, so records made before messages existed keep their digests.
   */
  messages?: MessageState[];
}

export type MessageStatus = 'pending' | 'sent' | 'failed';

/** One outbound message as its notify.* events leave it; the request itself stays in notify.queued. */
export interface MessageState {
  /** Per incident: m1, m2, … */
  id: string;
  provider: string;
  action: string;
  /** Where it goes, without any secret: the variable holding a routing key, a channel, a host. */
  target: string;
  /** pending until sent, or failed for good (a provider refusal other than 429). */
  state: MessageStatus;
  attempts: number;
  queuedAt: string;
  /** The last error while not sent. */
  error?: string;
  /** The provider's reference once sent: PagerDuty dedup_key, Opsgenie requestId, Slack ts. */
  ref?: string;
  /** A process is sending it (`host/pid`) until this time: others leave it alone meanwhile. */
  sendingBy?: string;
  sendingUntil?: string;
}

export interface ActionState {
  n: number;
  text: string;
  done: boolean;
}

/** One timeline entry as stored: `data` is already parsed. */
export interface TimelineEvent {
  seq: number;
  incidentId: string;
  at: string;
  type: string;
  actor: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** Where it was written: `host/installation` (events from schema 7 on). */
  origin?: string;
  /** Set only on an event written offline and delivered later: when the store received it. */
  recordedAt?: string;
  /** Written while the team store was unreachable and not yet delivered (no seq or hash yet). */
  waiting?: true;
}

/** What a command asks to append; the store adds seq, time and hashes. */
export interface NewEvent {
  type: string;
  data: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The event types applyEvent reads; every other type leaves the record as it was, so a walk over a
 * long timeline (mostly notes and step output) folds only these. A new case below belongs here too:
 * without it `ir timeline --verify` would derive a record that misses the change and report it.
 */
export const PROJECTED_TYPES: ReadonlySet<string> = new Set([
  'incident.declared',
  'incident.acknowledged',
  'incident.state_changed',
  'incident.severity_changed',
  'incident.role_assigned',
  'incident.resolved',
  'incident.reopened',
  'incident.escalated',
  'comms.sent',
  'action.added',
  'action.done',
  'action.reopened',
  'regime.started',
  'regime.notified',
  'regime.removed',
  'notify.queued',
  'notify.sending',
  'notify.sent',
  'notify.failed',
]);

/** The incident as it stands after `event`. Unknown event types leave it unchanged. */
export function applyEvent(incident: Incident | undefined, event: Pick<TimelineEvent, 'incidentId' | 'at' | 'type' | 'actor' | 'data'>): Incident {
  const d = event.data;
  if (event.type === 'incident.declared') {
    const roles: Record<string, string> = {};
    if (str(d.commander)) roles.commander = d.commander as string;
    return {
      rules: PROJECTION_RULES,
      id: event.incidentId,
      title: String(d.title),
      severity: String(d.severity),
      state: 'investigating',
      service: str(d.service),
      impact: str(d.impact),
      roles,
      declaredAt: event.at,
      declaredBy: event.actor,
      detectedAt: str(d.detected_at),
      escalationLevel: -1,
      reopenCount: 0,
      actions: [],
    };
  }
  if (!incident) throw new Error(`event ${event.type} before incident.declared`);
  const next: Incident = { ...incident, roles: { ...incident.roles }, actions: incident.actions };
  switch (event.type) {
    case 'incident.acknowledged':
      if (!next.acknowledgedAt) next.acknowledgedSeverity = next.severity;
      next.acknowledgedAt ??= event.at;
      next.acknowledgedBy ??= event.actor;
      break;
    case 'incident.state_changed': {
      next.state = d.to as IncidentState;
      if (next.state === 'monitoring' && !next.mitigatedAt) next.mitigatedAt = event.at;
      break;
    }
    case 'incident.severity_changed':
      next.severity = String(d.to);
      break;
    case 'incident.role_assigned':
      next.roles[String(d.role)] = String(d.person);
      break;
    case 'incident.resolved':
      next.state = 'resolved';
      next.resolvedAt = event.at;
      next.summary = str(d.summary);
      if (str(d.root_cause)) next.rootCause = d.root_cause as string;
      next.mitigatedAt ??= event.at;
      if (!next.acknowledgedAt) next.acknowledgedSeverity = next.severity;
      next.acknowledgedAt ??= event.at;
      next.acknowledgedBy ??= event.actor;
      break;
    case 'incident.reopened':
      next.state = 'investigating';
      next.resolvedAt = undefined;
      next.reopenCount += 1;
      break;
    case 'incident.escalated':
      next.escalationLevel = Math.max(next.escalationLevel, Number(d.level ?? 0));
      break;
    case 'comms.sent':
      next.lastUpdateAt = event.at;
      break;
    case 'action.added': {
      // The same numbering as deriveActions: a number added again replaces the item in place.
      const n = Number(d.n);
      const item = { n, text: String(d.text), done: false };
      const at = next.actions.findIndex((a) => a.n === n);
      next.actions = at < 0 ? [...next.actions, item].sort((a, b) => a.n - b.n) : next.actions.map((a, i) => (i === at ? item : a));
      break;
    }
    case 'regime.started':
    case 'regime.notified':
    case 'regime.removed':
      return applyRegimeEvent(next, event.type, event.at, event.actor, d);
    case 'notify.queued':
      next.messages = [
        ...(next.messages ?? []),
        { id: String(d.msg), provider: String(d.provider), action: String(d.action), target: String(d.target ?? ''), state: 'pending', attempts: 0, queuedAt: event.at },
      ];
      break;
    case 'notify.sending':
      next.messages = (next.messages ?? []).map((m) => (m.id === d.msg ? { ...m, sendingBy: String(d.by), sendingUntil: String(d.until) } : m));
      break;
    case 'notify.sent':
    case 'notify.failed': {
      const sent = event.type === 'notify.sent';
      next.messages = (next.messages ?? []).map((m) => {
        if (m.id !== d.msg) return m;
        const out: MessageState = { ...m, state: sent ? 'sent' : d.final === true ? 'failed' : 'pending', attempts: m.attempts + (Number(d.attempts) || 0) };
        delete out.sendingBy;
        delete out.sendingUntil;
        if (sent) {
          delete out.error;
          if (str(d.ref)) out.ref = d.ref as string;
        } else {
          out.error = String(d.error ?? 'unknown error');
        }
        return out;
      });
      break;
    }
    case 'action.done':
    case 'action.reopened': {
      const n = Number(d.n);
      next.actions = next.actions.map((a) => (a.n === n ? { ...a, done: event.type === 'action.done' } : a));
      break;
    }
  }
  return next;
}

export function isOpen(incident: Incident): boolean {
  return incident.state !== 'resolved';
}

export function parseState(text: string): IncidentState {
  const s = text.toLowerCase() as IncidentState;
  if (!STATES.includes(s)) {
    throw new UsageError(`unknown state "${text}": expected one of ${STATES.slice(0, -1).join(', ')}`);
  }
  return s;
}

/**
 * Checks a state change: forward along investigating → identified → mitigating → monitoring,
 * or back to investigating. Resolving and reopening have their own commands.
 */
export function checkTransition(incident: Incident, to: IncidentState): void {
  const from = incident.state;
  if (from === 'resolved') {
    throw new UserError(`${incident.id} is resolved; reopen it first with \`ir reopen --reason TEXT\``);
  }
  if (to === 'resolved') {
    throw new UsageError(`use \`ir resolve --summary TEXT\` to resolve ${incident.id}`);
  }
  if (to === from) throw new UserError(`${incident.id} is already ${from}`);
  if (to !== 'investigating' && STATES.indexOf(to) < STATES.indexOf(from)) {
    throw new UserError(`${incident.id} cannot go back from ${from} to ${to}: move forward, or back to investigating`);
  }
}

/** Role names are lower-case words; a team may add its own beyond commander, scribe and comms. */
export function normalizeRole(role: string): string {
  const r = role.trim().toLowerCase().replace(/[\s_]+/g, '-');
  if (!/^[a-z][a-z0-9-]*$/.test(r)) throw new UsageError(`role "${role}" must be a word such as commander, scribe or comms`);
  return r === 'ic' || r === 'incident-commander' ? 'commander' : r;
}
