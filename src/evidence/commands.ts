// Command collectors, declared in evidence.yaml (the team's runbook directory, else the shipped
// one): each runs one program (argv, no shell unless `shell: true`) whose output is streamed to a
// file and hashed as written. Values of secret-looking environment variables are masked in the
// output and in the recorded command line.

import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { runCommand } from '../exec/runner.js';
import { Redactor } from '../exec/redact.js';
import { problemsError, YamlSource, type Problem } from '../config/yaml.js';
import { UserError } from '../errors.js';
import { parseDuration, DURATION_HINT } from '../util/duration.js';
import type { Collector } from './types.js';

export interface CommandCollectorSpec {
  name: string;
  description: string;
  /** argv; with `shell`, a one-element list holding the script. */
  command: string[];
  shell: boolean;
  timeoutMs?: number;
  requires: string[];
  requiresEnv: string[];
  requiresFile: string[];
  ext: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const KNOWN = new Set(['name', 'description', 'command', 'shell', 'timeout', 'requires', 'requires_env', 'requires_file', 'ext']);

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV = /PASSW(OR)?D|PASS$|TOKEN|SECRET|CREDENTIAL|API_?KEY|PRIVATE_?KEY|REDISCLI_AUTH/i;

/** Validates an evidence.yaml; every problem comes back with file:line:col. */
export function parseEvidenceConfig(file: string, text: string): { collectors: CommandCollectorSpec[]; problems: Problem[] } {
  const parsed = YamlSource.parse(file, text);
  if (!parsed.source) return { collectors: [], problems: parsed.problems };
  const src = parsed.source;
  const problems: Problem[] = [];
  const collectors: CommandCollectorSpec[] = [];
  const root = src.data as Record<string, unknown> | null;
  if (!root || typeof root !== 'object' || Array.isArray(root)) return { collectors, problems: [src.problem([], 'expected a mapping with a `collectors:` list')] };
  for (const key of Object.keys(root)) if (key !== 'collectors') problems.push(src.problem([key], `unknown field "${key}" (expected: collectors)`, true));
  const list = root.collectors;
  if (!Array.isArray(list)) {
    problems.push(src.problem(['collectors'], '`collectors` must be a list'));
    return { collectors, problems };
  }
  const seen = new Map<string, number>();
  list.forEach((item: unknown, i) => {
    const at = ['collectors', i];
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(src.problem(at, 'each collector must be a mapping with name and command'));
      return;
    }
    const c = item as Record<string, unknown>;
    const before = problems.length;
    for (const key of Object.keys(c)) if (!KNOWN.has(key)) problems.push(src.problem([...at, key], `unknown field "${key}" (expected: ${[...KNOWN].join(', ')})`, true));
    const name = c.name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      problems.push(src.problem([...at, 'name'], 'name must be lowercase letters, digits and dashes (it names the output file)'));
    } else if (name.startsWith('k8s-')) {
      problems.push(src.problem([...at, 'name'], `"${name}": names starting with k8s- belong to the Kubernetes collectors`));
    } else if (seen.has(name)) {
      problems.push(src.problem([...at, 'name'], `duplicate collector name "${name}" (first at collector ${seen.get(name)! + 1})`));
    } else {
      seen.set(name, i);
    }
    const shell = c.shell ?? false;
    if (typeof shell !== 'boolean') problems.push(src.problem([...at, 'shell'], 'shell must be true or false'));
    let command: string[] = [];
    if (typeof c.command === 'string' && shell === true) command = [c.command];
    else if (Array.isArray(c.command) && c.command.length && c.command.every((a) => typeof a === 'string' || typeof a === 'number')) command = c.command.map(String);
    else problems.push(src.problem([...at, 'command'], shell === true ? 'command must be a script (a string)' : 'command must be a list of arguments, e.g. [redis-cli, INFO]; a string needs `shell: true`'));
    let timeoutMs: number | undefined;
    if (c.timeout !== undefined) {
      timeoutMs = typeof c.timeout === 'string' ? parseDuration(c.timeout) : typeof c.timeout === 'number' ? c.timeout * 1000 : undefined;
      if (!timeoutMs) problems.push(src.problem([...at, 'timeout'], `timeout must be ${DURATION_HINT}`));
    }
    const strings = (key: string): string[] => {
      const v = c[key];
      if (v === undefined) return [];
      if (typeof v === 'string') return [v];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      problems.push(src.problem([...at, key], `${key} must be a string or a list of strings`));
      return [];
    };
    const requires = strings('requires');
    const requiresEnv = strings('requires_env');
    const requiresFile = strings('requires_file');
    const ext = c.ext ?? 'txt';
    if (typeof ext !== 'string' || !/^[a-z0-9]{1,8}$/.test(ext)) problems.push(src.problem([...at, 'ext'], 'ext must be a short file extension such as txt or json'));
    if (c.description !== undefined && typeof c.description !== 'string') problems.push(src.problem([...at, 'description'], 'description must be a string'));
    if (problems.length === before) {
      collectors.push({
        name: name as string,
        description: (c.description as string | undefined) ?? command.join(' '),
        command,
        shell: shell === true,
        timeoutMs,
        requires,
        requiresEnv,
        requiresFile,
        ext: ext as string,
      });
    }
  });
  return { collectors, problems };
}

export function loadEvidenceConfig(path: string, display: string): CommandCollectorSpec[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read: ${(err as Error).message}`, { location: { file: display } });
  }
  const { collectors, problems } = parseEvidenceConfig(display, text);
  if (problems.length) throw problemsError(problems);
  return collectors;
}

/** Is `bin` an executable on PATH (or a path that is)? */
export function findBinary(bin: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = bin.includes('/') ? [bin] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, bin));
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** ${NAME} and ${NAME:-default}, from ir's own variables first, then the environment. */
export function expand(text: string, vars: Record<string, string | undefined>): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return '';
  });
  return { value, missing };
}

export interface CommandContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** IR_SINCE, IR_NAMESPACE, …: what a collector's command may refer to. */
  vars: Record<string, string>;
  defaultTimeoutMs: number;
}

export function commandCollectors(specs: CommandCollectorSpec[], cx: CommandContext): Collector[] {
  const secrets = Object.entries(cx.env)
    .filter(([k, v]) => SECRET_ENV.test(k) && v)
    .map(([, v]) => v as string);
  const redactor = new Redactor(secrets);
  const lookup = { ...cx.env, ...cx.vars };

  return specs.map((spec): Collector => {
    const expanded = spec.shell ? { argv: ['/bin/sh', '-c', spec.command[0]], missing: [] as string[] } : (() => {
      const missing: string[] = [];
      const argv = spec.command.map((a) => {
        const r = expand(a, lookup);
        missing.push(...r.missing);
        return r.value;
      });
      return { argv, missing };
    })();
    const shown = redactor.mask(spec.shell ? `sh -c ${JSON.stringify(spec.command[0])}` : expanded.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' '));
    return {
      name: spec.name,
      kind: 'command',
      description: shown,
      timeoutMs: spec.timeoutMs ?? cx.defaultTimeoutMs,
      skipReason: () => {
        for (const name of spec.requiresEnv) if (!lookup[name]) return `${name} is not set`;
        if (expanded.missing.length) return `${[...new Set(expanded.missing)].join(', ')} ${expanded.missing.length === 1 ? 'is' : 'are'} not set`;
        for (const bin of [...spec.requires, ...(spec.shell ? [] : [expanded.argv[0]])]) {
          if (!findBinary(bin, cx.env)) return `${bin} not found on PATH`;
        }
        for (const f of spec.requiresFile) {
          const path = expand(f, lookup).value;
          if (!existsSync(isAbsolute(path) ? path : join(cx.cwd, path))) return `${path} does not exist`;
        }
        return undefined;
      },
      run: async (r) => {
        const file = await r.file(`${spec.name}.${spec.ext}`, shown);
        // Our own hashing writer, not the Runner's file: its sha256 covers exactly the bytes that
        // reached the disk, and a write error (a full disk) stops the command instead of crashing ir.
        const out = file.writer();
        const stop = new AbortController();
        const onAbort = () => stop.abort(r.signal.reason);
        if (r.signal.aborted) onAbort();
        else r.signal.addEventListener('abort', onAbort, { once: true });
        out.once('error', (err) => stop.abort(err));
        let outcome;
        try {
          // The scheduler owns the timeout (it aborts the signal); this one is only a backstop.
          outcome = await runCommand({
            argv: expanded.argv,
            env: { ...cx.vars },
            cwd: cx.cwd,
            timeoutMs: r.timeoutMs + 60_000,
            secrets,
            signal: stop.signal,
            onOutput: (text) => {
              if (!out.destroyed) out.write(text);
            },
          });
        } finally {
          r.signal.removeEventListener('abort', onAbort);
        }
        if (out.failure) return file.done(); // recorded as failed with the write error
        if (outcome.aborted || r.signal.aborted) throw r.signal.reason ?? new Error('aborted');
        if (outcome.spawnError) return file.done('failed', outcome.spawnError);
        if (outcome.timedOut) return file.done('timeout', 'timed out; partial output kept');
        if (outcome.exitCode !== 0) return file.done('failed', outcome.signal ? `killed by ${outcome.signal}` : `exit ${outcome.exitCode}`);
        await file.done();
      },
    };
  });
}
