// Text layout for human output: aligned columns, times in UTC, durations relative to now.

import { formatDuration } from '../util/duration.js';

/** kubectl-style columns: a header row, two spaces between columns, no borders. */
export function columns(header: string[], rows: string[][], width: (s: string) => number = visibleWidth): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - width(cell ?? ''))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
export function visibleWidth(s: string): number {
  return s.replace(ANSI, '').length;
}

/** 2026-11-23 18:39:20Z — UTC, seconds, no milliseconds: what people paste into a postmortem. */
export function utc(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** "in 4m12s" or "3m ago" relative to now. */
export function relative(target: Date | string, now: Date): string {
  const t = typeof target === 'string' ? new Date(target) : target;
  const diff = t.getTime() - now.getTime();
  return diff >= 0 ? `in ${formatDuration(diff)}` : `${formatDuration(-diff)} ago`;
}

export function age(since: string, now: Date): string {
  return formatDuration(now.getTime() - new Date(since).getTime());
}
