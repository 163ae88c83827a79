// What the lifecycle commands share for paging and chat: queue the messages a step implies in the
// same append as the step, then try to send them (and any older pending ones) within the command's
// budget, saying on stderr what went out and what waits. Nothing here loads unless ir.yaml has an
// integration.

import { hostname } from 'node:os';
import type { Context } from '../../context.js';
import type { Incident, NewEvent } from '../../core/incident.js';
import type { TeamConfig } from '../../config/team.js';
import type { Step, StepText } from '../../notify/plan.js';

export interface Notifier {
  team: TeamConfig;
  /** Redacts texts for the outside world (built-in rules plus ir.yaml `redaction`). */
  redact(texts: string[]): Promise<string[]>;
  /** notify.queued events for `step`, decided on the record inside the write lock. */
  plan(incident: Incident, step: Step): NewEvent[];
  /** Sends what is pending for the incident and reports it; never throws for a provider's failure. */
  send(incidentId: string): Promise<void>;
}

export async function notifier(ctx: Context): Promise<Notifier | undefined> {
  const team = await ctx.team();
  // Checked before importing the planner, so a team without ir.yaml loads nothing more.
  if (!team.pagerduty && !team.opsgenie && !team.slack?.tokenEnv) return undefined;
  const { planMessages } = await import('../../notify/plan.js');
  const infos: string[] = [];
  return {
    team,
    async redact(texts) {
      const { outgoingRedactor } = await import('../../report/outgoing.js');
      const redactor = await outgoingRedactor(true, team.redaction);
      return redactor ? Promise.all(texts.map((t) => redactor.redact(t))) : texts;
    },
    plan(incident, step) {
      return planMessages(team, incident, step, ctx.now().toISOString(), (line) => infos.push(line));
    },
    async send(incidentId) {
      for (const line of infos.splice(0)) ctx.err(line);
      await sendNow(ctx, incidentId);
    },
  };
}

/** Sends an incident's pending messages within this command's budget and says how it went. */
export async function sendNow(ctx: Context, incidentId: string, extra: { only?: Set<string>; again?: boolean; fullId?: boolean } = {}) {
  const { budgetFromEnv, outcomeLine, sendPending } = await import('../../notify/send.js');
  const { budgetMs, backoffMs } = budgetFromEnv(ctx.env);
  const store = await ctx.store();
  const outcomes = await sendPending(store, incidentId, { env: ctx.env, deadline: Date.now() + budgetMs, backoffMs, now: () => ctx.now(), actor: ctx.actor(), sender: `${hostname()}/${process.pid}`, ...extra });
  for (const o of outcomes) ctx.err(outcomeLine(o, extra.fullId));
  return outcomes;
}

/** Slack-safe text: user words escaped so `<!channel>` or `<@U1>` in a note shows as written. */
export async function slackText(parts: string[]): Promise<string> {
  const { slackEscape } = await import('../../report/webhook.js');
  return parts.map(slackEscape).join('');
}

export type { Step, StepText };
