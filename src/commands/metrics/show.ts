// `ir metrics [--since 90d]`: MTTA, MTTM, MTTR, MTTD and SLA compliance, overall and per severity.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { computeMetrics, type Group, type Stat } from '../../core/metrics.js';
import { columns } from '../../io/format.js';
import { formatDuration, parseDuration } from '../../util/duration.js';

export const register: Register = (program, ctx, bind) => {
  program
    .command('metrics')
    .description('response metrics: MTTA, MTTM, MTTR (mean/median/p90), MTTD, SLA compliance, top services')
    .option('--since <duration>', 'how far back, by declaration time (e.g. 30d, 12h)', '90d')
    .addHelpText('after', '\nExamples:\n  ir metrics\n  ir metrics --since 30d --json')
    .action(bind((cmd: Command) => run(cmd.opts<{ since: string }>(), ctx)));
};

const fmt = (s: Stat) => (s.n ? `${formatDuration(s.mean_s! * 1000)} / ${formatDuration(s.median_s! * 1000)} / ${formatDuration(s.p90_s! * 1000)}` : '-');
const pct = (c: Group['respond_sla']) => (c.rate === null ? '-' : `${c.rate}% (${c.met}/${c.measured})`);

export async function run(opts: { since: string }, ctx: Context): Promise<number> {
  const window = parseDuration(opts.since);
  if (window === undefined) throw new UsageError(`--since "${opts.since}" is not a duration: use e.g. 90d, 30d, 12h`);
  const now = ctx.now();
  const store = await ctx.store();
  const m = computeMetrics(await store.listIncidents({ all: true }), await ctx.severities(), new Date(now.getTime() - window), now);
  if (ctx.json) {
    ctx.printJson(m);
    return 0;
  }
  ctx.out(`Incidents declared since ${m.since.slice(0, 10)}: ${m.overall.count} (${m.overall.open} open)`);
  if (!m.overall.count) return 0;
  ctx.out('');
  const row = (name: string, g: Group) => [name, String(g.count), fmt(g.mtta), fmt(g.mttm), fmt(g.mttr), fmt(g.mttd), pct(g.respond_sla), pct(g.resolve_sla)];
  ctx.out(
    columns(
      ['SEVERITY', 'COUNT', 'MTTA mean/median/p90', 'MTTM', 'MTTR', 'MTTD', 'RESPOND SLA MET', 'RESOLVE SLA MET'],
      [...Object.entries(m.by_severity).map(([sev, g]) => row(sev, g)), row('all', m.overall)],
    ),
  );
  if (m.top_services.length) {
    ctx.out('');
    ctx.out(columns(['SERVICE', 'INCIDENTS'], m.top_services.map((s) => [s.service, String(s.count)])));
  }
  return 0;
}
