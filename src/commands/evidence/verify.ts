// `ir evidence verify`: rehash every evidence file of the incident against its custody record.
// Exit 0 when all match; exit 1 naming each modified, missing or unexpected file. Files of an
// interrupted collection that never got a hash are listed as PARTIAL with what is on disk now; they
// do not fail the check. Collections made on another host (a team store) are named with that host.
// Either way the check itself goes on the timeline, partial hashes included.

import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('verify')
    .description('rehash every evidence file; exit 1 naming each modified, missing or unexpected one (partial files of interrupted collections are listed, not failed)')
    .addHelpText('after', '\nExamples:\n  ir evidence verify\n  ir evidence verify --incident INC-20261123-001 --json')
    .action(bind((_cmd: Command) => run({}, ctx)));
};

export async function run(_opts: Record<string, never>, ctx: Context): Promise<number> {
  const incident = await ctx.currentIncident();
  const store = await ctx.store();
  const { verifyEvidence } = await import('../../evidence/verify.js');
  const result = await verifyEvidence(store, incident.id, ctx.incidentDir(incident.id), hostname());
  await store.append(
    incident.id,
    () => ({
      type: 'evidence.verified',
      data: {
        ok: result.ok,
        checked: result.checked,
        problems: result.problems.map((p) => ({ file: p.file, problem: p.problem })),
        ...(result.partial.length ? { partial: result.partial.map((p) => ({ file: p.file, bytes: p.bytes, sha256: p.sha256 })) } : {}),
        ...(result.elsewhere.length ? { elsewhere: result.elsewhere.map((e) => ({ collection: e.collection, host: e.host, files: e.files })) } : {}),
      },
    }),
    ctx.now(),
    ctx.actor(),
  );
  if (ctx.json) {
    ctx.printJson({ incident: incident.id, ok: result.ok, checked: result.checked, problems: result.problems, partial: result.partial, elsewhere: result.elsewhere });
  } else {
    for (const p of result.problems) ctx.out(`${p.problem.toUpperCase().padEnd(10)} ${p.file}`);
    for (const p of result.partial) {
      const now = p.sha256 ? `${p.bytes} bytes, sha256 ${p.sha256} now` : 'never written';
      ctx.out(`${'PARTIAL'.padEnd(10)} ${p.file}  (${p.collection} was interrupted before this file was sealed; ${now})`);
    }
    for (const e of result.elsewhere) {
      ctx.out(`${'ELSEWHERE'.padEnd(10)} ${e.collection}: ${e.files} file${e.files === 1 ? '' : 's'} on host ${e.host} (collected by ${e.collectedBy}); run \`ir evidence verify\` there to rehash them`);
    }
    const away = result.elsewhere.length ? `; ${result.elsewhere.length} collection${result.elsewhere.length === 1 ? '' : 's'} held on other hosts (${[...new Set(result.elsewhere.map((e) => e.host))].join(', ')})` : '';
    const partial = result.partial.length ? `; ${result.partial.length} partial file${result.partial.length === 1 ? '' : 's'} of interrupted collections, never sealed` : '';
    if (result.ok && result.checked === 0 && result.elsewhere.length) ctx.out(`no evidence of ${incident.id} on this machine to rehash${away}`);
    else if (result.ok) ctx.out(`evidence intact: ${result.checked} file${result.checked === 1 ? '' : 's'} of ${incident.id} match their sha256${partial}${away}`);
    else ctx.err(`ir: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in the evidence of ${incident.id} (${result.checked} files checked${partial}${away})`);
  }
  return result.ok ? 0 : 1;
}
