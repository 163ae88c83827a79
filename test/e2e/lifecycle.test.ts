// The whole incident lifecycle through the real binary, checked through --json.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, tempHome } from '../helpers/cli.js';

interface IncidentDoc {
  id: string;
  title: string;
  severity: string;
  state: string;
  service: string | null;
  impact: string | null;
  roles: Record<string, string>;
  declared_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  mitigated_at: string | null;
  resolved_at: string | null;
  summary: string | null;
  root_cause: string | null;
  detected_at: string | null;
  sla: {
    respond: { due: string; state: string; remaining_seconds: number } | null;
    resolve: { due: string; state: string; remaining_seconds: number } | null;
    update: { due: string; state: string } | null;
  };
}

describe('incident lifecycle (spawned ir, --json)', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('declare → ack → status → severity → assign → note → resolve', () => {
    const declared = ir(home, [
      'declare', '--json', '--title', 'Checkout returns 500s', '--severity', 'SEV-1',
      '--service', 'checkout', '--impact', 'EU customers cannot pay', '--commander', 'alice', '--detected-at', '10m',
    ]);
    expect(declared.code, declared.stderr).toBe(0);
    const inc = json<IncidentDoc>(declared);
    expect(inc.id).toMatch(/^INC-\d{8}-001$/);
    expect(inc).toMatchObject({ title: 'Checkout returns 500s', severity: 'SEV-1', state: 'investigating', service: 'checkout', roles: { commander: 'alice' } });
    const declaredAt = Date.parse(inc.declared_at);
    // SEV-1 in the shipped definitions: respond within 15m, resolve within 4h, update every 15m.
    expect(Date.parse(inc.sla.respond!.due) - declaredAt).toBe(15 * 60_000);
    expect(Date.parse(inc.sla.resolve!.due) - declaredAt).toBe(4 * 3_600_000);
    expect(Date.parse(inc.sla.update!.due) - declaredAt).toBe(15 * 60_000);
    expect(inc.sla.respond!.state).toBe('running');
    expect(declaredAt - Date.parse(inc.detected_at!)).toBeGreaterThanOrEqual(10 * 60_000 - 1000);

    const ack = ir(home, ['ack', '--json']);
    expect(ack.code, ack.stderr).toBe(0);
    const acked = json<{ incident: IncidentDoc; events: { type: string; actor: string }[] }>(ack);
    expect(acked.incident.acknowledged_by).toBe('tester');
    expect(acked.incident.sla.respond!.state).toBe('met');
    expect(acked.events.map((e) => e.type)).toEqual(['incident.acknowledged']);
    expect(ir(home, ['ack']).code).toBe(2); // twice is a mistake, said plainly

    const moved = json<{ incident: IncidentDoc }>(ir(home, ['status', 'identified', '--json', '--note', 'bad deploy']));
    expect(moved.incident.state).toBe('identified');
    const mitigating = json<{ incident: IncidentDoc }>(ir(home, ['status', 'mitigating', '--json']));
    // Mitigation begun is not mitigation achieved: the mark waits for monitoring (or resolution).
    expect(mitigating.incident.mitigated_at).toBeNull();
    const back = ir(home, ['status', 'identified']);
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(/cannot go back from mitigating to identified/);

    const status = json<{ incidents: IncidentDoc[] }>(ir(home, ['status', '--json']));
    expect(status.incidents).toHaveLength(1);
    expect(status.incidents[0]).toMatchObject({ id: inc.id, state: 'mitigating' });

    const sev = json<{ incident: IncidentDoc; events: { data: Record<string, unknown> }[] }>(
      ir(home, ['severity', 'SEV-0', '--reason', 'all regions now', '--json']),
    );
    expect(sev.incident.severity).toBe('SEV-0');
    expect(sev.events[0].data).toMatchObject({ from: 'SEV-1', to: 'SEV-0', reason: 'all regions now', direction: 'raised' });
    // The clocks follow the new level: SEV-0 resolves within 1h of the declaration.
    expect(Date.parse(sev.incident.sla.resolve!.due) - declaredAt).toBe(3_600_000);
    expect(ir(home, ['severity', 'SEV-9', '--reason', 'x']).code).toBe(2);

    const assigned = json<{ incident: IncidentDoc }>(ir(home, ['assign', 'scribe', 'Dana Kim', '--json']));
    expect(assigned.incident.roles).toEqual({ commander: 'alice', scribe: 'Dana Kim' });
    const own = json<{ incident: IncidentDoc }>(ir(home, ['assign', 'Customer Liaison', 'Bo', '--json']));
    expect(own.incident.roles['customer-liaison']).toBe('Bo');

    const noted = ir(home, ['note', 'rolled back api to v2.14.1', '--json']);
    expect(json<{ events: { type: string; data: { text: string } }[] }>(noted).events[0]).toMatchObject({ type: 'note.added', data: { text: 'rolled back api to v2.14.1' } });

    const resolved = json<{ incident: IncidentDoc }>(ir(home, ['resolve', '--summary', 'rolled back v2.15.0', '--root-cause', 'pool size halved', '--json']));
    expect(resolved.incident).toMatchObject({ state: 'resolved', summary: 'rolled back v2.15.0', root_cause: 'pool size halved' });
    expect(resolved.incident.sla.resolve!.state).toBe('met');
    expect(resolved.incident.mitigated_at).toBe(resolved.incident.resolved_at);
    expect(resolved.incident.sla.update).toBeNull();

    expect(json<{ incidents: unknown[] }>(ir(home, ['status', '--json'])).incidents).toHaveLength(0);
    expect(ir(home, ['status', 'monitoring', '--incident', inc.id]).stderr).toMatch(/resolved; reopen it first/);

    const shown = json<IncidentDoc & { events: { type: string }[] }>(ir(home, ['show', inc.id, '--json']));
    expect(shown.events.map((e) => e.type)).toEqual([
      'incident.declared', 'incident.acknowledged', 'incident.state_changed', 'incident.state_changed',
      'incident.severity_changed', 'incident.role_assigned', 'incident.role_assigned', 'note.added', 'incident.resolved',
    ]);

    const reopened = json<{ incident: IncidentDoc }>(ir(home, ['reopen', inc.id, '--reason', 'errors back', '--json']));
    expect(reopened.incident.state).toBe('investigating');
    expect(reopened.incident.resolved_at).toBeNull();

    const list = json<{ incidents: IncidentDoc[] }>(ir(home, ['list', '--all', '--json']));
    expect(list.incidents.map((i) => i.id)).toEqual([inc.id]);

    const verify = ir(home, ['timeline', '--verify', '--json']);
    expect(verify.code).toBe(0);
    expect(json(verify)).toMatchObject({ ok: true, events: 10 });
  });

  it('human output shows the clocks and the timeline', () => {
    const shown = ir(home, ['show']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/respond by\s+\S+ \S+Z\s+met/);
    expect(shown.stdout).toMatch(/Note: rolled back api to v2\.14\.1/);
    expect(shown.stdout.includes('\u001b[')).toBe(false); // NO_COLOR
  });

  it('picks the one open incident, and refuses to guess between several', () => {
    const second = json<IncidentDoc>(ir(home, ['declare', '--json', '-t', 'Queue backlog', '-s', 'SEV-3']));
    expect(second.id).toMatch(/-002$/);
    const ambiguous = ir(home, ['note', 'which one?']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/2 incidents are open; name one with --incident ID/);
    expect(ambiguous.stderr).toContain(second.id);
    expect(ir(home, ['note', 'this one', '--incident', second.id]).code).toBe(0);
    expect(ir(home, ['note', 'env works', '--json'], { env: { IR_INCIDENT: second.id } }).code).toBe(0);
    expect(ir(home, ['note', 'x', '--incident', 'INC-19990101-001']).stderr).toMatch(/no incident INC-19990101-001/);
  });

  it('without a terminal a missing title or severity is exit 2 naming the flag, never a hang', () => {
    const noTitle = ir(home, ['declare', '--severity', 'SEV-2']);
    expect(noTitle.code).toBe(2);
    expect(noTitle.stderr).toMatch(/--title is required/);
    const noSev = ir(home, ['declare', '--title', 'x', '--json']);
    expect(noSev.code).toBe(2);
    expect(json<{ error: { message: string } }>(noSev).error.message).toMatch(/--severity is required/);
    const badSev = ir(home, ['declare', '--title', 'x', '--severity', 'P7']);
    expect(badSev.code).toBe(2);
    expect(badSev.stderr).toMatch(/unknown severity "P7".*SEV-0, SEV-1, SEV-2, SEV-3, SEV-4/);
    const badFlag = ir(home, ['declare', '--titel', 'x']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).not.toMatch(/\n\s+at /);
  });
});
