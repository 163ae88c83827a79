// `ir declare`: open an incident with a severity from the team's definitions and start its SLA clocks.

import { join } from 'node:path';
import type { Command } from 'commander';
import type { Context } from '../../context.js';
import type { Register } from '../../cli/program.js';
import { UsageError } from '../../errors.js';
import { findLevel } from '../../core/severity.js';
import { slaView } from '../../core/sla.js';
import { formatDuration } from '../../util/duration.js';
import { relative, utc } from '../../io/format.js';
import { incidentJson } from './render.js';
import { defaultDiscovery, parseRegimeList, regimesOf, regimeViews, startEvents } from '../../core/regime.js';
import { parseDiscovered } from '../regime/add.js';
import { regimeLines } from '../regime/render.js';
import { notifier, slackText, type Step } from './notify.js';

export interface DeclareOptions {
  title?: string;
  severity?: string;
  service?: string;
  impact?: string;
  commander?: string;
  detectedAt?: string;
  /** Regime ids (`gdpr,pci`, or the flag repeated) whose deadline clocks start now. */
  regime?: string[];
  /** When the breach was discovered: the regime clocks count from it. */
  discovered?: string;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('declare')
    .description('open an incident: severity, SLA clocks, first timeline entry')
    .option('-t, --title <text>', 'what is wrong, in a line')
    .option('-s, --severity <level>', 'a level from severities.yaml, e.g. SEV-1')
    .option('--service <name>', 'the affected service')
    .option('--impact <text>', 'who or what is affected')
    .option('--commander <person>', 'the incident commander')
    .option('--detected-at <time>', 'when the problem began: a duration ago (20m), a time today (02:10) or ISO-8601')
    .option('--regime <ids>', 'start regulatory deadline clocks, e.g. gdpr,pci (ids from severities.yaml; `ir regime list`)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--discovered <time>', 'when the breach was discovered, for the --regime clocks (default: --detected-at, else now)')
    .addHelpText('after', '\nExample:\n  ir declare --title "Checkout returns 500s" --severity SEV-1 --service checkout --impact "EU customers cannot pay"')
    .action(bind((cmd: Command) => run(cmd.opts<DeclareOptions>(), ctx)));
};

export async function run(opts: DeclareOptions, ctx: Context): Promise<number> {
  const config = await ctx.severities();
  let title = opts.title?.trim();
  let severity = opts.severity;
  let commander = opts.commander;
  let service = opts.service;
  let impact = opts.impact;

  if (!title) {
    const p = await ctx.prompter('--title');
    title = (await p.input({ message: 'What is wrong? (one line)', validate: (v) => (v.trim() ? true : 'a title is required') })).trim();
  }
  let detectedText = opts.detectedAt;
  if (!severity) {
    const p = await ctx.prompter('--severity');
    // A tired Enter must not page the whole company: the cursor starts on the least severe level.
    const least = config.levels[config.levels.length - 1]?.id;
    severity = await p.select({
      message: 'Severity',
      default: least,
      choices: config.levels.map((l) => ({
        name: `${l.id}  ${l.name} — ${l.definition}`,
        value: l.id,
        description: `respond within ${formatDuration(l.respondWithin)}, resolve within ${formatDuration(l.resolveWithin)}${l.examples.length ? `; e.g. ${l.examples.join(', ')}` : ''}`,
      })),
    });
    if (detectedText === undefined) {
      const asked = await p.input({
        message: 'When did the problem start? (20m ago, 02:10, 2026-11-24T02:10Z; blank for now)',
        validate: (v) => {
          if (!v.trim()) return true;
          try {
            const at = parseWhen(v, ctx.now(), 'the start');
            return at.getTime() <= ctx.now().getTime() ? true : 'that is in the future';
          } catch (err) {
            return (err as Error).message;
          }
        },
      });
      detectedText = asked.trim() || undefined;
    }
    if (service === undefined) service = (await p.input({ message: 'Affected service (optional)' })).trim() || undefined;
    if (impact === undefined) impact = (await p.input({ message: 'Impact (optional)' })).trim() || undefined;
    if (commander === undefined) commander = (await p.input({ message: 'Incident commander', default: ctx.actor() })).trim() || undefined;
  }
  const level = findLevel(config, severity);
  if (!level) {
    throw new UsageError(`unknown severity "${severity}": ${config.file} defines ${config.levels.map((l) => l.id).join(', ')}`);
  }
  const now = ctx.now();
  const detectedAt = detectedText ? parseWhen(detectedText, now, '--detected-at') : undefined;
  if (detectedAt && detectedAt.getTime() > now.getTime()) throw new UsageError('--detected-at is in the future');

  // Checked before anything is recorded: a mistyped regime must not leave a half-declared incident.
  const regimes = opts.regime ? parseRegimeList(opts.regime, regimesOf(config), config.file, '--regime') : [];
  if (opts.discovered !== undefined && !regimes.length) throw new UsageError('--discovered sets when the regulatory clocks start: give --regime too (or later `ir regime add ID --discovered TIME`)');
  const discovered = opts.discovered !== undefined ? parseDiscovered(opts.discovered, now) : undefined;
  // ir.yaml is read before anything is recorded: a mistake in it stops the declaration, not the page.
  const notify = await notifier(ctx);

  const store = await ctx.store();
  let { incident } = await store.declare(
    { title, severity: level.id, service, impact, commander, detected_at: detectedAt?.toISOString() },
    now,
    ctx.actor(),
  );
  if (regimes.length) {
    ({ incident } = await store.append(incident.id, (i) => startEvents(i, regimes, discovered ?? defaultDiscovery(i)).events, now, ctx.actor()));
  }
  const announcement = await draftAnnouncement(ctx, incident.id);
  if (notify) {
    const [summary, note] = await notify.redact([title, impact ?? title]);
    const step: Step = { kind: 'declare', text: { summary, note, slack: await slackText([announcement.trimEnd()]) } };
    if (notify.plan(incident, step).length) {
      incident = (await store.append(incident.id, (current) => notify.plan(current, step), ctx.now(), ctx.actor())).incident;
      await notify.send(incident.id);
      incident = (await store.getIncident(incident.id)) ?? incident;
    }
  }
  const sla = slaView(incident, config, now);
  if (ctx.json) {
    ctx.printJson({ ...incidentJson(incident, sla, now), announcement_draft: announcement });
    return 0;
  }
  const style = await ctx.style();
  ctx.out(`${style.bold(`Declared ${incident.id}`)}  ${level.id} (${level.name})  ${incident.title}`);
  if (incident.detectedAt) ctx.out(`  started      ${utc(incident.detectedAt)}  (${relative(incident.detectedAt, now)})`);
  if (sla.respond) ctx.out(`  respond by   ${utc(sla.respond.due)}  (${relative(sla.respond.due, now)})`);
  if (sla.resolve) ctx.out(`  resolve by   ${utc(sla.resolve.due)}  (${relative(sla.resolve.due, now)})`);
  if (sla.update) ctx.out(`  next update  ${utc(sla.update.due)}  (every ${formatDuration(level.updateEvery!)})`);
  if (sla.shouldHaveBeenTold.length) {
    ctx.out(`  notify now   ${sla.shouldHaveBeenTold.map((s) => s.notify + (s.contact ? ` ${s.contact}` : '')).join(', ')}`);
  }
  if (regimes.length) {
    ctx.out(`  regulatory clocks from discovery at ${utc(incident.regimes![0].discoveredAt)}:`);
    for (const line of regimeLines(regimeViews(incident, now), (d) => utc(d), style, '    ')) ctx.out(line);
  }
  ctx.out('');
  ctx.out(style.bold('Announcement draft') + style.dim(' (send it with `ir comms initial --post`, or paste it):'));
  ctx.out(announcement.trimEnd());
  if (regimes.length) ctx.err(style.dim(`When an authority has been told: \`ir regime notified ${regimes[0].id} --ref CASE\`.`));
  ctx.err(style.dim('Next: `ir ack` to acknowledge, `ir runbook list` for a runbook, `ir note TEXT` as you go.'));
  return 0;
}

/** The first announcement, drafted from the team's comms/initial.md template; not sent, not recorded. */
async function draftAnnouncement(ctx: Context, id: string): Promise<string> {
  const [{ buildModel }, { renderTemplate, templatePath }] = await Promise.all([import('../../report/model.js'), import('../../report/template.js')]);
  const store = await ctx.store();
  // The draft is pasted into chat or a status page: secrets in a title or impact stay home.
  const { outgoingRedactor, redactRecord } = await import('../../report/outgoing.js');
  const redactor = await outgoingRedactor(true, (await ctx.team()).redaction);
  const safe = await redactRecord(redactor, (await store.getIncident(id))!, await store.events(id));
  const model = buildModel(safe.incident, safe.events, await ctx.severities(), ctx.now());
  const text = await renderTemplate(templatePath(ctx.runbookDir().dir, 'comms/initial.md'), model, ctx.io.cwd, join(ctx.home, 'cache', 'templates'));
  return redactor ? redactor.redact(text) : text;
}

/**
 * When something began: a duration ago ("20m", "20m ago", "1h30m ago"), a wall-clock time in the
 * responder's zone ("02:10": today, or yesterday when that is still ahead), or ISO-8601.
 */
export function parseWhen(text: string, now: Date, flag: string): Date {
  const t = text.trim();
  const ago = /^((?:\d+[smhd])+)(?:\s+ago)?$/.exec(t);
  if (ago) {
    let ms = 0;
    for (const [, n, u] of ago[1].matchAll(/(\d+)([smhd])/g)) ms += Number(n) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[u as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - ms);
  }
  const clock = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(t);
  if (clock) {
    const d = new Date(now);
    d.setHours(Number(clock[1]), Number(clock[2]), 0, 0);
    if (d.getTime() > now.getTime()) d.setDate(d.getDate() - 1);
    return d;
  }
  const d = new Date(t);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(t)) {
    throw new UsageError(`${flag} "${text}" is not a time: use a duration ago (20m), a time today (02:10) or ISO-8601 (2026-11-23T18:20:00Z)`);
  }
  return d;
}
