// `ir store grants`: the SQL a DBA runs once so responders can use the team store without being
// able to rewrite it: a NOLOGIN role with INSERT and SELECT on ir's tables, UPDATE only on the
// working state ir must change, and no UPDATE, DELETE or TRUNCATE on the timeline or evidence records.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';

export interface GrantsOptions {
  role: string;
  schema: string;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('grants')
    .description('print the SQL that creates a responder role with no UPDATE or DELETE on the timeline')
    .option('--role <name>', 'the role to create and grant to', 'ir_responder')
    .option('--schema <name>', "the schema holding ir's tables", 'public')
    .addHelpText('after', '\nExamples:\n  ir store grants | psql -U postgres -d ir\n  ir store grants --role oncall --schema ir')
    .action(bind((cmd: Command) => run(cmd.opts<GrantsOptions>(), ctx)));
};

/** A plain lower-case identifier: needs no quoting, so the printed SQL reads as a DBA would write it. */
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Tables the timeline lives in: appended to, never changed. */
const APPEND_ONLY = ['events', 'evidence_files', 'evidence_files_opened'];

/** Every table ir reads and inserts into. */
const TABLES = ['incidents', 'events', 'id_counters', 'runbook_runs', 'evidence_collections', 'evidence_files', 'evidence_files_opened', 'deliveries'];

/** Sequences behind the BIGSERIAL columns: inserting takes their next value. */
const SEQUENCES = ['runbook_runs_ord_seq', 'evidence_collections_ord_seq', 'evidence_files_id_seq', 'evidence_files_opened_id_seq'];

/** The only UPDATEs ir makes, column by column. */
const UPDATES: [string, string[]][] = [
  // An append moves the incident's head and its cached record (and locks the row FOR UPDATE).
  ['incidents', ['state', 'severity', 'resolved_at', 'doc', 'head_seq', 'head_hash']],
  // Runs are working state for resume: every column but the identity changes as a run goes on.
  ['runbook_runs', ['status', 'next_index', 'current_index', 'vars', 'failures', 'pid', 'host', 'updated_at', 'step_pid', 'step_start_ticks', 'step_boot_id', 'step_started_at', 'step_host', 'step_command', 'step_output']],
  // A collection is marked finished.
  ['evidence_collections', ['status', 'finished_at', 'pid']],
  // Incident ids are allocated by INSERT … ON CONFLICT DO UPDATE.
  ['id_counters', ['n']],
];

export function grantsSql(role: string, schema: string): string {
  const q = (t: string) => (schema === 'public' ? t : `${schema}.${t}`);
  const lines = [
    `-- Permissions for ir responders (role ${role}), printed by \`ir store grants\`.`,
    '--',
    '-- Run as the owner of ir\'s tables (or a superuser), in the team\'s database, AFTER the schema',
    '-- exists: the schema owner runs the first `ir` against the store (or `ir store migrate`), since',
    '-- creating and migrating tables needs DDL rights a responder does not have. Responders then',
    `-- log in as their own users that are members of ${role}:`,
    `--   CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE ${role};`,
    '-- Re-run this after upgrading ir if its schema gained tables.',
    ...(schema === 'public' ? [] : [`-- ir names its tables without a schema: give responders search_path = ${schema}, e.g.`, `--   ALTER ROLE alice SET search_path = ${schema};`]),
    '',
    'BEGIN;',
    '',
    `DO $$`,
    'BEGIN',
    `  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN`,
    `    CREATE ROLE ${role} NOLOGIN;`,
    '  END IF;',
    `  EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${role}', current_database());`,
    'END',
    '$$;',
    '',
    `GRANT USAGE ON SCHEMA ${schema} TO ${role};`,
    '',
    '-- Read everything; add rows everywhere but the migration list (migrating is the owner\'s job).',
    `GRANT SELECT ON ${q('schema_migrations')} TO ${role};`,
    `GRANT SELECT, INSERT ON ${TABLES.map(q).join(', ')} TO ${role};`,
    `GRANT USAGE ON SEQUENCE ${SEQUENCES.map(q).join(', ')} TO ${role};`,
    '',
    '-- UPDATE only where ir must: the incident head, run state, a collection finishing, id counters.',
    ...UPDATES.map(([t, cols]) => `GRANT UPDATE (${cols.join(', ')}) ON ${q(t)} TO ${role};`),
    '',
    '-- History cannot be rewritten: no UPDATE, DELETE or TRUNCATE on the timeline or evidence records',
    '-- (revoked explicitly, in case an earlier grant gave them), nor DELETE or TRUNCATE anywhere.',
    `REVOKE UPDATE, DELETE, TRUNCATE ON ${APPEND_ONLY.map(q).join(', ')} FROM ${role};`,
    `REVOKE DELETE, TRUNCATE ON ${['schema_migrations', ...TABLES.filter((t) => !APPEND_ONLY.includes(t))].map(q).join(', ')} FROM ${role};`,
    '',
    'COMMIT;',
  ];
  return `${lines.join('\n')}\n`;
}

export async function run(opts: GrantsOptions, ctx: Context): Promise<number> {
  if (!IDENT.test(opts.role)) throw new UsageError(`--role: "${opts.role}" is not a plain role name (lower-case letters, digits and _, not starting with a digit)`);
  if (!IDENT.test(opts.schema)) throw new UsageError(`--schema: "${opts.schema}" is not a plain schema name (lower-case letters, digits and _, not starting with a digit)`);
  const sql = grantsSql(opts.role, opts.schema);
  if (ctx.json) ctx.printJson({ role: opts.role, schema: opts.schema, sql });
  else ctx.out(sql);
  return 0;
}
