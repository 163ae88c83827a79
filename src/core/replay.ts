// Whether an event decided offline still applies to the incident as the team store now has it. An
// event written while the team store was unreachable was decided on this machine's last view; by the
// time it is delivered someone else may have resolved the incident, taken the role, or acknowledged.

import { checkTransition, type Incident, type IncidentState, type NewEvent } from './incident.js';

export type Replay = { ok: true; event: NewEvent } | { ok: false; reason: string };

const by = (who?: string, at?: string) => (who ? ` by ${who}${at ? ` at ${at}` : ''}` : at ? ` at ${at}` : '');

/**
 * The event to deliver (possibly renumbered, as an action item whose number someone else took), or
 * the reason it no longer applies. Events that only add to the record (notes, runbook steps,
 * evidence, comms) always apply: their meaning does not depend on the state they were written in.
 */
export function replay(incident: Incident, event: NewEvent): Replay {
  const d = event.data;
  const no = (reason: string): Replay => ({ ok: false, reason: `${incident.id} ${reason}` });
  switch (event.type) {
    case 'incident.acknowledged':
      if (incident.acknowledgedAt) return no(`was already acknowledged${by(incident.acknowledgedBy, incident.acknowledgedAt)}`);
      break;
    case 'incident.state_changed':
      try {
        checkTransition(incident, d.to as IncidentState);
      } catch (err) {
        return { ok: false, reason: (err as Error).message };
      }
      break;
    case 'incident.resolved':
      if (incident.state === 'resolved') return no(`was already resolved${by(undefined, incident.resolvedAt)}`);
      break;
    case 'incident.reopened':
      if (incident.state !== 'resolved') return no(`is no longer resolved (it is ${incident.state})`);
      break;
    case 'incident.severity_changed':
      if (incident.state === 'resolved') return no(`was resolved${by(undefined, incident.resolvedAt)}`);
      if (incident.severity === d.to) return no(`is already ${String(d.to)}`);
      if (d.from !== undefined && incident.severity !== d.from) return no(`changed severity meanwhile: it is ${incident.severity}, not ${String(d.from)}`);
      break;
    case 'incident.role_assigned': {
      const role = String(d.role);
      const now = incident.roles[role];
      if (now === d.person) return no(`already has ${String(d.person)} as ${role}`);
      if (now !== (d.previous ?? undefined)) return no(`has ${now ?? 'nobody'} as ${role} now (assigned meanwhile), not ${String(d.previous ?? 'nobody')}`);
      break;
    }
    case 'incident.escalated':
      if (Number(d.level) <= incident.escalationLevel) return no(`was already escalated to level ${incident.escalationLevel + 1}`);
      break;
    case 'regime.started': {
      const live = incident.regimes?.find((c) => c.id === d.regime && !c.removedAt);
      if (live) return no(`already has a ${live.name} clock (started ${live.startedAt} by ${live.startedBy})`);
      break;
    }
    case 'regime.notified':
    case 'regime.removed': {
      const live = incident.regimes?.find((c) => c.id === d.regime && !c.removedAt);
      if (!live) return no(`has no running ${String(d.regime)} clock`);
      if (event.type === 'regime.notified' && live.notifiedAt) return no(`already recorded ${live.name} notified${by(live.notifiedBy, live.notifiedAt)}`);
      break;
    }
    case 'action.added': {
      // Someone else may have added item n meanwhile: take the next free number, keep the one written.
      const n = Number(d.n);
      const taken = incident.actions.find((a) => a.n === n);
      if (taken && taken.text !== d.text) {
        const next = Math.max(0, ...incident.actions.map((a) => a.n)) + 1;
        return { ok: true, event: { type: event.type, data: { ...d, n: next, written_as: n } } };
      }
      if (taken) return no(`already has action item ${n}: ${taken.text}`);
      break;
    }
    case 'action.done':
    case 'action.reopened': {
      const item = incident.actions.find((a) => a.n === Number(d.n) && (d.text === undefined || a.text === d.text)) ?? incident.actions.find((a) => a.text === d.text);
      if (!item) return no(`has no action item ${String(d.n)}${d.text ? ` (${String(d.text)})` : ''}`);
      if (item.done === (event.type === 'action.done')) return no(`action item ${item.n} is already ${item.done ? 'done' : 'open'}`);
      if (item.n !== Number(d.n)) return { ok: true, event: { type: event.type, data: { ...d, n: item.n, written_as: d.n } } };
      break;
    }
  }
  return { ok: true, event };
}
