// `ir runbook import FILE.md... [--out DIR] [--dry-run] [--force]`: turns the Markdown (or plain
// text) playbooks a team already has into runbooks, one per scenario, and prints what a human
// should review. It writes into a directory of its own by default so nothing of the team's is
// touched, never overwrites without --force, and writes only runbooks that load.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { displayPath } from '../../config/paths.js';
import { formatProblem } from '../../config/problems.js';
import { EXIT, UserError } from '../../errors.js';
import type { Draft, DraftStep, Skipped } from '../../runbooks/import/scenarios.js';
import { loadOptions, plural } from './list.js';

export interface ImportOptions {
  files: string[];
  out?: string;
  dryRun?: boolean;
  force?: boolean;
}

export const DEFAULT_OUT = 'runbooks-imported';

export const register: Register = (group, ctx, bind) => {
  group
    .command('import')
    .description('turn Markdown playbooks into runbooks, one per scenario, and list what to review')
    .argument('<files...>', 'playbooks: Markdown (.md) or plain text (.txt)')
    .option('-o, --out <dir>', `where to write the runbooks (default: ./${DEFAULT_OUT})`)
    .option('--dry-run', 'write nothing; print the runbooks that would be written')
    .option('--force', 'overwrite runbook files that already exist')
    .addHelpText('after', `\nExamples:\n  ir runbook import docs/playbook.md\n  ir runbook import wiki/*.md --out runbooks --dry-run\n  ir runbook import playbook.md --json`)
    .action(
      bind((cmd: Command) => {
        // The `runbook` group has its own --dry-run (for `ir runbook ID`), which commander gives the group.
        const o = cmd.optsWithGlobals<Omit<ImportOptions, 'files'>>();
        return run({ files: cmd.args, out: o.out, dryRun: o.dryRun === true, force: o.force === true }, ctx);
      }),
    );
};

interface RunbookReport {
  id: string;
  file: string;
  source: string;
  scenario_heading: string;
  line: number;
  title: string;
  severity: string | null;
  phases: Array<{ id: string; title: string; within: string | null; steps: number }>;
  steps: number;
  commands: number;
  destructive: Array<{ step: string; command: string; line: number }>;
  guesses: Array<{ line: number; message: string }>;
  status: 'written' | 'would-write' | 'exists' | 'invalid';
  yaml?: string;
}

export async function run(opts: ImportOptions, ctx: Context): Promise<number> {
  const { importPlaybook } = await import('../../runbooks/import/playbook.js');
  const { emit } = await import('../../runbooks/import/emit.js');
  const cwd = ctx.io.cwd;
  const outDir = resolve(cwd, opts.out ?? DEFAULT_OUT);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UserError(`--out ${displayPath(outDir, cwd)} is a file, not a directory`);
  const inputs = opts.files.map((f) => resolve(cwd, f));
  for (const f of inputs) {
    if (!existsSync(f)) throw new UserError(`${displayPath(f, cwd)}: no such file`);
    if (statSync(f).isDirectory()) throw new UserError(`${displayPath(f, cwd)} is a directory: name the playbook files (e.g. ${displayPath(f, cwd)}/*.md)`);
  }
  // Severities are checked against what `ir runbook validate` of the output directory will use.
  const { options } = await loadOptions(ctx, outDir);
  const severityIds = options.severityIds ?? [];
  const schemaComment = existsSync(join(outDir, 'schema.json'));

  const reports: RunbookReport[] = [];
  const written: string[] = [];
  const existing: string[] = [];
  const errors: string[] = [];
  const skippedSections: Array<Skipped & { source: string }> = [];
  const usedIds = new Set<string>();
  const lines: string[] = [];

  for (const input of inputs) {
    const shown = displayPath(input, cwd);
    const name = basename(input);
    const { drafts, skipped } = await importPlaybook(readFileSync(input, 'utf8'), { file: name, severityIds });
    skippedSections.push(...skipped.map((s) => ({ ...s, source: shown })));
    if (!drafts.length) {
      const msg = `${shown}: no scenario found: no heading holds steps or commands (numbered steps, shell code blocks or command lines)`;
      errors.push(msg);
      ctx.err(`ir: ${msg}`);
      continue;
    }
    lines.push(`${shown}: ${plural(drafts.length, 'scenario')}`);
    for (const draft of drafts) {
      const base = draft.id;
      for (let n = 2; usedIds.has(draft.id); n++) draft.id = `${base}-${n}`;
      usedIds.add(draft.id);
      const path = join(outDir, `${draft.id}.yaml`);
      const file = displayPath(path, cwd);
      const { text, problems } = emit(draft, { source: name, schemaComment, severityIds, displayName: file, path });
      const report = summarize(draft, file, shown);
      if (problems.length) {
        report.status = 'invalid';
        errors.push(...problems.map(formatProblem));
      } else if (existsSync(path) && !opts.force) {
        report.status = 'exists';
        existing.push(file);
      } else if (opts.dryRun) {
        report.status = 'would-write';
      } else {
        mkdirSync(outDir, { recursive: true });
        writeFileSync(path, text);
        report.status = 'written';
        written.push(file);
      }
      if (opts.dryRun) report.yaml = text;
      reports.push(report);
      lines.push(...describe(report, shown));
      if (report.status === 'exists') ctx.err(`ir: warning: ${file} exists: not overwritten (use --force to replace it)`);
      if (report.status === 'invalid') ctx.err(`ir: ${file}: the imported runbook does not load, not written:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    }
    for (const s of skipped) lines.push(`  not imported: "${s.heading}" (${shown}:${s.line}): ${s.why}`);
  }

  const outShown = displayPath(outDir, cwd);
  if (ctx.json) {
    ctx.printJson({
      out: outShown,
      dry_run: opts.dryRun === true,
      runbooks: reports,
      written,
      skipped_existing: existing,
      skipped_sections: skippedSections,
      errors,
    });
  } else {
    for (const l of lines) ctx.out(l);
    if (opts.dryRun) {
      for (const r of reports) if (r.yaml !== undefined) ctx.out(`\n--- ${r.file} (not written: --dry-run)\n${r.yaml}`);
      ctx.out(`dry run: ${plural(reports.filter((r) => r.status === 'would-write').length, 'runbook')} would be written to ${outShown}/`);
    } else if (written.length) {
      ctx.out(`wrote ${plural(written.length, 'runbook')} to ${outShown}/. Review the guesses above, then: ir runbook validate ${outShown}`);
    }
  }
  if (errors.length) return EXIT.USAGE;
  if (!opts.dryRun && !written.length && existing.length) {
    ctx.err(`ir: nothing written: every runbook already exists in ${outShown}/ (use --force to overwrite)`);
    return EXIT.USAGE;
  }
  return EXIT.OK;
}

function isCommand(s: DraftStep): boolean {
  return (s.kind === 'run' || s.kind === 'print') && s.command !== undefined;
}

function summarize(draft: Draft, file: string, source: string): RunbookReport {
  const steps = draft.phases.flatMap((p) => p.steps);
  return {
    id: draft.id,
    file,
    source,
    scenario_heading: draft.heading,
    line: draft.line,
    title: draft.title,
    severity: draft.severity ?? null,
    phases: draft.phases.map((p) => ({ id: p.id, title: p.title, within: p.within ?? null, steps: p.steps.length })),
    steps: steps.length,
    commands: steps.filter(isCommand).length,
    destructive: steps.filter((s) => s.kind === 'run' && s.plan?.destructive).map((s) => ({ step: s.title, command: s.command!, line: s.line })),
    guesses: [...draft.guesses, ...steps.flatMap((s) => s.guesses.map((g) => ({ line: s.line, message: `step "${s.title}": ${g}` })))].sort((a, b) => a.line - b.line),
    status: 'written',
  };
}

function describe(r: RunbookReport, source: string): string[] {
  const runs = r.commands;
  const phases = r.phases.map((p) => `${p.id}${p.within ? ` ${p.within}` : ''}`).join(', ');
  const out = [
    `  ${r.file}  "${r.title}" (${source}:${r.line})${r.severity ? ` ${r.severity}` : ''}${r.status === 'exists' ? '  [exists: not overwritten]' : ''}`,
    `    ${plural(r.phases.length, 'phase')} (${phases}), ${plural(r.steps, 'step')}, ${plural(runs, 'command')}, ${r.destructive.length} destructive`,
  ];
  for (const d of r.destructive) out.push(`    destructive: ${d.command.split('\n')[0]}  (${source}:${d.line})`);
  if (r.guesses.length) out.push('    check:');
  for (const g of r.guesses) out.push(`      ${source}:${g.line}: ${g.message.replace(/\n/g, ' ')}`);
  return out;
}
