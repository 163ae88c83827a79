// `ir store status` and `ir store grants` through the real binary against a real PostgreSQL on
// loopback, and the team store's credentials: a password from the URL, PGPASSWORD or a .pgpass file
// works, never shows in any output or record, and sslmode in the URL reaches the driver.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, json, tempHome, type RunResult } from '../helpers/cli.js';
import { loadedModules } from '../helpers/trace.js';
import { createDatabase, freePort, psql, startPostgres, startSilentServer, type PostgresServer } from '../helpers/services.js';

const RUNBOOKS = join(ROOT, 'test', 'fixtures', 'runbooks');
const EVIDENCE_TEAM = join(ROOT, 'test', 'fixtures', 'evidence-team');

let server: PostgresServer;
let home: string;
let cleanup: () => void;

beforeAll(async () => {
  server = await startPostgres();
  ({ home, cleanup } = tempHome());
}, 60_000);
afterAll(async () => {
  await server?.stop();
  cleanup?.();
});

/** One line on stderr, no stack trace. */
function oneLine(r: RunResult): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

const noPassword = (r: RunResult, ...secrets: string[]) => {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
};

describe('ir store status', () => {
  it('on the local SQLite store: path, backend, schema, counts, origin, outbox', () => {
    const { home: h, cleanup: c } = tempHome();
    try {
      expect(ir(h, ['declare', '-t', 'local one', '-s', 'SEV-3']).code).toBe(0);
      const r = ir(h, ['store', 'status', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = json<Record<string, unknown>>(r);
      const installation = readFileSync(join(h, 'installation-id'), 'utf8').trim();
      expect(doc).toMatchObject({ store: join(h, 'ir.db'), backend: 'sqlite', incidents: 1, events: 1, outbox: { waiting: 0 } });
      expect(doc.schema_version).toBe(doc.known_schema_version);
      expect(String(doc.origin)).toMatch(new RegExp(`/${installation}$`));
      expect(doc.server_version).toMatch(/^SQLite \d+\.\d+/);
      expect(typeof doc.latency_ms).toBe('number');
      const human = ir(h, ['store', 'status']);
      expect(human.stdout).toContain(`store: ${join(h, 'ir.db')}`);
      expect(human.stdout).toContain('backend: sqlite');
      expect(human.stdout).toContain('outbox: 0 waiting');
    } finally {
      c();
    }
  });

  it('on the team store: masked URL, server and schema version, counts, latency; the password never printed', () => {
    const url = createDatabase(server, 'ir_status');
    const env = { IR_STORE: url };
    expect(ir(home, ['declare', '-t', 'team one', '-s', 'SEV-2'], { env }).code).toBe(0);
    expect(ir(home, ['note', 'hello team'], { env }).code).toBe(0);
    const r = ir(home, ['store', 'status', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    noPassword(r, server.password);
    const doc = json<Record<string, unknown>>(r);
    const version = psql(server, 'ir_status', 'SHOW server_version;').trim();
    const schema = Number(psql(server, 'ir_status', 'SELECT max(version) FROM schema_migrations;').trim());
    expect(doc).toMatchObject({
      store: `postgresql://postgres:***@127.0.0.1:${server.port}/ir_status`,
      backend: 'postgresql',
      server_version: `PostgreSQL ${version}`,
      schema_version: schema,
      known_schema_version: schema,
      incidents: 1,
      events: 2,
      outbox: { waiting: 0 },
    });
    expect(doc.latency_ms as number).toBeGreaterThan(0);
    const human = ir(home, ['--store', url, 'store', 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('backend: postgresql');
    expect(human.stdout).toContain(`schema: ${schema} (current)`);
    expect(human.stdout).toContain('outbox: 0 waiting');
    noPassword(human, server.password);
  });

  it('an unreachable team store: exit 1, one line with the masked URL and the cause', async () => {
    const port = await freePort();
    const r = ir(home, ['store', 'status'], { env: { IR_STORE: `postgres://postgres:${server.password}@127.0.0.1:${port}/ir` } });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toBe(`ir: team store unreachable: postgres://postgres:***@127.0.0.1:${port}/ir: connect ECONNREFUSED 127.0.0.1:${port}; cannot report its status until it answers`);
    noPassword(r, server.password);
    const j = ir(home, ['store', 'status', '--json'], { env: { IR_STORE: `postgres://postgres:${server.password}@127.0.0.1:${port}/ir` } });
    expect(j.code).toBe(1);
    expect(json<{ error: { message: string } }>(j).error.message).toMatch(/^team store unreachable: postgres:\/\/postgres:\*\*\*@/);
    // What waits in this machine's outbox is said even (above all) when the server cannot be reached.
    expect(json(j)).toMatchObject({ reachable: false, outbox: { waiting: 0 } });
    expect(r.stdout).toMatch(/^store: postgres:\/\/postgres:\*\*\*@.*\nreachable: no\n[\s\S]*outbox: 0 waiting/);
    noPassword(j, server.password);
  });

  it('a server that never answers: given up after connect_timeout (URL) or IR_STORE_TIMEOUT', async () => {
    const silent = await startSilentServer();
    try {
      const base = `postgres://postgres:${server.password}@127.0.0.1:${silent.port}/ir`;
      const viaUrl = ir(home, ['store', 'status'], { env: { IR_STORE: `${base}?connect_timeout=1` } });
      expect(viaUrl.code).toBe(1);
      expect(oneLine(viaUrl)).toBe(
        `ir: team store unreachable: postgres://postgres:***@127.0.0.1:${silent.port}/ir?connect_timeout=1: no answer within 1 s (connect_timeout in the URL or IR_STORE_TIMEOUT sets the limit); cannot report its status until it answers`,
      );
      const viaEnv = ir(home, ['store', 'status'], { env: { IR_STORE: base, IR_STORE_TIMEOUT: '1' } });
      expect(viaEnv.code).toBe(1);
      expect(oneLine(viaEnv)).toMatch(/no answer within 1 s/);
      noPassword(viaEnv, server.password);
      const bad = ir(home, ['store', 'status'], { env: { IR_STORE: base, IR_STORE_TIMEOUT: 'soon' } });
      expect(bad.code).toBe(2);
      expect(oneLine(bad)).toBe('ir: IR_STORE_TIMEOUT: "soon" is not a number of seconds greater than 0');
    } finally {
      await silent.stop();
    }
  });
});

describe('ir store stays lazy', () => {
  /** Every module the command loaded, and every package bundled into a chunk it loaded (as startup.test.ts). */
  const loaded = (args: string[], env: Record<string, string> = {}) => loadedModules(home, args, env);
  const drivers = (urls: string[]) => urls.filter((u) => /\/node_modules\/(pg|pg-pool|pgpass|better-sqlite3)\//.test(u));

  it('`ir store --help`, `ir store migrate --help` and `ir store grants` load neither pg nor better-sqlite3; `ir store status` on the team store does load pg', () => {
    for (const args of [['store', '--help'], ['store', 'migrate', '--help'], ['store', 'grants']]) expect(drivers(loaded(args)), args.join(' ')).toEqual([]);
    const url = createDatabase(server, 'ir_lazy');
    expect(drivers(loaded(['store', 'status'], { IR_STORE: url })).some((u) => u.includes('/node_modules/pg/'))).toBe(true);
  });
});

describe('ir store grants', () => {
  it('prints SQL with a NOLOGIN role and says who runs the migrations; bad names are usage errors', () => {
    const r = ir(home, ['store', 'grants']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('CREATE ROLE ir_responder NOLOGIN;');
    expect(r.stdout).toMatch(/schema owner runs the first `ir`[\s\S]*`ir store migrate`/);
    expect(r.stdout).toContain('REVOKE UPDATE, DELETE, TRUNCATE ON events, evidence_files, evidence_files_opened FROM ir_responder;');
    expect(ir(home, ['store', 'grants', '--role', 'oncall', '--schema', 'ir']).stdout).toContain('GRANT SELECT, INSERT ON ir.incidents, ir.events');
    const bad = ir(home, ['store', 'grants', '--role', 'x; DROP TABLE events']);
    expect(bad.code).toBe(2);
    expect(oneLine(bad)).toMatch(/^ir: --role: /);
  });

  it('applied by the DBA: a responder in the role can declare, note, run a runbook, collect evidence and --verify, but cannot UPDATE, DELETE or TRUNCATE events', () => {
    const url = createDatabase(server, 'ir_grants');
    const { home: owner, cleanup: c1 } = tempHome();
    const { home: responder, cleanup: c2 } = tempHome();
    try {
      // The schema owner's first command creates the tables.
      expect(ir(owner, ['store', 'status'], { env: { IR_STORE: url } }).code).toBe(0);
      const grants = ir(owner, ['store', 'grants']).stdout;
      // Every table of the schema is covered: a table added by a later migration must be added here too.
      const tables = psql(server, 'ir_grants', `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1;`).trim().split('\n');
      const granted = /^GRANT SELECT, INSERT ON (.*) TO ir_responder;$/m.exec(grants)![1].split(', ');
      expect([...granted, 'schema_migrations'].sort()).toEqual(tables);
      psql(server, 'ir_grants', grants);
      psql(server, 'ir_grants', `CREATE ROLE carol LOGIN PASSWORD 'carol-pw-5521' IN ROLE ir_responder;`);
      const asCarol = { IR_STORE: `postgres://carol:carol-pw-5521@127.0.0.1:${server.port}/ir_grants` };
      const run = (args: string[]) => {
        const r = ir(responder, args, { env: asCarol });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r;
      };
      const id = json<{ id: string }>(run(['declare', '--json', '-t', 'as a responder', '-s', 'SEV-2'])).id;
      run(['ack']);
      run(['note', 'carol was here']);
      run(['runbook', 'injection', '--yes', '--runbooks', RUNBOOKS]);
      run(['evidence', 'collect', '--only', 'deploy-history,pool-settings', '--runbooks', EVIDENCE_TEAM]);
      run(['evidence', 'verify']);
      run(['resolve', '--summary', 'done']);
      const verified = run(['timeline', '--verify', id]);
      expect(verified.stdout + verified.stderr).toMatch(/verif/i);
      expect(psql(server, 'ir_grants', `SELECT status FROM runbook_runs WHERE incident_id = '${id}';`).trim()).toBe('completed');

      const carol: PostgresServer = { ...server, user: 'carol', password: 'carol-pw-5521' };
      for (const sql of [`UPDATE events SET actor = 'mallory';`, 'DELETE FROM events;', 'TRUNCATE events CASCADE;', 'DELETE FROM evidence_files;', `UPDATE evidence_files SET sha256 = 'x';`, 'DELETE FROM incidents;']) {
        // Refused by the grants, before the append-only trigger would be reached.
        expect(() => psql(carol, 'ir_grants', sql), sql).toThrow(/permission denied for table (events|evidence_files|incidents)/);
      }
      expect(psql(server, 'ir_grants', `SELECT count(*) FROM events WHERE actor = 'mallory';`).trim()).toBe('0');
      // Migrations need DDL rights a responder does not have.
      expect(() => psql(carol, 'ir_grants', 'CREATE TABLE sneaky (x int);')).toThrow(/permission denied for schema public/);
      expect(() => psql(carol, 'ir_grants', 'INSERT INTO schema_migrations (version) VALUES (99);')).toThrow(/permission denied for table schema_migrations/);
      // A responder first on an empty database is told who creates the schema.
      createDatabase(server, 'ir_grants_empty');
      psql(server, 'ir_grants_empty', 'GRANT CONNECT ON DATABASE ir_grants_empty TO ir_responder;');
      const early = ir(responder, ['store', 'status'], { env: { IR_STORE: `postgres://carol:carol-pw-5521@127.0.0.1:${server.port}/ir_grants_empty` } });
      expect(early.code).toBe(2);
      expect(oneLine(early)).toBe(
        `ir: postgres://carol:***@127.0.0.1:${server.port}/ir_grants_empty is at schema 0 and this ir needs schema ${psql(server, 'ir_grants', 'SELECT max(version) FROM schema_migrations;').trim()}, which this user may not create: the owner of ir's tables runs \`ir store status\` once with this ir (then \`ir store grants\` for responders)`,
      );
    } finally {
      c1();
      c2();
    }
  });
});

describe('team store credentials', () => {
  let url: string;
  let base: string;
  beforeAll(() => {
    url = createDatabase(server, 'ir_creds');
    base = `postgres://postgres@127.0.0.1:${server.port}/ir_creds`;
  });

  it('a password in the URL works, and never reaches the timeline, the postmortem or the store', () => {
    const { home: h, cleanup: c } = tempHome();
    try {
      const env = { IR_STORE: url };
      const id = json<{ id: string }>(ir(h, ['declare', '--json', '-t', 'creds', '-s', 'SEV-3'], { env })).id;
      for (const args of [['note', 'working on it'], ['resolve', '--summary', 'fixed']]) expect(ir(h, args, { env }).code).toBe(0);
      const outputs = [ir(h, ['timeline', id, '--json'], { env }), ir(h, ['timeline', id], { env }), ir(h, ['postmortem', '--incident', id], { env }), ir(h, ['show', id, '--json'], { env })];
      for (const r of outputs) {
        expect(r.code, r.stderr).toBe(0);
        noPassword(r, server.password, encodeURIComponent(server.password));
      }
      expect(psql(server, 'ir_creds', `SELECT count(*) FROM events WHERE data LIKE '%${server.password}%' OR origin LIKE '%${server.password}%';`).trim()).toBe('0');
    } finally {
      c();
    }
  });

  it('PGPASSWORD supplies the password for a URL without one', () => {
    const r = ir(home, ['store', 'status', '--json'], { env: { IR_STORE: base, PGPASSWORD: server.password } });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).backend).toBe('postgresql');
    expect(r.stderr).toBe('');
    noPassword(r, server.password);
    const without = ir(home, ['store', 'status'], { env: { IR_STORE: base, PGPASSWORD: undefined, PGPASSFILE: join(home, 'no-such-pgpass') } });
    expect(without.code).toBe(2);
    expect(oneLine(without)).toBe(
      `ir: cannot open the team store postgres://postgres@127.0.0.1:${server.port}/ir_creds: the server wants a password and none was given: put it in the URL, PGPASSWORD or ~/.pgpass`,
    );
  });

  it('a .pgpass file (PGPASSFILE, or HOME/.pgpass) with mode 0600 supplies the password, silently', () => {
    const dir = join(home, 'pgpass-home');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, '.pgpass');
    writeFileSync(file, `127.0.0.1:${server.port}:ir_creds:postgres:${server.password}\n`);
    chmodSync(file, 0o600);
    for (const env of [{ PGPASSFILE: file }, { HOME: dir, PGPASSFILE: undefined }]) {
      const r = ir(home, ['store', 'status', '--json'], { env: { IR_STORE: base, PGPASSWORD: undefined, ...env } });
      expect(r.code, r.stderr).toBe(0);
      expect(json(r).backend).toBe('postgresql');
      // No driver deprecation notice or other noise on stderr.
      expect(r.stderr).toBe('');
      noPassword(r, server.password);
    }
  });

  it('a wrong password or a bad database name: exit 2, one line, masked URL; a closed port: no password either', async () => {
    const wrong = 'not-the-pw-9f3a';
    const r1 = ir(home, ['note', 'x'], { env: { IR_STORE: `postgres://postgres:${wrong}@127.0.0.1:${server.port}/ir_creds` } });
    expect(r1.code).toBe(2);
    expect(oneLine(r1)).toBe(`ir: cannot open the team store postgres://postgres:***@127.0.0.1:${server.port}/ir_creds: password authentication failed for user "postgres"`);
    noPassword(r1, wrong, server.password);
    const r2 = ir(home, ['status'], { env: { IR_STORE: `postgres://postgres:${server.password}@127.0.0.1:${server.port}/no_such_db` } });
    expect(r2.code).toBe(2);
    expect(oneLine(r2)).toBe(`ir: cannot open the team store postgres://postgres:***@127.0.0.1:${server.port}/no_such_db: database "no_such_db" does not exist`);
    noPassword(r2, server.password);
    const port = await freePort();
    // Offline, a write goes to the outbox and a read shows what this machine last saw: never the password.
    const closed = `postgres://postgres:${server.password}@127.0.0.1:${port}/ir_creds`;
    for (const args of [['declare', '-t', 'offline', '-s', 'SEV-3'], ['note', 'still offline'], ['timeline'], ['store', 'status']]) {
      const r3 = ir(home, args, { env: { IR_STORE: closed } });
      noPassword(r3, server.password);
      expect(r3.stderr).toContain(`postgres://postgres:***@127.0.0.1:${port}/ir_creds`);
    }
  });

  it('sslmode in the URL reaches the driver: require fails against a server without TLS; disable works', () => {
    const r = ir(home, ['store', 'status'], { env: { IR_STORE: `${url}?sslmode=require` } });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(`ir: cannot open the team store postgresql://postgres:***@127.0.0.1:${server.port}/ir_creds?sslmode=require: The server does not support SSL connections`);
    noPassword(r, server.password);
    const ok = ir(home, ['store', 'status', '--json'], { env: { IR_STORE: `${url}?sslmode=disable` } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('');
    expect(json(ok).store).toBe(`postgresql://postgres:***@127.0.0.1:${server.port}/ir_creds?sslmode=disable`);
  });
});
