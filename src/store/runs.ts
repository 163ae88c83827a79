// Where each runbook run stands: the next step, the step in flight, the non-secret variables.

import type { Store } from './store.js';

export type RunStatus = 'running' | 'interrupted' | 'completed' | 'failed' | 'aborted';

export interface RunRecord {
  id: string;
  incidentId: string;
  runbookId: string;
  runbookPath: string;
  runbookSha256: string;
  startedAt: string;
  updatedAt: string;
  status: RunStatus;
  /** Index (across phases) of the next step to offer. */
  nextIndex: number;
  /** The step that had started and not finished; set means the process died or was stopped inside it. */
  currentIndex: number | null;
  /** Variable values, secrets excluded: secrets are asked for or read from the environment again. */
  vars: Record<string, string>;
  failures: number;
  pid: number | null;
  host: string | null;
}

interface Row {
  id: string;
  incident_id: string;
  runbook_id: string;
  runbook_path: string;
  runbook_sha256: string;
  started_at: string;
  updated_at: string;
  status: RunStatus;
  next_index: number;
  current_index: number | null;
  vars: string;
  failures: number;
  pid: number | null;
  host: string | null;
}

const fromRow = (r: Row): RunRecord => ({
  id: r.id,
  incidentId: r.incident_id,
  runbookId: r.runbook_id,
  runbookPath: r.runbook_path,
  runbookSha256: r.runbook_sha256,
  startedAt: r.started_at,
  updatedAt: r.updated_at,
  status: r.status,
  nextIndex: r.next_index,
  currentIndex: r.current_index,
  vars: JSON.parse(r.vars) as Record<string, string>,
  failures: r.failures,
  pid: r.pid,
  host: r.host,
});

export class RunStore {
  constructor(private readonly store: Store) {}

  /** A new run id: RUN-<incident suffix>-<n>, unique within the store. */
  create(rec: Omit<RunRecord, 'id'>): RunRecord {
    return this.store.write(() => {
      const { n } = this.store.db.prepare(`SELECT count(*) + 1 AS n FROM runbook_runs WHERE incident_id = ?`).get(rec.incidentId) as { n: number };
      const id = `${rec.incidentId.replace(/^INC-/, 'RUN-')}-${n}`;
      this.store.db
        .prepare(
          `INSERT INTO runbook_runs (id, incident_id, runbook_id, runbook_path, runbook_sha256, started_at, updated_at, status, next_index, current_index, vars, failures, pid, host)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, rec.incidentId, rec.runbookId, rec.runbookPath, rec.runbookSha256, rec.startedAt, rec.updatedAt, rec.status, rec.nextIndex, rec.currentIndex, JSON.stringify(rec.vars), rec.failures, rec.pid, rec.host);
      return { ...rec, id };
    });
  }

  update(id: string, changes: Partial<Pick<RunRecord, 'status' | 'nextIndex' | 'currentIndex' | 'vars' | 'failures' | 'pid' | 'host' | 'updatedAt'>>): void {
    const cols: string[] = [];
    const values: unknown[] = [];
    const map: Record<string, string> = { status: 'status', nextIndex: 'next_index', currentIndex: 'current_index', vars: 'vars', failures: 'failures', pid: 'pid', host: 'host', updatedAt: 'updated_at' };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) continue;
      cols.push(`${map[k]} = ?`);
      values.push(k === 'vars' ? JSON.stringify(v) : v);
    }
    if (!cols.length) return;
    this.store.db.prepare(`UPDATE runbook_runs SET ${cols.join(', ')} WHERE id = ?`).run(...values, id);
  }

  get(id: string): RunRecord | undefined {
    const r = this.store.db.prepare(`SELECT * FROM runbook_runs WHERE id = ?`).get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** The most recent run that did not finish, for this incident (and runbook, when given). */
  unfinished(incidentId: string, runbookId?: string): RunRecord | undefined {
    const r = this.store.db
      .prepare(
        `SELECT * FROM runbook_runs WHERE incident_id = ? AND status IN ('running', 'interrupted') ${runbookId ? 'AND runbook_id = ?' : ''}
         ORDER BY started_at DESC, rowid DESC LIMIT 1`,
      )
      .get(...(runbookId ? [incidentId, runbookId] : [incidentId])) as Row | undefined;
    return r && fromRow(r);
  }

  forIncident(incidentId: string): RunRecord[] {
    return (this.store.db.prepare(`SELECT * FROM runbook_runs WHERE incident_id = ? ORDER BY started_at, rowid`).all(incidentId) as Row[]).map(fromRow);
  }
}
