// PostgreSQL's schema migrations: the same steps, in the same order, as SQLite's (../migrations.ts),
// so schema version N means the same tables on both backends; written in PostgreSQL's dialect.

const APPEND_ONLY = (table: string, what: string) => `
  CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
    FOR EACH ROW EXECUTE FUNCTION ir_refuse_change('${what}');
  CREATE TRIGGER ${table}_append_only_truncate BEFORE TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION ir_refuse_change('${what}');
`;

export const PG_MIGRATIONS: string[] = [
  // 1: incidents, the append-only hash-chained timeline, and the per-day incident id counters.
  // Times are kept as the ISO text ir wrote (not timestamptz): the text is what the hash covers.
  `
  CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    resolved_at TEXT,
    doc         TEXT NOT NULL,
    head_seq    BIGINT NOT NULL,
    head_hash   TEXT NOT NULL
  );
  CREATE INDEX incidents_state ON incidents(state, declared_at);

  CREATE TABLE events (
    seq         BIGINT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    at          TEXT NOT NULL,
    type        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    data        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (incident_id, seq)
  );

  CREATE TABLE id_counters (
    scope TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
  );

  -- The server itself refuses to rewrite history, whichever client connects.
  CREATE FUNCTION ir_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '% are append-only: record a correction as a new event', TG_ARGV[0]
      USING ERRCODE = 'insufficient_privilege';
  END;
  $$;
  ${APPEND_ONLY('events', 'events')}
  `,
  // 2: runbook runs (working state for resume, not history). ord keeps insertion order, as SQLite's rowid.
  `
  CREATE TABLE runbook_runs (
    id             TEXT PRIMARY KEY,
    ord            BIGSERIAL NOT NULL,
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
  // 3: evidence collections and their file records.
  `
  CREATE TABLE evidence_collections (
    id           TEXT PRIMARY KEY,
    ord          BIGSERIAL NOT NULL,
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
    id            BIGSERIAL PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES evidence_collections(id),
    collector     TEXT NOT NULL,
    file          TEXT,
    source        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    sha256        TEXT,
    status        TEXT NOT NULL,
    reason        TEXT
  );
  CREATE INDEX evidence_files_collection ON evidence_files(collection_id, id);
  CREATE UNIQUE INDEX evidence_files_path ON evidence_files(collection_id, file) WHERE file IS NOT NULL;
  ${APPEND_ONLY('evidence_files', 'evidence file records')}
  `,
  // 4: the digest of the record each event produces, inside its hash.
  `
  ALTER TABLE events ADD COLUMN state_sha256 TEXT;
  `,
  // 5: each evidence file as it is opened, before a byte is written.
  `
  CREATE TABLE evidence_files_opened (
    id            BIGSERIAL PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES evidence_collections(id),
    collector     TEXT NOT NULL,
    file          TEXT NOT NULL,
    source        TEXT NOT NULL,
    opened_at     TEXT NOT NULL
  );
  CREATE UNIQUE INDEX evidence_files_opened_path ON evidence_files_opened(collection_id, file);
  ${APPEND_ONLY('evidence_files_opened', 'evidence file records')}
  `,
  // 6: the process of the step in flight.
  `
  ALTER TABLE runbook_runs
    ADD COLUMN step_pid INTEGER,
    ADD COLUMN step_start_ticks BIGINT,
    ADD COLUMN step_boot_id TEXT,
    ADD COLUMN step_started_at TEXT,
    ADD COLUMN step_host TEXT,
    ADD COLUMN step_command TEXT,
    ADD COLUMN step_output TEXT;
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
    seq          BIGINT NOT NULL,
    delivered_at TEXT NOT NULL
  );
  `,
  // 9: nothing changes here; on SQLite the row head may now stand before record-neutral events, and
  // the versions stay in step on both backends.
  `
  SELECT 1;
  `,
  // 10: nothing changes here; SQLite finds an incident's events through their runs (event_runs) where
  // PostgreSQL keeps its index, and the versions stay in step on both backends.
  `
  SELECT 1;
  `,
  // 11: nothing changes here; on SQLite ir records the runs itself instead of a trigger.
  `
  SELECT 1;
  `,
  // 12: nothing changes here; SQLite indexes the events whose data is not JSON, for its page reads.
  `
  SELECT 1;
  `,
];
