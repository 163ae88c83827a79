// The incident's phases as a Mermaid gantt chart (renders on GitHub and in most markdown viewers).

import type { Incident, TimelineEvent } from '../core/incident.js';

export interface Segment {
  state: string;
  start: string;
  end: string;
}

const label: Record<string, string> = {
  detected: 'Undetected (problem began)',
  investigating: 'Investigating',
  identified: 'Identified',
  mitigating: 'Mitigating',
  monitoring: 'Monitoring',
};

/** Consecutive states from declaration to resolution (or now): one segment per state visited. */
export function phaseSegments(incident: Incident, events: TimelineEvent[], now: Date): Segment[] {
  const segments: Segment[] = [];
  if (incident.detectedAt) segments.push({ state: 'detected', start: incident.detectedAt, end: incident.declaredAt });
  let state = 'investigating';
  let since = incident.declaredAt;
  const close = (at: string) => {
    if (at > since || segments.length === 0) segments.push({ state, start: since, end: at });
  };
  for (const e of events) {
    if (e.type === 'incident.state_changed') {
      close(e.at);
      state = String(e.data.to);
      since = e.at;
    } else if (e.type === 'incident.resolved') {
      close(e.at);
      state = 'resolved';
      since = e.at;
    } else if (e.type === 'incident.reopened') {
      state = 'investigating';
      since = e.at;
    }
  }
  if (state !== 'resolved') close(now.toISOString());
  return segments;
}

const stamp = (iso: string) => iso.replace(/\.\d{3}Z$/, '+00:00');

export function ganttDiagram(incident: Incident, segments: Segment[]): string {
  const title = `${incident.id} ${incident.severity}`.replace(/[:#;]/g, ' ');
  const lines = ['gantt', `    title ${title}`, '    dateFormat YYYY-MM-DDTHH:mm:ssZ', '    axisFormat %H:%M', '    section Incident'];
  segments.forEach((s, i) => {
    const tag = s.state === 'detected' ? 'done, ' : s.state === 'mitigating' || s.state === 'monitoring' ? 'active, ' : s.state === 'investigating' && i <= 1 ? 'crit, ' : '';
    lines.push(`    ${label[s.state] ?? s.state} :${tag}p${i + 1}, ${stamp(s.start)}, ${stamp(s.end)}`);
  });
  return lines.join('\n');
}
