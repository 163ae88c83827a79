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
  if (typeof iso === 'string') {
    const fast = canonicalUtc(iso);
    if (fast !== undefined) return fast;
  }
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

// A long timeline prints a million times, nearly always in the form ir writes (toISOString's). Parsing
// each through Date is most of the cost of a row, so a time in that form is cut to shape directly,
// once its minute is known to be one Date keeps as it is (not 2026-02-30, which Date moves to March).
let knownMinute = '';
let knownMinuteText = '';

const isDigit = (c: number) => c >= 48 && c <= 57;

function canonicalUtc(iso: string): string | undefined {
  // YYYY-MM-DDTHH:MM:SS.mmmZ, the seconds 00-59; anything else takes the Date path.
  if (iso.length !== 24 || iso.charCodeAt(16) !== 58 || iso.charCodeAt(19) !== 46 || iso.charCodeAt(23) !== 90) return undefined;
  const s1 = iso.charCodeAt(17);
  if (s1 < 48 || s1 > 53 || !isDigit(iso.charCodeAt(18)) || !isDigit(iso.charCodeAt(20)) || !isDigit(iso.charCodeAt(21)) || !isDigit(iso.charCodeAt(22))) return undefined;
  if (!iso.startsWith(knownMinute) || knownMinute === '') {
    const minute = iso.slice(0, 16);
    const start = `${minute}:00.000Z`;
    const d = new Date(start);
    if (Number.isNaN(d.getTime()) || d.toISOString() !== start) return undefined;
    knownMinute = minute;
    knownMinuteText = `${minute.slice(0, 10)} ${minute.slice(11)}`;
  }
  return `${knownMinuteText}${iso.slice(16, 19)}Z`;
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
