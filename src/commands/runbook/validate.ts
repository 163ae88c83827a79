// `ir runbook validate [PATH...]`: checks runbook files and directories (default: the team's) and
// prints every problem of every file at file:line:col. The problems are the result, so they go to
// stdout; any problem makes the exit code 2.

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { displayPath } from '../../config/paths.js';
import { formatProblem, type Problem } from '../../config/problems.js';
import { EXIT } from '../../errors.js';
import type { FileResult } from '../../runbooks/loader.js';
import { checkSeverityFile, loadOptions, plural } from './list.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('validate')
    .description('check runbooks and severities.yaml: every problem at file:line:col (exit 2 when there is one)')
    .argument('[paths...]', "runbook files or directories (default: the team's runbook directory)")
    .addHelpText('after', '\nExamples:\n  ir runbook validate\n  ir runbook validate runbooks/redis-failure.yaml\n  ir runbook validate ./runbooks --json')
    .action(bind((cmd: Command) => run({ paths: cmd.args }, ctx)));
};

export interface ValidateResult {
  files: number;
  runbooks: number;
  problems: Problem[];
}

export async function run(opts: { paths?: string[] }, ctx: Context): Promise<number> {
  const result = await validatePaths(opts.paths?.length ? opts.paths.map((p) => resolve(ctx.io.cwd, p)) : [ctx.runbookDir().dir], ctx);
  if (ctx.json) {
    ctx.printJson({
      ok: result.problems.length === 0,
      files: result.files,
      runbooks: result.runbooks,
      problems: result.problems.map((p) => ({ file: p.location.file, line: p.location.line ?? null, col: p.location.col ?? null, message: p.message })),
    });
  } else {
    for (const p of result.problems) ctx.out(formatProblem(p));
    ctx.out(`${plural(result.runbooks, 'runbook')}, ${plural(result.problems.length, 'problem')}`);
  }
  return result.problems.length ? EXIT.USAGE : EXIT.OK;
}

export async function validatePaths(targets: string[], ctx: Context): Promise<ValidateResult> {
  const { checkDuplicateIds, loadDir, loadFile, runbookFiles } = await import('../../runbooks/files.js');
  const cache = await ctx.parseCache();
  const display = (p: string) => displayPath(p, ctx.io.cwd);
  const result: ValidateResult = { files: 0, runbooks: 0, problems: [] };
  const seen = new Set<string>();
  // Files named one by one are checked for clashing ids among those of the same directory.
  const looseByDir = new Map<string, FileResult[]>();

  for (const target of targets) {
    if (seen.has(target)) continue;
    seen.add(target);
    if (!existsSync(target)) {
      result.problems.push({ location: { file: display(target) }, message: 'no such file or directory' });
      continue;
    }
    if (statSync(target).isDirectory()) {
      const { options, problems } = await loadOptions(ctx, target);
      result.problems.push(...problems);
      if (existsSync(resolve(target, 'severities.yaml'))) result.files++;
      const files = runbookFiles(target).filter((f) => !seen.has(f));
      if (!files.length) {
        result.problems.push({ location: { file: display(target) }, message: 'no runbooks here (*.yaml or *.yml files)' });
        continue;
      }
      const dir = await loadDir(target, options, cache);
      for (const f of dir.files) seen.add(f.path);
      result.files += dir.files.length;
      result.runbooks += dir.files.length;
      result.problems.push(...dir.problems);
      continue;
    }
    result.files++;
    if (basename(target) === 'severities.yaml') {
      result.problems.push(...(await checkSeverityFile(target, display(target), ctx)).problems);
      continue;
    }
    const { options, problems } = await loadOptions(ctx, dirname(target));
    result.problems.push(...problems);
    const file = await loadFile(target, display(target), options, cache);
    result.runbooks++;
    const group = looseByDir.get(dirname(target)) ?? [];
    group.push(file);
    looseByDir.set(dirname(target), group);
  }
  for (const group of looseByDir.values()) {
    checkDuplicateIds(group);
    for (const f of group) result.problems.push(...f.problems);
  }
  // A severities.yaml shared by several named files is reported once.
  const unique = new Set<string>();
  result.problems = result.problems.filter((p) => {
    const text = formatProblem(p);
    if (unique.has(text)) return false;
    unique.add(text);
    return true;
  });
  return result;
}
