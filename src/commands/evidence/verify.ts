// `ir evidence verify`: rehash every evidence file of the incident against its custody record.
// Exit 0 when all match; exit 1 naming each modified, missing or unexpected file. Either way the
// check itself goes on the timeline.

import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('verify')
    .description('rehash every evidence file; exit 1 naming each modified, missing or unexpected one')
    .addHelpText('after', '\nExamples:\n  ir evidence verify\n  ir evidence verify --incident INC-20261123-001 --json')
    .action(bind((_cmd: Command) => run({}, ctx)));
};

export async function run(_opts: Record<string, never>, ctx: Context): Promise<number> {
  const incident = await ctx.currentIncident();
  const store = await ctx.store();
  const { verifyEvidence } = await import('../../evidence/verify.js');
  const result = await verifyEvidence(store, incident.id, ctx.incidentDir(incident.id), hostname());
  store.append(
    incident.id,
    () => ({ type: 'evidence.verified', data: { ok: result.ok, checked: result.checked, problems: result.problems.map((p) => ({ file: p.file, problem: p.problem })) } }),
    ctx.now(),
    ctx.actor(),
  );
  if (ctx.json) {
    ctx.printJson({ incident: incident.id, ok: result.ok, checked: result.checked, problems: result.problems });
  } else if (result.ok) {
    ctx.out(`evidence intact: ${result.checked} file${result.checked === 1 ? '' : 's'} of ${incident.id} match their sha256`);
  } else {
    for (const p of result.problems) ctx.out(`${p.problem.toUpperCase().padEnd(10)} ${p.file}`);
    ctx.err(`ir: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in the evidence of ${incident.id} (${result.checked} files checked)`);
  }
  return result.ok ? 0 : 1;
}
