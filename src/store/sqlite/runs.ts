// Runbook run state in SQLite: the next step, the step in flight, the non-secret variables.

import type { RunChanges, RunRecord } from '../types.js';
import type { SqliteDatabase } from './database.js';
import { runFromRow, type RunRow } from '../rows.js';

export class SqliteRuns {
  constructor(private readonly store: SqliteDatabase) {}

  /** A new run id: RUN-<incident suffix>-<n>, unique within the store. */
  create(rec: Omit<RunRecord, 'id' | 'stepProcess'> & { id?: string }): RunRecord {
    return this.store.write(() => {
      const { n } = this.store.db.prepare(`SELECT count(*) + 1 AS n FROM runbook_runs WHERE incident_id = ?`).get(rec.incidentId) as { n: number };
      const id = rec.id ?? `${rec.incidentId.replace(/^INC-/, 'RUN-')}-${n}`;
      this.store.db
        .prepare(
          `INSERT INTO runbook_runs (id, incident_id, runbook_id, runbook_path, runbook_sha256, started_at, updated_at, status, next_index, current_index, vars, failures, pid, host)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, rec.incidentId, rec.runbookId, rec.runbookPath, rec.runbookSha256, rec.startedAt, rec.updatedAt, rec.status, rec.nextIndex, rec.currentIndex, JSON.stringify(rec.vars), rec.failures, rec.pid, rec.host);
      return { ...withoutId(rec), id, stepProcess: null };
    });
  }

  update(id: string, changes: RunChanges): void {
    const cols: string[] = [];
    const values: unknown[] = [];
    if (changes.stepProcess !== undefined) {
      const p = changes.stepProcess;
      cols.push('step_pid = ?', 'step_start_ticks = ?', 'step_boot_id = ?', 'step_started_at = ?', 'step_host = ?', 'step_command = ?', 'step_output = ?');
      values.push(p?.pid ?? null, p?.startTicks ?? null, p?.bootId ?? null, p?.startedAt ?? null, p?.host ?? null, p?.command ?? null, p?.outputFile ?? null);
    }
    const map: Record<string, string> = { status: 'status', nextIndex: 'next_index', currentIndex: 'current_index', vars: 'vars', failures: 'failures', pid: 'pid', host: 'host', updatedAt: 'updated_at' };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || k === 'stepProcess') continue;
      cols.push(`${map[k]} = ?`);
      values.push(k === 'vars' ? JSON.stringify(v) : v);
    }
    if (!cols.length) return;
    this.store.db.prepare(`UPDATE runbook_runs SET ${cols.join(', ')} WHERE id = ?`).run(...values, id);
  }

  get(id: string): RunRecord | undefined {
    const r = this.store.db.prepare(`SELECT * FROM runbook_runs WHERE id = ?`).get(id) as RunRow | undefined;
    return r && runFromRow(r);
  }

  /** The most recent run that did not finish, for this incident (and runbook, when given). */
  unfinished(incidentId: string, runbookId?: string): RunRecord | undefined {
    const r = this.store.db
      .prepare(
        `SELECT * FROM runbook_runs WHERE incident_id = ? AND status IN ('running', 'interrupted') ${runbookId ? 'AND runbook_id = ?' : ''}
         ORDER BY started_at DESC, rowid DESC LIMIT 1`,
      )
      .get(...(runbookId ? [incidentId, runbookId] : [incidentId])) as RunRow | undefined;
    return r && runFromRow(r);
  }

  /** Unfinished runs of this runbook whose step was in flight with a recorded process. */
  withStepProcess(incidentId: string, runbookId: string): RunRecord[] {
    return (
      this.store.db
        .prepare(`SELECT * FROM runbook_runs WHERE incident_id = ? AND runbook_id = ? AND status IN ('running', 'interrupted') AND step_pid IS NOT NULL ORDER BY started_at, rowid`)
        .all(incidentId, runbookId) as RunRow[]
    ).map(runFromRow);
  }

  forIncident(incidentId: string): RunRecord[] {
    return (this.store.db.prepare(`SELECT * FROM runbook_runs WHERE incident_id = ? ORDER BY started_at, rowid`).all(incidentId) as RunRow[]).map(runFromRow);
  }
}

function withoutId<T extends { id?: string }>(rec: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = rec;
  return rest;
}
