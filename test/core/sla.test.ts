// SLA and lifecycle arithmetic with exact, injected times.

import { describe, expect, it } from 'vitest';
import { applyEvent, checkTransition, type Incident } from '../../src/core/incident.js';
import { slaView } from '../../src/core/sla.js';
import type { SeverityConfig } from '../../src/core/severity.js';
import { durationToString, formatDuration, parseDuration } from '../../src/util/duration.js';

const M = 60_000;
const config: SeverityConfig = {
  file: 'severities.yaml',
  levels: [
    { id: 'P1', name: 'Urgent', definition: 'down', respondWithin: 5 * M, resolveWithin: 60 * M, updateEvery: 15 * M, examples: [] },
    { id: 'P2', name: 'High', definition: 'degraded', respondWithin: 30 * M, resolveWithin: 240 * M, examples: [] },
  ],
  escalation: [
    { after: 0, notify: 'Primary' },
    { after: 15 * M, notify: 'Secondary' },
    { after: 30 * M, notify: 'Lead' },
  ],
};
const T0 = '2026-11-23T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * M);
const ev = (type: string, minutes: number, data: Record<string, unknown> = {}) => ({ incidentId: 'INC-1', at: at(minutes).toISOString(), type, actor: 'a', data });

function declared(severity = 'P1'): Incident {
  return applyEvent(undefined, ev('incident.declared', 0, { title: 't', severity }));
}

describe('durations', () => {
  it('parses what authors write and rejects the rest', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(5 * M);
    expect(parseDuration('1h30m')).toBe(90 * M);
    expect(parseDuration('2d')).toBe(48 * 60 * M);
    for (const bad of ['five minutes', '5', 'm', '1.5h', '', '5 m']) expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(252_000)).toBe('4m12s');
    expect(formatDuration(2 * 60 * M + 5 * M)).toBe('2h05m');
    expect(durationToString(90 * M)).toBe('1h30m');
  });
});

describe('SLA clocks', () => {
  it('run from the declaration and stop at acknowledgement and resolution', () => {
    let inc = declared();
    let v = slaView(inc, config, at(3));
    expect(v.respond).toMatchObject({ state: 'running', remainingMs: 2 * M });
    expect(v.update).toMatchObject({ state: 'running', remainingMs: 12 * M });
    v = slaView(inc, config, at(7));
    expect(v.respond).toMatchObject({ state: 'overdue', remainingMs: -2 * M });
    inc = applyEvent(inc, ev('incident.acknowledged', 8));
    v = slaView(inc, config, at(50));
    expect(v.respond).toMatchObject({ state: 'breached', remainingMs: -3 * M });
    expect(v.resolve).toMatchObject({ state: 'running', remainingMs: 10 * M });
    expect(v.update).toMatchObject({ state: 'overdue', remainingMs: -35 * M });
    inc = applyEvent(inc, ev('comms.sent', 45, { kind: 'update' }));
    expect(slaView(inc, config, at(50)).update).toMatchObject({ state: 'running', remainingMs: 10 * M });
    inc = applyEvent(inc, ev('incident.resolved', 55, { summary: 's' }));
    v = slaView(inc, config, at(500));
    expect(v.resolve).toMatchObject({ state: 'met', remainingMs: 5 * M });
    expect(v.update).toBeUndefined();
  });

  it('follow a severity change, still counted from the declaration', () => {
    let inc = declared('P2');
    expect(slaView(inc, config, at(10)).respond?.remainingMs).toBe(20 * M);
    inc = applyEvent(inc, ev('incident.severity_changed', 10, { from: 'P2', to: 'P1', reason: 'r' }));
    expect(slaView(inc, config, at(10)).respond).toMatchObject({ state: 'overdue', remainingMs: -5 * M });
  });

  it('say who should have been told, until someone acknowledges', () => {
    let inc = declared();
    expect(slaView(inc, config, at(20)).shouldHaveBeenTold.map((s) => s.notify)).toEqual(['Primary', 'Secondary']);
    inc = applyEvent(inc, ev('incident.acknowledged', 16));
    expect(slaView(inc, config, at(90)).shouldHaveBeenTold.map((s) => s.notify)).toEqual(['Primary', 'Secondary']);
    inc = applyEvent(inc, ev('incident.escalated', 17, { level: 1, notify: 'Secondary' }));
    expect(slaView(inc, config, at(90)).escalationsDue).toEqual([]);
  });
});

describe('time to mitigate', () => {
  it('is marked when the impact stopped (first monitoring), not when mitigation began, and kept across a relapse', () => {
    let inc = declared();
    inc = applyEvent(inc, ev('incident.state_changed', 10, { from: 'investigating', to: 'mitigating' }));
    expect(inc.mitigatedAt).toBeUndefined();
    inc = applyEvent(inc, ev('incident.state_changed', 25, { from: 'mitigating', to: 'monitoring' }));
    expect(inc.mitigatedAt).toBe(at(25).toISOString());
    inc = applyEvent(inc, ev('incident.state_changed', 30, { from: 'monitoring', to: 'investigating' }));
    inc = applyEvent(inc, ev('incident.state_changed', 40, { from: 'investigating', to: 'monitoring' }));
    inc = applyEvent(inc, ev('incident.resolved', 50, { summary: 's' }));
    expect(inc.mitigatedAt).toBe(at(25).toISOString());
  });
});

describe('state transitions', () => {
  it('go forward, or back to investigating, never out of resolved', () => {
    let inc = declared();
    expect(() => checkTransition(inc, 'mitigating')).not.toThrow();
    inc = applyEvent(inc, ev('incident.state_changed', 1, { from: 'investigating', to: 'mitigating' }));
    // Mitigation begun: the impact has not stopped yet, so "time to mitigate" is still running.
    expect(inc.mitigatedAt).toBeUndefined();
    expect(() => checkTransition(inc, 'identified')).toThrow(/cannot go back/);
    expect(() => checkTransition(inc, 'investigating')).not.toThrow();
    expect(() => checkTransition(inc, 'mitigating')).toThrow(/already/);
    expect(() => checkTransition(inc, 'resolved')).toThrow(/ir resolve/);
    inc = applyEvent(inc, ev('incident.resolved', 2, { summary: 's' }));
    expect(inc.mitigatedAt).toBe(at(2).toISOString());
    expect(() => checkTransition(inc, 'monitoring')).toThrow(/reopen/);
  });
});
