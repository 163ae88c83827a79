// Response metrics over a set of incidents: counts, MTTA / MTTM / MTTR (mean, median, p90),
// MTTD where the start of the problem was recorded, SLA compliance per severity, top services.

import type { Incident } from './incident.js';
import { findLevel, type SeverityConfig } from './severity.js';

export interface Stat {
  n: number;
  mean_s: number | null;
  median_s: number | null;
  p90_s: number | null;
}

export interface Compliance {
  measured: number;
  met: number;
  rate: number | null;
}

export interface Group {
  count: number;
  open: number;
  mtta: Stat;
  mttm: Stat;
  mttr: Stat;
  mttd: Stat;
  respond_sla: Compliance;
  resolve_sla: Compliance;
}

export interface Metrics {
  since: string;
  until: string;
  overall: Group;
  by_severity: Record<string, Group>;
  top_services: { service: string; count: number }[];
}

/**
 * Summary statistics in seconds. The median averages the two middle values; p90 is the
 * nearest-rank percentile (the smallest value with at least 90% of values at or below it).
 */
export function stat(values: number[]): Stat {
  if (!values.length) return { n: 0, mean_s: null, median_s: null, p90_s: null };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2;
  const p90 = s[Math.ceil(0.9 * s.length) - 1];
  const round = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, mean_s: round(s.reduce((a, b) => a + b, 0) / s.length), median_s: round(median), p90_s: round(p90) };
}

const secs = (from: string, to?: string) => (to ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined);

function group(incidents: Incident[], config: SeverityConfig): Group {
  const take = (f: (i: Incident) => number | undefined) => incidents.map(f).filter((x): x is number => x !== undefined && x >= 0);
  const compliance = (f: (i: Incident) => boolean | undefined): Compliance => {
    const results = incidents.map(f).filter((x): x is boolean => x !== undefined);
    const met = results.filter(Boolean).length;
    return { measured: results.length, met, rate: results.length ? Math.round((met / results.length) * 1000) / 10 : null };
  };
  return {
    count: incidents.length,
    open: incidents.filter((i) => i.state !== 'resolved').length,
    mtta: stat(take((i) => secs(i.declaredAt, i.acknowledgedAt))),
    mttm: stat(take((i) => secs(i.declaredAt, i.mitigatedAt))),
    mttr: stat(take((i) => secs(i.declaredAt, i.resolvedAt))),
    mttd: stat(take((i) => (i.detectedAt ? secs(i.detectedAt, i.declaredAt) : undefined))),
    respond_sla: compliance((i) => {
      // Judged against the severity it was acknowledged under (see core/sla.ts).
      const l = findLevel(config, i.acknowledgedSeverity ?? i.severity);
      const t = secs(i.declaredAt, i.acknowledgedAt);
      return l && t !== undefined ? t * 1000 <= l.respondWithin : undefined;
    }),
    resolve_sla: compliance((i) => {
      const l = findLevel(config, i.severity);
      const t = secs(i.declaredAt, i.resolvedAt);
      return l && t !== undefined ? t * 1000 <= l.resolveWithin : undefined;
    }),
  };
}

export function computeMetrics(all: Incident[], config: SeverityConfig, since: Date, until: Date): Metrics {
  const incidents = all.filter((i) => Date.parse(i.declaredAt) >= since.getTime() && Date.parse(i.declaredAt) <= until.getTime());
  const bySeverity: Record<string, Group> = {};
  const order = [...config.levels.map((l) => l.id), ...new Set(incidents.map((i) => i.severity))];
  for (const sev of [...new Set(order)]) {
    const subset = incidents.filter((i) => i.severity === sev);
    if (subset.length) bySeverity[sev] = group(subset, config);
  }
  const services = new Map<string, number>();
  for (const i of incidents) if (i.service) services.set(i.service, (services.get(i.service) ?? 0) + 1);
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    overall: group(incidents, config),
    by_severity: bySeverity,
    top_services: [...services.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10).map(([service, count]) => ({ service, count })),
  };
}
