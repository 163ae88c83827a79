// A chain cut into stretches checked apart (as `verify` does on two threads) must give the verdict of
// one walk over the whole chain, wherever the cut falls and whatever was done to the rows.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyEvent, PROJECTED_TYPES, type Incident } from '../../src/core/incident.js';
import { ChainStretch, ChainWalk, chainVerdict, eventHash, GENESIS_HASH, joinStretches, recordDigest, summarize, type EventRow } from '../../src/store/chain.js';

const ID = 'INC-20261125-001';

/** A chain as ir writes it: each row's digest is the record after it, each hash links to the one before. */
function chain(events: { type: string; data: unknown }[]): { rows: EventRow[]; record: Incident } {
  const rows: EventRow[] = [];
  let record: Incident | undefined;
  let prev = GENESIS_HASH;
  events.forEach((e, i) => {
    const at = new Date(Date.UTC(2026, 10, 25, 1, 0, i)).toISOString();
    record = applyEvent(record, { incidentId: ID, at, type: e.type, actor: i % 3 ? 'bob' : 'alice', data: e.data as Record<string, unknown> });
    const row = { seq: 100 + i * 2, incident_id: ID, at, type: e.type, actor: i % 3 ? 'bob' : 'alice', data: JSON.stringify(e.data), state_sha256: recordDigest(record), origin: i % 7 ? null : 'host/inst', recorded_at: i === 9 ? at : null };
    const hash = eventHash(prev, row);
    rows.push({ ...row, prev_hash: prev, hash });
    prev = hash;
  });
  return { rows, record: record! };
}

/** Recomputes every hash from row `from` on, as someone rewriting the chain with the file in hand would. */
function rechain(rows: EventRow[], from: number): EventRow[] {
  const out = rows.map((r) => ({ ...r }));
  for (let i = from; i < out.length; i++) {
    out[i].prev_hash = i ? out[i - 1].hash : GENESIS_HASH;
    out[i].hash = eventHash(out[i].prev_hash, out[i]);
  }
  return out;
}

const EVENTS = [
  { type: 'incident.declared', data: { title: 'cut anywhere', severity: 'SEV-2', commander: 'alice' } },
  ...Array.from({ length: 30 }, (_, i) => {
    const special: Record<number, { type: string; data: unknown }> = {
      3: { type: 'incident.acknowledged', data: {} },
      8: { type: 'incident.severity_changed', data: { from: 'SEV-2', to: 'SEV-1' } },
      12: { type: 'action.added', data: { n: 1, text: 'add an alert' } },
      17: { type: 'incident.role_assigned', data: { role: 'scribe', person: 'carol' } },
      21: { type: 'comms.sent', data: { channel: 'status' } },
      25: { type: 'action.done', data: { n: 1 } },
      28: { type: 'incident.state_changed', data: { from: 'investigating', to: 'mitigating' } },
    };
    return special[i] ?? { type: i % 5 ? 'note.added' : 'runbook.step', data: { text: `note ${i} "quoted" \\ ünïcode ✓`, n: i } };
  }),
];

function incidentRow(rows: EventRow[], record: Incident, changed: Partial<Incident> = {}) {
  const doc = { ...record, ...changed };
  const last = rows.at(-1);
  return { state: doc.state, severity: doc.severity, declared_at: doc.declaredAt, resolved_at: doc.resolvedAt ?? null, doc: JSON.stringify(doc), head_seq: last?.seq ?? 0, head_hash: last?.hash ?? GENESIS_HASH };
}

function oneWalk(rows: EventRow[], inc: ReturnType<typeof incidentRow>) {
  const walk = new ChainWalk(ID);
  for (const r of rows) walk.push(r);
  return { events: walk.events, verdict: walk.finish(inc) };
}

/** The way SqliteDatabase.verify cuts a chain at `cut`: the helper's stretch keeps at most `keep` projected rows. */
function cutWalk(rows: EventRow[], inc: ReturnType<typeof incidentRow>, cut: number, keep: number) {
  const push = (s: ChainStretch, r: EventRow) => s.row(r.seq, r.at, r.type, r.actor, r.data, r.prev_hash, r.hash, r.state_sha256, r.origin, r.recorded_at);
  const first = new ChainStretch(ID, { start: true, fold: true });
  const later = new ChainStretch(ID, { start: false, fold: false, keep });
  rows.slice(0, cut).forEach((r) => push(first, r));
  rows.slice(cut).forEach((r) => push(later, r));
  const summary = structuredClone(summarize(later));
  if (summary.kept) for (const k of summary.kept) first.foldRow(...k);
  else for (const r of rows.slice(cut)) if (PROJECTED_TYPES.has(r.type)) first.foldRow(r.seq, r.at, r.type, r.actor, r.data);
  const joined = joinStretches(first, [summary]);
  return { events: joined.events, verdict: chainVerdict(ID, joined, inc) };
}

describe('a chain checked in stretches', () => {
  const { rows, record } = chain(EVENTS);
  const cases: [string, EventRow[], ReturnType<typeof incidentRow>][] = (() => {
    const modified = rows.map((r, i) => (i === 14 ? { ...r, data: r.data.replace('note', 'nope') } : r));
    const twoModified = modified.map((r, i) => (i === 22 ? { ...r, actor: 'mallory' } : r));
    const removed = rows.filter((_, i) => i !== 11);
    // Rows are read in seq order, so a reorder is two events trading their seq numbers.
    const swapped = rows.map((r, i) => (i === 15 ? { ...rows[16], seq: r.seq } : i === 16 ? { ...rows[15], seq: r.seq } : r));
    const notJson = rechain(
      rows.map((r, i) => (i === 19 ? { ...r, data: '{"text": unquoted' } : r)),
      19,
    );
    // Valid JSON the projection cannot read: one walk reports it as data, so must the stretches.
    const nullData = rechain(
      rows.map((r, i) => (i === 18 ? { ...r, data: 'null' } : r)),
      18,
    );
    const notJsonThenModified = notJson.map((r, i) => (i === 26 ? { ...r, data: r.data.replace('note', 'nope') } : r));
    const noDeclaration = rechain(rows.slice(1), 0);
    return [
      ['intact', rows, incidentRow(rows, record)],
      ['one modified event', modified, incidentRow(rows, record)],
      ['two modified events', twoModified, incidentRow(rows, record)],
      ['a removed event', removed, incidentRow(rows, record)],
      ['two events swapped', swapped, incidentRow(rows, record)],
      ['data that is not JSON, rehashed', notJson, incidentRow(notJson, record)],
      ['null data on a role assignment, rehashed', nullData, incidentRow(nullData, record)],
      ['data that is not JSON, then a modified event', notJsonThenModified, incidentRow(notJsonThenModified, record)],
      ['no declaration', noDeclaration, incidentRow(noDeclaration, record)],
      ['events cut from the end', rows.slice(0, -3), incidentRow(rows, record)],
      ['a record edited outside its events', rows, incidentRow(rows, record, { severity: 'SEV-4' })],
      ['a cached field edited outside its events', rows, incidentRow(rows, record, { title: 'edited' })],
    ];
  })();

  it.each(cases)('%s: every cut gives the verdict of one walk', (_name, rs, inc) => {
    const whole = oneWalk(rs, inc);
    for (let cut = 1; cut < rs.length; cut++) {
      for (const keep of [0, 2, 4096]) {
        expect(cutWalk(rs, inc, cut, keep), `cut before row ${cut}, keep ${keep}`).toEqual(whole);
      }
    }
  });

  it('the verdicts are the ones one walk has always given', () => {
    const verdict = (i: number) => oneWalk(cases[i][1], cases[i][2]).verdict;
    expect(verdict(0)).toBeUndefined();
    expect(verdict(1)).toEqual({ incidentId: ID, seq: rows[14].seq, reason: 'contents do not match its hash (the event was modified)' });
    expect(verdict(2)).toEqual(verdict(1));
    expect(verdict(3)).toEqual({ incidentId: ID, seq: rows[12].seq, reason: 'prev_hash does not link to the event before it (an event was removed or reordered)' });
    expect(verdict(4)).toEqual({ incidentId: ID, seq: rows[15].seq, reason: 'prev_hash does not link to the event before it (an event was removed or reordered)' });
    expect(verdict(5)).toEqual({ incidentId: ID, seq: rows[19].seq, reason: 'data is not valid JSON' });
    expect(verdict(6)).toEqual({ incidentId: ID, seq: rows[18].seq, reason: 'data is not valid JSON' });
    expect(verdict(7)).toEqual(verdict(5));
    expect(verdict(8)).toEqual({ incidentId: ID, seq: rows[1].seq, reason: "the chain does not begin with the incident's declaration" });
    expect(verdict(9)?.reason).toMatch(/removed from the end/);
    expect(verdict(10)?.reason).toMatch(/^the incident record was changed outside its events: severity/);
    expect(verdict(11)?.reason).toMatch(/^the incident record was changed outside its events: title/);
  });
});

describe('the event types the record is made of', () => {
  it('are exactly the types applyEvent handles', () => {
    // verify folds only PROJECTED_TYPES: a type handled in applyEvent but missing there would be skipped.
    const source = readFileSync(new URL('../../src/core/incident.ts', import.meta.url), 'utf8');
    const body = source.slice(source.indexOf('export function applyEvent'), source.indexOf('export function isOpen'));
    const handled = new Set([...body.matchAll(/(?:case |event\.type === )'([a-z_.]+)'/g)].map((m) => m[1]));
    expect([...handled].sort()).toEqual([...PROJECTED_TYPES].sort());
  });

  it('any other type leaves the record as it was', () => {
    const { record } = chain(EVENTS);
    for (const type of ['note.added', 'runbook.step', 'runbook.started', 'evidence.collected', 'something.new']) {
      expect(applyEvent(record, { incidentId: ID, at: '2026-11-25T02:00:00.000Z', type, actor: 'x', data: { to: 'resolved', n: 1, role: 'commander', person: 'x' } })).toEqual(record);
    }
  });
});
