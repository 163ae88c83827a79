// `ir store migrate --to URL`: moves this home's local incidents (events, runbook runs, evidence
// records) into the team store. Every source chain is verified before anything is written; each
// incident is imported in one transaction and its team chain verified after. Running it again adds
// only what is new locally. Evidence files stay on this machine; when an incident gets a new id in
// the team store, incidents/<team id> is linked to its directory so `ir evidence verify` finds them.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { OperationError, UsageError } from '../../errors.js';
import type { ImportResult } from '../../store/postgres/store.js';
import type { Store } from '../../store/types.js';

export interface MigrateOptions {
  to?: string;
  from?: string;
  dryRun?: boolean;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('migrate')
    .description("copy this home's local incidents (events, runs, evidence records) into the team store; verified before and after, safe to repeat")
    .option('--to <url>', 'the team store: postgres://user@host:5432/db (default: --store/IR_STORE when it is one)')
    .option('--from <path>', "the local SQLite store (default: this home's ir.db)")
    .option('--dry-run', 'show what would be imported, and write nothing')
    .addHelpText('after', '\nExamples:\n  ir store migrate --to postgres://alice@db.internal:5432/ir --dry-run\n  ir store migrate --to postgres://alice@db.internal:5432/ir')
    .action(bind((cmd: Command) => run(cmd.opts<MigrateOptions>(), ctx)));
};

interface Line {
  source: string;
  team: string;
  status: ImportResult['status'];
  events: number;
  runs: number;
  collections: number;
  renamed: ImportResult['renamed'];
  source_head: string;
  team_head: string | null;
  evidence_link?: string;
  note?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function run(opts: MigrateOptions, ctx: Context): Promise<number> {
  const { isTeamUrl, openStore } = await import('../../store/open.js');
  // The team store this home already points at (--store/IR_STORE) is the natural target.
  const to = opts.to ?? (isTeamUrl(ctx.storeLocation) ? ctx.storeLocation : undefined);
  if (!to) throw new UsageError('--to URL is required: the team store, e.g. --to postgres://alice@db.internal:5432/ir (or set IR_STORE to it)');
  if (!isTeamUrl(to)) throw new UsageError(`--to: ${to.split('://')[0]} is not a team store; use postgres://user@host:5432/db`);
  // Loaded here, not with the command: `ir --help` never pays for them.
  const { existsSync } = await import('node:fs');
  const { dirname, resolve } = await import('node:path');
  const from = opts.from ? resolve(ctx.io.cwd, opts.from) : ctx.dbPath;
  if (!existsSync(from)) throw new UsageError(`--from: ${from} does not exist${opts.from ? '' : ' (this home has no local incidents); name the store with --from PATH'}`);
  // The home of the source store: its installation id names the source, its incidents/ holds the files.
  const sourceHome = opts.from ? dirname(from) : ctx.home;
  const { originOf } = await import('../../store/open.js');
  const origin = originOf(sourceHome);

  const source = await openStore(from, { origin });
  let target: Store | undefined;
  try {
    const incidents = (await source.listIncidents({ all: true })).sort((a, b) => (a.declaredAt === b.declaredAt ? a.id.localeCompare(b.id) : a.declaredAt.localeCompare(b.declaredAt)));
    // All chains first: a broken one stops the migration before anything reaches the team.
    const broken: string[] = [];
    for (const inc of incidents) {
      const v = await source.verify(inc.id);
      if (!v.ok) broken.push(`${inc.id}: ${v.problems.map((p) => `${p.seq !== undefined ? `event ${p.seq}: ` : ''}${p.reason}`).join('; ')}`);
    }
    if (broken.length) {
      throw new OperationError(`${broken.length === 1 ? broken[0].split(':')[0] : `${broken.length} incidents`} in ${from} ${broken.length === 1 ? 'does' : 'do'} not verify; nothing was migrated`, broken);
    }

    const { PostgresStore, connectTimeout } = await import('../../store/postgres/store.js');
    const { readIncident } = await import('../../store/portable.js');
    const team = await PostgresStore.open(to, { origin: originOf(ctx.home), connectTimeoutMs: connectTimeout(to, ctx.env) });
    target = team;
    const lines: Line[] = [];
    const localIds = new Set(incidents.map((i) => i.id));
    for (const inc of incidents) {
      const src = await readIncident(source, origin, inc.id);
      const r = await team.importIncident(src, ctx.actor(), ctx.now(), { dryRun: opts.dryRun, avoid: localIds });
      const line: Line = { source: r.sourceId, team: r.teamId, status: r.status, events: r.events, runs: r.runs, collections: r.collections, renamed: r.renamed, source_head: r.sourceHead, team_head: null };
      if (!opts.dryRun) {
        const check = await team.verify(r.teamId);
        if (!check.ok) throw new OperationError(`${r.teamId} (from ${r.sourceId}) does not verify in ${team.location} after the import: ${check.problems.map((p) => p.reason).join('; ')}`);
        const head = await team.head(r.teamId);
        line.team_head = head ? `${head.seq}:${head.hash}` : null;
        if (r.teamId !== r.sourceId) Object.assign(line, await linkEvidence(sourceHome, r.sourceId, r.teamId));
      }
      lines.push(line);
      // A dry run rolls each import back: keep later ones from planning the same team id.
      localIds.add(r.teamId);
    }
    report(ctx, lines, { to: team.location, from, dryRun: opts.dryRun === true });
    return 0;
  } finally {
    await source.close();
    await target?.close();
  }
}

/**
 * Evidence files stay under incidents/<local id>; commands on this machine look under the team id.
 * A relative link keeps the home movable.
 */
async function linkEvidence(home: string, sourceId: string, teamId: string): Promise<{ evidence_link?: string; note?: string }> {
  const { existsSync, lstatSync, symlinkSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = join(home, 'incidents', sourceId);
  const link = join(home, 'incidents', teamId);
  if (!existsSync(dir)) return {};
  try {
    const st = lstatSync(link);
    if (st.isSymbolicLink()) return { evidence_link: link };
    return { note: `incidents/${teamId} already exists here, so ${teamId}'s evidence files stay under incidents/${sourceId}` };
  } catch {
    // no such entry: make the link
  }
  symlinkSync(sourceId, link);
  return { evidence_link: link };
}

function report(ctx: Context, lines: Line[], meta: { to: string; from: string; dryRun: boolean }): void {
  if (ctx.json) {
    ctx.printJson({ from: meta.from, to: meta.to, dry_run: meta.dryRun, incidents: lines });
    return;
  }
  for (const l of lines) {
    const what = `${plural(l.events, 'event')}, ${plural(l.runs, 'run')}, ${plural(l.collections, 'collection')}`;
    let text: string;
    if (l.status === 'unchanged') text = `${l.source} → ${l.team} (already in the team store; nothing to add)`;
    else if (l.status === 'updated') text = `${l.source} → ${l.team} (${what} newer than the last migrate)`;
    else text = `${l.source} → ${l.team} (${what})`;
    if (l.source !== l.team && l.status === 'imported') text += `: ${l.source} was taken in the team store`;
    const renamed = [...Object.entries(l.renamed.runs), ...Object.entries(l.renamed.collections)];
    if (renamed.length && l.status !== 'unchanged') text += `; renamed ${renamed.map(([a, b]) => `${a} → ${b}`).join(', ')}`;
    ctx.out(text);
    if (l.note) ctx.err(`ir: ${l.note}`);
  }
  const moved = lines.filter((l) => l.status !== 'unchanged').length;
  const summary = meta.dryRun
    ? `dry run: ${plural(moved, 'incident')} would be migrated to ${meta.to}; nothing was written`
    : `${plural(moved, 'incident')} migrated to ${meta.to}; ${plural(lines.length, 'chain')} verified there`;
  ctx.err(summary);
}
