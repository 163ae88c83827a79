// A store written by an ir whose incident records followed older rules (mitigated at `mitigating`,
// no acknowledging severity): reads fold the events again under today's rules, `--verify` still
// passes, and the next write caches a record of today's rules that verifies too.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ir, json, ROOT, sqlite, tempHome } from '../helpers/cli.js';

describe('a store whose cached records follow the older projection rules', () => {
  it('shows time to mitigate and the respond SLA by the new rules, and verifies before and after the next write', async () => {
    const { home, cleanup } = tempHome();
    try {
      const db = join(home, 'ir.db');
      const { default: Database } = await import('better-sqlite3');
      const { MIGRATIONS } = await import(join(ROOT, 'dist', 'store', 'migrations.js'));
      const { eventHash, GENESIS_HASH, recordDigest } = await import(join(ROOT, 'dist', 'store', 'chain.js'));
      const { canonicalJson } = await import(join(ROOT, 'dist', 'store', 'canonical.js'));
      const { applyEvent } = await import(join(ROOT, 'dist', 'core', 'incident.js'));
      const old = new Database(db);
      // Schema 10, as an older ir left it: its trigger recorded the runs of the rows written below
      // (from schema 11 ir records them itself); ir brings the store up to date when it opens it.
      for (const m of MIGRATIONS.slice(0, 10)) old.exec(m);
      old.pragma('user_version = 10');
      const id = 'INC-20261101-001';
      const written: [string, string, Record<string, unknown>][] = [
        ['02:00', 'incident.declared', { title: 'Old rules', severity: 'SEV-2' }],
        ['02:20', 'incident.acknowledged', {}],
        ['02:25', 'incident.severity_changed', { from: 'SEV-2', to: 'SEV-1', reason: 'worse' }],
        ['02:30', 'incident.state_changed', { from: 'investigating', to: 'mitigating' }],
        ['02:45', 'incident.state_changed', { from: 'mitigating', to: 'monitoring' }],
      ];
      old.prepare(`INSERT INTO incidents (id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash) VALUES (?, 'investigating', 'SEV-2', ?, NULL, '{}', 0, ?)`).run(id, '2026-11-01T02:00:00.000Z', GENESIS_HASH);
      let prev = GENESIS_HASH;
      let record: Record<string, unknown> | undefined;
      let cached: Record<string, unknown> = {};
      let mitigatedAt: string | undefined;
      written.forEach(([time, type, data], i) => {
        const at = `2026-11-01T${time}:00.000Z`;
        record = applyEvent(record, { incidentId: id, at, type, actor: 'old-ir', data });
        // The record as the older rules made it: mitigated on entering mitigating, no acknowledging severity, no rules number.
        if (type === 'incident.state_changed' && data.to === 'mitigating') mitigatedAt ??= at;
        const { rules: _r, acknowledgedSeverity: _a, mitigatedAt: _m, ...before } = record!;
        cached = { ...before, ...(mitigatedAt ? { mitigatedAt } : {}) };
        const row = { seq: i + 1, incident_id: id, at, type, actor: 'old-ir', data: canonicalJson(data), state_sha256: recordDigest(cached) };
        const hash = eventHash(prev, row);
        old.prepare(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(row.seq, id, at, type, 'old-ir', row.data, prev, hash, row.state_sha256);
        prev = hash;
      });
      old.prepare(`UPDATE incidents SET state = 'monitoring', severity = 'SEV-1', doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`).run(JSON.stringify(cached), written.length, prev, id);
      old.close();
      expect(cached.mitigatedAt).toBe('2026-11-01T02:30:00.000Z');

      const before = ir(home, ['timeline', '--verify']);
      expect(before.code, before.stdout + before.stderr).toBe(0);
      const shown = json<{ mitigated_at: string; sla: { respond: { state: string } } }>(ir(home, ['show', id, '--json']));
      expect(shown.mitigated_at).toBe('2026-11-01T02:45:00.000Z');
      // Acknowledged after 20m under SEV-2 (30m): met, although SEV-1 (15m) came later.
      expect(shown.sla.respond.state).toBe('met');

      expect(ir(home, ['note', 'after the upgrade', '--incident', id]).code).toBe(0);
      const doc = JSON.parse(sqlite(db, `SELECT doc FROM incidents WHERE id = '${id}'`)) as Record<string, unknown>;
      expect(doc).toMatchObject({ rules: 2, mitigatedAt: '2026-11-01T02:45:00.000Z', acknowledgedSeverity: 'SEV-2' });
      const after = ir(home, ['timeline', '--verify']);
      expect(after.code, after.stdout + after.stderr).toBe(0);

      // The leniency is for records of the older rules only: a current record edited is still caught.
      sqlite(db, `UPDATE incidents SET doc = json_set(doc, '$.mitigatedAt', '2026-11-01T02:30:00.000Z') WHERE id = '${id}'`);
      const edited = ir(home, ['timeline', '--verify']);
      expect(edited.code).toBe(1);
      expect(edited.stdout + edited.stderr).toMatch(/mitigatedAt is "2026-11-01T02:30:00.000Z" in the record but "2026-11-01T02:45:00.000Z" by its events/);
    } finally {
      cleanup();
    }
  });
});
