// One line of plain text per timeline event, for `ir timeline`, `ir show` and reports.

import type { TimelineEvent } from './incident.js';

const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));

export function describeEvent(e: TimelineEvent): string {
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
    case 'comms.sent':
      return `Status update (${s(d.kind)}) ${d.posted ? 'posted' : 'drafted'}${d.error ? ` — post failed: ${s(d.error)}` : ''}`;
    default: {
      const summary = d.summary ?? d.title ?? d.message;
      return summary ? `${e.type}: ${s(summary)}` : e.type;
    }
  }
}
