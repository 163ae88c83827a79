// `ir runbook list [--tag TAG]`: the runbooks of the team's directory; broken files are left out
// with a warning that says how many problems there are and where to see them.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { displayPath } from '../../config/paths.js';
import type { Problem } from '../../config/problems.js';
import { regimesOf } from '../../core/regime.js';
import { UserError } from '../../errors.js';
import { columns } from '../../io/format.js';
import { allSteps, type Runbook } from '../../runbooks/format.js';
import type { DirOptions } from '../../runbooks/loader.js';

export interface ListOptions {
  tag?: string;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('list')
    .alias('ls')
    .description("list the team's runbooks")
    .option('-t, --tag <tag>', 'only runbooks with this tag')
    .addHelpText('after', '\nExamples:\n  ir runbook list\n  ir runbook list --tag database --json')
    .action(bind((cmd: Command) => run(cmd.opts<ListOptions>(), ctx)));
};

export async function run(opts: ListOptions, ctx: Context): Promise<number> {
  const { loadDir } = await import('../../runbooks/files.js');
  const dir = ctx.runbookDir().dir;
  const { options, problems: severityProblems } = await loadOptions(ctx, dir);
  const result = await loadDir(dir, options, await ctx.parseCache());
  const runbooks = opts.tag ? result.runbooks.filter((r) => r.tags.includes(opts.tag!)) : result.runbooks;
  const problems = [...severityProblems, ...result.problems];

  if (ctx.json) {
    ctx.printJson({ dir: displayPath(dir, ctx.io.cwd), runbooks: runbooks.map(runbookSummary), problems: problems.length });
  } else if (!runbooks.length) {
    ctx.out(opts.tag ? `No runbooks tagged "${opts.tag}" in ${displayPath(dir, ctx.io.cwd)}.` : `No runbooks in ${displayPath(dir, ctx.io.cwd)}.`);
  } else {
    ctx.out(
      columns(
        ['ID', 'TITLE', 'SEVERITY', 'PHASES', 'STEPS', 'TAGS'],
        runbooks.map((r) => [r.id, r.title, r.severity ?? '-', String(r.phases.length), String(allSteps(r).length), r.tags.join(',') || '-']),
      ),
    );
  }
  if (problems.length) {
    const files = new Set(problems.map((p) => p.location.file)).size;
    ctx.err(
      `ir: warning: ${plural(problems.length, 'problem')} in ${plural(files, 'file')} of ${displayPath(dir, ctx.io.cwd)}; ` +
        'runbooks with problems are not listed. `ir runbook validate` shows every problem',
    );
  }
  return 0;
}

export function runbookSummary(r: Runbook) {
  return { id: r.id, title: r.title, severity: r.severity ?? null, phases: r.phases.length, steps: allSteps(r).length, tags: r.tags, file: r.file };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * How to load the runbooks of a directory: paths shown relative to the working directory, and
 * severities checked against the directory's own severities.yaml, else the team's (or shipped)
 * definitions. A broken severities file is reported as problems and its ids are not checked.
 */
export async function loadOptions(ctx: Context, dir: string): Promise<{ options: DirOptions; problems: Problem[] }> {
  const display = (p: string) => displayPath(p, ctx.io.cwd);
  const options: DirOptions = { display };
  const own = join(dir, 'severities.yaml');
  if (existsSync(own)) {
    const { ids, regimeIds, problems } = await checkSeverityFile(own, display(own), ctx);
    if (ids) {
      options.severityIds = ids;
      options.severityFile = display(own);
      options.regimeIds = regimeIds;
    }
    return { options, problems };
  }
  try {
    const config = await ctx.severities();
    options.severityIds = config.levels.map((l) => l.id);
    options.severityFile = config.file;
    options.regimeIds = regimesOf(config).map((r) => r.id);
    return { options, problems: [] };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const file = err.location?.file ?? 'severities.yaml';
    const prefix = err.location ? `${[err.location.file, err.location.line, err.location.col].filter((x) => x !== undefined).join(':')}: ` : '';
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return { options, problems: [{ location: err.location ?? { file }, message }] };
  }
}

/** Every problem of a severities.yaml, and its level ids when it has none. */
export async function checkSeverityFile(path: string, display: string, ctx: Context): Promise<{ ids?: string[]; regimeIds?: string[]; problems: Problem[] }> {
  const { checkSeverityTextCached } = await import('../../config/cache.js');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { problems: [{ location: { file: display }, message: `cannot read: ${(err as Error).message}` }] };
  }
  return checkSeverityTextCached(text, display, await ctx.parseCache());
}
