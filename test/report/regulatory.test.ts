// The postmortem's regulatory table: met, late (missed), never notified (missed), still open, withdrawn.

import { describe, expect, it } from 'vitest';
import { applyEvent, type Incident } from '../../src/core/incident.js';
import { DEFAULT_REGIMES, startEvents } from '../../src/core/regime.js';
import { regulatoryRows } from '../../src/report/model.js';

const T = Date.parse('2026-11-24T09:00:00Z');
const iso = (hours: number) => new Date(T + hours * 3_600_000).toISOString();

function incidentWith(events: { type: string; data: Record<string, unknown>; hours: number }[]): Incident {
  let i = applyEvent(undefined, { incidentId: 'INC-20261124-001', at: iso(0), type: 'incident.declared', actor: 'ann', data: { title: 'Leak', severity: 'SEV-1' } });
  for (const e of events) i = applyEvent(i, { incidentId: i.id, at: iso(e.hours), type: e.type, actor: 'ann', data: e.data });
  return i;
}

describe('regulatoryRows', () => {
  it('late is missed, never notified is missed once due, open before, withdrawn says why', () => {
    const base = incidentWith([]);
    const started = startEvents(base, [...DEFAULT_REGIMES], new Date(T)).events.map((e) => ({ ...e, hours: 0.5 }));
    const i = incidentWith([
      ...started,
      { type: 'regime.notified', data: { regime: 'pci', notified_at: iso(26), by: 'ann', ref: 'ACQ-7' }, hours: 26 },
      { type: 'regime.removed', data: { regime: 'sox', reason: 'no financial systems involved' }, hours: 27 },
    ]);
    const rows = regulatoryRows(i, new Date(iso(30)));
    expect(rows.map((r) => [r.regime, r.notifiedAt, r.ref, r.result])).toEqual([
      ['GDPR', '—', '—', 'open (due in 42h)'],
      ['PCI DSS', '2026-11-25 11:00:00Z', 'ACQ-7', 'missed (notified 2h late)'],
      ['SOX', '—', '—', 'withdrawn: no financial systems involved'],
    ]);
    expect(regulatoryRows(i, new Date(iso(73)))[0].result).toBe('missed (not notified)');
  });

  it('an incident without regimes has no rows and no regimes field (its record digest is unchanged)', () => {
    const i = incidentWith([]);
    expect(regulatoryRows(i, new Date(iso(1)))).toEqual([]);
    expect('regimes' in i).toBe(false);
  });
});
