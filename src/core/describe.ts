// One line of plain text per timeline event, for `ir timeline`, `ir show` and reports.

import type { TimelineEvent } from './incident.js';

const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));

const PROVIDERS: Record<string, string> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie', slack: 'Slack' };
const provider = (v: unknown) => PROVIDERS[s(v)] ?? s(v);

export function describeEvent(e: TimelineEvent): string {
  const text = describeData(e);
  // Written while the team store was unreachable: still waiting here, or delivered later.
  if (e.waiting) return `${text} [waiting in this machine's outbox]`;
  if (e.recordedAt && e.recordedAt !== e.at) return `${text} [written offline, delivered ${e.recordedAt.slice(0, 19).replace('T', ' ')}Z]`;
  return text;
}

function describeData(e: TimelineEvent): string {
  const d = e.data;
  switch (e.type) {
    case 'incident.declared':
      return `Declared ${s(d.severity)}: ${s(d.title)}${d.service ? ` (service ${s(d.service)})` : ''}${d.impact ? ` — impact: ${s(d.impact)}` : ''}${d.commander ? `; commander ${s(d.commander)}` : ''}`;
    case 'incident.acknowledged':
      return 'Acknowledged';
    case 'incident.state_changed':
      return `State ${s(d.from)} → ${s(d.to)}${d.reason ? `: ${s(d.reason)}` : ''}`;
    case 'incident.severity_changed':
      return `Severity ${s(d.from)} → ${s(d.to)}: ${s(d.reason)}`;
    case 'incident.role_assigned':
      return `${s(d.role)} is now ${s(d.person)}${d.previous ? ` (was ${s(d.previous)})` : ''}`;
    case 'note.added':
      return `Note: ${s(d.text)}`;
    case 'incident.resolved':
      return `Resolved: ${s(d.summary)}${d.root_cause ? ` — root cause: ${s(d.root_cause)}` : ''}`;
    case 'incident.reopened':
      return `Reopened: ${s(d.reason)}`;
    case 'incident.escalated':
      return `Escalated to ${s(d.notify)}${d.contact ? ` (${s(d.contact)})` : ''}${d.reason ? `: ${s(d.reason)}` : ''}`;
    case 'notify.queued':
      return `${provider(d.provider)} ${s(d.action)} queued (${s(d.msg)}, to ${s(d.target)})`;
    case 'notify.sending':
      return `${provider(d.provider)} ${s(d.action)} being sent (${s(d.msg)}, by ${s(d.by)})`;
    case 'notify.sent':
      return `${provider(d.provider)} ${s(d.action)} sent (${s(d.msg)}${d.ref ? `, ${s(d.ref)}` : ''}${Number(d.attempts) > 1 ? `, ${s(d.attempts)} attempts` : ''})`;
    case 'notify.failed':
      return `${provider(d.provider)} ${s(d.action)} ${d.final ? 'failed for good' : 'not sent yet'} (${s(d.msg)}): ${s(d.error)}`;
    case 'comms.sent':
      return `Status update (${s(d.kind)}) ${d.posted ? 'posted' : d.queued ? `queued for Slack (${s(d.queued)})` : 'drafted'}${d.error ? ` — post failed: ${s(d.error)}` : ''}`;
    case 'runbook.started':
      return `Runbook ${s(d.runbook)} started (${s(d.run_id)}${d.mode === 'yes' ? ', --yes' : ''})`;
    case 'runbook.resumed':
      return `Runbook ${s(d.runbook)} resumed at ${d.step ? `step ${s(d.step)}` : 'the end'} (${s(d.run_id)})`;
    case 'runbook.interrupted':
      return `Runbook ${s(d.runbook)} interrupted${d.step ? ` at step ${s(d.step)}` : ''}: ${s(d.reason)}`;
    case 'runbook.phase_overrun':
      return `Runbook ${s(d.runbook)}: phase ${s(d.phase)} over its budget (${s(d.elapsed_s)}s used of ${s(d.within_s)}s)`;
    case 'runbook.step': {
      const what = d.kind === 'run' || d.kind === 'print' ? `\`${s(d.command)}\`` : d.kind === 'checklist' && Array.isArray(d.checked) ? `${s(d.title)} (ticked: ${d.checked.join('; ') || 'none'})` : d.kind === 'regimes' && Array.isArray(d.chosen) ? `${s(d.title)} (chose: ${d.chosen.join(', ') || 'none'})` : s(d.title);
      const exit = d.exit_code !== undefined && d.exit_code !== null ? ` exit ${s(d.exit_code)}` : '';
      const reason = d.reason ? ` (${s(d.reason)})` : '';
      return `Step ${s(d.step)} ${s(d.outcome)}${exit}: ${what}${reason}`;
    }
    case 'runbook.verify':
      return `Runbook ${s(d.runbook)} verify: ${Array.isArray(d.confirmed) ? d.confirmed.length : 0} confirmed, ${Array.isArray(d.unconfirmed) ? d.unconfirmed.length : 0} not confirmed`;
    case 'runbook.finished':
      return `Runbook ${s(d.runbook)} ${s(d.status)}: ${s(d.ok)} done, ${s(d.failed)} failed, ${s(d.skipped)} skipped`;
    case 'regime.started': {
      const within = Number(d.within_seconds ?? 0);
      return `Regulatory clock started: ${s(d.name)} — notify ${s(d.notify)} ${within > 0 ? `by ${s(d.due_at).slice(0, 16).replace('T', ' ')}Z` : 'immediately'} (discovered ${s(d.discovered_at).slice(0, 16).replace('T', ' ')}Z)`;
    }
    case 'regime.notified':
      return `Regulator notified: ${s(d.name ?? d.regime)} at ${s(d.notified_at).slice(0, 16).replace('T', ' ')}Z${d.by ? ` by ${s(d.by)}` : ''}${d.ref ? ` (ref ${s(d.ref)})` : ''}`;
    case 'regime.removed':
      return `Regulatory clock withdrawn: ${s(d.name ?? d.regime)} — ${s(d.reason)}`;
    case 'action.added':
      return `Action item ${s(d.n)}: ${s(d.text)}${d.owner ? ` (owner ${s(d.owner)})` : ''}${d.due ? ` due ${s(d.due)}` : ''}`;
    case 'action.done':
      return `Action item ${s(d.n)} done: ${s(d.text)}`;
    case 'evidence.collection_started':
      return `Evidence collection ${s(d.collection_id)} started: ${Array.isArray(d.collectors) ? d.collectors.length : 0} collectors, since ${s(d.since)}${d.kube_context ? `, context ${s(d.kube_context)}` : ''}${d.namespace ? `, namespace ${s(d.namespace)}` : ''}${d.selector ? `, selector ${s(d.selector)}` : ''}`;
    case 'evidence.collected': {
      const files = Array.isArray(d.files) ? (d.files as { file?: unknown; status?: unknown }[]) : [];
      const bad = files.filter((f) => f.status === 'failed' || f.status === 'timeout').length;
      return `Evidence ${s(d.collection_id)} ${s(d.status)}: ${files.filter((f) => f.file).length} files${bad ? `, ${bad} failed or timed out` : ''}`;
    }
    case 'evidence.verified':
      return d.ok ? `Evidence verified: ${s(d.checked)} files intact` : `Evidence verification FAILED: ${Array.isArray(d.problems) ? d.problems.map((p: { file?: unknown; problem?: unknown }) => `${s(p.problem)} ${s(p.file)}`).join(', ') : ''}`;
    case 'evidence.exported':
      return `Evidence exported to ${s(d.file)} (${s(d.files)} files${d.redacted ? ', redacted' : ''}, sha256 ${s(d.sha256).slice(0, 12)})`;
    case 'store.imported': {
      const src = (d.source ?? {}) as { origin?: unknown; incident?: unknown; head?: unknown };
      const head = s(src.head);
      return `Imported ${s(d.events)} event${d.events === 1 ? '' : 's'} from ${s(src.incident)} on ${s(src.origin)} (its head ${head.slice(0, head.indexOf(':') + 13)}…)`;
    }
    case 'sync.rejected': {
      const original = (d.original ?? {}) as { type?: unknown; data?: unknown };
      const what = describeData({ ...e, type: s(original.type), data: (original.data ?? {}) as Record<string, unknown> });
      return `Not applied (written offline at ${s(d.written_at).slice(0, 19).replace('T', ' ')}Z): ${what} — ${s(d.reason)}`;
    }
    default: {
      const summary = d.summary ?? d.title ?? d.message;
      return summary ? `${e.type}: ${s(summary)}` : e.type;
    }
  }
}
