// Turns an incident and its timeline into what reports and status updates are made of: timeline
// lines, key durations against the SLA, phases, runbook steps, evidence, comms and action items.

import { describeEvent } from '../core/describe.js';
import type { Incident, TimelineEvent } from '../core/incident.js';
import type { Redactor } from '../redact/redactor.js';
import { deriveActions, type ActionItem } from '../core/actions.js';
import { findLevel, type SeverityConfig, type SeverityLevel } from '../core/severity.js';
import { formatDuration } from '../util/duration.js';
import { phaseSegments, ganttDiagram } from './mermaid.js';
import { hoursText, regimeView } from '../core/regime.js';

/** Safe inside a markdown table cell: no pipes or line breaks to break the row. */
export function cell(text: unknown): string {
  const s = String(text ?? '');
  // Most cells need none of it; three searches for one character say so, where three replaces
  // would copy the text (and a regex test of the three took three times as long, once per row).
  if (s.indexOf('|') < 0 && s.indexOf('\n') < 0 && s.indexOf('\\') < 0) return s.trim();
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
    .trim();
}

/** 2026-11-22 02:47:00Z from an ISO string; slicing, since it runs once per event. */
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
const stateLabels: Record<string, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  mitigating: 'Mitigating',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

export interface ReportModel {
  draft: boolean;
  generatedAt: string;
  frontMatter: string;
  incident: {
    id: string;
    title: string;
    severity: string;
    severityName?: string;
    state: string;
    stateLabel: string;
    service?: string;
    impact?: string;
    commander?: string;
    declaredAt: string;
    declaredBy: string;
    detectedAt?: string;
    resolvedAt?: string;
    summary?: string;
    rootCause?: string;
  };
  severityHistory?: string;
  /** Severity changes while the clocks ran, in order: "SEV-2 → SEV-1 at 10:40" and why. */
  severityChanges: { text: string; reason?: string }[];
  /** When the respond-by SLA was judged against another severity than the current one, that severity. */
  acknowledgedUnder?: string;
  roles: { role: string; person: string }[];
  duration: string;
  elapsed: string;
  durations: { name: string; took: string; target: string; result: string }[];
  mermaid: string;
  timeline: { time: string; actor: string; text: string }[];
  runbooks: {
    id: string;
    title: string;
    runId: string;
    status: string;
    steps: { step: string; outcome: string; exit: string; command: string; output: string; shortHash: string }[];
  }[];
  /** A collector that produced no file (skipped, or failed before writing) has no file or hash, and says why. */
  evidence: { file: string; collector: string; status: string; reason: string; bytes: number; sha256: string }[];
  comms: { time: string; kind: string; posted: boolean; error?: string }[];
  actions: ActionItem[];
  followUps: string[];
  actionsTaken: string[];
  latestNotes: string[];
  nextUpdate?: string;
  /** The same deadline as an ISO instant, for a template context that shows it in another zone. */
  nextUpdateIso?: string;
  detectionNote?: string;
  /** The regulatory notifications table; empty when the incident has no regime clocks. */
  regulatory: RegulatoryRow[];
  /** Deadlines still open (not notified, not withdrawn), one line each, for internal updates. */
  regulatoryOpen: string[];
}

export interface RegulatoryRow {
  regime: string;
  notify: string;
  discovered: string;
  deadline: string;
  notifiedAt: string;
  by: string;
  ref: string;
  result: string;
}

/**
 * One row per regime clock, from the incident record: met when the authority was told by the
 * deadline, missed when told late or not at all once it passed; a withdrawn clock says why.
 */
export function regulatoryRows(incident: Incident, now: Date): RegulatoryRow[] {
  return (incident.regimes ?? []).map((c) => {
    const v = regimeView(c, now);
    const after = hoursText(c.withinMs);
    const result =
      v.state === 'met' ? 'met'
      : v.state === 'missed' ? `missed (notified ${hoursText(v.remainingMs)} late)`
      : v.state === 'overdue' ? 'missed (not notified)'
      : v.state === 'running' ? `open (due in ${hoursText(v.remainingMs)})`
      : `withdrawn: ${c.removedReason ?? ''}`;
    return {
      regime: cell(c.name),
      notify: cell(c.notify),
      discovered: utc(c.discoveredAt),
      deadline: `${utc(c.dueAt)} (${c.withinMs ? `${after} after discovery` : 'immediately'})`,
      notifiedAt: c.notifiedAt ? utc(c.notifiedAt) : '—',
      by: c.notifiedBy ? cell(c.notifiedBy) : '—',
      ref: c.ref ? cell(c.ref) : '—',
      result: cell(result),
    };
  });
}

export interface ModelOptions {
  incidentDir?: string;
  /** `SEQ:HASH` of the chain head the report is rendered at; goes into the front matter. */
  chainHead?: string;
  /** Whether secrets were replaced (false: --no-redact); goes into the front matter. */
  redacted?: boolean;
  /**
   * When the message being drafted is sent: recording it restarts the update clock, so the next
   * update it announces is due one interval after it, not after the previous message.
   */
  messageAt?: Date;
}

/** How many lines "Actions taken" may hold before routine checks are folded into one line per run. */
const ACTIONS_TAKEN_MAX = 8;

export type TakenLine = { text: string; run?: string; runbook?: string; check?: boolean };

/** The line an event adds to "Actions taken", if any. */
function takenLine(e: TimelineEvent): TakenLine | undefined {
  const d = e.data;
  switch (e.type) {
    case 'incident.state_changed':
    case 'incident.severity_changed':
    case 'incident.escalated':
    case 'incident.resolved':
    case 'incident.reopened':
      return { text: describeEvent(e) };
    case 'runbook.step': {
      const title = String(d.title ?? d.step);
      if (d.kind === 'run' && d.outcome === 'ok') {
        return d.destructive === true ? { text: `${title} (runbook ${String(d.runbook)})` } : { text: title, run: String(d.run_id), runbook: String(d.runbook), check: true };
      }
      if (d.kind === 'print' && ((d.outcome === 'printed' && d.confirmed === true) || d.outcome === 'done')) {
        return { text: `${title} (done by hand, runbook ${String(d.runbook)})` };
      }
      return undefined;
    }
  }
  return undefined;
}

/**
 * "Actions taken", fed one event at a time. Once the list is longer than it may be, checks of one
 * run are folded into one line where its first check was, and stay folded as more come, so a run
 * of a million checks costs one line.
 */
class ActionsTaken {
  private list: TakenLine[] = [];
  private folded = false;
  private readonly byRun = new Map<string, TakenLine>();
  private readonly counts = new Map<string, number>();

  add(e: TimelineEvent): void {
    const l = takenLine(e);
    if (!l) return;
    if (this.folded) this.push(l);
    else {
      this.list.push(l);
      if (this.list.length > ACTIONS_TAKEN_MAX) {
        const all = this.list;
        this.list = [];
        this.folded = true;
        for (const x of all) this.push(x);
      }
    }
  }

  private push(l: TakenLine): void {
    if (!l.check) {
      this.list.push(l);
      return;
    }
    const n = (this.counts.get(l.run!) ?? 0) + 1;
    this.counts.set(l.run!, n);
    if (n === 1) {
      const line = { ...l };
      this.byRun.set(l.run!, line);
      this.list.push(line);
    }
  }

  /**
   * `n` more checks of the run `l` is a check of, as `n` calls of add() would count them once the
   * list is folded (the only time a helper thread hands checks over as a count).
   */
  addChecks(l: TakenLine, n: number): void {
    if (!this.folded) throw new Error('checks handed over as a count before the actions were folded');
    const before = this.counts.get(l.run!) ?? 0;
    this.counts.set(l.run!, before + n);
    if (before === 0) {
      const line = { ...l };
      this.byRun.set(l.run!, line);
      this.list.push(line);
    }
  }

  lines(): string[] {
    const texts = this.list.map((l) => {
      const n = l.check && this.folded ? this.counts.get(l.run!)! : 1;
      return n > 1 && this.byRun.get(l.run!) === l ? `Runbook ${l.runbook}: ${n} steps ran ok (${l.text}, …)` : l.text;
    });
    if (texts.length <= ACTIONS_TAKEN_MAX) return texts;
    const dropped = texts.length - (ACTIONS_TAKEN_MAX - 1);
    return [`… ${dropped} earlier action${dropped === 1 ? '' : 's'} (see the timeline)`, ...texts.slice(-(ACTIONS_TAKEN_MAX - 1))];
  }
}

/**
 * What was done, for a status update: state changes with their reasons, severity changes,
 * escalations, runbook steps that changed something (a destructive step that ran, a printed step
 * the responder marked done) and the resolution with its root cause, each on its own line; steps
 * that ran ok but changed nothing (checks) too, folded into one line per run when space is short,
 * so the fix is never pushed out by the diagnostics before it.
 */
export function actionsTaken(events: TimelineEvent[]): string[] {
  const taken = new ActionsTaken();
  for (const e of events) taken.add(e);
  return taken.lines();
}

/** Steps of one run listed in a report; the rest are counted in one row (the timeline keeps every one). */
export const STEPS_LISTED = 1000;

/**
 * Redacts the data of a batch of events in one scan (the postmortem's main thread and its helper
 * both batch this way), replacing in `batch` only the events whose data changed: a copy, never the
 * object itself, since a store may hand the same objects to a later read (the team store's offline copy).
 */
export async function redactEvents(batch: TimelineEvent[], redactor: Redactor | undefined): Promise<void> {
  if (!redactor) return;
  // Most batches of a long timeline: nothing in them to look at further (no strings gathered).
  let quiet = 0;
  while (quiet < batch.length && redactor.unchanged(batch[quiet].data)) quiet++;
  if (quiet === batch.length) return;
  const datas = await redactor.redactDeep(batch.map((e) => e.data));
  for (let i = 0; i < batch.length; i++) if (datas[i] !== batch[i].data) batch[i] = { ...batch[i], data: datas[i] };
}

/** The fields of a timeline row (timelineItem), in the order timelineRows hands them to its printer. */
export const TIMELINE_FIELDS = ['time', 'actor', 'text'] as const;

/** One timeline row of a report. */
export function timelineItem(e: TimelineEvent): ReportModel['timeline'][number] {
  return { time: utc(e.at), actor: cell(e.actor), text: cell(describeEvent(e)) };
}

/**
 * Timeline rows printed straight from events: `print(time, actor, text)` (TIMELINE_FIELDS) of the fields
 * timelineItem gives, without building it. The actor's cell is kept while the actor stays the
 * same, as it does for most of a long timeline.
 */
export function timelineRows(print: (time: string, actor: string, text: string) => string): (e: TimelineEvent) => string {
  let actor: string | undefined;
  let actorCell = '';
  return (e) => {
    if (e.actor !== actor) {
      actor = e.actor;
      actorCell = cell(actor);
    }
    return print(utc(e.at), actorCell, cell(describeEvent(e)));
  };
}

/**
 * What a stretch of the timeline adds to a report's model, for a ModelBuilder on another thread:
 * either one event, folded as it is, or a run of events whose only effects are ones that can be
 * counted — notes (an author, the last notes) and runbook steps past those a report lists (a tally
 * per outcome, and a check's count in the folded "Actions taken"). Applied in order with
 * ModelBuilder.apply, the ops leave the builder exactly as adding each event would.
 */
export type ModelOp =
  | { event: TimelineEvent }
  | { actors: string[]; notes: string[]; steps: [run: string, outcome: string, n: number, check: TakenLine | null][] };

/**
 * Turns a stretch of events into ModelOps, on a thread that does not know what came before the
 * stretch. A step is counted only when its listing cannot depend on that: this stretch has already
 * handed over STEPS_LISTED whole steps of its run (since the run's start, if that is in the
 * stretch), so the run, if it exists, lists no more; and, for a check, more than ACTIONS_TAKEN_MAX
 * events with an action line, so "Actions taken" is folded by then whatever came before.
 */
export class ModelCompactor {
  readonly ops: ModelOp[] = [];
  private actors = new Set<string>();
  private notes: string[] = [];
  private steps = new Map<string, [string, string, number, TakenLine | null]>();
  private pending = false;
  private readonly wholeSteps = new Map<string, number>();
  private withLines = 0;

  add(e: TimelineEvent): void {
    if (e.type === 'note.added') {
      this.pending = true;
      if (e.actor) this.actors.add(e.actor);
      this.notes.push(String(e.data.text));
      if (this.notes.length > 3) this.notes.shift();
      return;
    }
    const line = takenLine(e);
    if (e.type === 'runbook.step') {
      const run = String(e.data.run_id);
      const whole = this.wholeSteps.get(run) ?? 0;
      if (whole >= STEPS_LISTED && (!line || (line.check && this.withLines > ACTIONS_TAKEN_MAX))) {
        this.pending = true;
        if (e.actor) this.actors.add(e.actor);
        const outcome = String(e.data.outcome);
        const key = `${run}\u0000${outcome}\u0000${line ? 1 : 0}`;
        const tally = this.steps.get(key);
        if (tally) tally[2]++;
        else this.steps.set(key, [run, outcome, 1, line ?? null]);
        return;
      }
      this.wholeSteps.set(run, whole + 1);
    } else if (e.type === 'runbook.started') this.wholeSteps.set(String(e.data.run_id), 0);
    if (line) this.withLines++;
    this.flush();
    this.ops.push({ event: e });
  }

  /** Closes the run of counted events so far (call once more after the last event). */
  flush(): void {
    if (!this.pending) return;
    this.ops.push({ actors: [...this.actors], notes: this.notes, steps: [...this.steps.values()] });
    this.actors = new Set();
    this.notes = [];
    this.steps = new Map();
    this.pending = false;
  }
}

/**
 * Folds events, in the order they happened, into what a report needs, one event at a time: a
 * timeline of a million events is never held. It keeps aggregates only (a run's steps up to
 * STEPS_LISTED, action items, phases, authors); the timeline rows themselves are for the caller
 * to stream (`timelineItem`), or `buildModel` lists them.
 */
export class ModelBuilder {
  private readonly runbooks = new Map<string, ReportModel['runbooks'][number] & { more: number; outcomes: Map<string, number> }>();
  private readonly evidence: ReportModel['evidence'] = [];
  private readonly comms: ReportModel['comms'] = [];
  private readonly followUps = new Set<string>();
  private readonly severityChanges: TimelineEvent[] = [];
  private readonly phaseEvents: TimelineEvent[] = [];
  private readonly actionEvents: TimelineEvent[] = [];
  private readonly authors = new Set<string>();
  private readonly notes: string[] = [];
  private readonly taken = new ActionsTaken();
  private readonly relative: (p: unknown) => string;

  constructor(
    private readonly incident: Incident,
    private readonly config: SeverityConfig,
    private readonly now: Date,
    private readonly opts: ModelOptions = {},
  ) {
    if (incident.roles.commander) this.authors.add(incident.roles.commander);
    this.relative = (p: unknown) => {
      const s = String(p ?? '');
      return opts.incidentDir && s.startsWith(`${opts.incidentDir}/`) ? s.slice(opts.incidentDir.length + 1) : s;
    };
  }

  add(e: TimelineEvent): void {
    const d = e.data;
    if (e.actor) this.authors.add(e.actor);
    this.taken.add(e);
    switch (e.type) {
      case 'incident.severity_changed':
        this.severityChanges.push(e);
        break;
      case 'incident.state_changed':
      case 'incident.resolved':
      case 'incident.reopened':
        this.phaseEvents.push(e);
        break;
      case 'action.added':
      case 'action.done':
      case 'action.reopened':
        this.actionEvents.push(e);
        break;
      case 'note.added':
        this.notes.push(String(d.text));
        if (this.notes.length > 3) this.notes.shift();
        break;
      case 'runbook.started':
        this.runbooks.set(String(d.run_id), { id: String(d.runbook), title: String(d.title ?? d.runbook), runId: String(d.run_id), status: 'unfinished', steps: [], more: 0, outcomes: new Map() });
        break;
      case 'runbook.step': {
        const run = this.runbooks.get(String(d.run_id));
        if (!run) break;
        if (run.steps.length >= STEPS_LISTED) {
          run.more++;
          const outcome = String(d.outcome);
          run.outcomes.set(outcome, (run.outcomes.get(outcome) ?? 0) + 1);
          break;
        }
        run.steps.push({
          step: cell(d.step),
          outcome: cell(d.outcome),
          exit: d.exit_code === undefined || d.exit_code === null ? '—' : String(d.exit_code),
          command: d.kind === 'run' || d.kind === 'print' ? cell(d.command).replace(/`/g, "'") : '',
          output: d.output_file ? cell(this.relative(d.output_file)) : '',
          shortHash: d.sha256 ? String(d.sha256).slice(0, 12) : '',
        });
        break;
      }
      case 'runbook.finished': {
        const run = this.runbooks.get(String(d.run_id));
        if (run) run.status = String(d.status);
        if (Array.isArray(d.follow_up)) for (const f of d.follow_up) this.followUps.add(String(f));
        break;
      }
      case 'evidence.collected':
        if (Array.isArray(d.files)) {
          for (const f of d.files as Record<string, unknown>[]) {
            this.evidence.push({ file: cell(f.file), collector: cell(f.collector), status: cell(f.status), reason: cell(f.reason), bytes: Number(f.bytes ?? 0), sha256: String(f.sha256 ?? '') });
          }
        }
        break;
      case 'comms.sent':
        this.comms.push({ time: utc(e.at), kind: String(d.kind), posted: d.posted === true, error: d.error ? String(d.error) : undefined });
        break;
    }
  }

  /** One op of a ModelCompactor, as adding the events it stands for would have done. */
  apply(op: ModelOp): void {
    if ('event' in op) return this.add(op.event);
    for (const a of op.actors) this.authors.add(a);
    for (const t of op.notes) {
      this.notes.push(t);
      if (this.notes.length > 3) this.notes.shift();
    }
    for (const [runId, outcome, n, check] of op.steps) {
      const run = this.runbooks.get(runId);
      if (run) {
        if (run.steps.length < STEPS_LISTED) throw new Error(`steps of ${runId} handed over as a count before ${STEPS_LISTED} were listed`);
        run.more += n;
        run.outcomes.set(outcome, (run.outcomes.get(outcome) ?? 0) + n);
      }
      if (check) this.taken.addChecks(check, n);
    }
  }

  /** The model, with an empty timeline: the caller lists or streams the rows. */
  finish(more: Partial<ModelOptions> = {}): ReportModel {
    const { incident, config, now } = this;
    const opts = { ...this.opts, ...more };
    const level = findLevel(config, incident.severity);
    const end = incident.resolvedAt ? new Date(incident.resolvedAt) : now;
    const declared = new Date(incident.declaredAt);

    const durations: ReportModel['durations'] = [];
    // Each target is the one of the severity the clock is judged against (see core/sla.ts), named.
    const measure = (name: string, at: string | undefined, sev: SeverityLevel | undefined, within: number | undefined, from = declared) => {
      const target = within !== undefined && sev ? `${formatDuration(within)} (${sev.id})` : '—';
      if (!at) {
        durations.push({ name, took: incident.state === 'resolved' ? 'not recorded' : 'not yet', target, result: within !== undefined && now.getTime() - from.getTime() > within ? 'breached' : '—' });
        return;
      }
      const took = new Date(at).getTime() - from.getTime();
      durations.push({ name, took: formatDuration(took), target, result: within === undefined ? '—' : took <= within ? 'met' : 'breached' });
    };
    if (incident.detectedAt) {
      durations.push({ name: 'Time to detect (problem began → declared)', took: formatDuration(declared.getTime() - new Date(incident.detectedAt).getTime()), target: '—', result: '—' });
    }
    const ackLevel = incident.acknowledgedAt && incident.acknowledgedSeverity ? findLevel(config, incident.acknowledgedSeverity) ?? level : level;
    measure('Time to acknowledge', incident.acknowledgedAt, ackLevel, ackLevel?.respondWithin);
    measure('Time to mitigate (declared → impact stopped)', incident.mitigatedAt, undefined, undefined);
    measure('Time to resolve', incident.resolvedAt, level, level?.resolveWithin);

    const severityChanges = this.severityChanges;
    const history = severityChanges.length ? [String(severityChanges[0].data.from), ...severityChanges.slice(0, -1).map((e) => String(e.data.to))] : [];
    // "SEV-2 → SEV-1 at 02:58": the time alone on the day of the declaration, the date too after it.
    const clockTime = (iso: string) => (iso.slice(0, 10) === incident.declaredAt.slice(0, 10) ? iso.slice(11, 16) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`);
    const severityOnClock = severityChanges.map((e) => ({
      text: `${String(e.data.from)} → ${String(e.data.to)} at ${clockTime(e.at)}`,
      reason: e.data.reason ? cell(e.data.reason) : undefined,
    }));

    const runbooks: ReportModel['runbooks'] = [];
    for (const { more, outcomes, ...run } of this.runbooks.values()) {
      // A run of thousands of checks: the report lists the first ones and says what it left out.
      if (more) {
        const tally = [...outcomes].map(([o, n]) => `${n} ${o}`).join(', ');
        run.steps.push({ step: '…', outcome: cell(`${more} more step${more === 1 ? '' : 's'} (${tally}) not listed here; every one is in \`ir timeline ${incident.id}\``), exit: '', command: '', output: '', shortHash: '' });
      }
      runbooks.push(run);
    }
    const actions = deriveActions(this.actionEvents);
    const followUps = new Set(this.followUps);
    for (const a of actions) followUps.delete(a.text);

    const segments = phaseSegments(incident, this.phaseEvents, now);
    const authors = [...this.authors];
    const tags = [...new Set([incident.service, incident.severity, ...runbooks.map((r) => r.id)].filter((x): x is string => !!x))];
    const frontMatter = [
      `title: ${JSON.stringify(`Postmortem: ${incident.title}`)}`,
      `date: ${incident.declaredAt.slice(0, 10)}`,
      `incident: ${incident.id}`,
      `severity: ${incident.severity}`,
      `status: ${incident.state === 'resolved' ? 'final' : 'draft'}`,
      `duration: ${formatDuration(end.getTime() - declared.getTime())}`,
      `authors: [${authors.map((a) => JSON.stringify(a)).join(', ')}]`,
      `tags: [${tags.map((t) => JSON.stringify(t)).join(', ')}]`,
      ...(opts.chainHead ? [`chain_head: ${JSON.stringify(opts.chainHead)}`] : []),
      ...(opts.redacted !== undefined ? [`redacted: ${opts.redacted}`] : []),
    ].join('\n');

    const clockFrom = opts.messageAt ?? new Date(incident.lastUpdateAt ?? incident.declaredAt);
    const nextUpdate = level?.updateEvery && incident.state !== 'resolved' ? new Date(clockFrom.getTime() + level.updateEvery) : undefined;

    return {
      draft: incident.state !== 'resolved',
      generatedAt: utc(now.toISOString()),
      frontMatter,
      incident: {
        id: incident.id,
        title: incident.title,
        severity: incident.severity,
        severityName: level?.name,
        state: incident.state,
        stateLabel: stateLabels[incident.state] ?? incident.state,
        service: incident.service,
        impact: incident.impact,
        commander: incident.roles.commander,
        declaredAt: utc(incident.declaredAt),
        declaredBy: incident.declaredBy,
        detectedAt: incident.detectedAt && utc(incident.detectedAt),
        resolvedAt: incident.resolvedAt && utc(incident.resolvedAt),
        summary: incident.summary,
        rootCause: incident.rootCause,
      },
      severityHistory: history.length ? history.join(' → ') : undefined,
      severityChanges: severityOnClock,
      acknowledgedUnder: ackLevel && ackLevel !== level ? ackLevel.id : undefined,
      roles: Object.entries(incident.roles).map(([role, person]) => ({ role, person: cell(person) })),
      duration: incident.resolvedAt ? formatDuration(end.getTime() - declared.getTime()) : `${formatDuration(end.getTime() - declared.getTime())} so far`,
      elapsed: formatDuration(end.getTime() - declared.getTime()),
      durations,
      mermaid: ganttDiagram(incident, segments),
      timeline: [],
      runbooks,
      evidence: this.evidence,
      comms: this.comms,
      actions: actions.map((a) => ({ ...a, text: cell(a.text), owner: a.owner && cell(a.owner) })),
      followUps: [...followUps],
      actionsTaken: this.taken.lines(),
      latestNotes: [...this.notes],
      nextUpdate: nextUpdate && utc(nextUpdate.toISOString()),
      nextUpdateIso: nextUpdate?.toISOString(),
      regulatory: regulatoryRows(incident, now),
      regulatoryOpen: (incident.regimes ?? [])
        .map((c) => regimeView(c, now))
        .filter((v) => v.state === 'running' || v.state === 'overdue')
        .map((v) => `${v.clock.name}: notify ${v.clock.notify} ${v.state === 'running' ? `by ${utc(v.clock.dueAt)} (in ${hoursText(v.remainingMs)})` : `— OVERDUE by ${hoursText(v.remainingMs)}`}`),
      detectionNote: incident.detectedAt ? `The problem began ${formatDuration(declared.getTime() - new Date(incident.detectedAt).getTime())} before the incident was declared.` : undefined,
    };
  }
}

export function buildModel(incident: Incident, events: TimelineEvent[], config: SeverityConfig, now: Date, opts: ModelOptions = {}): ReportModel {
  const builder = new ModelBuilder(incident, config, now, opts);
  for (const e of events) builder.add(e);
  return { ...builder.finish(), timeline: events.map(timelineItem) };
}
