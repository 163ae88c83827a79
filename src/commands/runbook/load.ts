// Finds one runbook for a command: the team's directory, checked against the team's severities.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../context.js';
import { displayPath } from '../../config/paths.js';
import { problemsError } from '../../config/problems.js';
import type { Runbook } from '../../runbooks/format.js';

export async function loadRunbookById(ctx: Context, idOrPath: string): Promise<Runbook> {
  const { findRunbook, loadRunbookFile } = await import('../../runbooks/loader.js');
  const config = await ctx.severities();
  const dir = ctx.runbookDir().dir;
  const opts = {
    severityIds: config.levels.map((l) => l.id),
    severityFile: config.file,
    display: (p: string) => displayPath(p, ctx.io.cwd),
    cwd: ctx.io.cwd,
  };
  // The usual case, <id>.yaml, without reading the whole directory.
  for (const ext of ['.yaml', '.yml']) {
    const direct = join(dir, `${idOrPath}${ext}`);
    if (/^[a-z0-9][a-z0-9-]*$/.test(idOrPath) && existsSync(direct)) {
      const result = loadRunbookFile(direct, opts.display(direct), opts);
      if (result.runbook?.id === idOrPath) return result.runbook;
      if (!result.runbook && result.id === idOrPath) throw problemsError(result.problems);
    }
  }
  return findRunbook(dir, idOrPath, opts);
}
