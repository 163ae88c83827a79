// Which outbound messages a lifecycle step implies (declare pages, ack acknowledges, …), as
// notify.queued events appended together with the step's own event: a message is on record before
// anything is sent. Pure: decided on the incident record and ir.yaml alone, inside the write lock.

import type { Incident, MessageState, NewEvent } from '../core/incident.js';
import { defaultOpsgeniePriority, defaultPagerDutySeverity, type TeamConfig } from '../config/team.js';

export type Provider = 'pagerduty' | 'opsgenie' | 'slack';

export const PROVIDER_LABEL: Record<string, string> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie', slack: 'Slack' };

/** What a notify.queued event carries: the request without its secret, which is read at send time. */
export interface QueuedMessage {
  msg: string;
  provider: Provider;
  action: string;
  /** Where it goes, for people: the routing key's variable, the channel, the API host. */
  target: string;
  url: string;
  /** The environment variable holding the credential (its name only). */
  secret_env: string;
  body: Record<string, unknown>;
  /** Slack: post into the incident's thread (the first Slack message that went out opens it). */
  thread?: boolean;
}

/** Text for people, already redacted and Slack-escaped where it goes to Slack. */
export interface StepText {
  /** The incident's title, redacted: PagerDuty summary, Opsgenie message. */
  summary: string;
  /** The Slack message for this step (absent: none). */
  slack?: string;
  /** Opsgenie description / note. */
  note?: string;
  runbook?: string;
}

export type Step =
  | { kind: 'declare'; text: StepText }
  | { kind: 'ack'; text: StepText }
  | { kind: 'comms'; text: StepText }
  | { kind: 'severity'; text: StepText; severity: string }
  | { kind: 'escalate'; text: StepText; notify: string }
  | { kind: 'resolve'; text: StepText };

function queuedOf(incident: Incident): MessageState[] {
  return incident.messages ?? [];
}

/** Routing-key variables this incident has been triggered on (declare, escalations), first first. */
export function triggeredKeys(incident: Incident): string[] {
  return [...new Set(queuedOf(incident).filter((m) => m.provider === 'pagerduty' && m.action === 'trigger').map((m) => m.target))];
}

function pagerdutyTrigger(team: TeamConfig, incident: Incident, severity: string, text: StepText, at: string): Record<string, unknown> {
  const pd = team.pagerduty!;
  const details: Record<string, unknown> = { ir_id: incident.id, severity };
  if (text.runbook) details.runbook = text.runbook;
  if (incident.roles.commander) details.commander = incident.roles.commander;
  if (incident.service) details.service = incident.service;
  const payload: Record<string, unknown> = {
    summary: `[${severity}] ${text.summary}`.slice(0, 1024),
    source: pd.source,
    severity: pd.severity[severity] ?? defaultPagerDutySeverity(severity),
    timestamp: at,
    custom_details: details,
  };
  for (const k of ['component', 'group', 'class'] as const) if (pd[k]) payload[k] = pd[k];
  return { event_action: 'trigger', dedup_key: incident.id, payload };
}

/**
 * The notify.queued events for `step` on `incident` (the record before the step's own event), or
 * none. `info` receives lines for the responder about what is deliberately not sent.
 */
export function planMessages(team: TeamConfig, incident: Incident, step: Step, at: string, info: (line: string) => void = () => undefined): NewEvent[] {
  const out: Omit<QueuedMessage, 'msg'>[] = [];
  const severity = step.kind === 'severity' ? step.severity : incident.severity;
  const pd = team.pagerduty;
  if (pd) {
    const keys = triggeredKeys(incident);
    const to = (key: string, body: Record<string, unknown>, action = String(body.event_action)) =>
      out.push({ provider: 'pagerduty', action, target: key, url: pd.eventsUrl, secret_env: key, body });
    switch (step.kind) {
      case 'declare':
        to(pd.routingKeyEnv, pagerdutyTrigger(team, incident, severity, step.text, at));
        break;
      case 'ack':
        for (const key of keys) to(key, { event_action: 'acknowledge', dedup_key: incident.id });
        break;
      case 'severity':
        // PagerDuty deduplicates on dedup_key: a second trigger updates the open alert's severity.
        for (const key of keys) to(key, pagerdutyTrigger(team, incident, severity, step.text, at));
        break;
      case 'escalate': {
        const target = team.escalation.find((e) => e.notify.toLowerCase() === step.notify.toLowerCase());
        if (target?.routingKeyEnv) to(target.routingKeyEnv, pagerdutyTrigger(team, incident, severity, step.text, at));
        break;
      }
      case 'resolve':
        for (const key of keys) to(key, { event_action: 'resolve', dedup_key: incident.id });
        break;
    }
  }
  const og = team.opsgenie;
  if (og) {
    const created = queuedOf(incident).some((m) => m.provider === 'opsgenie' && m.action === 'create');
    const alias = encodeURIComponent(incident.id);
    const host = (() => {
      try {
        return new URL(og.apiUrl).host;
      } catch {
        return og.apiUrl;
      }
    })();
    const to = (action: string, path: string, body: Record<string, unknown>) => out.push({ provider: 'opsgenie', action, target: host, url: `${og.apiUrl}${path}`, secret_env: og.apiKeyEnv, body });
    switch (step.kind) {
      case 'declare': {
        const details: Record<string, string> = { ir_id: incident.id, severity };
        if (incident.roles.commander) details.commander = incident.roles.commander;
        if (incident.service) details.service = incident.service;
        to('create', '/v2/alerts', {
          message: `[${severity}] ${step.text.summary}`.slice(0, 130),
          alias: incident.id,
          description: (step.text.note ?? step.text.summary).slice(0, 15000),
          priority: og.priority[severity] ?? defaultOpsgeniePriority(severity),
          details,
          source: og.source,
        });
        break;
      }
      case 'ack':
        if (created) to('acknowledge', `/v2/alerts/${alias}/acknowledge?identifierType=alias`, { source: og.source, note: step.text.note ?? 'Acknowledged in ir' });
        break;
      case 'escalate': {
        const target = team.escalation.find((e) => e.notify.toLowerCase() === step.notify.toLowerCase());
        if (created && target?.opsgenieEscalation) {
          to('escalate', `/v2/alerts/${alias}/escalate?identifierType=alias`, { escalation: { name: target.opsgenieEscalation }, source: og.source, ...(step.text.note ? { note: step.text.note } : {}) });
        }
        break;
      }
      case 'resolve':
        if (created) to('close', `/v2/alerts/${alias}/close?identifierType=alias`, { source: og.source, note: step.text.note ?? 'Resolved in ir' });
        break;
    }
  }
  if (step.kind === 'escalate' && (pd || og)) {
    const target = team.escalation.find((e) => e.notify.toLowerCase() === step.notify.toLowerCase());
    if (!target) info(`ir.yaml names no escalation target for "${step.notify}": nobody extra is paged (the escalation is recorded).`);
  }
  const slack = team.slack;
  if (slack?.tokenEnv && slack.channel && step.text.slack) {
    const isSlack = (m: MessageState) => m.provider === 'slack';
    const opened = queuedOf(incident).some(isSlack);
    const body: Record<string, unknown> = { channel: slack.channel, text: step.text.slack };
    // The resolution is news for the whole channel, not only for those following the thread.
    if (step.kind === 'resolve' && opened) body.reply_broadcast = true;
    out.push({ provider: 'slack', action: step.kind === 'declare' || !opened ? 'open' : step.kind === 'resolve' ? 'broadcast' : 'reply', target: slack.channel, url: `${slack.apiUrl}/chat.postMessage`, secret_env: slack.tokenEnv, body, thread: opened });
  }
  const first = queuedOf(incident).length + 1;
  return out.map((m, i) => ({ type: 'notify.queued', data: { msg: `m${first + i}`, ...m } as unknown as Record<string, unknown> }));
}
