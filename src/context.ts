// The one Context a command receives: streams, clock, prompter, and lazily opened store and config.

import { existsSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { systemCause, UsageError, UserError } from './errors.js';
import type { Incident } from './core/incident.js';
import type { SeverityConfig } from './core/severity.js';
import type { TeamConfig } from './config/team.js';
import type { Store } from './store/types.js';
import type { ParseCache } from './config/cache.js';
import { colorEnabled, processIO, type IO } from './io/streams.js';

export { watchOutputPipes } from './io/streams.js';
import type { Prompter } from './io/prompter.js';
import { displayPath, homeDir, runbookDir, SHIPPED_RUNBOOKS, teamOrShipped, type RunbookDir } from './config/paths.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface GlobalOptions {
  home?: string;
  store?: string;
  runbooks?: string;
  incident?: string;
  as?: string;
  json?: boolean;
  color?: boolean;
  input?: boolean;
  verbose?: boolean;
}

export interface ContextParts {
  io?: IO;
  clock?: Clock;
  /** A ready prompter (tests); otherwise inquirer is loaded on first question. */
  prompter?: Prompter;
  /** Force interactive mode on or off regardless of TTYs (tests). */
  interactive?: boolean;
}

function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Why the store could not be opened, in one line that names the path; a setup problem, so exit 2. */
function storeOpenError(err: unknown, dbPath: string): unknown {
  if (err instanceof UserError) return err;
  // Node's recursive mkdir reports a read-only parent as ENOENT.
  let cause = systemCause(err) ?? ((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the directory cannot be created' : undefined);
  if (!cause) return err;
  // SQLite says "I/O error" when it cannot grow its shared-memory file on a full disk.
  if (/I\/O error/.test(cause) && freeBytes(dirname(dbPath)) < 256 * 1024) cause = 'disk full';
  const path = (err as NodeJS.ErrnoException).path;
  return new UserError(`cannot open the store ${dbPath}: ${cause}${path && path !== dbPath ? ` (${path})` : ''}; set IR_HOME or --home to a writable directory`);
}

/**
 * What chalk at level 0 is — every style (`style.red.bold(…)`) returns its text as it is, several
 * texts joined by spaces — for the runs (pipes, NO_COLOR, --no-color) that print no colour.
 */
export function plainStyle(): ChalkInstance {
  // As chalk joins: one argument as String() would, several as Array.join (null and undefined empty).
  const text = (...parts: unknown[]) => (parts.length === 1 ? String(parts[0]) : parts.join(' '));
  const style: ChalkInstance = new Proxy(text, {
    get(target, prop) {
      if (prop === 'level') return 0;
      // Not a thenable (it is handed out by an async function), and a function's own props stay.
      if (prop === 'then' || typeof prop === 'symbol' || prop in target) return Reflect.get(target, prop);
      return style;
    },
  }) as unknown as ChalkInstance;
  return style;
}

export class Context {
  readonly io: IO;
  readonly clock: Clock;
  globals: GlobalOptions = {};
  private prompterInstance?: Prompter;
  private readonly interactiveOverride?: boolean;
  private storeInstance?: Store;
  private severityConfig?: SeverityConfig;
  private teamConfig?: TeamConfig;
  private parseCacheInstance?: ParseCache | null;
  private chalkInstance?: ChalkInstance;
  private actorName?: string;

  constructor(parts: ContextParts = {}) {
    this.io = parts.io ?? processIO();
    this.clock = parts.clock ?? systemClock;
    this.prompterInstance = parts.prompter;
    this.interactiveOverride = parts.interactive;
  }

  get env(): NodeJS.ProcessEnv {
    return this.io.env;
  }

  get json(): boolean {
    return this.globals.json === true;
  }

  get home(): string {
    return homeDir(this.env, this.io.cwd, this.globals.home);
  }

  get dbPath(): string {
    return join(this.home, 'ir.db');
  }

  /** Where the records are: --store, IR_STORE, else the SQLite file in the home. */
  get storeLocation(): string {
    // ir.yaml's `store` applies only once loaded (loadTeamStore, before any command runs).
    const chosen = this.globals.store || this.env.IR_STORE || this.teamConfig?.store;
    if (!chosen) return this.dbPath;
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(chosen) ? chosen : resolve(this.io.cwd, chosen);
  }

  incidentDir(id: string): string {
    return join(this.home, 'incidents', id);
  }

  now(): Date {
    return this.clock.now();
  }

  /** True when a question can be asked and answered: TTYs both ways, no CI, no --no-input. */
  get canPrompt(): boolean {
    if (this.interactiveOverride !== undefined) return this.interactiveOverride;
    if (this.globals.input === false || this.globals.json) return false;
    if (this.env.CI && this.env.CI !== 'false' && this.env.CI !== '0') return false;
    return this.io.stdin.isTTY === true && this.io.stdout.isTTY === true;
  }

  /** The prompter, or a UsageError naming the flag that would have supplied the answer. */
  async prompter(missing: string): Promise<Prompter> {
    if (!this.canPrompt) {
      throw new UsageError(`${missing} is required (no terminal to ask on${this.globals.input === false ? ': --no-input' : ''})`);
    }
    if (!this.prompterInstance) {
      const { inquirerPrompter } = await import('./io/prompter.js');
      this.prompterInstance = await inquirerPrompter();
    }
    return this.prompterInstance;
  }

  async store(): Promise<Store> {
    if (!this.storeInstance) {
      const location = this.storeLocation;
      const { openStore, isTeamUrl, originOf } = await import('./store/open.js');
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !isTeamUrl(location)) {
        throw new UsageError(`${this.globals.store ? '--store' : 'IR_STORE'}: ${location.split('://')[0]}:// is not a store ir knows; use postgres://user@host:5432/db, or a SQLite file path`);
      }
      let origin: string;
      try {
        // The home is made here (installation id), so its problems are reported as the store's.
        origin = originOf(this.home);
      } catch (err) {
        throw storeOpenError(err, this.dbPath);
      }
      if (isTeamUrl(location)) {
        const { TeamStore } = await import('./store/team/store.js');
        this.storeInstance = await TeamStore.open(location, { home: this.home, origin, say: (line) => this.err(line), now: () => this.now() });
        return this.storeInstance;
      }
      try {
        this.storeInstance = await openStore(location, { origin });
      } catch (err) {
        throw storeOpenError(err, location);
      }
    }
    return this.storeInstance;
  }

  async close(): Promise<void> {
    const store = this.storeInstance;
    this.storeInstance = undefined;
    await store?.close();
  }

  runbookDir(): RunbookDir {
    return runbookDir(this.env, this.io.cwd, this.globals.runbooks);
  }

  async severities(): Promise<SeverityConfig> {
    if (!this.severityConfig) {
      const { loadSeveritiesCached } = await import('./config/cache.js');
      const file = teamOrShipped(this.runbookDir().dir, 'severities.yaml', SHIPPED_RUNBOOKS);
      this.severityConfig = await loadSeveritiesCached(file, displayPath(file, this.io.cwd), await this.parseCache());
    }
    return this.severityConfig;
  }

  /** The team's ir.yaml (integrations, escalation targets, …), or an empty one when it has none. */
  async team(): Promise<TeamConfig> {
    if (!this.teamConfig) {
      const file = join(this.runbookDir().dir, 'ir.yaml');
      if (!existsSync(file)) {
        this.teamConfig = { escalation: [], redaction: [] };
      } else {
        const { loadTeamConfig } = await import('./config/team.js');
        this.teamConfig = loadTeamConfig(file, displayPath(file, this.io.cwd));
      }
    }
    return this.teamConfig;
  }

  /**
   * Reads ir.yaml before a command runs when it may name the team store (neither --store nor
   * IR_STORE given): storeLocation is asked synchronously. Nothing is parsed without the file.
   */
  async loadTeamStore(): Promise<void> {
    if (this.globals.store || this.env.IR_STORE) return;
    let dir: string;
    try {
      dir = this.runbookDir().dir;
    } catch {
      return; // a missing --runbooks directory is reported by the commands that read it
    }
    if (existsSync(join(dir, 'ir.yaml'))) await this.team();
  }

  /** What checking runbooks and severities.yaml produced before, under `<home>/cache` (none when running from sources). */
  async parseCache(): Promise<ParseCache | undefined> {
    if (this.parseCacheInstance === undefined) {
      const { ParseCache } = await import('./config/cache.js');
      this.parseCacheInstance = ParseCache.inHome(this.home) ?? null;
    }
    return this.parseCacheInstance ?? undefined;
  }

  /** Who is acting: --as, IR_USER, git's user.name, $USER. */
  actor(): string {
    if (this.actorName) return this.actorName;
    let name = this.globals.as || this.env.IR_USER;
    if (!name) {
      try {
        // Loaded only here: child_process (with net and dgram behind it) costs every command ~3 ms to load.
        const { execFileSync } = process.getBuiltinModule('node:child_process');
        name = execFileSync('git', ['config', 'user.name'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: this.io.cwd, timeout: 2000 }).trim();
      } catch {
        name = '';
      }
    }
    this.actorName = name || this.env.USER || this.env.LOGNAME || 'unknown';
    return this.actorName;
  }

  /** chalk with colour decided once for this run; without colour, chalk is not loaded at all. */
  async style(): Promise<ChalkInstance> {
    if (!this.chalkInstance) {
      if (colorEnabled(this.io, this.globals)) {
        const { Chalk } = await import('chalk');
        this.chalkInstance = new Chalk({ level: 1 });
      } else {
        this.chalkInstance = plainStyle();
      }
    }
    return this.chalkInstance;
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Exactly one JSON document on stdout. */
  printJson(doc: unknown): void {
    this.io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }

  /**
   * For commands about an incident's aftermath (postmortem, action items): like currentIncident,
   * but with nothing open and nothing named, the most recently declared incident.
   */
  async currentOrLatestIncident(explicit?: string): Promise<Incident> {
    if (!explicit && !this.globals.incident && !this.env.IR_INCIDENT) {
      const store = await this.store();
      if ((await store.listIncidents()).length === 0) {
        const latest = (await store.listIncidents({ all: true }))[0];
        if (latest) return latest;
      }
    }
    return this.currentIncident(explicit);
  }

  /**
   * The incident a command acts on: --incident / IR_INCIDENT, else the one open incident.
   * None open, or several and none named, is a usage error that says what to do.
   */
  async currentIncident(explicit?: string): Promise<Incident> {
    const store = await this.store();
    const id = explicit || this.globals.incident || this.env.IR_INCIDENT;
    if (id) {
      const found = (await store.getIncident(id)) ?? (await store.getIncident(id.toUpperCase()));
      if (!found) throw new UserError(`no incident ${id}${this.globals.incident ? '' : this.env.IR_INCIDENT ? ' (from IR_INCIDENT)' : ''}; \`ir list --all\` shows them`);
      return found;
    }
    const open = await store.listIncidents();
    if (open.length === 1) return open[0];
    if (open.length === 0) throw new UserError('no open incident: declare one with `ir declare`, or name one with --incident ID');
    throw new UsageError(
      `${open.length} incidents are open; name one with --incident ID or IR_INCIDENT`,
      { details: open.map((i) => `  ${i.id}  ${i.severity}  ${i.state}  ${i.title}`) },
    );
  }
}
