// `ir comms initial|update|resolved|customer [--post]`: the status message, drafted from the
// incident's state; posted to a Slack-compatible webhook on request. Each message is recorded,
// which restarts the update clock. Secrets are replaced by placeholders (unless --no-redact), and
// the message carries the chain head it was drafted at.

import { join } from 'node:path';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { OperationError, UsageError } from '../../errors.js';
import { buildModel } from '../../report/model.js';
import { renderTemplate, templatePath } from '../../report/template.js';
import { chainHead, outgoingRedactor, redactionNote, redactRecord } from '../../report/outgoing.js';
import { postWebhook, slackEscape, webhookLabel } from '../../report/webhook.js';
import { zonedTime } from '../../report/zone.js';

export const KINDS = ['initial', 'update', 'resolved', 'customer'] as const;
type Kind = (typeof KINDS)[number];

export interface CommsOptions {
  kind: string;
  post?: boolean;
  message?: string;
  webhook?: string;
  preview?: boolean;
  /** false with --no-redact. */
  redact?: boolean;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('comms')
    .description('draft a status message (initial, update, resolved, customer); --post sends it to the webhook')
    .argument('<kind>', KINDS.join(' | '))
    .option('-m, --message <text>', 'a line of your own to include')
    .option('--post', 'send it to the Slack-compatible webhook (IR_SLACK_WEBHOOK or --webhook)')
    .option('--webhook <url>', 'incoming webhook URL (default: IR_SLACK_WEBHOOK)')
    .option('--preview', 'print only; do not record it or restart the update clock')
    .option('--no-redact', 'keep secrets found in the incident as they are (for a human who checked)')
    .addHelpText('after', '\nExamples:\n  ir comms initial\n  ir comms update --message "Rollback complete; error rate falling" --post\n  ir comms customer')
    .action(bind((cmd: Command) => run({ ...cmd.opts<Omit<CommsOptions, 'kind'>>(), kind: cmd.args[0] }, ctx)));
};

export async function run(opts: CommsOptions, ctx: Context): Promise<number> {
  const kind = opts.kind as Kind;
  if (!KINDS.includes(kind)) throw new UsageError(`unknown message kind "${opts.kind}": expected ${KINDS.join(', ')}`);
  const team = await ctx.team();
  // A bot (ir.yaml slack.token_env) posts through the outbox into the incident's thread; an
  // explicit --webhook, IR_SLACK_WEBHOOK or ir.yaml's webhook_url_env posts at once (no threads).
  const bot = !opts.webhook && Boolean(team.slack?.tokenEnv && team.slack.channel);
  const hookEnv = team.slack?.webhookUrlEnv;
  const url = opts.webhook ?? ctx.env.IR_SLACK_WEBHOOK ?? (hookEnv ? ctx.env[hookEnv] : undefined);
  if (opts.post && !bot && !url) throw new UsageError(`--post needs a webhook: set IR_SLACK_WEBHOOK${hookEnv ? ` or ${hookEnv} (named in ir.yaml)` : ''}, or pass --webhook URL`);
  if (opts.post && opts.preview) throw new UsageError('--post and --preview contradict each other');
  // With nothing open, the incident just resolved: `ir resolve` suggests `ir comms resolved` next.
  const incident = await ctx.currentOrLatestIncident();
  const store = await ctx.store();
  const now = ctx.now();
  const events = await store.events(incident.id);
  const head = chainHead(events);
  const redactor = await outgoingRedactor(opts.redact, (await ctx.team()).redaction);
  const safe = await redactRecord(redactor, incident, events);
  const message = redactor && opts.message ? await redactor.redact(opts.message) : opts.message;
  // The message announces the deadline its own recording sets (a --preview shows the one it would set).
  const severities = await ctx.severities();
  const model = buildModel(safe.incident, safe.events, severities, now, { messageAt: now });
  // Customers read times in the zone the team set: ir.yaml `timezone`, else severities.yaml
  // `comms.timezone`, else UTC.
  const zone = (await ctx.team()).timezone ?? severities.comms?.timezone ?? 'UTC';
  const context = {
    ...model,
    message,
    // Customer-facing messages carry no internal detail: no ids, names, notes or commands.
    resolved: incident.state === 'resolved',
    resolvedAt: model.incident.resolvedAt,
    customerNextUpdate: model.nextUpdateIso && zonedTime(new Date(model.nextUpdateIso), zone),
    customerResolvedAt: incident.resolvedAt && zonedTime(new Date(incident.resolvedAt), zone),
    customerService: safe.incident.service,
    customerImpact: safe.incident.impact,
    customerStatus: incident.state === 'monitoring' ? 'Monitoring' : incident.state === 'mitigating' || incident.state === 'identified' ? 'Identified' : 'Investigating',
  };
  const rendered = (await renderTemplate(templatePath(ctx.runbookDir().dir, `comms/${kind}.md`), context, ctx.io.cwd, join(ctx.home, 'cache', 'templates'))).trimEnd() + '\n';
  const drafted = redactor ? await redactor.redact(rendered) : rendered;
  // The anchor a reader can check the record against later. A customer message carries no
  // internal detail, so on screen it goes without; the webhook is the team's own channel.
  const anchor = head ? `_ir chain head as of this message: \`${head}\`_\n` : '';
  const text = kind === 'customer' ? drafted : drafted + anchor;
  const postedText = slackEscape(kind === 'customer' ? drafted + anchor : text);
  const note = redactionNote(redactor, 'the message');
  if (note) ctx.err(note);

  let posted: Awaited<ReturnType<typeof postWebhook>> | undefined;
  if (opts.post && !bot && url) {
    posted = await postWebhook(url, { text: postedText });
  }
  let queued: { msg: string; state: string } | undefined;
  if (!opts.preview) {
    const notify = opts.post && bot ? await (await import('../incident/notify.js')).notifier(ctx) : undefined;
    const result = await store.append(
      incident.id,
      (current) => {
        const planned = notify ? notify.plan(current, { kind: 'comms', text: { summary: '', slack: postedText.trimEnd() } }) : [];
        const msg = planned.find((e) => e.data.provider === 'slack')?.data.msg as string | undefined;
        const sent = {
          type: 'comms.sent',
          data: { kind, posted: posted?.ok === true, text, chain_head: head, redacted: Boolean(redactor), ...(msg ? { queued: msg } : {}), ...(posted ? { attempts: posted.attempts, target: webhookLabel(url!) } : {}), ...(posted && !posted.ok ? { error: posted.error } : {}) },
        };
        return [sent, ...planned];
      },
      now,
      ctx.actor(),
    );
    const msg = result.events.find((e) => e.type === 'notify.queued' && e.data.provider === 'slack')?.data.msg as string | undefined;
    if (notify && msg) {
      await notify.send(incident.id);
      const state = (await store.getIncident(incident.id))?.messages?.find((m) => m.id === msg)?.state ?? 'pending';
      queued = { msg: `${incident.id}/${msg}`, state };
    }
  }
  if (ctx.json) {
    ctx.printJson({
      incident: incident.id,
      kind,
      text,
      chain_head: head ?? null,
      redacted: Boolean(redactor),
      redactions: Object.fromEntries(redactor?.counts ?? []),
      recorded: !opts.preview,
      posted: posted ? { ok: posted.ok, attempts: posted.attempts, status: posted.status ?? null, error: posted.error ?? null, text: postedText } : null,
      queued: queued ?? null,
    });
  } else {
    ctx.io.stdout.write(text);
    if (kind === 'customer' && head) ctx.err(`Chain head as of this message: ${head}`);
    if (posted?.ok) ctx.err(`Posted to ${webhookLabel(url!)} (${posted.attempts} attempt${posted.attempts === 1 ? '' : 's'}).`);
  }
  if (posted && !posted.ok) {
    throw new OperationError(`posting to ${webhookLabel(url!)} failed after ${posted.attempts} attempt${posted.attempts === 1 ? '' : 's'}: ${posted.error}; the message is printed above and the attempt recorded`);
  }
  return 0;
}
