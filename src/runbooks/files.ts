// Runbook files as the commands meet them: which files of a directory are runbooks, reading one
// (size limit, read errors as problems), ids clashing between files, and the parse cache in front
// of loader.ts. This module loads no YAML parser: loader.ts (yaml, the schema validator, the
// checks) is imported only for a file whose result is not cached.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ParseCache } from '../config/cache.js';
import { problemsError, type Problem } from '../config/problems.js';
import { UserError } from '../errors.js';
import { ID_PATTERN, type Runbook } from './format.js';
import type { DirOptions, DirResult, FileResult, LoadOptions } from './loader.js';

/** Files that live next to runbooks but are not runbooks. */
const NOT_RUNBOOKS = /^(severities|evidence|schema)(\.[^.]+)*\.ya?ml$/i;
const MAX_FILE_BYTES = 1024 * 1024;

export function isRunbookFileName(name: string): boolean {
  return /\.ya?ml$/i.test(name) && !name.startsWith('.') && !NOT_RUNBOOKS.test(name);
}

/** The runbook files of a directory (not its subdirectories), sorted by name. */
export function runbookFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isRunbookFileName(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** A runbook file's text, or the one problem that stops it being read. */
export function readRunbookText(abs: string, displayName: string): { text: string } | { problem: Problem } {
  try {
    if (statSync(abs).size > MAX_FILE_BYTES) return { problem: { location: { file: displayName }, message: 'larger than 1 MB: not a runbook' } };
    return { text: readFileSync(abs, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`;
    return { problem: { location: { file: displayName }, message } };
  }
}

export function sortProblems(problems: Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.location.line ?? 0) - (b.p.location.line ?? 0) || (a.p.location.col ?? 0) - (b.p.location.col ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}

/** Marks every file whose id an earlier file (by name) already uses; such files load no runbook. */
export function checkDuplicateIds(files: FileResult[]): void {
  const first = new Map<string, FileResult>();
  for (const f of files) {
    if (f.id === undefined) continue;
    const earlier = first.get(f.id);
    if (!earlier) {
      first.set(f.id, f);
      continue;
    }
    f.problems.push({ location: f.idLocation ?? { file: f.file, line: 1, col: 1 }, message: `runbook id "${f.id}" is already used by ${earlier.file}: ids must be unique in a directory` });
    f.problems = sortProblems(f.problems);
    f.runbook = undefined;
  }
}

/**
 * loader.loadRunbookFile through the cache: the same result, from the cache when this exact text
 * was checked before as the same file (name shown, path) against the same severity ids.
 */
export async function loadFile(path: string, displayName: string, opts: LoadOptions, cache?: ParseCache): Promise<FileResult> {
  const abs = resolve(path);
  const read = readRunbookText(abs, displayName);
  if ('problem' in read) return { file: displayName, path: abs, problems: [read.problem] };
  const inputs = { file: displayName, path: abs, severityIds: opts.severityIds ?? null, severityFile: opts.severityFile ?? null, regimeIds: opts.regimeIds ?? null };
  const key = cache?.key('runbook', inputs, read.text);
  const hit = key ? cache!.get<FileResult>(key) : undefined;
  if (hit) return hit;
  const { loadRunbookText } = await import('./loader.js');
  const result = loadRunbookText(read.text, displayName, abs, { severityIds: opts.severityIds, severityFile: opts.severityFile, regimeIds: opts.regimeIds });
  if (key) cache!.set(key, result);
  return result;
}

/** loader.loadRunbookDir through the cache. */
export async function loadDir(dir: string, opts: DirOptions = {}, cache?: ParseCache): Promise<DirResult> {
  const display = opts.display ?? ((p: string) => p);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return { runbooks: [], files: [], problems: [{ location: { file: display(dir) }, message: 'runbook directory not found' }] };
  }
  const files: FileResult[] = [];
  for (const p of runbookFiles(dir)) files.push(await loadFile(p, display(p), opts, cache));
  checkDuplicateIds(files);
  return {
    runbooks: files.flatMap((f) => (f.runbook ? [f.runbook] : [])).sort((a, b) => a.id.localeCompare(b.id)),
    problems: files.flatMap((f) => f.problems),
    files,
  };
}

/**
 * One runbook by id or path, as loader.findRunbook finds it, but reading only `<id>.yaml` (or
 * .yml) when that file holds the runbook asked for; the directory is read only when it does not.
 */
export async function findRunbookFile(dir: string, idOrPath: string, opts: DirOptions & { cwd?: string } = {}, cache?: ParseCache): Promise<Runbook> {
  const display = opts.display ?? ((p: string) => p);
  if (/[\\/]/.test(idOrPath) || /\.ya?ml$/i.test(idOrPath)) {
    const abs = resolve(opts.cwd ?? process.cwd(), idOrPath);
    const result = await loadFile(abs, display(abs), opts, cache);
    if (!result.runbook) throw problemsError(result.problems);
    return result.runbook;
  }
  if (ID_PATTERN.test(idOrPath)) {
    for (const ext of ['.yaml', '.yml']) {
      const direct = join(dir, `${idOrPath}${ext}`);
      if (!existsSync(direct)) continue;
      const result = await loadFile(direct, display(direct), opts, cache);
      if (result.runbook?.id === idOrPath) return result.runbook;
      if (!result.runbook && result.id === idOrPath) throw problemsError(result.problems);
    }
  }
  const { files } = await loadDir(dir, opts, cache);
  const match = files.find((f) => f.id === idOrPath) ?? files.find((f) => f.id?.toLowerCase() === idOrPath.toLowerCase());
  if (!match) {
    const ids = files.flatMap((f) => (f.id ? [f.id] : []));
    const { didYouMean } = await import('./validate.js');
    const guess = didYouMean(idOrPath, ids);
    throw new UserError(`no runbook "${idOrPath}" in ${display(dir)}${guess ? ` (did you mean "${guess}"?)` : ''}; \`ir runbook list\` shows them`);
  }
  if (!match.runbook) throw problemsError(match.problems);
  return match.runbook;
}
