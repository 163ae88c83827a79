// Schema migrations, applied in order and keyed on PRAGMA user_version; each runs in one transaction.

export const MIGRATIONS: string[] = [
  // 1: incidents (a projection of their events) and the append-only, hash-chained timeline.
  `
  CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    resolved_at TEXT,
    doc         TEXT NOT NULL,
    head_seq    INTEGER NOT NULL,
    head_hash   TEXT NOT NULL
  );
  CREATE INDEX incidents_state ON incidents(state, declared_at);

  CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    at          TEXT NOT NULL,
    type        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    data        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
  );
  CREATE INDEX events_incident ON events(incident_id, seq);

  CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correction as a new event'); END;
  CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correction as a new event'); END;
  `,
  // 2: runbook runs — where a run stands, so it can resume after a crash, a closed SSH session or Ctrl-C.
  // This is working state, not history: what happened is in the events.
  `
  CREATE TABLE runbook_runs (
    id             TEXT PRIMARY KEY,
    incident_id    TEXT NOT NULL REFERENCES incidents(id),
    runbook_id     TEXT NOT NULL,
    runbook_path   TEXT NOT NULL,
    runbook_sha256 TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    status         TEXT NOT NULL,
    next_index     INTEGER NOT NULL,
    current_index  INTEGER,
    vars           TEXT NOT NULL,
    failures       INTEGER NOT NULL DEFAULT 0,
    pid            INTEGER,
    host           TEXT
  );
  CREATE INDEX runbook_runs_incident ON runbook_runs(incident_id, runbook_id, started_at);
  `,
  // 3: evidence collections and their files — the custody record next to the timeline's events.
  // Rows are written as each collector finishes, so a killed collection keeps what it finished.
  `
  CREATE TABLE evidence_collections (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    status       TEXT NOT NULL,
    collectors   TEXT NOT NULL,
    since        TEXT,
    namespace    TEXT,
    selector     TEXT,
    kube_context TEXT,
    collected_by TEXT NOT NULL,
    ir_version   TEXT NOT NULL,
    pid          INTEGER,
    host         TEXT
  );
  CREATE INDEX evidence_collections_incident ON evidence_collections(incident_id, started_at);

  CREATE TABLE evidence_files (
    id            INTEGER PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES evidence_collections(id),
    collector     TEXT NOT NULL,
    file          TEXT,
    source        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    sha256        TEXT,
    status        TEXT NOT NULL,
    reason        TEXT
  );
  CREATE INDEX evidence_files_collection ON evidence_files(collection_id, id);
  CREATE UNIQUE INDEX evidence_files_path ON evidence_files(collection_id, file) WHERE file IS NOT NULL;

  CREATE TRIGGER evidence_files_append_only_update BEFORE UPDATE ON evidence_files
  BEGIN SELECT RAISE(ABORT, 'evidence file records are append-only'); END;
  CREATE TRIGGER evidence_files_append_only_delete BEFORE DELETE ON evidence_files
  BEGIN SELECT RAISE(ABORT, 'evidence file records are append-only'); END;
  `,
  // 4: each event carries the digest of the incident record it produces (inside its hash), so the cached
  // record can be checked against the chain without refolding every event.
  `
  ALTER TABLE events ADD COLUMN state_sha256 TEXT;
  `,
  // 5: each evidence file as it is opened, before a byte is written. A collection killed
  // half-way (kill -9, power loss) then still knows its files: they are partial, not unexpected.
  `
  CREATE TABLE evidence_files_opened (
    id            INTEGER PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES evidence_collections(id),
    collector     TEXT NOT NULL,
    file          TEXT NOT NULL,
    source        TEXT NOT NULL,
    opened_at     TEXT NOT NULL
  );
  CREATE UNIQUE INDEX evidence_files_opened_path ON evidence_files_opened(collection_id, file);

  CREATE TRIGGER evidence_files_opened_append_only_update BEFORE UPDATE ON evidence_files_opened
  BEGIN SELECT RAISE(ABORT, 'evidence file records are append-only'); END;
  CREATE TRIGGER evidence_files_opened_append_only_delete BEFORE DELETE ON evidence_files_opened
  BEGIN SELECT RAISE(ABORT, 'evidence file records are append-only'); END;
  `,
  // 6: the process of the step in flight, so a resume after ir was killed can tell whether that
  // step still runs (its pid, and its start time so a reused pid is not mistaken for it) and never
  // starts it a second time beside itself.
  `
  ALTER TABLE runbook_runs ADD COLUMN step_pid INTEGER;
  ALTER TABLE runbook_runs ADD COLUMN step_start_ticks INTEGER;
  ALTER TABLE runbook_runs ADD COLUMN step_boot_id TEXT;
  ALTER TABLE runbook_runs ADD COLUMN step_started_at TEXT;
  ALTER TABLE runbook_runs ADD COLUMN step_host TEXT;
  ALTER TABLE runbook_runs ADD COLUMN step_command TEXT;
  ALTER TABLE runbook_runs ADD COLUMN step_output TEXT;
  `,
  // 7: where each event was written (host and installation), and when an event written offline
  // reached the store; both inside the hash when set.
  `
  ALTER TABLE events ADD COLUMN origin TEXT;
  ALTER TABLE events ADD COLUMN recorded_at TEXT;
  `,
  // 8: the key of each write that may be retried (an outbox entry delivered, or a write whose reply
  // was lost), so a delivery that already committed is recognised instead of written twice.
  `
  CREATE TABLE deliveries (
    key          TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    delivered_at TEXT NOT NULL
  );
  `,
  // 9: no new table: from here an incident's row head may stand before its newest events when those
  // left the record as it was (a note appended by the connection that wrote last), which verify
  // accepts. The version moves so that an older ir, which would read such a head as events removed
  // from the end, refuses the store ("written by a newer ir") instead of raising a false alarm.
  `
  SELECT 1;
  `,
  // 10: an incident's events are found through the runs they form instead of an index on
  // (incident_id, seq). Seqs are numbered store-wide and appends mostly follow one incident, so its
  // events lie in a few stretches of consecutive seqs (a long incident usually in one); a row here marks
  // the first event of each. An append that continues the store's last run writes the table's page
  // alone, where the index made every commit write two (bench/append.js), and a read walks the table in
  // seq order instead of looking up each row through the index. The trigger keeps the runs with the
  // events for any writer; an event inserted between others also starts a run at the event after it.
  `
  CREATE TABLE event_runs (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL
  );
  INSERT INTO event_runs (seq, incident_id)
    SELECT seq, incident_id FROM (SELECT seq, incident_id, lag(incident_id) OVER (ORDER BY seq) AS before FROM events)
    WHERE before IS NOT incident_id;
  CREATE INDEX event_runs_incident ON event_runs(incident_id, seq);
  DROP INDEX events_incident;

  CREATE TRIGGER events_runs AFTER INSERT ON events
  BEGIN
    INSERT OR IGNORE INTO event_runs (seq, incident_id)
      SELECT NEW.seq, NEW.incident_id
      WHERE (SELECT incident_id FROM events WHERE seq < NEW.seq ORDER BY seq DESC LIMIT 1) IS NOT NEW.incident_id;
    INSERT OR IGNORE INTO event_runs (seq, incident_id)
      SELECT seq, incident_id FROM (SELECT seq, incident_id FROM events WHERE seq > NEW.seq ORDER BY seq LIMIT 1)
      WHERE incident_id IS NOT NEW.incident_id;
  END;
  CREATE TRIGGER event_runs_append_only_update BEFORE UPDATE ON event_runs
  BEGIN SELECT RAISE(ABORT, 'event runs are append-only: they follow the events'); END;
  CREATE TRIGGER event_runs_append_only_delete BEFORE DELETE ON event_runs
  BEGIN SELECT RAISE(ABORT, 'event runs are append-only: they follow the events'); END;
  `,
  // 11: ir's one writer of events (insertEvent) records the runs itself, where the trigger ran a
  // sub-program at every insert (a frame, two seeks, a statement journal: a seventh of an append's
  // instructions, bench/append.js) to find what the append already knew: that it continues the
  // store's last run. An older ir, which counts on the trigger, refuses the store from here; runs
  // that disagree with the events (rows written by hand) are what verify reports.
  `
  DROP TRIGGER events_runs;
  `,
  // 12: the events whose data is not JSON as RFC 8259 has it (none that ir wrote), in a partial index
  // SQLite keeps with the rows whoever writes them. A long timeline read a page at a time on a helper
  // thread (sqlite/pages.ts) asks it whether a stretch holds one, instead of checking every event's
  // data as it reads: that check was nearly half of the helper's work. An append evaluates the index's
  // condition once (bench/append.js). json_valid with one argument, which every SQLite with JSON reads
  // (a schema naming the two-argument form of 3.45 is "malformed" to an older sqlite3 shell, and the
  // store could not be opened with it at all); from 3.45 it means the same as json_valid(data, 1).
  `
  CREATE INDEX events_odd_data ON events(seq) WHERE NOT json_valid(data);
  `,
];
