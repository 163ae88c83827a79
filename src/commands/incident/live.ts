// The live views: `ir timeline --follow` prints events as they land and `ir status --watch` redraws
// the board, both woken by the store (LISTEN/NOTIFY on PostgreSQL, polling on SQLite) until Ctrl-C.

import type { ChalkInstance } from 'chalk';
import type { Context } from '../../context.js';
import type { Incident, TimelineEvent } from '../../core/incident.js';
import { slaView, type SlaView } from '../../core/sla.js';
import { age, columns, utc, visibleWidth } from '../../io/format.js';
import type { InStream } from '../../io/streams.js';
import { pause } from '../../store/wake.js';
import type { Store, WatchOptions } from '../../store/types.js';
import { clockText, eventJson, incidentJson, severityText, TIMELINE_HEADER, timelineRow } from './render.js';

/** Events read per query while catching up; a burst larger than this is read in pages. */
const PAGE = 500;
/** The board's clocks tick in seconds, so a terminal board is redrawn at least this often. */
const TICK_MS = 1000;
/** While the store does not answer, look again this often even without a wake. */
const RETRY_MS = 1000;
/** A busy incident wakes the board many times a second; changes this close together make one board. */
const BOARD_MIN_MS = 200;

/**
 * Ctrl-C, SIGTERM and SIGHUP end a live view cleanly (exit 0): it is how one leaves it, not a
 * failure. A second one while the store is closing ends the process at once. On a terminal the
 * keys are read raw (Ctrl-C, or q), as `top` does: the view ends itself rather than leaving
 * the signal to whatever else shares the terminal's process group, and typing does not scribble
 * over the output.
 */
function stopOnSignals(ctx: Context): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(0);
    controller.abort();
  };
  for (const sig of signals) process.on(sig, onSignal);
  const stdin = ctx.io.stdin as InStream & { setRawMode?: (raw: boolean) => unknown };
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  // Ctrl-C, Ctrl-D, q, Q.
  const onKeys = (chunk: Buffer | string) => {
    const text = chunk.toString();
    if (['\u0003', '\u0004', 'q', 'Q'].some((key) => text.includes(key))) onSignal();
  };
  if (raw) {
    stdin.setRawMode!(true);
    stdin.on('data', onKeys);
    stdin.resume();
  }
  return {
    signal: controller.signal,
    release: () => {
      for (const sig of signals) process.off(sig, onSignal);
      if (raw) {
        stdin.off('data', onKeys);
        stdin.setRawMode!(false);
        stdin.pause();
      }
    },
  };
}

/** What a view says on stderr when the team store's connection drops and comes back. */
function connectionNotes(ctx: Context, location: string): WatchOptions {
  return {
    onConnection: (state, why) =>
      ctx.err(state === 'lost' ? `ir: lost the connection to ${location} (${why}); reconnecting` : 'ir: reconnected to the store; catching up'),
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Calls `step` after each wake of the store (the first comes once the subscription is in place)
 * and, with `everyMs`, at least that often; while `step` fails, again every second; never twice
 * within `minGapMs` (wakes meanwhile are one). Returns when the signal aborts.
 */
async function wakeLoop(store: Store, signal: AbortSignal, ctx: Context, everyMs: number | undefined, step: () => Promise<void>, minGapMs = 0): Promise<void> {
  const wakes = store.watch(signal, connectionNotes(ctx, store.location))[Symbol.asyncIterator]();
  let pending = wakes.next();
  let failing: string | undefined;
  for (;;) {
    const wait = failing ? Math.min(everyMs ?? RETRY_MS, RETRY_MS) : everyMs;
    const r = wait === undefined ? await pending : await Promise.race([pending, pause(wait, signal).then(() => 'timer' as const)]);
    if (signal.aborted) return;
    if (r !== 'timer') {
      if (r.done) return;
      pending = wakes.next();
    }
    try {
      await step();
      if (failing) ctx.err('ir: the store answers again');
      failing = undefined;
      if (minGapMs) await pause(minGapMs, signal);
    } catch (err) {
      if (signal.aborted) return;
      // Said once, not every second: the view keeps what it showed and catches up when it can.
      if (failing === undefined) ctx.err(`ir: cannot read the store: ${message(err)}; still watching`);
      failing = message(err);
    }
  }
}

/**
 * `ir timeline --follow`: the timeline as `ir timeline` prints it, then each new event as it lands.
 * Named (or the only open one): that incident. Otherwise every incident, each line led by its id,
 * including incidents declared while following.
 */
export async function followTimeline(ctx: Context, named: string | undefined): Promise<number> {
  const store = await ctx.store();
  const style = await ctx.style();
  let target: string | undefined;
  if (named || ctx.globals.incident || ctx.env.IR_INCIDENT) target = (await ctx.currentIncident(named)).id;
  else {
    const open = await store.listIncidents();
    if (open.length === 1) target = open[0].id;
  }

  let snapshot: TimelineEvent[];
  let last: number;
  if (target) {
    snapshot = await store.events(target);
    last = snapshot.length ? snapshot[snapshot.length - 1].seq : 0;
  } else {
    // The store's head first: an event that lands while the open timelines are read is newer than
    // it, so it is printed once, by the follow, not also in the snapshot.
    last = await store.latestSeq();
    const open = await store.listIncidents();
    snapshot = (await Promise.all(open.map((i) => store.events(i.id)))).flat().filter((e) => e.seq <= last).sort((a, b) => a.seq - b.seq);
  }

  const print = ctx.json ? jsonLines(ctx) : humanLines(ctx, style, target === undefined, snapshot);
  if (!ctx.json && ctx.io.stderr.isTTY) {
    ctx.err(style.dim(target ? `following ${target}; Ctrl-C or q to stop` : `following every incident${snapshot.length ? '' : ' (none open yet)'}; Ctrl-C or q to stop`));
  }
  print.start(snapshot);

  const { signal, release } = stopOnSignals(ctx);
  try {
    await wakeLoop(store, signal, ctx, undefined, async () => {
      for (;;) {
        const page = await store.eventsSince(last, target, PAGE);
        for (const e of page) {
          print.event(e);
          last = e.seq;
        }
        if (page.length < PAGE) return;
      }
    });
  } finally {
    release();
  }
  return 0;
}

interface Lines {
  /** The timeline as it stood when following began. */
  start(snapshot: TimelineEvent[]): void;
  event(e: TimelineEvent): void;
}

/** --json: one event per line (NDJSON), each naming its incident, so `jq` can read a stream that never ends. */
function jsonLines(ctx: Context): Lines {
  const line = (e: TimelineEvent) => ctx.io.stdout.write(`${JSON.stringify({ incident: e.incidentId, ...eventJson(e) })}\n`);
  return { start: (snapshot) => snapshot.forEach(line), event: line };
}

/**
 * Human: the snapshot exactly as `ir timeline` lays it out, then each event in the same columns.
 * Columns cannot be measured ahead of events not yet written: an actor longer than any so far
 * widens the column from that line on.
 */
function humanLines(ctx: Context, style: ChalkInstance, everyIncident: boolean, snapshot: TimelineEvent[]): Lines {
  const header = everyIncident ? ['INCIDENT', ...TIMELINE_HEADER] : TIMELINE_HEADER;
  const row = (e: TimelineEvent) => (everyIncident ? [e.incidentId, ...timelineRow(e, style)] : timelineRow(e, style));
  const rows = snapshot.map(row);
  const widths = header.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i]))));
  return {
    start: () => ctx.out(columns(header, rows)),
    event: (e) => {
      const cells = row(e);
      cells.forEach((c, i) => (widths[i] = Math.max(widths[i], visibleWidth(c))));
      ctx.out(cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - visibleWidth(c)))).join('  ').trimEnd());
    },
  };
}

// Terminal control for the board: the alternate screen keeps the user's scrollback as it was.
const ALT_SCREEN_ON = '\u001b[?1049h\u001b[?25l';
const ALT_SCREEN_OFF = '\u001b[?25h\u001b[?1049l';
const HOME = '\u001b[H';
const CLEAR_LINE_END = '\u001b[K';
const CLEAR_BELOW = '\u001b[J';

/**
 * `ir status --watch`: the board of open incidents, redrawn in place on a terminal whenever the
 * store changes and every second (the clocks tick); elsewhere (a pipe, a file) a fresh board, or
 * with --json one line of JSON, each time the store changes.
 */
export async function watchStatus(ctx: Context): Promise<number> {
  const store = await ctx.store();
  const config = await ctx.severities();
  const style = await ctx.style();
  const screen = ctx.io.stdout.isTTY === true && !ctx.json;
  const { signal, release } = stopOnSignals(ctx);
  let shownSeq: number | undefined;
  let printed = false;
  if (screen) ctx.io.stdout.write(ALT_SCREEN_ON);
  try {
    await wakeLoop(store, signal, ctx, screen ? TICK_MS : undefined, async () => {
      const seq = await store.latestSeq();
      // Off a terminal only a change earns a new board; a tick would only repeat the last one.
      if (!screen && seq === shownSeq) return;
      const now = ctx.now();
      const views = (await store.listIncidents()).map((incident) => ({ incident, sla: slaView(incident, config, now) }));
      shownSeq = seq;
      if (ctx.json) {
        ctx.io.stdout.write(`${JSON.stringify({ at: now.toISOString(), incidents: views.map((v) => incidentJson(v.incident, v.sla, now)) })}\n`);
        return;
      }
      const width = ctx.io.stdout.columns || 80;
      const where = screen ? elide(store.location, width - `every 1s ·  · ${utc(now)}`.length) : store.location;
      const head = style.dim(`${screen ? 'every 1s' : 'on change'} · ${where} · ${utc(now)}`);
      const lines = [head, '', ...boardLines(views, now, style)];
      if (!screen) {
        // A blank line between boards, so a reader of the pipe (or the file) sees where each begins.
        ctx.out(`${printed ? '\n' : ''}${lines.join('\n')}`);
        printed = true;
        return;
      }
      const height = ctx.io.stdout.rows || 24;
      // Lines cut to the terminal: a wrapped or scrolled line would leave the next redraw misplaced.
      let shown = lines.map((l) => fit(l, width));
      if (shown.length > height - 1) shown = [...shown.slice(0, height - 2), style.dim(`… ${shown.length - height + 2} more lines`)];
      ctx.io.stdout.write(HOME + shown.map((l) => l + CLEAR_LINE_END).join('\n') + CLEAR_BELOW);
    }, BOARD_MIN_MS);
  } finally {
    release();
    if (screen) ctx.io.stdout.write(ALT_SCREEN_OFF);
  }
  return 0;
}

const ROLE_LABELS: [string, string][] = [
  ['commander', 'IC'],
  ['scribe', 'scribe'],
  ['comms', 'comms'],
];

/**
 * Three lines per incident, each within 80 columns: who, what and how old; the three clocks; who
 * holds which role (the three every incident needs, a dash while nobody does, then any others).
 */
export function boardLines(views: { incident: Incident; sla: SlaView }[], now: Date, style: ChalkInstance): string[] {
  if (!views.length) return ['No open incidents.'];
  const lines: string[] = [];
  const stateWidth = Math.max(...views.map((v) => v.incident.state.length));
  for (const { incident: i, sla } of views) {
    if (lines.length) lines.push('');
    lines.push(`${style.bold(i.id)}  ${severityText(i.severity, style)}  ${i.state.padEnd(stateWidth)}  ${age(i.declaredAt, now).padStart(6)}  ${i.title}`);
    lines.push(`  respond ${clockText(sla.respond, style)} · resolve ${clockText(sla.resolve, style)} · next update ${clockText(sla.update, style)}`);
    const roles = ROLE_LABELS.map(([role, label]) => `${label} ${i.roles[role] ?? style.yellow('-')}`);
    for (const [role, person] of Object.entries(i.roles).sort()) if (!ROLE_LABELS.some(([r]) => r === role)) roles.push(`${role} ${person}`);
    lines.push(`  ${roles.join(' · ')}`);
    if (!i.acknowledgedAt && sla.escalationsDue.some((s) => s.after > 0)) {
      lines.push(style.red(`  not acknowledged; by now ${sla.shouldHaveBeenTold.map((s) => s.notify).join(', ')} should have been told (\`ir escalate\`)`));
    }
  }
  return lines;
}

/** A long location (a URL) shortened in the middle, keeping its scheme and user and its database. */
function elide(text: string, room: number): string {
  if (text.length <= room) return text;
  if (room < 8) return text.slice(0, Math.max(room, 0));
  const tail = Math.floor((room - 1) / 2);
  return `${text.slice(0, room - 1 - tail)}…${text.slice(text.length - tail)}`;
}

/** The line cut to `width` visible columns, colour codes kept (and reset if it was cut). */
export function fit(line: string, width: number): string {
  if (visibleWidth(line) <= width) return line;
  let out = '';
  let visible = 0;
  let coloured = false;
  for (let i = 0; i < line.length && visible < width; ) {
    // eslint-disable-next-line no-control-regex
    const esc = /^\u001b\[[0-9;]*m/.exec(line.slice(i));
    if (esc) {
      out += esc[0];
      coloured = true;
      i += esc[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    out += ch;
    i += ch.length;
    visible++;
  }
  return coloured ? `${out}\u001b[0m` : out;
}
