// `ir runbook ID` / `ir runbook run ID` / `ir runbook resume`: follow a runbook step by step.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { CancelledError, OperationError, UsageError, UserError } from '../../errors.js';
import type { Incident } from '../../core/incident.js';
import { findLevel } from '../../core/severity.js';
import type { Prompter } from '../../io/prompter.js';
import { onOutputClosed } from '../../io/streams.js';
import { pidAlive } from '../../exec/process.js';
import type { SpaceReserve } from '../../store/reserve.js';
import type { StopReason } from '../../runbooks/engine.js';
import type { RunRecord, RunStore } from '../../store/types.js';
import { allSteps, secretNames, type Runbook, type Step } from '../../runbooks/format.js';
import { askValue, receivers, valueProblem, variableRules, type VariableRule } from '../../runbooks/values.js';
import type { KubeContext } from '../../runbooks/targets.js';
import { displayCommand, displayText } from '../../runbooks/words.js';
import { durationToString } from '../../util/duration.js';
import { loadRunbookById } from './load.js';

export interface RunOptions {
  id?: string;
  var?: string[];
  yes?: boolean;
  dryRun?: boolean;
  resume?: boolean;
  wait?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options shared by `ir runbook ID`, `ir runbook run ID` and `ir runbook resume`. */
export function runOptions(cmd: Command): Command {
  return cmd
    .option('--var <name=value>', 'set a variable (repeatable)', collect)
    .option('-y, --yes', 'run every non-destructive `run` step without asking (destructive steps are never run)')
    .option('--dry-run', 'print every step with its command filled in; run nothing, record nothing')
    .option('--resume', 'continue the unfinished run of this runbook at its next step')
    .option('--wait', 'if a step of an earlier run outlived the ir that started it (kill -9), wait for it to end instead of refusing');
}

/**
 * `ir runbook ID` is the group's own action; `run ID` and `resume [ID]` are subcommands. The run
 * options live on the group only, so commander parses them wherever they appear and both
 * subcommands read them through optsWithGlobals().
 */
export function registerRun(group: Command, ctx: Context, bind: Bind): void {
  runOptions(group)
    .argument('[id]', 'runbook to follow (same as `ir runbook run ID`)')
    .action(bind(async (cmd: Command) => {
      if (!cmd.args[0]) {
        cmd.outputHelp();
        return 0;
      }
      return run({ ...cmd.optsWithGlobals<RunOptions>(), id: cmd.args[0] }, ctx);
    }));
  group
    .command('run')
    .description('follow a runbook step by step (options: --var name=value, --yes, --dry-run, --resume)')
    .argument('<id>', 'runbook id, or the path of a runbook file')
    .addHelpText('after', '\nExamples:\n  ir runbook run redis-failure --var host=10.0.0.12\n  ir runbook run redis-failure --yes\n  ir runbook run postgres-connection-exhaustion --dry-run')
    .action(bind((cmd: Command) => run({ ...cmd.optsWithGlobals<RunOptions>(), id: cmd.args[0] }, ctx)));
  group
    .command('resume')
    .description('continue the unfinished runbook run of the current incident at its next step')
    .argument('[id]', 'runbook id (default: the latest unfinished run)')
    .action(bind((cmd: Command) => run({ ...cmd.optsWithGlobals<RunOptions>(), id: cmd.args[0], resume: true }, ctx)));
}

function parseVars(pairs: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var "${pair}" must be name=value`);
    out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
  }
  return out;
}

export async function run(opts: RunOptions, ctx: Context): Promise<number> {
  const flags = parseVars(opts.var);
  const canAsk = ctx.canPrompt;
  if (opts.resume && !opts.id) {
    const incident = await ctx.currentIncident();
    const pending = await (await ctx.store()).runs.unfinished(incident.id);
    if (!pending) throw new UserError(`no unfinished runbook run for ${incident.id}`);
    opts = { ...opts, id: pending.runbookId };
  }
  if (!opts.id) throw new UsageError('name a runbook: ir runbook ID (`ir runbook list` shows them)');
  const runbook = await loadRunbookById(ctx, opts.id);
  const declared = new Set(runbook.variables.map((v: { name: string }) => v.name));
  const asked = new Set(allSteps(runbook).flatMap((s) => (s.kind === 'ask' || s.kind === 'regimes' ? [s.variable] : [])));
  for (const name of flags.keys()) {
    if (!declared.has(name) && !asked.has(name)) {
      throw new UsageError(`--var ${name}: runbook ${runbook.id} has no variable "${name}" (it has ${[...declared, ...asked].join(', ') || 'none'})`);
    }
  }

  // Every value known now is checked before anything is asked, declared or recorded.
  // Loaded here, not at start-up: it reads kubeconfig YAML (`ir --help` stays light).
  const targets = await import('../../runbooks/targets.js');
  const kube = await targets.kubeContext(ctx.env);
  const known = resolveKnown(runbook, flags, ctx.env, undefined, kube);
  if (opts.dryRun) {
    printDryRun(runbook, known, kube, targets, ctx, await ctx.style());
    return 0;
  }
  if (!canAsk && !opts.yes) {
    throw new UsageError('no terminal to ask on: pass --yes to run the non-destructive steps without asking, or --dry-run to print them');
  }
  const prompter = canAsk ? await ctx.prompter('') : undefined;
  const incident = await incidentFor(runbook, ctx, prompter);
  const store = await ctx.store();
  const runs = store.runs;
  const text = readFileSync(runbook.path);
  const sha256 = createHash('sha256').update(text).digest('hex');

  let resume = await runs.unfinished(incident.id, runbook.id);
  const style = await ctx.style();
  if (resume && irStillRuns(resume)) {
    throw new UserError(`run ${resume.id} of ${runbook.id} is still in progress (pid ${resume.pid}); stop it first or wait`);
  }

  const controller = new AbortController();
  const stop = (why: StopReason) => {
    if (!controller.signal.aborted) controller.abort(why);
  };
  const onSignal = (sig: NodeJS.Signals) => stop({ reason: `stopped by ${sig === 'SIGINT' ? 'Ctrl-C (SIGINT)' : sig}`, outputClosed: false });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  // Until the run is recorded as stopped, a closed stdout is the run's to handle, not a quiet exit.
  const release = onOutputClosed((which) => stop({ reason: `${which} closed`, outputClosed: true }));
  let reserve: SpaceReserve | undefined;
  try {
    const settled = await settleStepProcesses({ runs, runbook, incident, opts, prompter, ctx, signal: controller.signal, style });
    if (resume) resume = settled.find((r) => r.id === resume!.id) ?? resume;
    if (opts.resume) {
      if (!resume) throw new UserError(`no unfinished run of ${runbook.id} for ${incident.id} to resume`);
      if (resume.runbookSha256 !== sha256) ctx.err(style.yellow(`warning: ${runbook.file} changed since run ${resume.id} started; resuming at step ${resume.nextIndex + 1} of the current file`));
    } else if (resume) {
      if (prompter) {
        const again = await prompter.select<'resume' | 'new'>({
          message: `Run ${resume.id} of ${runbook.id} stopped at step ${resume.nextIndex + 1}. Resume it?`,
          choices: [
            { name: 'Resume where it stopped', value: 'resume' },
            { name: 'Start a new run from the first step', value: 'new' },
          ],
        });
        if (again === 'new') resume = undefined;
      } else {
        ctx.err(style.yellow(`note: run ${resume.id} of ${runbook.id} is unfinished; starting a new run (use --resume to continue it)`));
        resume = undefined;
      }
    }

    const values = await resolveVariables(runbook, flags, ctx, prompter, resume?.vars, kube);
    const { takeReserve } = await import('../../store/reserve.js');
    const held = (reserve = takeReserve(ctx.home, RESERVE_BYTES));
    const { RunbookEngine } = await import('../../runbooks/engine.js');
    const { runner } = await import('../../exec/runner.js');
    const engine = new RunbookEngine(
      {
        store,
        runs,
        runner,
        clock: ctx.clock,
        actor: ctx.actor(),
        prompter,
        signal: controller.signal,
        onDiskFull: () => held.release(),
        outputDir: (incidentId, runId) => join(ctx.incidentDir(incidentId), 'runbooks', runId),
        io: {
          // With --json, stdout carries only the summary document; the walk-through goes to stderr.
          out: (t) => (ctx.json ? ctx.err(t) : ctx.out(t)),
          err: (t) => ctx.err(t),
          write: (chunk) => (ctx.json ? ctx.io.stderr : ctx.io.stdout).write(chunk),
          style,
          spinner: ctx.io.stderr.isTTY === true && !ctx.json,
        },
      },
      { incident, runbook, runbookSha256: sha256, values, yes: opts.yes === true, resume, env: ctx.env, kube, regimes: (await ctx.severities()).regimes },
    );
    const summary = await engine.execute();
    if (ctx.json) {
      const steps = (await store.events(incident.id))
        .filter((e) => e.type === 'runbook.step' && e.data.run_id === summary.runId)
        .map((e) => e.data);
      ctx.printJson({ incident: incident.id, runbook: runbook.id, run_id: summary.runId, status: summary.status, ok: summary.ok, failed: summary.failed, optional_failed: summary.tolerated, skipped: summary.skipped, steps });
    }
    return summary.status === 'completed' || summary.status === 'completed_with_failures' ? 0 : 1;
  } finally {
    release();
    reserve?.release();
    for (const sig of signals) process.off(sig, onSignal);
  }
}

/** Space kept next to ir.db for the record of a step whose output filled the disk. */
const RESERVE_BYTES = 1024 * 1024;

/** The ir that owns this run is alive on this machine (a second ir must not run it too). */
function irStillRuns(run: RunRecord): boolean {
  return run.status === 'running' && !!run.pid && run.host === hostname() && run.pid !== process.pid && pidAlive(run.pid);
}

/**
 * A step whose process outlived the ir that started it (kill -9 of ir) must never be started a
 * second time beside itself. Still running: refuse (no terminal, no --wait), or wait for it to end
 * and record it as finished outside ir. Gone: nothing to do, the step is offered again as before.
 * Returns the runs it changed.
 */
async function settleStepProcesses(a: {
  runs: RunStore;
  runbook: Runbook;
  incident: Incident;
  opts: RunOptions;
  prompter: Prompter | undefined;
  ctx: Context;
  signal: AbortSignal;
  style: Awaited<ReturnType<Context['style']>>;
}): Promise<RunRecord[]> {
  const { runs, runbook, incident, opts, prompter, ctx, style } = a;
  const changed: RunRecord[] = [];
  const { processState, waitUntilGone } = await import('../../exec/process.js');
  for (const run of await runs.withStepProcess(incident.id, runbook.id)) {
    const proc = run.stepProcess!;
    if (irStillRuns(run)) continue;
    const state = processState(proc);
    if (state === 'gone') continue;
    const step = allSteps(runbook)[run.currentIndex ?? run.nextIndex];
    const name = step ? `step "${step.id}"` : `step ${(run.currentIndex ?? run.nextIndex) + 1}`;
    if (state === 'elsewhere') {
      ctx.err(style.yellow(`warning: ${name} of run ${run.id} was started on ${proc.host} (pid ${proc.pid}); ir cannot see from here whether it still runs there`));
      continue;
    }
    const what = `${name} of run ${run.id} is still running outside ir: pid ${proc.pid} (${proc.command}), since ${proc.startedAt}`;
    if (!opts.wait) {
      if (!prompter) {
        throw new OperationError(`${what}; wait for it with \`ir runbook ${runbook.id} --resume --wait\`, or end it with \`kill -TERM -${proc.pid}\` and resume`);
      }
      ctx.err(style.yellow(what));
      const choice = await prompter.select<'wait' | 'stop'>({
        message: `It was started by an ir that has gone. Running it again now would run it twice.`,
        choices: [
          { name: 'Wait for it to end (recorded as finished outside ir, exit status unknown), then go on', value: 'wait' },
          { name: 'Stop here (it keeps running)', value: 'stop' },
        ],
      });
      if (choice === 'stop') throw new CancelledError(`${name} (pid ${proc.pid}) left running; nothing was started`);
    }
    ctx.err(style.dim(`${what}; waiting for it to end (Ctrl-C stops waiting, not the process)…`));
    try {
      await waitUntilGone(proc, a.signal);
    } catch {
      const message = `stopped waiting for pid ${proc.pid}; it keeps running, and nothing was started`;
      if ((a.signal.reason as Partial<StopReason> | undefined)?.outputClosed) {
        const { OutputClosedError } = await import('../../runbooks/engine.js');
        throw new OutputClosedError(message);
      }
      throw new CancelledError(message);
    }
    const { recordEndedOutside } = await import('../../runbooks/engine.js');
    const store = await ctx.store();
    const updated = await recordEndedOutside({ store, runs, clock: ctx.clock, actor: ctx.actor() }, incident, runbook, run);
    ctx.err(style.dim(`pid ${proc.pid} has ended; ${name} recorded as finished outside ir (exit status unknown).`));
    changed.push(updated);
  }
  return changed;
}


const NO_RULE: VariableRule = { allowDash: false, secret: false };

/** Refuses a value that fails its variable's checks: exit 2 naming the variable, where the value came from and who would receive it. */
function checkValue(runbook: Runbook, rules: Map<string, VariableRule>, name: string, value: string, source: string): void {
  const rule = rules.get(name) ?? NO_RULE;
  const why = valueProblem(value, rule, rule.secret);
  if (why) throw new UsageError(`${source}: ${why}; ${receivers(runbook, name)}`);
}

/**
 * Values known without asking: --var, then the variable's environment variable, then its default
 * (a run being resumed starts from its saved values). Each value used is checked.
 */
function resolveKnown(runbook: Runbook, flags: Map<string, string>, env: NodeJS.ProcessEnv, saved: Record<string, string> = {}, kube: KubeContext = {}): Map<string, string> {
  const rules = variableRules(runbook);
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(saved)) {
    if (flags.has(k)) continue;
    checkValue(runbook, rules, k, v, `${k} (saved for --resume)`);
    values.set(k, v);
  }
  for (const v of runbook.variables) {
    if (values.has(v.name) || flags.has(v.name)) continue;
    const fromEnv = v.env ? env[v.env] : undefined;
    if (fromEnv !== undefined) {
      checkValue(runbook, rules, v.name, fromEnv, `${v.name} (from $${v.env})`);
      values.set(v.name, fromEnv);
    } else if (v.kube === 'namespace' && kube.namespace !== undefined) {
      checkValue(runbook, rules, v.name, kube.namespace, `${v.name} (the namespace of kube context "${kube.context}")`);
      values.set(v.name, kube.namespace);
    } else if (v.default !== undefined) {
      checkValue(runbook, rules, v.name, v.default, `${v.name} (its default)`);
      values.set(v.name, v.default);
    }
  }
  for (const [k, v] of flags) {
    checkValue(runbook, rules, k, v, `--var ${k}`);
    values.set(k, v);
  }
  return values;
}

async function resolveVariables(runbook: Runbook, flags: Map<string, string>, ctx: Context, prompter: Prompter | undefined, saved: Record<string, string> | undefined, kube: KubeContext): Promise<Map<string, string>> {
  const values = resolveKnown(runbook, flags, ctx.env, saved, kube);
  const missing = runbook.variables.filter((v) => !values.has(v.name));
  if (missing.length && !prompter) {
    throw new UsageError(
      `runbook ${runbook.id} needs ${missing.map((v) => v.name).join(', ')}: supply ${missing.map((v) => (v.env ? `--var ${v.name}=VALUE (or ${v.env})` : `--var ${v.name}=VALUE`)).join(', ')}`,
    );
  }
  const rules = variableRules(runbook);
  for (const v of missing) {
    const message = `${v.name}${v.description ? ` — ${v.description}` : ''}`;
    const rule = rules.get(v.name) ?? NO_RULE;
    values.set(v.name, await askValue(prompter!, message, rule, ctx));
  }
  return values;
}

async function incidentFor(runbook: Runbook, ctx: Context, prompter: Prompter | undefined): Promise<Incident> {
  const store = await ctx.store();
  const named = ctx.globals.incident ?? ctx.env.IR_INCIDENT;
  if (named || (await store.listIncidents()).length > 0) return ctx.currentIncident();
  if (!prompter) {
    throw new UserError(`no open incident to attach the run to: \`ir declare --title "${runbook.title}"${runbook.severity ? ` --severity ${runbook.severity}` : ''}\` first`);
  }
  const declare = await prompter.confirm({ message: `No open incident. Declare one for "${runbook.title}" now?`, default: true });
  if (!declare) throw new CancelledError('no incident declared; nothing was run');
  const config = await ctx.severities();
  const title = (await prompter.input({ message: 'Incident title', default: runbook.title })).trim() || runbook.title;
  const suggested = runbook.severity && findLevel(config, runbook.severity) ? runbook.severity : undefined;
  const severity = await prompter.select({
    message: 'Severity',
    default: suggested,
    choices: config.levels.map((l) => ({ name: `${l.id}  ${l.name} — ${l.definition}`, value: l.id })),
  });
  const { incident } = await store.declare({ title, severity }, ctx.now(), ctx.actor());
  ctx.err((await ctx.style()).bold(`Declared ${incident.id} (${severity}).`));
  return incident;
}

function printDryRun(
  runbook: Runbook,
  values: Map<string, string>,
  kube: KubeContext,
  { describeTargets, missingPrograms, runbookTargets, stepTarget }: typeof import('../../runbooks/targets.js'),
  ctx: Context,
  style: Awaited<ReturnType<Context['style']>>,
): void {
  const secrets = secretNames(runbook);
  const shown = { secrets };
  const targets = runbookTargets(runbook, values, secrets, ctx.env, kube);
  const missing = missingPrograms(runbook, values, ctx.env);
  const missingLine = missing.length ? `missing programs: ${missing.map((m) => `${m.program} (${m.steps.length} step${m.steps.length === 1 ? '' : 's'})`).join(', ')}` : undefined;
  const command = (step: Step) => (step.kind === 'run' ? displayCommand(step.command, values, shown) : step.kind === 'print' ? displayText(step.command, values, shown) : undefined);
  if (ctx.json) {
    const vars: Record<string, string> = {};
    for (const [k, v] of values) vars[k] = secrets.has(k) ? '****' : v;
    ctx.printJson({
      runbook: runbook.id,
      title: runbook.title,
      file: runbook.file,
      dry_run: true,
      connects_to: targets.map((t) => ({ kind: t.kind, target: t.text, ...(t.kind === 'kube' ? { context: t.context ?? null, namespace: t.namespace ?? null } : {}) })),
      kube: kube.context ? { context: kube.context, namespace: kube.namespace ?? 'default' } : { context: null, problem: kube.problem ?? null },
      variables: vars,
      missing_programs: missing,
      phases: runbook.phases.map((phase) => ({
        id: phase.id,
        title: phase.title,
        within_s: phase.withinMs !== undefined ? phase.withinMs / 1000 : null,
        steps: phase.steps.map((step) => {
          const target = stepTarget(step, values, secrets, ctx.env, kube);
          return {
            id: step.id,
            title: step.title,
            kind: step.kind,
            ...(command(step) !== undefined ? { command: command(step) } : {}),
            ...(step.kind === 'run' ? { destructive: step.destructive, shell: step.command.shell, on_failure: step.onFailure.action === 'goto' ? step.onFailure.step : step.onFailure.action } : {}),
            optional: step.optional,
            ...(target ? { connects_to: { kind: target.kind, target: target.text } } : {}),
            ...(step.kind === 'checklist' ? { items: step.items } : {}),
            ...(step.kind === 'ask' ? { variable: step.variable, message: step.message } : {}),
            ...(step.kind === 'regimes' ? { offer: step.offer, variable: step.variable } : {}),
          };
        }),
      })),
      verify: runbook.verify,
    });
    return;
  }
  ctx.out(`${style.bold(runbook.title)} ${style.dim(`(${runbook.id}, dry run: nothing is executed or recorded)`)}`);
  if (targets.length) ctx.out(`connects to: ${describeTargets(targets, kube)}`);
  let n = 0;
  const total = allSteps(runbook).length;
  for (const phase of runbook.phases) {
    ctx.out('');
    ctx.out(style.bold.cyan(`${phase.title}`) + style.dim(phase.withinMs !== undefined ? ` · within ${durationToString(phase.withinMs)}` : ''));
    for (const step of phase.steps) {
      n++;
      ctx.out(`  [${n}/${total}] ${step.title} ${style.dim(`(${step.id}, ${step.kind})`)}${stepFlags(step, style)}`);
      const target = stepTarget(step, values, secrets, ctx.env, kube);
      if (target?.kind === 'kube') ctx.out(`      ${style.dim(`kube ${target.text}`)}`);
      if (step.kind === 'run') ctx.out(`      $ ${command(step)}`);
      if (step.kind === 'print') ctx.out(`      $ ${command(step)}  ${style.dim('(printed for a human)')}`);
      if (step.kind === 'checklist') for (const i of step.items) ctx.out(`      [ ] ${i}`);
      if (step.kind === 'ask') ctx.out(`      ? ${step.message} → {{${step.variable}}}`);
      if (step.kind === 'note') ctx.out(`      ${step.text.trim().split('\n')[0]}`);
      if (step.kind === 'regimes') ctx.out(`      offers regulatory clocks: ${step.offer.join(', ')} → {{${step.variable}}}`);
    }
  }
  if (runbook.verify.length) {
    ctx.out('');
    ctx.out(style.bold('Verify'));
    for (const v of runbook.verify) ctx.out(`  [ ] ${v}`);
  }
  if (missingLine) {
    // A preview, not a failure: exit 0, with the line last where it is seen (--json has missing_programs).
    ctx.out('');
    ctx.out(style.yellow(missingLine));
  }
}

function stepFlags(step: Step, style: Awaited<ReturnType<Context['style']>>): string {
  const f: string[] = [];
  if (step.kind === 'run' && step.destructive) f.push(style.red('destructive'));
  if (step.kind === 'run' && step.command.shell) f.push('shell');
  if (step.optional) f.push('optional');
  if (step.kind === 'run' && step.onFailure.action !== 'continue') f.push(`on failure: ${step.onFailure.action === 'goto' ? step.onFailure.step : step.onFailure.action}`);
  return f.length ? ` ${style.dim('[')}${f.join(', ')}${style.dim(']')}` : '';
}
