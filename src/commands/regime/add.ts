// `ir regime add gdpr,pci [--discovered TIME]`: start regulatory clocks on the incident, counted from discovery.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { defaultDiscovery, parseRegimeList, regimesOf, regimeViews, startEvents } from '../../core/regime.js';
import { utc } from '../../io/format.js';
import { parseWhen } from '../incident/declare.js';
import { eventJson } from '../incident/render.js';
import { regimeJson, regimeLines } from './render.js';

export interface RegimeAddOptions {
  regimes: string[];
  discovered?: string;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('add')
    .description('start a deadline clock per regime, counted from when the breach was discovered')
    .argument('<regime...>', 'regime ids from severities.yaml, e.g. gdpr pci (or gdpr,pci)')
    .option('--discovered <time>', 'when the breach was discovered: a duration ago (2h), a time today (02:10) or ISO-8601 (default: when the problem began, else the declaration)')
    .addHelpText('after', '\nExamples:\n  ir regime add gdpr\n  ir regime add gdpr,pci --discovered 2026-11-24T09:00Z')
    .action(bind((cmd: Command) => run({ regimes: cmd.args, discovered: cmd.opts().discovered as string | undefined }, ctx)));
};

/** The discovery time from --discovered, refused when it is in the future. */
export function parseDiscovered(text: string, now: Date): Date {
  const at = parseWhen(text, now, '--discovered');
  if (at.getTime() > now.getTime()) throw new UsageError(`--discovered "${text}" is in the future`);
  return at;
}

export async function run(opts: RegimeAddOptions, ctx: Context): Promise<number> {
  const config = await ctx.severities();
  const regimes = parseRegimeList(opts.regimes, regimesOf(config), config.file, 'ir regime add');
  const now = ctx.now();
  const discovered = opts.discovered !== undefined ? parseDiscovered(opts.discovered, now) : undefined;
  const target = await ctx.currentOrLatestIncident();
  const store = await ctx.store();
  let already: string[] = [];
  const result = await store.append(
    target.id,
    (incident) => {
      const started = startEvents(incident, regimes, discovered ?? defaultDiscovery(incident));
      already = started.already;
      if (!started.events.length) throw new UsageError(`${incident.id} already has a running clock for ${already.join(', ')}; \`ir regime list\` shows it`);
      return started.events;
    },
    now,
    ctx.actor(),
  );
  const views = regimeViews(result.incident, now).filter((v) => result.events.some((e) => e.data.regime === v.clock.id && !v.clock.removedAt));
  if (ctx.json) {
    ctx.printJson({ incident: result.incident.id, started: views.map(regimeJson), already_running: already, events: result.events.map(eventJson) });
    return 0;
  }
  const style = await ctx.style();
  ctx.out(`${result.incident.id}: regulatory clocks started (from discovery ${utc(views[0].clock.discoveredAt)})`);
  for (const line of regimeLines(views, (d) => utc(d), style)) ctx.out(line);
  if (already.length) ctx.err(style.yellow(`already running, left as they were: ${already.join(', ')}`));
  return 0;
}
