// Finds one runbook for a command: the team's directory, checked against the team's severities.

import type { Context } from '../../context.js';
import { displayPath } from '../../config/paths.js';
import { regimesOf } from '../../core/regime.js';
import type { Runbook } from '../../runbooks/format.js';

export async function loadRunbookById(ctx: Context, idOrPath: string): Promise<Runbook> {
  const { findRunbookFile } = await import('../../runbooks/files.js');
  const config = await ctx.severities();
  const opts = {
    severityIds: config.levels.map((l) => l.id),
    severityFile: config.file,
    regimeIds: regimesOf(config).map((r) => r.id),
    display: (p: string) => displayPath(p, ctx.io.cwd),
    cwd: ctx.io.cwd,
  };
  // Reads only <id>.yaml when that file holds the runbook, the whole directory otherwise.
  return findRunbookFile(ctx.runbookDir().dir, idOrPath, opts, await ctx.parseCache());
}
