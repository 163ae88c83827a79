// `ir store migrate --to URL` through the real binary: three local incidents, one with a runbook run
// and an evidence collection, moved into a real PostgreSQL that already holds a team incident with
// the same id. Chains verify on both sides, a second migrate adds nothing, a later one adds only the
// new events, the team's next declare gets a fresh id, and evidence verify on this machine still
// finds the files of the renamed incident. A broken local chain stops the migration before it writes.

import { execFileSync } from 'node:child_process';
import { lstatSync, readlinkSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, json, sqlite, tempHome, type RunResult } from '../helpers/cli.js';
import { createDatabase, psql, startPostgres, type PostgresServer } from '../helpers/services.js';

const RUNBOOKS = join(ROOT, 'test', 'fixtures', 'runbooks');
const EVIDENCE_TEAM = join(ROOT, 'test', 'fixtures', 'evidence-team');

interface Row {
  at: string;
  actor: string;
  type: string;
  data: string;
  origin: string | null;
}

interface MigrateDoc {
  from: string;
  to: string;
  dry_run: boolean;
  incidents: { source: string; team: string; status: string; events: number; runs: number; collections: number; renamed: { runs: Record<string, string>; collections: Record<string, string> }; source_head: string; team_head: string; evidence_link?: string }[];
}

describe('ir store migrate --to URL', () => {
  let server: PostgresServer;
  let url: string;
  let local: string;
  let teammate: string;
  const cleanups: (() => void)[] = [];
  const ids: string[] = [];
  let teamFirst: string;
  let first: MigrateDoc;

  const ok = (r: RunResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const onLocal = (args: string[]) => ok(ir(local, args));
  const onTeam = (home: string, args: string[]) => ok(ir(home, args, { env: { IR_STORE: url } }));
  const sql = (text: string) => psql(server, 'ir_team', text).trim();
  const localRows = (id: string): Row[] =>
    JSON.parse(execFileSync('sqlite3', ['-json', join(local, 'ir.db'), `SELECT at, actor, type, data, origin FROM events WHERE incident_id = '${id}' ORDER BY seq`], { encoding: 'utf8' }) || '[]') as Row[];
  const teamRows = (id: string): Row[] =>
    JSON.parse(sql(`SELECT coalesce(json_agg(json_build_object('at', at, 'actor', actor, 'type', type, 'data', data, 'origin', origin) ORDER BY seq), '[]') FROM events WHERE incident_id = '${id}';`)) as Row[];
  const eventCount = () => Number(sql('SELECT count(*) FROM events;'));

  beforeAll(async () => {
    server = await startPostgres();
    url = createDatabase(server, 'ir_team');
    [local, teammate] = [tempHome(), tempHome()].map((h) => (cleanups.push(h.cleanup), h.home));
    // The team already has today's first incident: the local one with that id must get another.
    teamFirst = json<{ id: string }>(onTeam(teammate, ['declare', '--json', '-t', 'team incident', '-s', 'SEV-2'])).id;

    // Three local incidents: a runbook run and an evidence collection on the first.
    for (const title of ['checkout 500s', 'queue backlog', 'slow search']) ids.push(json<{ id: string }>(onLocal(['declare', '--json', '-t', title, '-s', 'SEV-2'])).id);
    expect(ids[0]).toBe(teamFirst);
    onLocal(['ack', '--incident', ids[0]]);
    onLocal(['runbook', 'injection', '--yes', '--incident', ids[0], '--runbooks', RUNBOOKS]);
    onLocal(['evidence', 'collect', '--incident', ids[0], '--only', 'deploy-history,pool-settings', '--runbooks', EVIDENCE_TEAM]);
    onLocal(['note', '--incident', ids[0], 'rolled back']);
    onLocal(['note', '--incident', ids[1], 'consumers scaled up']);
    onLocal(['resolve', '--incident', ids[1], '--summary', 'scaled']);
    onLocal(['note', '--incident', ids[2], 'looking at the index']);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    for (const c of cleanups) c();
  });

  it('--dry-run shows the plan and writes nothing', () => {
    const before = eventCount();
    const r = onLocal(['store', 'migrate', '--to', url, '--dry-run']);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(r.stdout).toMatch(new RegExp(`^${ids[1]} → ${ids[1]} \\(3 events, 0 runs, 0 collections\\)$`, 'm'));
    expect(r.stderr).toMatch(/dry run: 3 incidents would be migrated .*nothing was written/);
    expect(eventCount()).toBe(before);
    expect(sql('SELECT count(*) FROM incidents;')).toBe('1');
    expect(sql('SELECT count(*) FROM runbook_runs;')).toBe('0');
  });

  it('moves every incident with its run and collection; the taken id gets a team id, the others keep theirs', () => {
    const r = onLocal(['store', 'migrate', '--to', url, '--json']);
    first = json<MigrateDoc>(r);
    expect(first.to).not.toContain(server.password);
    expect(r.stdout + r.stderr).not.toContain(server.password);
    const [a, b, c] = first.incidents;
    expect(first.incidents.map((i) => i.source)).toEqual(ids);
    // Not the team's 001, and not 002/003 either: those are this home's other incidents.
    const day = ids[0].slice(0, 12);
    expect(a).toMatchObject({ status: 'imported', team: `${day}-004`, runs: 1, collections: 1, events: localRows(ids[0]).length });
    expect(b).toMatchObject({ status: 'imported', team: ids[1], runs: 0, collections: 0, events: 3 });
    expect(c).toMatchObject({ status: 'imported', team: ids[2], events: 2 });
    const localRun = sqlite(join(local, 'ir.db'), `SELECT id FROM runbook_runs WHERE incident_id = '${ids[0]}'`).trim();
    expect(a.renamed.runs).toEqual({ [localRun]: `RUN-${a.team.slice(4)}-1` });
    expect(a.renamed.collections).toEqual({});
  });

  it('every chain verifies; each event keeps its time, actor, type, data and origin; the import records its source head', () => {
    const verified = onTeam(teammate, ['timeline', '--verify']);
    expect(verified.stdout).toMatch(/timeline intact: \d+ events in 4 incidents/);
    for (const [i, line] of first.incidents.entries()) {
      const source = localRows(ids[i]);
      const team = teamRows(line.team);
      expect(team).toHaveLength(source.length + 1);
      const renamed = Object.entries(line.renamed.runs);
      const expected = source.map((row) => ({ ...row, data: renamed.reduce((d, [from, to]) => d.split(`"${from}"`).join(`"${to}"`), row.data) }));
      expect(team.slice(0, -1)).toEqual(expected);
      expect(source.every((row) => row.origin && row.origin.startsWith(`${hostname()}/`))).toBe(true);
      const imported = team[team.length - 1];
      expect(imported.type).toBe('store.imported');
      const record = JSON.parse(imported.data) as { source: { origin: string; incident: string; head: string } };
      const localHead = ok(ir(local, ['timeline', '--head', '--incident', ids[i]])).stdout.trim();
      expect(record.source).toMatchObject({ origin: source[0].origin, incident: ids[i], head: line.source_head });
      expect(line.source_head).toBe(localHead);
    }
    const t1 = first.incidents[0].team;
    expect(sql(`SELECT id || ' ' || status FROM runbook_runs WHERE incident_id = '${t1}';`)).toBe(`RUN-${t1.slice(4)}-1 completed`);
    expect(sql(`SELECT status || ' ' || host FROM evidence_collections WHERE incident_id = '${t1}';`)).toBe(`complete ${hostname()}`);
    const localFiles = sqlite(join(local, 'ir.db'), 'SELECT count(*) FROM evidence_files').trim();
    expect(sql(`SELECT count(*) FROM evidence_files f JOIN evidence_collections c ON c.id = f.collection_id WHERE c.incident_id = '${t1}';`)).toBe(localFiles);
    // The team's timeline reads like the local one, run id and all.
    const timeline = onTeam(teammate, ['timeline', t1]).stdout;
    expect(timeline).toContain(`Runbook injection started (RUN-${t1.slice(4)}-1, --yes)`);
    const head = first.incidents[0].source_head;
    expect(timeline).toContain(`Imported ${first.incidents[0].events} events from ${ids[0]} on ${localRows(ids[0])[0].origin} (its head ${head.slice(0, head.indexOf(':') + 13)}…)`);
  });

  it('a second migrate adds nothing', () => {
    const before = eventCount();
    const r = onLocal(['store', 'migrate', '--to', url]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual(first.incidents.map((i) => `${i.source} → ${i.team} (already in the team store; nothing to add)`));
    expect(eventCount()).toBe(before);
    expect(sql('SELECT count(*) FROM incidents;')).toBe('4');
    expect(sql('SELECT count(*) FROM runbook_runs;')).toBe('1');
    expect(sql('SELECT count(*) FROM evidence_collections;')).toBe('1');
  });

  it('after more local work, a migrate adds only the newer events and the chain still verifies', () => {
    onLocal(['note', '--incident', ids[2], 'index rebuilt']);
    const before = eventCount();
    const r = onLocal(['store', 'migrate', '--to', url]);
    expect(r.stdout).toContain(`${ids[2]} → ${ids[2]} (1 event, 0 runs, 0 collections newer than the last migrate)`);
    expect(r.stdout).toContain(`${ids[1]} → ${ids[1]} (already in the team store; nothing to add)`);
    // The note and the import record.
    expect(eventCount()).toBe(before + 2);
    const team = teamRows(ids[2]);
    expect(team.map((e) => e.type)).toEqual(['incident.declared', 'note.added', 'store.imported', 'note.added', 'store.imported']);
    expect(JSON.parse(team[3].data)).toEqual({ text: 'index rebuilt' });
    onTeam(teammate, ['timeline', '--verify', ids[2]]);
  });

  it("the team's next declare never reuses an imported id", () => {
    const next = json<{ id: string }>(onTeam(teammate, ['declare', '--json', '-t', 'after the migration', '-s', 'SEV-3'])).id;
    const taken = new Set([teamFirst, ...first.incidents.map((i) => i.team)]);
    expect(taken.has(next)).toBe(false);
    expect(next).toBe(`${ids[0].slice(0, 12)}-005`);
  });

  it('evidence verify on this machine finds the files of the renamed incident', () => {
    const t1 = first.incidents[0].team;
    const link = join(local, 'incidents', t1);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(ids[0]);
    const r = ok(ir(local, ['evidence', 'verify', '--incident', t1], { env: { IR_STORE: url } }));
    expect(r.stdout).toMatch(new RegExp(`evidence intact: [1-9]\\d* files of ${t1} match their sha256`));
    // Without the link the files would not be found: the link is what makes it work.
    renameSync(link, `${link}.off`);
    try {
      const missing = ir(local, ['evidence', 'verify', '--incident', t1], { env: { IR_STORE: url } });
      expect(missing.code).toBe(1);
      expect(missing.stdout).toMatch(/^MISSING/m);
    } finally {
      renameSync(`${link}.off`, link);
    }
  });

  it('a local chain that does not verify: exit 1 naming the incident, nothing written', () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const id = json<{ id: string }>(ok(ir(home, ['declare', '--json', '-t', 'tampered', '-s', 'SEV-3']))).id;
    ok(ir(home, ['note', 'the truth']));
    sqlite(join(home, 'ir.db'), `DROP TRIGGER events_append_only_update; UPDATE events SET data = replace(data, 'truth', 'story') WHERE type = 'note.added';`);
    const before = eventCount();
    const r = ir(home, ['store', 'migrate', '--to', url]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^ir: ${id} in .*ir\\.db does not verify; nothing was migrated$`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(eventCount()).toBe(before);
  });

  it('bad input: no --to, a --to that is not a team store, a --from that does not exist: exit 2', () => {
    const noTo = ir(local, ['store', 'migrate']);
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toMatch(/--to URL is required/);
    const notTeam = ir(local, ['store', 'migrate', '--to', 'mysql://x@y/z']);
    expect(notTeam.code).toBe(2);
    expect(notTeam.stderr).toMatch(/^ir: --to: mysql is not a team store/);
    const noFrom = ir(local, ['store', 'migrate', '--to', url, '--from', join(local, 'nope.db')]);
    expect(noFrom.code).toBe(2);
    expect(noFrom.stderr).toMatch(/^ir: --from: .*nope\.db does not exist/);
    expect(noFrom.stderr).not.toContain(server.password);
    const wrong = 'wrong-pw-4471';
    const badPw = ir(local, ['store', 'migrate', '--to', `postgres://postgres:${wrong}@127.0.0.1:${server.port}/ir_team`]);
    expect(badPw.code).toBe(2);
    expect(badPw.stderr).toBe(`ir: cannot open the team store postgres://postgres:***@127.0.0.1:${server.port}/ir_team: password authentication failed for user "postgres"\n`);
    expect(badPw.stdout + badPw.stderr).not.toContain(wrong);
  });
});
