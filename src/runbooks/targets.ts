// Where a runbook's commands will connect, worked out before anything runs: the database, cache and
// cluster each step names once its values are filled in, with the gaps filled the way each client
// fills them (psql: the step's env, then PG* variables, then libpq's defaults; redis-cli:
// 127.0.0.1:6379; kubectl/helm/oc: the kubeconfig's current context and that context's namespace).
// A responder sees the target before the first step, and the cluster before each step that touches
// one, so a wrong target is caught before it is hit. Also: which programs the steps need.

import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { allSteps, type Runbook, type Step } from './format.js';
import { displayText } from './words.js';

/** The kube context kubectl would use, read as kubectl reads it (KUBECONFIG, else ~/.kube/config). */
export interface KubeContext {
  context?: string;
  /** The context's own namespace; kubectl uses "default" when it names none. */
  namespace?: string;
  /** Why no context is known (no kubeconfig, no current-context, unreadable file). */
  problem?: string;
}

export async function kubeContext(env: NodeJS.ProcessEnv): Promise<KubeContext> {
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f)) : env.HOME && existsSync(join(env.HOME, '.kube', 'config')) ? [join(env.HOME, '.kube', 'config')] : [];
  if (!files.length) return { problem: env.KUBECONFIG ? `no kubeconfig found at ${env.KUBECONFIG} (KUBECONFIG)` : 'no kubeconfig (KUBECONFIG, ~/.kube/config)' };
  // The YAML parser loads only when there is a kubeconfig to read. Taken from the module's default
  // export (its CommonJS exports): bundled, a dynamic import of a CommonJS package has no other.
  const { parse } = (await import('yaml')).default as unknown as typeof import('yaml');
  const docs: Record<string, unknown>[] = [];
  for (const file of files) {
    try {
      const doc: unknown = parse(readFileSync(file, 'utf8'));
      if (doc && typeof doc === 'object') docs.push(doc as Record<string, unknown>);
    } catch (err) {
      return { problem: `cannot read kubeconfig ${file}: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  // As kubectl merges: the first file that sets a value wins.
  const context = docs.map((d) => d['current-context']).find((c): c is string => typeof c === 'string' && c !== '');
  if (!context) return { problem: `kubeconfig ${files.join(delimiter)} has no current-context` };
  for (const d of docs) {
    const entry = Array.isArray(d.contexts) ? (d.contexts as Record<string, unknown>[]).find((c) => c?.name === context) : undefined;
    if (entry) {
      const ns = (entry.context as Record<string, unknown> | undefined)?.namespace;
      return { context, namespace: typeof ns === 'string' && ns ? ns : undefined };
    }
  }
  return { context, problem: `kubeconfig has no context named "${context}"` };
}

const KUBE_PROGRAMS = new Set(['kubectl', 'helm', 'oc', 'kubectl-argo-rollouts']);
const POSTGRES_PROGRAMS = new Set(['psql', 'pg_dump', 'pg_dumpall', 'pg_restore', 'pg_isready', 'pg_basebackup', 'pgbench', 'vacuumdb', 'reindexdb', 'createdb', 'dropdb']);
const REDIS_PROGRAMS = new Set(['redis-cli']);
const MONGO_PROGRAMS = new Set(['mongosh', 'mongo', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport']);
/** Shell keywords and builtins a `shell: true` command may start with: nothing to find on PATH. */
const SHELL_WORDS = new Set(['while', 'until', 'for', 'if', 'case', '[', '[[', '{', '(', '!', 'test', 'echo', 'printf', 'cd', 'export', 'set', 'true', 'false', 'read', 'exec', 'eval', 'source', '.', ':', 'command', 'trap', 'ulimit', 'umask', 'wait']);
/** Programs that run the next word as the command (`sudo kubectl …`). */
const WRAPPERS = new Set(['sudo', 'env', 'timeout', 'nice', 'nohup', 'time']);

/** A step's command as words, values filled in (secrets `****`, missing values `{{name}}`); shell text split roughly. */
export function stepWords(step: Step, values: ReadonlyMap<string, string>, secrets: ReadonlySet<string>): string[] | undefined {
  const shown = (name: string) => (secrets.has(name) && values.has(name) ? '****' : (values.get(name) ?? `{{${name}}}`));
  if (step.kind === 'run' && !step.command.shell) return step.command.words.map((w) => w.map((p) => (p.kind === 'text' ? p.text : shown(p.name))).join(''));
  if (step.kind === 'run' || step.kind === 'print') {
    const text = step.kind === 'run' ? step.command.source.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, n: string) => shown(n)) : displayText(step.command, values, { secrets: new Set(secrets) });
    return text.trim().split(/\s+/).map((w) => w.replace(/^['"]|['"]$/g, ''));
  }
  return undefined;
}

/** The program a command runs, past `sudo`, `env VAR=x`, `timeout 10`, and its arguments. */
export function programOf(words: string[]): { program: string; args: string[] } | undefined {
  let i = 0;
  while (i < words.length && (WRAPPERS.has(basename(words[i])) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]) || (i > 0 && /^-|^\d+[smhd]?$/.test(words[i]) && WRAPPERS.has(basename(words[i - 1]))))) i++;
  if (i >= words.length) return undefined;
  return { program: words[i], args: words.slice(i + 1) };
}

/** The value of an option given as `-n X`, `-nX` (short), `--name X` or `--name=X`. */
function option(args: string[], short: string[], long: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    for (const l of long) {
      if (a === l && i + 1 < args.length) return args[i + 1];
      if (a.startsWith(`${l}=`)) return a.slice(l.length + 1);
    }
    for (const s of short) {
      if (a === s && i + 1 < args.length) return args[i + 1];
      if (a.startsWith(s) && a.length > s.length && !a.startsWith('--')) return a.slice(s.length);
    }
  }
  return undefined;
}

export interface StepTarget {
  kind: 'postgres' | 'redis' | 'mongodb' | 'kube';
  /** As shown: `app@10.0.3.7:6543/shop`, `127.0.0.1:6379`, `context prod-eu / namespace shop`. */
  text: string;
  /** kube only. */
  context?: string;
  namespace?: string;
}

/** Where one step's command connects, or undefined for a step that names no known client. */
export function stepTarget(step: Step, values: ReadonlyMap<string, string>, secrets: ReadonlySet<string>, env: NodeJS.ProcessEnv, kube: KubeContext): StepTarget | undefined {
  const words = stepWords(step, values, secrets);
  const cmd = words && programOf(words);
  if (!cmd) return undefined;
  const name = basename(cmd.program);
  const { args } = cmd;
  // The step's own env: (PGHOST: …) comes before the responder's environment, as for the process.
  const stepEnv = (key: string): string | undefined => {
    if (step.kind !== 'run' || !step.env[key]) return undefined;
    const v = displayText(step.env[key], values, { secrets: new Set(secrets) });
    return v === '' ? undefined : v;
  };
  const from = (key: string) => stepEnv(key) ?? (env[key] || undefined);
  if (KUBE_PROGRAMS.has(name)) {
    const context = option(args, [], ['--context', '--kube-context']) ?? kube.context;
    const namespace = option(args, ['-n'], ['--namespace']) ?? (name === 'helm' ? env.HELM_NAMESPACE : undefined) ?? kube.namespace ?? 'default';
    return { kind: 'kube', text: `context ${context ?? '(none)'} / namespace ${namespace}`, context, namespace };
  }
  if (POSTGRES_PROGRAMS.has(name)) {
    const host = option(args, ['-h'], ['--host']) ?? from('PGHOST') ?? 'local socket';
    const port = option(args, ['-p'], ['--port']) ?? from('PGPORT') ?? '5432';
    const user = option(args, ['-U'], ['--username']) ?? from('PGUSER') ?? env.USER ?? '(login user)';
    const db = option(args, ['-d'], ['--dbname']) ?? from('PGDATABASE') ?? user;
    return { kind: 'postgres', text: `${user}@${host}:${port}/${db}` };
  }
  if (REDIS_PROGRAMS.has(name)) {
    const uri = option(args, ['-u'], []);
    if (uri) return { kind: 'redis', text: uri === '****' ? '****' : uri.replace(/\/\/[^@/]*@/, '//') };
    return { kind: 'redis', text: `${option(args, ['-h'], []) ?? '127.0.0.1'}:${option(args, ['-p'], []) ?? '6379'}` };
  }
  if (MONGO_PROGRAMS.has(name)) {
    const uri = option(args, [], ['--uri']) ?? args.find((a) => /^mongodb(\+srv)?:\/\//.test(a) || a === '****');
    if (!uri) return { kind: 'mongodb', text: `${option(args, [], ['--host']) ?? '127.0.0.1'}:${option(args, [], ['--port']) ?? '27017'}` };
    // Credentials never shown: only the hosts of the connection string.
    return { kind: 'mongodb', text: uri === '****' ? '**** (secret connection string)' : uri.replace(/^mongodb(\+srv)?:\/\/([^@/]*@)?([^/?]*).*$/, '$3') };
  }
  return undefined;
}

/** Every distinct target of a runbook's run and print steps, in the order they first appear. */
export function runbookTargets(runbook: Runbook, values: ReadonlyMap<string, string>, secrets: ReadonlySet<string>, env: NodeJS.ProcessEnv, kube: KubeContext): StepTarget[] {
  const seen = new Map<string, StepTarget>();
  for (const step of allSteps(runbook)) {
    const t = stepTarget(step, values, secrets, env, kube);
    if (t && !seen.has(`${t.kind} ${t.text}`)) seen.set(`${t.kind} ${t.text}`, t);
  }
  return [...seen.values()];
}

/** `postgres app@10.0.3.7:6543/shop · kube context prod-eu / namespace shop`. */
export function describeTargets(targets: StepTarget[], kube: KubeContext): string {
  const parts = targets.map((t) => (t.kind === 'kube' && !t.context ? `kube: ${kube.problem ?? 'no context'}` : `${t.kind} ${t.text}`));
  return parts.join(' · ');
}

/** Whether a program can be started: a path that is executable, or a name found on PATH. */
export function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (program.includes('/')) return executable(program);
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, program)));
}

/** Programs the `run` steps need that are not installed here, each with the steps that need it. */
export function missingPrograms(runbook: Runbook, values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): Array<{ program: string; steps: string[] }> {
  const missing = new Map<string, string[]>();
  for (const step of allSteps(runbook)) {
    if (step.kind !== 'run') continue;
    const words = stepWords(step, values, new Set());
    const program = words && programOf(words)?.program;
    // A program named by a value that has none yet ({{name}}) cannot be checked.
    if (!program || program.includes('{{') || (step.command.shell && SHELL_WORDS.has(program)) || onPath(program, env)) continue;
    missing.set(program, [...(missing.get(program) ?? []), step.id]);
  }
  return [...missing].map(([program, steps]) => ({ program, steps }));
}
