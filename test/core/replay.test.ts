// Whether an event decided offline still applies when it reaches the team store, per kind of event.

import { describe, expect, it } from 'vitest';
import { applyEvent, type Incident, type NewEvent } from '../../src/core/incident.js';
import { replay } from '../../src/core/replay.js';

function incident(...events: NewEvent[]): Incident {
  let inc = applyEvent(undefined, { incidentId: 'INC-1', at: '2026-11-24T10:00:00.000Z', type: 'incident.declared', actor: 'alice', data: { title: 't', severity: 'SEV-2' } });
  for (const e of events) inc = applyEvent(inc, { incidentId: 'INC-1', at: '2026-11-24T10:05:00.000Z', actor: 'bob', ...e });
  return inc;
}

const ack: NewEvent = { type: 'incident.acknowledged', data: {} };
const resolved: NewEvent = { type: 'incident.resolved', data: { summary: 's' } };

describe('replay of an event written offline', () => {
  it('notes, runbook steps and evidence always apply, even on a resolved incident', () => {
    for (const type of ['note.added', 'runbook.step', 'evidence.collected', 'comms.sent']) {
      expect(replay(incident(resolved), { type, data: { text: 'x' } }).ok).toBe(true);
    }
  });

  it('an acknowledgement someone else made first is refused, naming them', () => {
    expect(replay(incident(), ack).ok).toBe(true);
    expect(replay(incident(ack), ack)).toEqual({ ok: false, reason: expect.stringMatching(/already acknowledged by bob at 2026-11-24T10:05/) });
  });

  it('resolve, reopen and state changes follow the incident as it now is', () => {
    expect(replay(incident(resolved), resolved)).toMatchObject({ ok: false, reason: expect.stringMatching(/already resolved/) });
    expect(replay(incident(), { type: 'incident.reopened', data: { reason: 'r' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/no longer resolved/) });
    expect(replay(incident(resolved), { type: 'incident.reopened', data: { reason: 'r' } }).ok).toBe(true);
    expect(replay(incident(), { type: 'incident.state_changed', data: { from: 'investigating', to: 'identified' } }).ok).toBe(true);
    const moved = incident({ type: 'incident.state_changed', data: { from: 'investigating', to: 'mitigating' } });
    expect(replay(moved, { type: 'incident.state_changed', data: { from: 'investigating', to: 'identified' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/cannot go back from mitigating to identified/) });
  });

  it('a role someone else reassigned meanwhile is not silently overwritten', () => {
    const taken = incident({ type: 'incident.role_assigned', data: { role: 'scribe', person: 'dana' } });
    expect(replay(incident(), { type: 'incident.role_assigned', data: { role: 'scribe', person: 'carol' } }).ok).toBe(true);
    expect(replay(taken, { type: 'incident.role_assigned', data: { role: 'scribe', person: 'carol' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/has dana as scribe now/) });
    expect(replay(taken, { type: 'incident.role_assigned', data: { role: 'scribe', person: 'carol', previous: 'dana' } }).ok).toBe(true);
  });

  it('severity: refused when it already changed, or the incident is resolved', () => {
    const sev1 = incident({ type: 'incident.severity_changed', data: { from: 'SEV-2', to: 'SEV-1' } });
    expect(replay(sev1, { type: 'incident.severity_changed', data: { from: 'SEV-2', to: 'SEV-3' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/changed severity meanwhile/) });
    expect(replay(incident(resolved), { type: 'incident.severity_changed', data: { from: 'SEV-2', to: 'SEV-1' } }).ok).toBe(false);
  });

  it('an action item whose number someone else took is renumbered, keeping the number it was written as', () => {
    const one = incident({ type: 'action.added', data: { n: 1, text: 'bob item' } });
    const r = replay(one, { type: 'action.added', data: { n: 1, text: 'alice item' } });
    expect(r).toEqual({ ok: true, event: { type: 'action.added', data: { n: 2, text: 'alice item', written_as: 1 } } });
    expect(replay(one, { type: 'action.done', data: { n: 1, text: 'bob item' } }).ok).toBe(true);
    expect(replay(one, { type: 'action.done', data: { n: 7, text: 'nothing' } }).ok).toBe(false);
  });
});
