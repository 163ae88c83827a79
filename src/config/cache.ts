// Remembers what checking a user's YAML file (a runbook, a severities.yaml) produced, keyed by the
// file's exact content and everything else the result depends on, so `ir runbook list/show/validate`
// and every command that reads the severities skip YAML parsing and the checks for unchanged files.
//
// The key holds the content's hash, never the file's size or mtime: an edit is seen at once even
// when both stay the same. It also holds the build of ir that made the entry (dist/build-id,
// written by `npm run build`) and Node's version, so a new ir or Node never reads an old verdict.
// Running from the sources there is no build id, and nothing is cached.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeverityConfig } from '../core/severity.js';
import type { Problem } from './problems.js';

let buildId: string | null | undefined;

/** The id of the running build, or null when ir runs from its sources (tests). */
function currentBuild(): string | null {
  if (buildId === undefined) {
    try {
      buildId = readFileSync(new URL('../build-id', import.meta.url), 'utf8').trim() || null;
    } catch {
      buildId = null;
    }
  }
  return buildId;
}

export class ParseCache {
  private constructor(
    private readonly dir: string,
    private readonly build: string,
  ) {}

  /** The cache under `<home>/cache/parsed`, or undefined when this ir cannot name its build. */
  static inHome(home: string): ParseCache | undefined {
    const build = currentBuild();
    return build ? new ParseCache(join(home, 'cache', 'parsed'), build) : undefined;
  }

  /** The key for `text` read as `kind` under `inputs` (display name, path, severity ids, …). */
  key(kind: string, inputs: unknown, text: string): string {
    return createHash('sha256')
      .update(JSON.stringify([this.build, process.version, kind, inputs]))
      .update('\0')
      .update(text)
      .digest('hex');
  }

  /** The stored value, or undefined when there is none or it cannot be read as one (never throws). */
  get<T>(key: string): T | undefined {
    try {
      const entry = JSON.parse(readFileSync(join(this.dir, `${key.slice(0, 40)}.json`), 'utf8')) as { key?: unknown; value?: T };
      // The whole key is stored inside: a file that is not this entry's (truncated, replaced) is a miss.
      return entry && entry.key === key && entry.value !== undefined ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: unknown): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const file = join(this.dir, `${key.slice(0, 40)}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ key, value }), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      /* a cache is an optimisation; a read-only home still works */
    }
  }
}

/** loadSeverities through the cache: a file that cannot be read is left to it to report. */
export async function loadSeveritiesCached(file: string, displayName: string, cache?: ParseCache): Promise<SeverityConfig> {
  let text: string | undefined;
  try {
    if (cache) text = readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text === undefined || !cache) return (await import('./severities.js')).loadSeverities(file, displayName);
  const key = cache.key('severities', { file: displayName }, text);
  const hit = cache.get<SeverityConfig>(key);
  if (hit) return hit;
  // Only definitions without problems are stored: a broken file is parsed again to report them.
  const config = (await import('./severities.js')).severitiesFromText(text, displayName);
  cache.set(key, config);
  return config;
}

/** Every problem of a severities.yaml's text, and its level ids when it has none. */
export async function checkSeverityTextCached(text: string, displayName: string, cache?: ParseCache): Promise<{ ids?: string[]; regimeIds?: string[]; problems: Problem[] }> {
  const check = async () => {
    const { YamlSource } = await import('./yaml.js');
    const { checkSeverities } = await import('./severities.js');
    const { regimesOf } = await import('../core/regime.js');
    const parsed = YamlSource.parse(displayName, text);
    if (!parsed.source) return { problems: parsed.problems };
    const { config, problems } = checkSeverities(parsed.source);
    return problems.length ? { problems } : { ids: config.levels.map((l) => l.id), regimeIds: regimesOf(config).map((r) => r.id), problems };
  };
  if (!cache) return check();
  const key = cache.key('severity-check', { file: displayName }, text);
  const hit = cache.get<{ ids?: string[]; regimeIds?: string[]; problems: Problem[] }>(key);
  if (hit) return hit;
  const result = await check();
  cache.set(key, result);
  return result;
}
