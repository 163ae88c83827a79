// Walks a responder through a runbook: shows each step filled in, runs or prints it, checks the
// result, saves the output, follows on_failure, and records every outcome in the timeline. The run's
// position is saved around every step so a crash, a closed SSH session or Ctrl-C can resume.

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ChalkInstance } from 'chalk';
import type { Clock } from '../context.js';
import { CancelledError, IrError, OperationError } from '../errors.js';
import type { Incident, NewEvent } from '../core/incident.js';
import { DEFAULT_REGIMES, defaultDiscovery, hoursText, liveClock, startEvents, type Regime } from '../core/regime.js';
import { PromptInterrupted, type Prompter } from '../io/prompter.js';
import { Redactor } from '../exec/redact.js';
import { hashFile, type Runner, type RunOutcome } from '../exec/runner.js';
import { identify } from '../exec/process.js';
import type { RunRecord, RunStore, Store } from '../store/types.js';
import { durationToString, formatDuration } from '../util/duration.js';
import { allSteps, expectRegExp, type Phase, type RegimesStep, type RunStep, type Runbook, type Step } from './format.js';
import { describeTargets, runbookTargets, stepTarget, type KubeContext } from './targets.js';
import { askValue, variableRules } from './values.js';
import { displayCommand, displayText, findReferences, renderArgv, renderShell, renderText } from './words.js';

export interface EngineIO {
  /** A line (or lines) of results on stdout. */
  out(text: string): void;
  /** A line of progress or warning on stderr. */
  err(text: string): void;
  /** Raw command output, streamed as it arrives. */
  write(chunk: string): void;
  style: ChalkInstance;
  /** stderr is a terminal: a spinner may be drawn. */
  spinner: boolean;
}

export interface EngineDeps {
  store: Store;
  runs: RunStore;
  runner: Runner;
  clock: Clock;
  actor: string;
  /** Present only when questions can be asked. */
  prompter?: Prompter;
  io: EngineIO;
  /** Directory for a run's saved output. */
  outputDir: (incidentId: string, runId: string) => string;
  /** Aborted on Ctrl-C, SIGTERM or SIGHUP, or when stdout's reader goes away; its reason is a StopReason. */
  signal: AbortSignal;
  /** Gives back the space kept aside for the record, when a step's output has filled the disk. */
  onDiskFull?: () => void;
}

/** Why a run was told to stop (the abort reason of EngineDeps.signal). */
export interface StopReason {
  reason: string;
  /** The reader of ir's output went away (`ir runbook … | head -1`). */
  outputClosed: boolean;
}

/** 128 + SIGPIPE: what a shell reports for a writer whose reader went away, and what pipefail sees. */
export const EXIT_OUTPUT_CLOSED = 141;

/** The run stopped because nobody reads its output any more; the record is complete up to there. */
export class OutputClosedError extends IrError {
  readonly exitCode: number = EXIT_OUTPUT_CLOSED;
  readonly kind: string = 'output-closed';
}

export interface StartOptions {
  incident: Incident;
  runbook: Runbook;
  runbookSha256: string;
  /** Every known value, secrets included (they are masked wherever shown or stored). */
  values: Map<string, string>;
  /** `--yes`: run non-destructive run steps without asking; never run destructive ones. */
  yes: boolean;
  /** Continue this run instead of starting a new one. */
  resume?: RunRecord;
  /** The responder's environment (PG*, REDIS_*, …): where clients connect when a step does not say. */
  env?: NodeJS.ProcessEnv;
  /** The kube context kubectl will use, shown before each step that touches a cluster. */
  kube?: KubeContext;
  /** The team's regime definitions, for `regimes` steps (default: the built-in ones). */
  regimes?: readonly Regime[];
}

/** `printed`: shown with no terminal to confirm on; `done`: the responder said they did it. */
export type StepOutcome = 'ok' | 'failed' | 'timeout' | 'skipped' | 'declined' | 'printed' | 'done' | 'checked' | 'answered' | 'noted' | 'interrupted' | 'unknown';

export interface RunSummary {
  runId: string;
  /**
   * `completed_with_failures`: every failed step was optional and said `on_failure: continue` (a
   * check that could not be made); `failed` is kept for a required step failing.
   */
  status: 'completed' | 'completed_with_failures' | 'failed' | 'aborted';
  ok: number;
  failed: number;
  /** Of the failed steps, those that do not fail the run (optional, `on_failure: continue`). */
  tolerated: number;
  skipped: number;
}

const FAILED: ReadonlySet<StepOutcome> = new Set(['failed', 'timeout']);
/** A step whose failure leaves the run completed: the responder may leave it out, and the runbook says to go on. */
function tolerated(step: Step): boolean {
  return step.optional && (step.kind !== 'run' || step.onFailure.action === 'continue');
}

const DONE: ReadonlySet<StepOutcome> = new Set(['ok', 'printed', 'done', 'checked', 'answered', 'noted']);

/** The responder chose Back in a step's menu: the step before is offered again. */
class GoBack {}

/** How many times a mistyped confirmation of a destructive step is asked again. */
const CONFIRM_TRIES = 3;

/**
 * A step that escalates (its id or title says so, or its description says "escalate"): whether to
 * page someone is never the default. A description that only mentions escalation ("if this fails,
 * go straight to escalation") does not make a check an escalation.
 */
function escalates(step: Step): boolean {
  return /escalat/i.test(step.id) || /\bescalat/i.test(step.title) || /\bescalate\b/i.test(step.description ?? '');
}

/** The responder chose Quit in a step's menu: a cancellation, recorded as their choice rather than as Ctrl-C. */
class QuitChosen extends CancelledError {}

export class RunbookEngine {
  private readonly redactor: Redactor;
  private readonly secretNames: Set<string>;
  private readonly steps: Step[];
  private readonly phaseOf = new Map<string, { phase: Phase; number: number }>();
  private run!: RunRecord;
  private runStartMs = 0;
  private readonly overrun = new Set<string>();
  /** The latest outcome of each step of the whole run (before a resume too): what the summary counts. */
  private readonly outcomes = new Map<string, StepOutcome>();
  /** Other incidents are open too, so a resume hint must say which incident. */
  private severalOpen = false;
  /** Steps some on_failure jumps to: recovery meant for a failure, not for the way through. */
  private readonly jumpTargets = new Set<string>();
  /** The step now offered was reached by an on_failure jump (its failure happened). */
  private reachedByJump = false;
  /** Where Back goes from the step now offered (the step shown before it), if anywhere. */
  private backTo: number | undefined;
  /** The phase of the step now offered: its budget is watched while a question waits. */
  private phase: Phase | undefined;
  /** deps.prompter, each question watched by the phase budget (see watched). */
  private readonly prompter: Prompter | undefined;

  constructor(
    private readonly deps: EngineDeps,
    private readonly opts: StartOptions,
  ) {
    const rb = opts.runbook;
    this.secretNames = new Set(rb.variables.filter((v) => v.secret).map((v) => v.name));
    for (const s of allSteps(rb)) if (s.kind === 'ask' && s.secret) this.secretNames.add(s.variable);
    this.redactor = new Redactor([...this.secretNames].map((n) => opts.values.get(n) ?? '').filter(Boolean));
    this.steps = allSteps(rb);
    rb.phases.forEach((phase, i) => phase.steps.forEach((s) => this.phaseOf.set(s.id, { phase, number: i + 1 })));
    for (const s of this.steps) if (s.kind === 'run' && s.onFailure.action === 'goto') this.jumpTargets.add(s.onFailure.step);
    const p = deps.prompter;
    this.prompter = p && {
      select: (o) => this.watched((signal) => p.select({ ...o, signal })),
      input: (o) => this.watched((signal) => p.input({ ...o, signal })),
      password: (o) => this.watched((signal) => p.password({ ...o, signal })),
      confirm: (o) => this.watched((signal) => p.confirm({ ...o, signal })),
      checkbox: (o) => this.watched((signal) => p.checkbox({ ...o, signal })),
    };
  }

  /**
   * Asks a question; if the phase's budget runs out while the responder sits at it, the question is
   * taken away, the overrun flagged (on screen and in the timeline) at that moment, and asked again.
   */
  private async watched<T>(ask: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    for (;;) {
      const phase = this.phase;
      if (!phase || phase.withinMs === undefined || this.overrun.has(phase.id)) return ask();
      const left = this.runStartMs + phase.withinMs - this.now().getTime();
      const controller = new AbortController();
      // A little past the budget, so the check finds it spent.
      const timer = setTimeout(() => controller.abort(), Math.max(0, left) + 20);
      try {
        return await ask(controller.signal);
      } catch (err) {
        if (!(err instanceof PromptInterrupted) || !controller.signal.aborted) throw err;
      } finally {
        clearTimeout(timer);
      }
      this.deps.io.err('');
      await this.checkBudget(phase);
    }
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  private async record(events: NewEvent | NewEvent[]): Promise<void> {
    await this.deps.store.append(this.opts.incident.id, () => events, this.now(), this.deps.actor);
  }

  private publicVars(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.opts.values) out[k] = this.secretNames.has(k) ? '****' : v;
    return out;
  }

  private savedVars(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.opts.values) if (!this.secretNames.has(k)) out[k] = v;
    return out;
  }

  async execute(): Promise<RunSummary> {
    const { runbook, incident, resume } = this.opts;
    const { runs, io } = this.deps;
    const startedAt = this.now();
    this.severalOpen = (await this.deps.store.listIncidents()).some((i) => i.id !== incident.id);
    if (resume) {
      this.run = resume;
      this.runStartMs = Date.parse(resume.startedAt);
      const events: NewEvent[] = [];
      if (resume.status === 'running') {
        // The process that ran it ended without saying so: a crash, kill -9 or a lost session.
        const step = resume.currentIndex !== null ? this.steps[resume.currentIndex] : undefined;
        events.push({
          type: 'runbook.interrupted',
          data: { run_id: resume.id, runbook: runbook.id, step: step?.id ?? null, reason: step ? `the run ended while step "${step.id}" was in progress` : 'the run ended between steps', detected: 'on resume' },
        });
      }
      const at = this.steps[resume.nextIndex];
      events.push({ type: 'runbook.resumed', data: { run_id: resume.id, runbook: runbook.id, step: at?.id ?? null, step_number: resume.nextIndex + 1 } });
      await this.record(events);
      await runs.update(resume.id, { status: 'running', pid: process.pid, host: hostname(), currentIndex: null, stepProcess: null, vars: this.savedVars(), updatedAt: startedAt.toISOString() });
      this.run = { ...resume, status: 'running', currentIndex: null };
      io.err(io.style.dim(`Resuming ${resume.id} at step ${resume.nextIndex + 1} of ${this.steps.length}${at ? ` (${at.id})` : ''}.`));
      // The summary is of the whole run: the steps recorded before the interruption count too.
      for (const e of await this.deps.store.events(incident.id)) {
        if (e.type === 'runbook.step' && e.data.run_id === resume.id && typeof e.data.step === 'string') this.outcomes.set(e.data.step, e.data.outcome as StepOutcome);
      }
    } else {
      this.runStartMs = startedAt.getTime();
      this.run = await runs.create({
        incidentId: incident.id,
        runbookId: runbook.id,
        runbookPath: runbook.path,
        runbookSha256: this.opts.runbookSha256,
        startedAt: startedAt.toISOString(),
        updatedAt: startedAt.toISOString(),
        status: 'running',
        nextIndex: 0,
        currentIndex: null,
        vars: this.savedVars(),
        failures: 0,
        pid: process.pid,
        host: hostname(),
      });
      await this.record({
        type: 'runbook.started',
        data: {
          run_id: this.run.id,
          runbook: runbook.id,
          title: runbook.title,
          file: runbook.file,
          sha256: this.opts.runbookSha256,
          vars: this.publicVars(),
          mode: this.opts.yes ? 'yes' : 'interactive',
          connects_to: runbookTargets(runbook, this.opts.values, this.secretNames, this.opts.env ?? {}, this.opts.kube ?? {}).map((t) => `${t.kind} ${t.text}`),
        },
      });
      io.out(io.style.bold(`${runbook.title}`) + io.style.dim(`  (${runbook.id}, run ${this.run.id}, incident ${incident.id})`));
    }
    const targets = runbookTargets(runbook, this.opts.values, this.secretNames, this.opts.env ?? {}, this.opts.kube ?? {});
    if (targets.length) io.out(`connects to: ${describeTargets(targets, this.opts.kube ?? {})}`);

    let index = this.run.nextIndex;
    let lastPhase: string | undefined;
    let aborted = false;
    // The steps shown in this process, for Back; and where the last on_failure jumped to.
    const shown: number[] = [];
    let jumpedTo: number | undefined;
    while (index < this.steps.length) {
      const step = this.steps[index];
      const { phase, number } = this.phaseOf.get(step.id)!;
      if (phase.id !== lastPhase) {
        this.showPhase(phase, number);
        lastPhase = phase.id;
      }
      await this.checkBudget(phase);
      this.phase = phase;
      if (this.deps.signal.aborted) await this.stop(index, step, false);
      await runs.update(this.run.id, { currentIndex: index, updatedAt: this.now().toISOString() });
      let result: { outcome: StepOutcome; data: Record<string, unknown> };
      this.backTo = shown.at(-1);
      this.reachedByJump = jumpedTo === index;
      try {
        result = await this.doStep(step, index);
      } catch (err) {
        if (err instanceof GoBack && this.backTo !== undefined) {
          // Nothing of this step was done; the earlier one is offered again and recorded again when done.
          index = shown.pop()!;
          io.err(io.style.dim(`  back to step ${index + 1} (${this.steps[index].id})`));
          await runs.update(this.run.id, { nextIndex: index, currentIndex: null, updatedAt: this.now().toISOString() });
          jumpedTo = undefined;
          continue;
        }
        if (err instanceof CancelledError) await this.interrupt(index, step, err instanceof QuitChosen ? 'quit by the responder (menu)' : 'cancelled by the responder (Ctrl-C)');
        throw err;
      }
      if (result.outcome === 'interrupted') {
        // What the step printed before it was stopped is saved and hashed: record it, then the stop.
        await this.recordStep(phase, step, result);
        await this.stop(index, step, true);
      }
      if (result.data.save_error) {
        // The disk the output filled may be the one ir.db is on: free the reserve so the record fits.
        this.deps.onDiskFull?.();
        await this.recordStep(phase, step, result);
        const why = String(result.data.save_error);
        await this.interrupt(index, step, why);
        throw new OperationError(`${why}; run ${this.run.id} interrupted at step "${step.id}" (free space, then: ${this.resumeCommand()})`);
      }
      shown.push(index);
      jumpedTo = undefined;
      let next = index + 1;
      if (FAILED.has(result.outcome)) {
        const rule = step.kind === 'run' ? step.onFailure : { action: 'continue' as const };
        if (rule.action === 'abort') {
          aborted = true;
          result.data.on_failure = 'abort';
        } else if (rule.action === 'goto') {
          next = this.steps.findIndex((s) => s.id === rule.step);
          jumpedTo = next;
          result.data.on_failure = `goto ${rule.step}`;
        } else {
          result.data.on_failure = 'continue';
        }
      }
      await this.recordStep(phase, step, result);
      // A phase whose last step ran long is over budget even if no later step of it starts.
      await this.checkBudget(phase);
      if (next > index + 1) {
        const target = this.steps[next];
        io.err(io.style.yellow(`  on_failure: jumping to "${target.id}" (${this.steps.slice(index + 1, next).map((s) => s.id).join(', ')} not done)`));
      }
      await runs.update(this.run.id, { nextIndex: aborted ? index + 1 : next, currentIndex: null, stepProcess: null, failures: this.tally().failed, updatedAt: this.now().toISOString() });
      if (aborted) {
        io.err(io.style.red(`  on_failure: abort — the run stops here.`));
        break;
      }
      index = next;
    }

    if (!aborted) await this.verify();
    const counts = this.tally();
    const status: RunSummary['status'] = aborted ? 'aborted' : counts.failed > counts.tolerated ? 'failed' : counts.failed > 0 ? 'completed_with_failures' : 'completed';
    const durationMs = this.now().getTime() - this.runStartMs;
    await this.record({
      type: 'runbook.finished',
      data: { run_id: this.run.id, runbook: this.opts.runbook.id, status, ok: counts.ok, failed: counts.failed, optional_failed: counts.tolerated, skipped: counts.skipped, duration_ms: durationMs, follow_up: this.opts.runbook.followUp },
    });
    await runs.update(this.run.id, { status, currentIndex: null, updatedAt: this.now().toISOString() });
    const colour = status === 'completed' ? io.style.green : status === 'completed_with_failures' ? io.style.yellow : io.style.red;
    const said = status === 'completed_with_failures' ? `completed, with ${counts.tolerated} optional check${counts.tolerated === 1 ? '' : 's'} failing` : status;
    io.out('');
    io.out(colour(`Runbook ${this.opts.runbook.id} ${said}: ${counts.ok} done, ${counts.failed} failed, ${counts.skipped} skipped in ${formatDuration(durationMs)}.`));
    if (this.opts.runbook.followUp.length) {
      io.out(io.style.bold('Follow-up (for the postmortem):'));
      for (const f of this.opts.runbook.followUp) io.out(`  - ${f}`);
    }
    return { runId: this.run.id, status, ...counts };
  }

  /** Counts each step of the run once, by its latest outcome (a step offered again after a resume replaces its interrupted record). */
  private tally(): { ok: number; failed: number; tolerated: number; skipped: number } {
    const counts = { ok: 0, failed: 0, tolerated: 0, skipped: 0 };
    for (const [id, outcome] of this.outcomes) {
      if (FAILED.has(outcome)) {
        counts.failed++;
        const step = this.steps.find((s) => s.id === id);
        if (step && tolerated(step)) counts.tolerated++;
      } else if (DONE.has(outcome)) counts.ok++;
      else counts.skipped++;
    }
    return counts;
  }

  private async recordStep(phase: Phase, step: Step, result: { outcome: StepOutcome; data: Record<string, unknown> }): Promise<void> {
    this.outcomes.set(step.id, result.outcome);
    await this.record({ type: 'runbook.step', data: { run_id: this.run.id, runbook: this.opts.runbook.id, phase: phase.id, step: step.id, kind: step.kind, title: step.title, outcome: result.outcome, ...result.data } });
  }

  /** The command that continues this run; it names the incident when ir would otherwise have to ask which. */
  private resumeCommand(): string {
    return `ir runbook ${this.opts.runbook.id} --resume${this.severalOpen ? ` --incident ${this.opts.incident.id}` : ''}`;
  }

  private async interrupt(index: number, step: Step, reason: string): Promise<void> {
    await this.record({ type: 'runbook.interrupted', data: { run_id: this.run.id, runbook: this.opts.runbook.id, step: step.id, reason } });
    await this.deps.runs.update(this.run.id, { status: 'interrupted', nextIndex: index, currentIndex: null, stepProcess: null, failures: this.tally().failed, updatedAt: this.now().toISOString() });
    this.deps.io.err(this.deps.io.style.yellow(`Interrupted at step "${step.id}". Resume with: ${this.resumeCommand()}`));
  }

  /** The run was told to stop (a signal, or stdout closed): record where, and end with the matching error. */
  private async stop(index: number, step: Step, during: boolean): Promise<never> {
    const why = this.deps.signal.reason as Partial<StopReason> | undefined;
    const reason = typeof why?.reason === 'string' ? why.reason : 'stopped by a signal';
    await this.interrupt(index, step, during ? `${reason} while the step ran` : reason);
    const resume = `resume with \`${this.resumeCommand()}\``;
    if (why?.outputClosed) throw new OutputClosedError(`${reason}: run ${this.run.id} interrupted at step "${step.id}"; ${resume}`);
    throw new CancelledError(`stopped ${during ? 'during' : 'before'} step "${step.id}"; ${resume}`);
  }

  private showPhase(phase: Phase, number: number): void {
    const { io } = this.deps;
    const used = this.now().getTime() - this.runStartMs;
    const budget = phase.withinMs !== undefined ? ` · budget ${durationToString(phase.withinMs)} · used ${formatDuration(used)}` : ` · used ${formatDuration(used)}`;
    io.out('');
    io.out(io.style.bold.cyan(`Phase ${number}/${this.opts.runbook.phases.length}: ${phase.title}`) + io.style.dim(budget));
  }

  private async checkBudget(phase: Phase): Promise<void> {
    if (phase.withinMs === undefined || this.overrun.has(phase.id)) return;
    const used = this.now().getTime() - this.runStartMs;
    if (used <= phase.withinMs) return;
    this.overrun.add(phase.id);
    const { io } = this.deps;
    io.err(io.style.yellow.bold(`  Phase "${phase.title}" is over its ${durationToString(phase.withinMs)} budget (${formatDuration(used)} since the run started).`));
    await this.record({ type: 'runbook.phase_overrun', data: { run_id: this.run.id, runbook: this.opts.runbook.id, phase: phase.id, within_s: phase.withinMs / 1000, elapsed_s: Math.round(used / 1000) } });
  }

  /** Variables a step refers to that have no value (an ask that was skipped, or never answered). */
  private missing(step: Step): string[] {
    const texts: string[] = [];
    if (step.kind === 'run') {
      texts.push(step.command.source, ...Object.values(step.env).map((t) => t.source));
      if (step.cwd) texts.push(step.cwd.source);
    } else if (step.kind === 'print') {
      texts.push(step.command.source);
    }
    const names = new Set(texts.flatMap((t) => findReferences(t).map((r) => r.name)));
    return [...names].filter((n) => !this.opts.values.has(n));
  }

  private showStep(step: Step, index: number): void {
    const { io } = this.deps;
    const s = io.style;
    const tags = [step.kind === 'run' && step.destructive ? s.red.bold('DESTRUCTIVE') : '', step.optional ? s.dim('optional') : ''].filter(Boolean).join(' ');
    io.out('');
    const { phase } = this.phaseOf.get(step.id)!;
    const used = formatDuration(this.now().getTime() - this.runStartMs);
    const clock = phase.withinMs !== undefined ? `${used} of ${durationToString(phase.withinMs)}` : `${used} used`;
    io.out(`${s.bold(`[${index + 1}/${this.steps.length}] ${step.title}`)} ${s.dim(`(${step.id} · ${phase.title} · ${clock})`)}${tags ? ` ${tags}` : ''}`);
    if (step.description) io.out(s.dim(indent(step.description.trim(), '  ')));
    const target = stepTarget(step, this.opts.values, this.secretNames, this.opts.env ?? {}, this.opts.kube ?? {});
    // Which cluster a kubectl step hits is the mistake that costs most: said before it can run.
    if (target?.kind === 'kube') io.out(`  ${s.yellow(`kube ${target.context ? target.text : `${target.text} (${this.opts.kube?.problem ?? 'no context'})`}`)}`);
    const shown = { secrets: this.secretNames };
    if (step.kind === 'run') io.out(`  ${s.cyan('$')} ${displayCommand(step.command, this.opts.values, shown)}`);
    if (step.kind === 'print') io.out(`  ${s.cyan('$')} ${displayText(step.command, this.opts.values, shown)}   ${s.dim('(run this yourself)')}`);
    if (step.kind === 'note') io.out(indent(step.text.trim(), '  '));
    if (step.kind === 'checklist') for (const item of step.items) io.out(`  [ ] ${item}`);
  }

  /**
   * What Enter does in a step's menu. Never Run for a destructive step or for recovery that no
   * failure called for, and nothing at all for an escalation: paging someone (or not) is a choice.
   */
  private menuDefault(step: Step, go: 'run' | 'done'): 'run' | 'done' | 'skip' | undefined {
    if (step.kind === 'run' && step.destructive) return 'skip';
    if (this.jumpTargets.has(step.id) && !this.reachedByJump) return 'skip';
    if (escalates(step)) return undefined;
    if (step.optional) return 'skip';
    return go;
  }

  /** Offers run / skip / back / note / quit until the responder picks one that moves on. */
  private async menu(step: Step, labels: { go: string; goValue: 'run' | 'done' }): Promise<'run' | 'done' | 'skip'> {
    const p = this.prompter!;
    const preselected = this.menuDefault(step, labels.goValue);
    for (;;) {
      type Choice = 'run' | 'done' | 'skip' | 'back' | 'note' | 'quit' | 'none';
      const choices: { name: string; value: Choice }[] = [
        // Without a default the cursor rests here, where Enter chooses nothing.
        ...(preselected === undefined ? [{ name: '(choose one)', value: 'none' as const }] : []),
        { name: labels.go, value: labels.goValue },
        { name: 'Skip', value: 'skip' },
        ...(this.backTo !== undefined ? [{ name: `Back (to step ${this.backTo + 1}, ${this.steps[this.backTo].id})`, value: 'back' as const }] : []),
        { name: 'Add a note', value: 'note' },
        { name: 'Quit (resume later with --resume)', value: 'quit' },
      ];
      const choice = await p.select<Choice>({ message: `${step.id}:`, default: preselected, choices });
      if (choice === 'quit') throw new QuitChosen(`stopped before step "${step.id}"; resume with \`${this.resumeCommand()}\``);
      if (choice === 'back') throw new GoBack();
      if (choice === 'none') {
        this.deps.io.err(this.deps.io.style.yellow(`  ${step.id} has no default: choose "${labels.go}" or Skip`));
        continue;
      }
      if (choice !== 'note') return choice;
      const text = (await p.input({ message: 'Note:' })).trim();
      if (text) {
        await this.record({ type: 'note.added', data: { text: this.redactor.mask(text), run_id: this.run.id, step: step.id } });
        this.deps.io.err(this.deps.io.style.dim('  noted.'));
      }
    }
  }

  private async doStep(step: Step, index: number): Promise<{ outcome: StepOutcome; data: Record<string, unknown> }> {
    const { io } = this.deps;
    const { prompter } = this;
    const s = io.style;
    this.showStep(step, index);
    const missing = this.missing(step);
    if (missing.length) {
      io.err(s.yellow(`  skipped: needs ${missing.map((m) => `{{${m}}}`).join(', ')}, which has no value`));
      // The command is kept as written ({{name}} where the value is missing) so the record says what was not done.
      const shown = { secrets: this.secretNames };
      const command = step.kind === 'run' ? displayCommand(step.command, this.opts.values, shown) : step.kind === 'print' ? displayText(step.command, this.opts.values, shown) : undefined;
      return { outcome: 'skipped', data: { ...(command !== undefined ? { command } : {}), reason: `no value for ${missing.join(', ')}` } };
    }
    switch (step.kind) {
      case 'note': {
        if (prompter && !this.opts.yes) {
          const c = await this.menu(step, { go: 'Read — continue', goValue: 'done' });
          return c === 'skip' ? { outcome: 'skipped', data: {} } : { outcome: 'noted', data: {} };
        }
        return { outcome: 'noted', data: {} };
      }
      case 'print': {
        const command = displayText(step.command, this.opts.values, { secrets: this.secretNames });
        if (prompter && !this.opts.yes) {
          const c = await this.menu(step, { go: 'Done (I ran it or passed it on)', goValue: 'done' });
          return c === 'skip' ? { outcome: 'skipped', data: { command } } : { outcome: 'done', data: { command, confirmed: true } };
        }
        return { outcome: 'printed', data: { command, confirmed: false } };
      }
      case 'checklist': {
        if (!prompter) {
          io.err(s.yellow('  no terminal to tick items on: recorded as not confirmed'));
          return { outcome: 'skipped', data: { unchecked: step.items, reason: 'no terminal' } };
        }
        const ticked = await prompter.checkbox<string>({ message: `${step.title} — tick what is confirmed`, choices: step.items.map((i) => ({ name: i, value: i })) });
        const unchecked = step.items.filter((i) => !ticked.includes(i));
        if (ticked.length) io.out(s.green(`  confirmed: ${ticked.join('; ')}`));
        if (unchecked.length) io.err(s.yellow(`  not confirmed: ${unchecked.join('; ')}`));
        return { outcome: 'checked', data: { checked: ticked, unchecked } };
      }
      case 'ask': {
        if (this.opts.values.has(step.variable)) {
          const v = this.secretNames.has(step.variable) ? '****' : this.opts.values.get(step.variable);
          io.out(`  ${step.variable} = ${v} ${s.dim('(given with --var)')}`);
          return { outcome: 'answered', data: { variable: step.variable, value: v, source: 'flag' } };
        }
        if (!prompter) {
          io.err(s.yellow(`  no terminal to ask "${step.message}": later steps that need {{${step.variable}}} will be skipped (supply it with --var ${step.variable}=VALUE)`));
          return { outcome: 'skipped', data: { variable: step.variable, reason: 'no terminal' } };
        }
        const secret = this.secretNames.has(step.variable);
        // A refused answer is asked again with the reason, so no bad value reaches a later step.
        const rule = { ...(variableRules(this.opts.runbook).get(step.variable) ?? { allowDash: false }), secret };
        const answer = await askValue(prompter, step.message, rule, { err: (t) => io.err(s.yellow(t)) }, { default: step.default, emptyOk: true });
        if (!answer.trim()) return { outcome: 'skipped', data: { variable: step.variable, reason: 'no answer' } };
        this.opts.values.set(step.variable, answer);
        if (secret) this.redactor.add(answer);
        await this.deps.runs.update(this.run.id, { vars: this.savedVars() });
        return { outcome: 'answered', data: { variable: step.variable, value: secret ? '****' : answer } };
      }
      case 'run':
        return this.doRun(step, index);
      case 'regimes':
        return this.doRegimes(step);
    }
  }

  /**
   * Offers the step's regimes and starts a clock for each one chosen. The choice is the responder's
   * (a checkbox with nothing ticked) or --var's; never --yes's, since a clock once started is on the
   * record: with neither, the offer is recorded as skipped and says how to start them.
   */
  private async doRegimes(step: RegimesStep): Promise<{ outcome: StepOutcome; data: Record<string, unknown> }> {
    const { io } = this.deps;
    const s = io.style;
    const defs = this.opts.regimes ?? DEFAULT_REGIMES;
    const offered = step.offer.map((id) => defs.find((r) => r.id === id)).filter((r): r is Regime => r !== undefined);
    const within = (r: Regime) => (r.withinMs ? `within ${hoursText(r.withinMs)}` : 'immediately');
    for (const r of offered) io.out(`  ${r.name}: notify ${r.notify} ${within(r)}${r.description ? s.dim(` — ${r.description}`) : ''}`);
    const given = this.opts.values.get(step.variable);
    let chosen: Regime[];
    let source: 'flag' | 'answer';
    if (given !== undefined) {
      const ids = given.trim() === 'none' ? [] : given.split(',').map((x) => x.trim());
      chosen = offered.filter((r) => ids.includes(r.id));
      source = 'flag';
    } else if (!this.prompter || this.opts.yes) {
      const why = this.opts.yes ? '--yes does not choose regulatory regimes' : 'no terminal to choose on';
      io.err(s.yellow(`  regime offer skipped: ${why}; choose with --var ${step.variable}=${step.offer.join(',')} (or none), or later \`ir regime add ID\``));
      return { outcome: 'skipped', data: { offered: step.offer, reason: `regime offer skipped: ${why}` } };
    } else {
      const ticked = await this.prompter.checkbox<string>({
        message: `${step.title} — tick the regimes that apply (a deadline clock starts for each)`,
        choices: offered.map((r) => ({ name: `${r.name} — notify ${r.notify} ${within(r)}`, value: r.id })),
      });
      chosen = offered.filter((r) => ticked.includes(r.id));
      source = 'answer';
      this.opts.values.set(step.variable, chosen.length ? chosen.map((r) => r.id).join(',') : 'none');
      await this.deps.runs.update(this.run.id, { vars: this.savedVars() });
    }
    if (!chosen.length) {
      io.out(s.dim('  no regime applies: no clock started'));
      return { outcome: 'declined', data: { offered: step.offer, chosen: [], source } };
    }
    const incident = (await this.deps.store.getIncident(this.opts.incident.id)) ?? this.opts.incident;
    const discovered = this.discovery(step) ?? defaultDiscovery(incident);
    const already = chosen.filter((r) => liveClock(incident, r.id)).map((r) => r.id);
    const toStart = chosen.filter((r) => !already.includes(r.id));
    if (toStart.length) {
      await this.deps.store.append(this.opts.incident.id, (i) => startEvents(i, toStart, discovered).events, this.now(), this.deps.actor);
      for (const r of toStart) {
        io.out(s.green(`  ${r.name} clock started: notify ${r.notify} ${r.withinMs ? `by ${new Date(discovered.getTime() + r.withinMs).toISOString().slice(0, 16).replace('T', ' ')}Z` : 'immediately'}`));
      }
    }
    if (already.length) io.err(s.dim(`  already running: ${already.join(', ')}`));
    return { outcome: 'done', data: { offered: step.offer, chosen: chosen.map((r) => r.id), started: toStart.map((r) => r.id), already, discovered_at: discovered.toISOString(), source } };
  }

  /**
   * The discovery time a `regimes` step names (usually an earlier answer such as "2024-03-10 14:23",
   * read as UTC unless it carries a zone), or undefined when it names none or it is not a time.
   */
  private discovery(step: RegimesStep): Date | undefined {
    if (!step.discovered) return undefined;
    if (findReferences(step.discovered.source).some((r) => !this.opts.values.has(r.name))) return undefined;
    let text = renderText(step.discovered, this.opts.values).trim();
    if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
    text = text.replace(/\s*UTC$/i, 'Z').replace(/^(\S+)\s+/, '$1T');
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text) && /T/.test(text)) text += 'Z';
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) {
      this.deps.io.err(this.deps.io.style.yellow(`  "${text}" is not a time: the clocks count from the incident's start instead`));
      return undefined;
    }
    return at;
  }

  private async doRun(step: RunStep, index: number): Promise<{ outcome: StepOutcome; data: Record<string, unknown> }> {
    const { io } = this.deps;
    const { prompter } = this;
    const s = io.style;
    const command = displayCommand(step.command, this.opts.values, { secrets: this.secretNames });
    const base = { command, destructive: step.destructive, location: `${step.location.file}:${step.location.line}` };
    if (step.destructive) {
      if (this.opts.yes || !prompter) {
        io.err(s.yellow(`  not run: destructive steps need a typed confirmation, and --yes never runs them`));
        return { outcome: 'skipped', data: { ...base, reason: 'destructive step; not run by --yes' } };
      }
      const c = await this.menu(step, { go: 'Run (asks for confirmation)', goValue: 'run' });
      if (c === 'skip') return { outcome: 'skipped', data: base };
      io.out(s.red.bold(`  This step changes things: ${step.title}`));
      io.out(s.red(`  It will run: ${command}`));
      // A slip of the finger is asked again, not taken as "no"; an empty answer is the way to say no.
      for (let attempt = 1; ; attempt++) {
        const typed = (await prompter.input({ message: `Type the step id "${step.id}" to run it (empty: do not run it)${attempt > 1 ? ` — try ${attempt} of ${CONFIRM_TRIES}` : ''}:` })).trim();
        if (typed === step.id) break;
        if (typed === '') {
          io.err(s.yellow('  not confirmed: not run'));
          return { outcome: 'declined', data: { ...base, reason: 'confirmation left empty' } };
        }
        if (attempt === CONFIRM_TRIES) {
          io.err(s.yellow(`  not confirmed after ${CONFIRM_TRIES} tries: not run`));
          return { outcome: 'declined', data: { ...base, reason: `confirmation mistyped ${CONFIRM_TRIES} times` } };
        }
        io.err(s.yellow(`  that is not "${step.id}"`));
      }
    } else if (step.optional && this.opts.yes) {
      io.err(s.dim('  optional: skipped by --yes'));
      return { outcome: 'skipped', data: { ...base, reason: 'optional step; --yes does not choose optional steps' } };
    } else if (!this.opts.yes) {
      const c = await this.menu(step, { go: 'Run', goValue: 'run' });
      if (c === 'skip') return { outcome: 'skipped', data: base };
    }

    const argv = step.command.shell ? ['/bin/sh', '-c', renderShell(step.command.source, this.opts.values)] : renderArgv(step.command.words, this.opts.values);
    const env: Record<string, string> = {};
    for (const [k, t] of Object.entries(step.env)) {
      // An empty value (an unset optional password) is left out rather than exported as "".
      const v = renderText(t, this.opts.values);
      if (v !== '') env[k] = v;
    }
    const cwd = step.cwd ? renderText(step.cwd, this.opts.values) : undefined;
    const file = this.outputFile(index);
    // The step's process is recorded as soon as it exists; awaited once the step is done.
    let spawnRecorded: Promise<void> = Promise.resolve();
    const outcome = await this.withSpinner(step, (onOutput) =>
      this.deps.runner.run({
        argv,
        env,
        cwd,
        timeoutMs: step.timeoutMs,
        outputFile: file,
        secrets: [...this.secretNames].map((n) => this.opts.values.get(n) ?? '').filter(Boolean),
        onOutput,
        signal: this.deps.signal,
        onSpawn: (pid) => {
          // Saved before any output: if ir is killed from here on, a resume can find this process.
          const id = identify(pid);
          if (!id) return;
          spawnRecorded = this.deps.runs.update(this.run.id, { stepProcess: { ...id, command, outputFile: file } });
          // Handled by the await below; this only keeps a failed step from also reporting it unhandled.
          spawnRecorded.catch(() => {});
        },
      }),
    );
    await spawnRecorded;
    const pattern = expectRegExp(step.expect);
    const exitOk = outcome.exitCode === step.expect.exit;
    const matched = pattern ? pattern.test(outcome.output) : null;
    const data: Record<string, unknown> = {
      ...base,
      exit_code: outcome.exitCode,
      signal: outcome.signal,
      duration_ms: outcome.durationMs,
      expect: { exit: step.expect.exit, ...(step.expect.stdout !== undefined ? { stdout: step.expect.stdout } : {}) },
      matched,
      output_file: file,
      sha256: outcome.sha256,
      bytes: outcome.bytes,
    };
    if (outcome.spawnError) data.error = outcome.spawnError;
    if (outcome.saveError) {
      data.save_error = outcome.saveError;
      // The cause is the command's one error line; this line says what was kept.
      io.err(s.red(`  ✘ stopped: its output could not be saved in full · ${outcome.bytes} bytes kept, sha256 ${outcome.sha256.slice(0, 12)}`));
      return { outcome: 'failed', data: { ...data, reason: outcome.saveError } };
    }
    if (outcome.aborted) return { outcome: 'interrupted', data };
    let result: StepOutcome = 'ok';
    let why = '';
    if (outcome.timedOut) {
      result = 'timeout';
      why = `timed out after ${durationToString(step.timeoutMs)}; the process group was killed`;
    } else if (outcome.spawnError) {
      result = 'failed';
      why = outcome.spawnError;
    } else if (!exitOk) {
      result = 'failed';
      why = `exit ${outcome.exitCode ?? outcome.signal} (expected ${step.expect.exit})`;
    } else if (matched === false) {
      result = 'failed';
      why = `output did not match /${step.expect.stdout}/`;
    }
    if (why) data.reason = why;
    // When the exit status is the failure, the reason already names it.
    const exitShown = result === 'failed' && !exitOk && !outcome.spawnError ? '' : `exit ${outcome.exitCode ?? outcome.signal ?? '-'} · `;
    const summary = `${exitShown}${formatDuration(outcome.durationMs)}${matched !== null ? ` · ${matched ? 'matched' : 'no match for'} /${step.expect.stdout}/` : ''} · saved ${file}`;
    io.out(result === 'ok' ? s.green(`  ✔ ${summary}`) : s.red(`  ✘ ${why} · ${summary}`));
    return { outcome: result, data };
  }

  /** A step offered again after a resume gets a new file; the earlier one stays as it was hashed. */
  private outputFile(index: number): string {
    const dir = this.deps.outputDir(this.opts.incident.id, this.run.id);
    const stem = `${String(index + 1).padStart(2, '0')}-${this.steps[index].id}`;
    for (let attempt = 1; ; attempt++) {
      const file = join(dir, `${stem}${attempt > 1 ? `.${attempt}` : ''}.log`);
      if (!existsSync(file)) return file;
    }
  }

  private async withSpinner(step: RunStep, fn: (onOutput: (chunk: string) => void) => Promise<RunOutcome>): Promise<RunOutcome> {
    const { io } = this.deps;
    if (!io.spinner) return fn((chunk) => io.write(chunk));
    const { default: ora } = await import('ora');
    const started = Date.now();
    const label = () => `${step.id} running… ${formatDuration(Date.now() - started)} (timeout ${durationToString(step.timeoutMs)})`;
    const spinner = ora({ text: label(), stream: process.stderr, discardStdin: false }).start();
    const tick = setInterval(() => (spinner.text = label()), 1000);
    try {
      return await fn((chunk) => {
        spinner.clear();
        io.write(chunk);
        spinner.render();
      });
    } finally {
      clearInterval(tick);
      spinner.stop();
    }
  }

  private async verify(): Promise<void> {
    const items = this.opts.runbook.verify;
    if (!items.length) return;
    const { io } = this.deps;
    const { prompter } = this;
    io.out('');
    io.out(io.style.bold('Verify before closing:'));
    let confirmed: string[] = [];
    if (prompter) {
      confirmed = await prompter.checkbox<string>({ message: 'Tick what is confirmed', choices: items.map((i) => ({ name: i, value: i })) });
    } else {
      for (const i of items) io.out(`  [ ] ${i}`);
      io.err(io.style.dim('  (no terminal: recorded as not yet confirmed)'));
    }
    await this.record({ type: 'runbook.verify', data: { run_id: this.run.id, runbook: this.opts.runbook.id, confirmed, unconfirmed: items.filter((i) => !confirmed.includes(i)) } });
  }
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/**
 * A step whose process outlived the ir that started it (kill -9, a lost machine session) and has
 * since ended: ir never saw its exit. Records it as finished outside ir, exit status unknown, with
 * the output saved before ir died (hashed as it is on disk), and moves the run past it.
 */
export async function recordEndedOutside(
  deps: Pick<EngineDeps, 'store' | 'runs' | 'clock' | 'actor'>,
  incident: Incident,
  runbook: Runbook,
  run: RunRecord,
): Promise<RunRecord> {
  const proc = run.stepProcess;
  const index = run.currentIndex ?? run.nextIndex;
  const step = allSteps(runbook)[index];
  const phase = runbook.phases.find((p) => p.steps.some((s) => s.id === step?.id));
  const saved = proc?.outputFile ? existsSync(proc.outputFile) ? await hashFile(proc.outputFile) : undefined : undefined;
  const at = deps.clock.now();
  const events: NewEvent[] = [];
  if (run.status === 'running') {
    events.push({
      type: 'runbook.interrupted',
      data: { run_id: run.id, runbook: runbook.id, step: step?.id ?? null, reason: `ir ended while step "${step?.id}" was running; its process (pid ${proc?.pid}) went on`, detected: 'on resume' },
    });
  }
  events.push({
    type: 'runbook.step',
    data: {
      run_id: run.id,
      runbook: runbook.id,
      phase: phase?.id ?? null,
      step: step?.id ?? null,
      kind: step?.kind ?? 'run',
      title: step?.title ?? null,
      outcome: 'unknown',
      reason: 'finished outside ir (ir was gone while it ran); exit status unknown',
      command: proc?.command ?? null,
      pid: proc?.pid ?? null,
      process_started_at: proc?.startedAt ?? null,
      exit_code: null,
      output_file: proc?.outputFile || null,
      sha256: saved?.sha256 ?? null,
      bytes: saved?.bytes ?? null,
    },
  });
  await deps.store.append(incident.id, () => events, at, deps.actor);
  await deps.runs.update(run.id, { status: 'interrupted', nextIndex: index + 1, currentIndex: null, stepProcess: null, updatedAt: at.toISOString() });
  return (await deps.runs.get(run.id))!;
}

