// The SLA picture of one incident at a moment: respond, resolve and update clocks, escalations due.

import type { Incident } from './incident.js';
import { formatDuration } from '../util/duration.js';
import { clock, dueEscalations, findLevel, type EscalationStep, type SeverityConfig, type SlaClock } from './severity.js';

export interface SlaView {
  respond?: SlaClock;
  resolve?: SlaClock;
  /** Only while open and when the level sets an update cadence. */
  update?: SlaClock;
  /** Escalation steps due by now while nobody has acknowledged (all of them once acknowledged late). */
  escalationsDue: EscalationStep[];
  /** Whom the chain says should have been told by now, given the elapsed time and acknowledgement. */
  shouldHaveBeenTold: EscalationStep[];
  /** Who has been told: the steps the declaration notifies (due at 0m) and every level escalated to. */
  told: EscalationStep[];
  /** The next level nobody has called yet; undefined once the chain is exhausted. */
  nextEscalation?: EscalationStep;
  /** The severity level was not found in the definitions (e.g. they changed since declaration). */
  unknownLevel: boolean;
}

export function slaView(incident: Incident, config: SeverityConfig, now: Date): SlaView {
  const level = findLevel(config, incident.severity);
  const declared = new Date(incident.declaredAt);
  const ack = incident.acknowledgedAt ? new Date(incident.acknowledgedAt) : undefined;
  const resolved = incident.resolvedAt ? new Date(incident.resolvedAt) : undefined;
  const view: SlaView = { escalationsDue: [], shouldHaveBeenTold: [], told: [], unknownLevel: !level };
  // Each clock is judged against the severity in force while it ran: an acknowledgement against the
  // severity it was made under, so a later raise or cut does not rewrite whether it was in time.
  // The resolve clock stops at resolution, when the severity can no longer change; while a clock
  // runs, the current severity sets its due time (still counted from the declaration).
  const ackLevel = ack && incident.acknowledgedSeverity ? findLevel(config, incident.acknowledgedSeverity) ?? level : level;
  if (ackLevel) view.respond = clock('respond', declared, ackLevel.respondWithin, now, ack);
  if (level) {
    view.resolve = clock('resolve', declared, level.resolveWithin, now, resolved);
    if (level.updateEvery && !resolved) {
      view.update = clock('update', new Date(incident.lastUpdateAt ?? incident.declaredAt), level.updateEvery, now);
    }
  }
  // The chain runs until someone acknowledges: steps due before the acknowledgement were owed.
  const until = ack ?? resolved ?? now;
  const elapsed = until.getTime() - declared.getTime();
  view.shouldHaveBeenTold = dueEscalations(config, elapsed);
  view.escalationsDue = view.shouldHaveBeenTold.filter((_, i) => i > incident.escalationLevel);
  // `ir escalate` skips the 0m steps (the declaration told them) and records the level it called.
  view.told = config.escalation.filter((s, i) => i <= incident.escalationLevel || s.after === 0);
  view.nextEscalation = config.escalation.find((s, i) => i > incident.escalationLevel && s.after > 0);
  return view;
}

/**
 * One line on the escalation chain for the incident card: who was told, who is next (and whether
 * that call is overdue while nobody has acknowledged), or that the chain is exhausted.
 */
export function escalationLine(incident: Incident, view: SlaView): string | undefined {
  const name = (s: EscalationStep) => s.notify + (s.contact ? ` (${s.contact})` : '');
  const parts: string[] = [];
  if (view.told.length) parts.push(`told ${view.told.map((s) => s.notify).join(', ')}`);
  const next = view.nextEscalation;
  if (!next) {
    if (!parts.length) return undefined;
    return `${parts.join('')}: the chain is exhausted`;
  }
  const waiting = !incident.acknowledgedAt && incident.state !== 'resolved';
  const overdue = waiting && view.escalationsDue.includes(next);
  parts.push(`next: ${name(next)}${overdue ? ` — due since ${formatDuration(next.after)} after declaration` : waiting ? ` at ${formatDuration(next.after)} if nobody acknowledges` : ''}`);
  return parts.join('; ');
}
