// `ir runbook show ID`: a runbook as a responder reads it before running it — phases and their time
// budgets, every step with its command filled in with the variables' defaults (secrets as ****,
// values only known at run time as {{name}}), destructive steps marked.

import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { columns } from '../../io/format.js';
import { secretNames, type Runbook, type Step } from '../../runbooks/format.js';
import { displayCommand, displayText, type DisplayOptions } from '../../runbooks/words.js';
import { durationToString } from '../../util/duration.js';
import { loadOptions } from './list.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('show')
    .description('show a runbook: phases, steps and their commands filled in with the defaults')
    .argument('<id>', 'runbook id (or the path of a runbook file)')
    .addHelpText('after', '\nExamples:\n  ir runbook show redis-failure\n  ir runbook show ./my-runbook.yaml --json')
    .action(bind((cmd: Command) => run({ id: cmd.args[0] }, ctx)));
};

export async function run(opts: { id: string }, ctx: Context): Promise<number> {
  const { findRunbookFile } = await import('../../runbooks/files.js');
  const dir = ctx.runbookDir().dir;
  const { options } = await loadOptions(ctx, dir);
  const runbook = await findRunbookFile(dir, opts.id, { ...options, cwd: ctx.io.cwd }, await ctx.parseCache());
  if (ctx.json) ctx.printJson(runbookJson(runbook));
  else ctx.out(renderRunbook(runbook, await ctx.style()));
  return 0;
}

/** The defaults of a runbook's variables, for display. */
function defaults(runbook: Runbook): Map<string, string> {
  return new Map(runbook.variables.flatMap((v) => (v.default !== undefined ? [[v.name, v.default] as [string, string]] : [])));
}

function stepDisplay(step: Step, values: Map<string, string>, opts: DisplayOptions): string | undefined {
  switch (step.kind) {
    case 'run':
      return displayCommand(step.command, values, opts);
    case 'print':
      return displayText(step.command, values, opts);
    default:
      return undefined;
  }
}

export function runbookJson(runbook: Runbook) {
  const values = defaults(runbook);
  const opts = { secrets: secretNames(runbook) };
  return {
    id: runbook.id,
    title: runbook.title,
    description: runbook.description ?? null,
    severity: runbook.severity ?? null,
    tags: runbook.tags,
    detection: runbook.detection,
    file: runbook.file,
    variables: runbook.variables.map((v) => ({
      name: v.name,
      description: v.description ?? null,
      default: v.default === undefined ? null : v.secret ? '****' : v.default,
      env: v.env ?? null,
      secret: v.secret,
    })),
    phases: runbook.phases.map((phase) => ({
      id: phase.id,
      title: phase.title,
      description: phase.description ?? null,
      within: phase.withinMs === undefined ? null : durationToString(phase.withinMs),
      line: phase.location.line,
      steps: phase.steps.map((step) => {
        const base = { id: step.id, title: step.title, kind: step.kind, optional: step.optional, description: step.description ?? null, line: step.location.line, col: step.location.col };
        switch (step.kind) {
          case 'run':
            return {
              ...base,
              command: step.command.source,
              display: stepDisplay(step, values, opts),
              shell: step.command.shell,
              destructive: step.destructive,
              timeout: durationToString(step.timeoutMs),
              on_failure: step.onFailure.action === 'goto' ? step.onFailure.step : step.onFailure.action,
              expect: { exit: step.expect.exit, stdout: step.expect.stdout ?? null },
              env: Object.fromEntries(Object.entries(step.env).map(([k, t]) => [k, displayText(t, values, opts)])),
              cwd: step.cwd ? displayText(step.cwd, values, opts) : null,
            };
          case 'print':
            return { ...base, command: step.command.source, display: stepDisplay(step, values, opts) };
          case 'checklist':
            return { ...base, items: step.items };
          case 'ask':
            return { ...base, variable: step.variable, message: step.message, default: step.default === undefined ? null : step.secret ? '****' : step.default, secret: step.secret };
          case 'note':
            return { ...base, text: step.text };
          case 'regimes':
            return { ...base, offer: step.offer, variable: step.variable, discovered: step.discovered?.source ?? null };
        }
      }),
    })),
    verify: runbook.verify,
    follow_up: runbook.followUp,
  };
}

export function renderRunbook(runbook: Runbook, style: ChalkInstance): string {
  const values = defaults(runbook);
  const opts = { secrets: secretNames(runbook) };
  const out: string[] = [];
  const list = (heading: string, items: string[]) => {
    if (!items.length) return;
    out.push('', style.bold(heading), ...items.map((i) => `  - ${i}`));
  };
  out.push(`${style.bold(runbook.id)}  ${runbook.title}`);
  out.push(`File:      ${runbook.file}`);
  if (runbook.severity) out.push(`Severity:  ${runbook.severity}`);
  if (runbook.tags.length) out.push(`Tags:      ${runbook.tags.join(', ')}`);
  if (runbook.description) out.push('', runbook.description.trimEnd());
  list('Detection', runbook.detection);
  if (runbook.variables.length) {
    out.push('', style.bold('Variables'));
    const table = columns(
      ['NAME', 'DEFAULT', 'ENV', 'DESCRIPTION'],
      runbook.variables.map((v) => [v.name, v.default === undefined ? '-' : v.secret ? '****' : v.default === '' ? "''" : v.default, v.env ?? '-', `${v.description ?? ''}${v.secret ? ' (secret)' : ''}`.trim()]),
    );
    out.push(...table.split('\n').map((l) => `  ${l}`));
  }
  let n = 0;
  runbook.phases.forEach((phase, pi) => {
    const within = phase.withinMs === undefined ? '' : `, within ${durationToString(phase.withinMs)}`;
    out.push('', style.bold(`Phase ${pi + 1}: ${phase.title}`) + style.dim(` (${phase.id}${within})`));
    for (const step of phase.steps) {
      n++;
      const marks = [step.kind, ...(step.optional ? ['optional'] : []), ...(step.kind === 'run' && step.destructive ? [style.red.bold('DESTRUCTIVE')] : [])];
      out.push(`  ${n}. ${step.title}  ${style.dim(`[${step.id}]`)} ${marks.join(', ')}`);
      const pad = '       ';
      switch (step.kind) {
        case 'run': {
          out.push(`${pad}$ ${stepDisplay(step, values, opts)}`);
          const details: string[] = [];
          if (step.command.shell) details.push('shell');
          if (step.expect.exit !== 0 || step.expect.stdout !== undefined) {
            details.push(`expect exit ${step.expect.exit}${step.expect.stdout !== undefined ? `, output matching /${step.expect.stdout}/` : ''}`);
          }
          details.push(`timeout ${durationToString(step.timeoutMs)}`);
          if (step.onFailure.action !== 'continue') details.push(`on failure: ${step.onFailure.action === 'goto' ? `go to ${step.onFailure.step}` : 'abort'}`);
          const env = Object.entries(step.env).map(([k, t]) => `${k}=${displayText(t, values, opts)}`);
          if (env.length) details.push(`env ${env.join(' ')}`);
          if (step.cwd) details.push(`in ${displayText(step.cwd, values, opts)}`);
          out.push(style.dim(`${pad}${details.join(' · ')}`));
          break;
        }
        case 'print':
          out.push(`${pad}${style.dim('(by hand)')} ${stepDisplay(step, values, opts)}`);
          break;
        case 'checklist':
          out.push(...step.items.map((i) => `${pad}[ ] ${i}`));
          break;
        case 'ask':
          out.push(`${pad}? ${step.message} → {{${step.variable}}}`);
          break;
        case 'note':
          out.push(...step.text.trimEnd().split('\n').map((l) => `${pad}${l}`));
          break;
        case 'regimes':
          out.push(`${pad}offers regulatory clocks: ${step.offer.join(', ')} ${style.dim(`(--var ${step.variable}=… when not asked${step.discovered ? `; from ${step.discovered.source}` : ''})`)}`);
          break;
      }
    }
  });
  list('Verify', runbook.verify);
  list('Follow-up', runbook.followUp);
  return out.join('\n');
}
