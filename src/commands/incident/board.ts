// The `ir status` board: open incidents, most urgent first, fitted to the terminal, in the responder's zone.

import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import type { ChalkInstance } from 'chalk';
import type { ParseCache } from '../../config/cache.js';
import type { Incident } from '../../core/incident.js';
import { rank, type SeverityConfig, type SlaClock } from '../../core/severity.js';
import type { SlaView } from '../../core/sla.js';
import { age, columns, visibleWidth } from '../../io/format.js';
import { formatDuration } from '../../util/duration.js';
import { clockText, severityText } from './render.js';
import { regimeViews } from '../../core/regime.js';
import { regimeLines } from '../regime/render.js';

export interface BoardRow {
  incident: Incident;
  sla: SlaView;
}

const clocksOf = (sla: SlaView): SlaClock[] => [sla.respond, sla.resolve, sla.update].filter((c): c is SlaClock => c !== undefined);

/**
 * Overdue clocks first (whatever the severity: a missed deadline is the thing to act on), then
 * severity (unknown levels last), then the oldest.
 */
export function byUrgency<T extends BoardRow>(rows: T[], config: SeverityConfig, now?: Date): T[] {
  const regimeOverdue = (r: BoardRow) => now !== undefined && regimeViews(r.incident, now).some((v) => v.state === 'overdue');
  const overdue = (r: BoardRow) => (clocksOf(r.sla).some((c) => c.state === 'overdue') || regimeOverdue(r) ? 0 : 1);
  const sev = (r: BoardRow) => {
    const i = rank(config, r.incident.severity);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...rows].sort(
    (a, b) => overdue(a) - overdue(b) || sev(a) - sev(b) || new Date(a.incident.declaredAt).getTime() - new Date(b.incident.declaredAt).getTime(),
  );
}

/** The zone the responder reads times in, its label for the board, and how to read a time in it. */
export interface ResponderZone {
  zone: string;
  label: string;
  /** "02:10" today, "11-23 02:10" on another day. */
  time(at: Date, now: Date): string;
}

/**
 * The zone the responder reads times in: TZ when it names a real zone, else the system's. With a
 * cache, the zone and its label come from it when everything they are derived from is unchanged:
 * asking Intl for them initialises ICU's locale data, about 15 ms of every `ir status`.
 */
export function responderZone(env: NodeJS.ProcessEnv, cache?: ParseCache): ResponderZone {
  // Date's own local time is the process's zone, which is the responder's when env is this process's.
  const own = env.TZ === process.env.TZ;
  const key = cache && own ? zoneKey(cache, env.TZ) : undefined;
  let named = key ? cache?.get<{ zone: string; label: string }>(key) : undefined;
  if (!named || typeof named.zone !== 'string' || typeof named.label !== 'string') {
    named = zoneFromIntl(env);
    if (key) cache?.set(key, named);
  }
  const { zone, label } = named;
  return { zone, label, time: own ? localTimeHere : (at, now) => localTime(at, now, zone) };
}

function zoneFromIntl(env: NodeJS.ProcessEnv): { zone: string; label: string } {
  const named = (zone: string) => new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName')?.value;
  let zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const wanted = env.TZ?.replace(/^:/, '');
  if (wanted) {
    try {
      zone = new Intl.DateTimeFormat('en-US', { timeZone: wanted }).resolvedOptions().timeZone;
    } catch {
      // An unknown TZ: Node itself falls back to UTC for it, so say so rather than guess.
      zone = 'UTC';
    }
  }
  let short: string | undefined;
  try {
    short = named(zone);
  } catch {
    // An empty TZ (or a bare ':') leaves ICU's default as "Etc/Unknown", which Intl then refuses by
    // name; Node's clock reads UTC for it.
    zone = 'UTC';
    short = named(zone);
  }
  return { zone, label: short && short !== zone ? `${zone} (${short})` : zone };
}

/**
 * The cache key of the zone's name and label: every input ICU reads them from (TZ, the system's
 * zone files, ICU's and its zone data's versions) and the offset and zone name in effect now, so a
 * change of any of them, a DST switch included, is a miss.
 */
function zoneKey(cache: ParseCache, tz: string | undefined): string {
  const read = (how: () => string) => {
    try {
      return how();
    } catch {
      return null;
    }
  };
  const system = tz
    ? null
    : [read(() => readlinkSync('/etc/localtime')), read(() => createHash('sha256').update(readFileSync('/etc/localtime')).digest('hex')), read(() => readFileSync('/etc/timezone', 'utf8'))];
  const now = new Date();
  // Date's toString ends with the zone's long name for now, e.g. "(Central European Summer Time)".
  const inputs = { tz: tz ?? null, system, offset: now.getTimezoneOffset(), name: now.toString().replace(/^[^(]*/, ''), icu: process.versions.icu ?? null, tzdata: process.versions.tz ?? null };
  return cache.key('responder-zone', inputs, '');
}

/** "02:10" today, "11-23 02:10" on another day, both in `zone`. */
export function localTime(at: Date, now: Date, zone: string): string {
  const parts = (d: Date) =>
    Object.fromEntries(
      new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
        .formatToParts(d)
        .map((p) => [p.type, p.value]),
    ) as Record<string, string>;
  const t = parts(at);
  const n = parts(now);
  const hm = `${t.hour}:${t.minute}`;
  return t.year === n.year && t.month === n.month && t.day === n.day ? hm : `${t.month}-${t.day} ${hm}`;
}

/** localTime in this process's own zone, read with Date's local getters (no Intl). */
function localTimeHere(at: Date, now: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const hm = `${two(at.getHours())}:${two(at.getMinutes())}`;
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  return sameDay ? hm : `${two(at.getMonth() + 1)}-${two(at.getDate())} ${hm}`;
}

/**
 * The running or overdue clock that comes due first, named, in a few characters: "update by 05:08"
 * (local time), "respond OVERDUE 2m".
 */
function nextDeadline(sla: SlaView, now: Date, zone: ResponderZone, style: ChalkInstance): string {
  const live = clocksOf(sla).filter((c) => c.state === 'running' || c.state === 'overdue');
  if (!live.length) return '-';
  const first = live.reduce((a, b) => (b.remainingMs < a.remainingMs ? b : a));
  if (first.state === 'running') return `${first.name} by ${zone.time(first.due, now)}`;
  // Seconds do not matter once a deadline is minutes gone, and every column counts at 80.
  const late = -first.remainingMs;
  return style.red.bold(`${first.name} OVERDUE ${formatDuration(late >= 60_000 ? late - (late % 60_000) : late)}`);
}

function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** Shortest title column worth keeping the wide layout for. */
const MIN_WIDE_TITLE = 24;
const MIN_TITLE = 8;

/**
 * The board as text. With a width (the terminal's), the declared time and the three clocks fold
 * into one NEXT DEADLINE column when they would squeeze the title, and the title is cut with … so
 * no row wraps.
 */
export function boardWidth(io: { stdout: { isTTY?: boolean; columns?: number }; env: NodeJS.ProcessEnv }): number | undefined {
  if (io.stdout.isTTY && io.stdout.columns) return io.stdout.columns;
  // A pipe gets whole lines (for grep), unless COLUMNS asks otherwise.
  const cols = Number(io.env.COLUMNS);
  return Number.isInteger(cols) && cols > 0 ? cols : undefined;
}

export function renderBoard(rows: BoardRow[], opts: { now: Date; style: ChalkInstance; env: NodeJS.ProcessEnv; width?: number; zone?: ResponderZone }): string {
  const { now, style, width } = opts;
  const zone = opts.zone ?? responderZone(opts.env);
  const declared = (i: Incident) => zone.time(new Date(i.declaredAt), now);
  const wide = {
    header: ['ID', 'SEV', 'STATE', 'DECLARED', 'AGE', 'RESPOND', 'RESOLVE', 'NEXT UPDATE'],
    cells: ({ incident: i, sla }: BoardRow) => [
      i.id,
      severityText(i.severity, style),
      i.state,
      declared(i),
      age(i.declaredAt, now),
      clockText(sla.respond, style),
      clockText(sla.resolve, style),
      clockText(sla.update, style),
    ],
  };
  const narrow = {
    header: ['ID', 'SEV', 'STATE', 'NEXT DEADLINE'],
    cells: ({ incident: i, sla }: BoardRow) => [i.id, severityText(i.severity, style), i.state, nextDeadline(sla, now, zone, style)],
  };
  // Width of everything left of the title, separators included.
  const leftWidth = (layout: typeof wide) => {
    const all = [layout.header, ...rows.map(layout.cells)];
    return layout.header.reduce((sum, _, c) => sum + Math.max(...all.map((r) => visibleWidth(r[c]))) + 2, 0);
  };
  let layout = wide;
  if (width && leftWidth(wide) + MIN_WIDE_TITLE > width) layout = narrow;
  const titleWidth = width ? Math.max(MIN_TITLE, width - leftWidth(layout)) : Number.POSITIVE_INFINITY;
  const table = columns(
    [...layout.header, 'TITLE'],
    rows.map((r) => [...layout.cells(r), truncate(r.incident.title, titleWidth)]),
  );
  return `${style.dim(`Times in ${zone.label}`)}\n${table}${regimeSection(rows, now, zone, style, width)}`;
}

/**
 * The regulatory clocks of the incidents on the board, under it: one line each, in the board's
 * zone, cut to the width like the titles. Withdrawn clocks are left to `ir regime list`.
 */
function regimeSection(rows: BoardRow[], now: Date, zone: ResponderZone, style: ChalkInstance, width?: number): string {
  const lines: string[] = [];
  for (const { incident } of rows) {
    const views = regimeViews(incident, now).filter((v) => v.state !== 'removed');
    if (!views.length) continue;
    lines.push(`${incident.id} regulatory deadlines:`);
    for (const line of regimeLines(views, (d) => zone.time(d, now), style)) {
      // Cut like the titles so a watched board never wraps; a coloured line is left whole rather
      // than cut through an escape sequence.
      lines.push(width && visibleWidth(line) > width && visibleWidth(line) === line.length ? truncate(line, width) : line);
    }
  }
  return lines.length ? `\n\n${lines.join('\n')}` : '';
}
