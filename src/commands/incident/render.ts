// How an incident, its SLA clocks and its timeline look on screen and in --json.

import type { ChalkInstance } from 'chalk';
import type { Incident, MessageState, TimelineEvent } from '../../core/incident.js';
import { describeEvent } from '../../core/describe.js';
import { escalationLine, type SlaView } from '../../core/sla.js';
import type { SlaClock } from '../../core/severity.js';
import { formatDuration } from '../../util/duration.js';
import { age, columns, utc, visibleWidth } from '../../io/format.js';
import type { Sink } from '../../io/sink.js';
import type { EventOutline, IterateOptions } from '../../store/types.js';
import { regimeViews } from '../../core/regime.js';
import { regimeJson, regimeLines } from '../regime/render.js';
import { eventJson, headerLine, rowFormatter, TIMELINE_HEADER } from './range.js';

export { eventJson, TIMELINE_HEADER };

function clockJson(c?: SlaClock) {
  return c ? { due: c.due.toISOString(), state: c.state, remaining_seconds: Math.round(c.remainingMs / 1000) } : null;
}

/** An outbound message as --json shows it (status, show, outbox). */
export function messageJson(incident: Incident, m: MessageState) {
  return {
    incident: incident.id,
    id: `${incident.id}/${m.id}`,
    provider: m.provider,
    action: m.action,
    target: m.target,
    state: m.state,
    attempts: m.attempts,
    queued_at: m.queuedAt,
    error: m.error ?? null,
    ref: m.ref ?? null,
  };
}

export function incidentJson(incident: Incident, sla: SlaView, now: Date) {
  return {
    id: incident.id,
    title: incident.title,
    severity: incident.severity,
    state: incident.state,
    service: incident.service ?? null,
    impact: incident.impact ?? null,
    roles: incident.roles,
    declared_at: incident.declaredAt,
    declared_by: incident.declaredBy,
    detected_at: incident.detectedAt ?? null,
    acknowledged_at: incident.acknowledgedAt ?? null,
    acknowledged_by: incident.acknowledgedBy ?? null,
    mitigated_at: incident.mitigatedAt ?? null,
    resolved_at: incident.resolvedAt ?? null,
    summary: incident.summary ?? null,
    root_cause: incident.rootCause ?? null,
    messages: (incident.messages ?? []).map((m) => messageJson(incident, m)),
    age_seconds: Math.round(((incident.resolvedAt ? new Date(incident.resolvedAt) : now).getTime() - new Date(incident.declaredAt).getTime()) / 1000),
    sla: {
      respond: clockJson(sla.respond),
      resolve: clockJson(sla.resolve),
      update: clockJson(sla.update),
      escalations_due: sla.escalationsDue.map((s) => ({ after_seconds: s.after / 1000, notify: s.notify, contact: s.contact ?? null })),
      should_have_been_told: sla.shouldHaveBeenTold.map((s) => s.notify),
      told: sla.told.map((s) => s.notify),
      next_escalation: sla.nextEscalation ? { after_seconds: sla.nextEscalation.after / 1000, notify: sla.nextEscalation.notify, contact: sla.nextEscalation.contact ?? null } : null,
    },
    // Only on incidents with regulatory clocks, so other documents read as before.
    ...(incident.regimes ? { regimes: regimeViews(incident, now).map(regimeJson) } : {}),
  };
}

/** "4m12s left", "overdue by 3m", "met (2m early)", "breached by 10m". */
export function clockText(c: SlaClock | undefined, style: ChalkInstance): string {
  if (!c) return '-';
  const amount = formatDuration(Math.abs(c.remainingMs));
  switch (c.state) {
    case 'running':
      return c.remainingMs < 5 * 60_000 ? style.yellow(`${amount} left`) : `${amount} left`;
    case 'overdue':
      return style.red.bold(`OVERDUE ${amount}`);
    case 'met':
      return style.green('met');
    case 'breached':
      return style.red(`breached by ${amount}`);
  }
}

export function severityText(sev: string, style: ChalkInstance): string {
  return /0|1/.test(sev.replace(/\D/g, '').slice(0, 1)) ? style.red.bold(sev) : sev;
}

export function renderCard(incident: Incident, sla: SlaView, now: Date, style: ChalkInstance): string {
  const lines: string[] = [];
  lines.push(`${style.bold(incident.id)}  ${severityText(incident.severity, style)}  ${incident.state.toUpperCase()}  ${incident.title}`);
  const row = (k: string, v: string | undefined) => v && lines.push(`  ${k.padEnd(13)}${v}`);
  row('service', incident.service);
  row('impact', incident.impact);
  row('declared', `${utc(incident.declaredAt)} by ${incident.declaredBy} (${age(incident.declaredAt, now)} ago)`);
  row('detected', incident.detectedAt && utc(incident.detectedAt));
  row('acknowledged', incident.acknowledgedAt ? `${utc(incident.acknowledgedAt)} by ${incident.acknowledgedBy}` : style.yellow('not yet'));
  row('mitigated', incident.mitigatedAt && utc(incident.mitigatedAt));
  row('resolved', incident.resolvedAt && utc(incident.resolvedAt));
  for (const [role, person] of Object.entries(incident.roles)) row(role, person);
  row('summary', incident.summary);
  row('root cause', incident.rootCause);
  lines.push('');
  lines.push(style.bold('SLA'));
  if (sla.unknownLevel) lines.push(style.yellow(`  severity ${incident.severity} is not in the current definitions; no SLA clocks`));
  const clockRow = (label: string, c?: SlaClock) => c && lines.push(`  ${label.padEnd(13)}${utc(c.due)}  ${clockText(c, style)}`);
  clockRow('respond by', sla.respond);
  clockRow('resolve by', sla.resolve);
  clockRow('next update', sla.update);
  row('escalation', escalationLine(incident, sla));
  if (incident.regimes?.length) {
    lines.push('');
    lines.push(style.bold('Regulatory deadlines'));
    lines.push(...regimeLines(regimeViews(incident, now), (d) => utc(d), style));
  }
  if (sla.escalationsDue.length && !incident.acknowledgedAt && incident.state !== 'resolved') {
    lines.push(style.red(`  not acknowledged: escalate with \`ir escalate\` (${sla.escalationsDue.map((s) => s.notify).join(', ')})`));
  }
  return lines.join('\n');
}

/** One event as a timeline row: notes stand out, the machinery is dimmed. */
export function timelineRow(e: TimelineEvent, style: ChalkInstance): string[] {
  return [utc(e.at), e.actor, e.type === 'note.added' ? describeEvent(e) : style.dim(describeEvent(e))];
}

export function renderTimeline(events: TimelineEvent[], style: ChalkInstance): string {
  if (!events.length) return '(no events)';
  return columns(TIMELINE_HEADER, events.map((e) => timelineRow(e, style)));
}

/**
 * How show and timeline read a long timeline. Neither form shows prev_hash, only --json each event's
 * own hash. Pages of 100: a page outlives the young-generation collections made while it is printed,
 * so its events are copied and promoted; at 500 a page, a million events peaked ~15 MiB higher.
 */
export const STREAM_READ = (json: boolean): IterateOptions => ({ batch: 100, without: json ? ['prevHash'] : ['prevHash', 'hash'] });

/**
 * What `renderTimeline` prints (and a newline), for a timeline too long to hold: the column widths
 * first — from the store's outline of the events when it can give one, else from a first read — then
 * row by row. Only the events the widths were taken from are printed, so an event landing in between
 * cannot print unaligned.
 */
export async function streamTimeline(read: () => AsyncIterable<TimelineEvent[]>, style: ChalkInstance, sink: Sink, outline?: EventOutline): Promise<void> {
  const widths = TIMELINE_HEADER.slice(0, -1).map((h) => visibleWidth(h));
  let count = 0;
  // An outline's times are all in ir's own form, which prints 20 wide ("2026-11-22 02:00:00Z").
  if (outline && outline.isoTimes) {
    count = outline.count;
    if (count) widths[0] = Math.max(widths[0], 20);
    for (const actor of outline.actors) widths[1] = Math.max(widths[1], visibleWidth(actor));
  } else {
    for await (const page of read()) {
      for (const e of page) {
        widths[0] = Math.max(widths[0], visibleWidth(utc(e.at)));
        widths[1] = Math.max(widths[1], visibleWidth(e.actor));
      }
      count += page.length;
    }
  }
  if (!count) {
    await sink.write('(no events)\n');
    return sink.flush();
  }
  await sink.write(headerLine({ time: widths[0], actor: widths[1] }));
  const row = rowFormatter({ time: widths[0], actor: widths[1] }, (text) => style.dim(text));
  let left = count;
  for await (const page of read()) {
    // Events that landed after the widths were taken are read but not printed: a read left half-way
    // would leave the team store's offline copy of the timeline unwritten.
    const rows = Math.min(left, page.length);
    left -= rows;
    for (let i = 0; i < rows; i++) if (sink.add(row(page[i]))) await sink.drain();
  }
  await sink.flush();
}

/** Each page of an async stream, its items transformed as it passes. */
export async function* mapPages<T, U>(pages: AsyncIterable<T[]>, fn: (item: T) => U): AsyncIterable<U[]> {
  for await (const page of pages) yield page.map(fn);
}
