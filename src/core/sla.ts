// The SLA picture of one incident at a moment: respond, resolve and update clocks, escalations due.

import type { Incident } from './incident.js';
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
  /** The severity level was not found in the definitions (e.g. they changed since declaration). */
  unknownLevel: boolean;
}

export function slaView(incident: Incident, config: SeverityConfig, now: Date): SlaView {
  const level = findLevel(config, incident.severity);
  const declared = new Date(incident.declaredAt);
  const ack = incident.acknowledgedAt ? new Date(incident.acknowledgedAt) : undefined;
  const resolved = incident.resolvedAt ? new Date(incident.resolvedAt) : undefined;
  const view: SlaView = { escalationsDue: [], shouldHaveBeenTold: [], unknownLevel: !level };
  if (level) {
    view.respond = clock('respond', declared, level.respondWithin, now, ack);
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
  return view;
}
