// Where ir keeps its data and where it finds a team's runbooks, severities and templates.

import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../version.js';

/** The installed package's root: runbooks/ and templates/ shipped with ir live here. */
export const PACKAGE_ROOT = packageRoot();
export const SHIPPED_RUNBOOKS = join(PACKAGE_ROOT, 'runbooks');
export const SHIPPED_TEMPLATES = join(PACKAGE_ROOT, 'templates');

export function homeDir(env: NodeJS.ProcessEnv, cwd: string, flag?: string): string {
  if (flag) return resolve(cwd, flag);
  if (env.IR_HOME) return resolve(cwd, env.IR_HOME);
  const xdg = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return join(xdg, 'ir');
}

export interface RunbookDir {
  dir: string;
  /** How it was chosen, for `ir` to say where definitions come from. */
  origin: 'flag' | 'env' | 'project' | 'shipped';
}

/**
 * The team's runbook directory: --runbooks, then IR_RUNBOOKS, then the nearest `runbooks/`
 * holding a severities.yaml from the working directory upward, then the shipped default.
 */
export function runbookDir(env: NodeJS.ProcessEnv, cwd: string, flag?: string): RunbookDir {
  const explicit = flag ? { dir: resolve(cwd, flag), origin: 'flag' as const } : env.IR_RUNBOOKS ? { dir: resolve(cwd, env.IR_RUNBOOKS), origin: 'env' as const } : undefined;
  if (explicit) {
    if (!existsSync(explicit.dir) || !statSync(explicit.dir).isDirectory()) {
      throw new UserError(`runbook directory not found: ${explicit.dir} (from ${explicit.origin === 'flag' ? '--runbooks' : 'IR_RUNBOOKS'})`);
    }
    return explicit;
  }
  for (let d = resolve(cwd); ; d = dirname(d)) {
    const candidate = join(d, 'runbooks');
    if (existsSync(join(candidate, 'severities.yaml')) && candidate !== SHIPPED_RUNBOOKS) return { dir: candidate, origin: 'project' };
    if (dirname(d) === d) break;
  }
  return { dir: SHIPPED_RUNBOOKS, origin: 'shipped' };
}

/** A file from the team's directory when it has one, else the shipped copy. */
export function teamOrShipped(teamDir: string, name: string, shippedDir: string): string {
  const own = join(teamDir, name);
  return existsSync(own) ? own : join(shippedDir, name);
}

/** Path as a user would type it from cwd: relative when inside, absolute otherwise. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
