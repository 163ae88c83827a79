// A postmortem's helper thread folds the second part of a timeline into ModelOps without knowing
// the first part; applied after the first part, they must leave the model exactly as adding every
// event would. Checked over generated timelines cut at many places: runs started before and after
// the cut, steps of runs never started, runs of thousands of checks, destructive and printed steps,
// "Actions taken" still short or already folded at the cut, notes and authors on both sides.

import { describe, expect, it } from 'vitest';
import type { Incident, TimelineEvent } from '../../src/core/incident.js';
import { ModelBuilder, ModelCompactor, STEPS_LISTED } from '../../src/report/model.js';
import type { SeverityConfig } from '../../src/core/severity.js';
import { generator } from './secret-corpus.js';

const T0 = Date.parse('2026-11-22T02:00:00.000Z');

const incident: Incident = {
  id: 'INC-20261122-001',
  title: 'ops',
  severity: 'SEV-2',
  state: 'resolved',
  declaredAt: new Date(T0).toISOString(),
  declaredBy: 'alice',
  resolvedAt: new Date(T0 + 3_600_000).toISOString(),
  roles: { commander: 'alice' },
} as unknown as Incident;

/** A timeline of `n` events from a seeded generator, with runs long enough to be counted. */
function timeline(seed: number, n: number): TimelineEvent[] {
  const g = generator(seed);
  const runs = ['RUN-A', 'RUN-B', 'RUN-C', 'RUN-GHOST'];
  const actors = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const events: TimelineEvent[] = [];
  for (let k = 0; k < n; k++) {
    const r = g.next();
    const run = runs[g.int(runs.length)];
    let type = 'note.added';
    let data: Record<string, unknown> = { text: `note ${k}` };
    // Runs start at fixed places, one twice (a restart empties its listed steps); RUN-GHOST never does.
    const starts: Record<number, string> = { 0: 'RUN-A', 1: 'RUN-B', [Math.floor(n * 0.4)]: 'RUN-C', [Math.floor(n * 0.8)]: 'RUN-A' };
    if (starts[k]) {
      type = 'runbook.started';
      data = { run_id: starts[k], runbook: `rb-${starts[k]}`, title: `Runbook ${starts[k]}` };
    } else if (r < 0.6) {
      type = 'runbook.step';
      const kind = g.next() < 0.9 ? 'run' : 'print';
      const outcome = ['ok', 'ok', 'ok', 'failed', 'skipped', 'printed', 'done'][g.int(7)];
      data = { run_id: run, runbook: `rb-${run}`, step: `s${k}`, title: `Step ${k}`, kind, outcome, command: 'redis-cli INFO', exit_code: outcome === 'ok' ? 0 : 1, destructive: g.next() < 0.01, confirmed: g.next() < 0.5 };
    } else if (r < 0.61) {
      type = 'runbook.finished';
      data = { run_id: run, status: 'completed', follow_up: [`fix ${k % 7}`] };
    } else if (r < 0.615) {
      type = 'incident.state_changed';
      data = { from: 'investigating', to: 'mitigating', reason: `r${k}` };
    } else if (r < 0.62) {
      type = 'action.added';
      data = { id: `A${k}`, text: `action ${k}`, owner: 'bob' };
    }
    events.push({ seq: k + 1, incidentId: incident.id, at: new Date(T0 + k * 1000).toISOString(), type, actor: actors[g.int(actors.length)], data, prevHash: '', hash: `h${k}` });
  }
  return events;
}

describe('ModelCompactor ops applied after the first part fold the same model as every event added', () => {
  const config = {
    file: 'severities.yaml',
    levels: [
      { id: 'SEV-1', name: 'Critical', definition: '', respondWithin: 300_000, resolveWithin: 3_600_000, updateEvery: 1_800_000, examples: [] },
      { id: 'SEV-2', name: 'Major', definition: '', respondWithin: 900_000, resolveWithin: 14_400_000, updateEvery: 3_600_000, examples: [] },
    ],
    escalation: [],
  } as unknown as SeverityConfig;
  const now = new Date(T0 + 7_200_000);
  const model = (events: TimelineEvent[], cut?: number) => {
    const b = new ModelBuilder(incident, config, now, {});
    if (cut === undefined) for (const e of events) b.add(e);
    else {
      for (const e of events.slice(0, cut)) b.add(e);
      const c = new ModelCompactor();
      for (const e of events.slice(cut)) c.add(e);
      c.flush();
      // Structured clone, as postMessage hands them over.
      for (const op of structuredClone(c.ops)) b.apply(op);
    }
    return b.finish({ chainHead: '1:x' });
  };

  for (const [seed, n] of [
    [1, 9000],
    [2, 12000],
    [3, 20000],
  ] as const) {
    it(`seed ${seed}, ${n} events, cut at many places`, () => {
      const events = timeline(seed, n);
      const whole = model(events);
      // The runs are long enough that steps were counted, not listed.
      expect(whole.runbooks.some((r) => r.steps.length === STEPS_LISTED + 1 && r.steps[STEPS_LISTED].step === '…')).toBe(true);
      for (const cut of [0, 5, 500, 1000, Math.floor(n / 3), Math.floor(n / 2), n - 10, n]) expect(model(events, cut)).toEqual(whole);
    });
  }

  it('hands over far fewer ops than events on a long run of checks', () => {
    const events = timeline(4, 60000);
    const c = new ModelCompactor();
    for (const e of events.slice(5000)) c.add(e);
    c.flush();
    expect(c.ops.length).toBeLessThan(55000 / 3);
  });
});
