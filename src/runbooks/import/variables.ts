// Hard-coded names that recur across a playbook's commands (the namespace after -n, a database
// host, a deployment) become runbook variables whose default is the original value, so that the
// runbook works unchanged and a responder can point it elsewhere with one answer.

import { checkShellCommand, splitCommand } from '../words.js';
import { lex } from './commands.js';
import type { Draft, DraftStep } from './scenarios.js';

type Kind = 'namespace' | 'context' | 'deployment' | 'statefulset' | 'host' | 'compose_file';

const DESCRIPTIONS: Record<Kind, string> = {
  namespace: 'Kubernetes namespace',
  context: 'kubectl context (cluster)',
  deployment: 'Kubernetes Deployment',
  statefulset: 'Kubernetes StatefulSet',
  host: 'Database or cache host',
  compose_file: 'Docker Compose file',
};

interface Occurrence {
  kind: Kind;
  value: string;
  /** Offsets in the step's command. */
  start: number;
  end: number;
}

const VALUE_OK = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** Names worth a variable in one command, with where they are. */
export function occurrences(command: string): Occurrence[] {
  const out: Occurrence[] = [];
  const lx = lex(command);
  for (const seg of lx.segments) {
    const tool = seg.find((w) => !/^(sudo|env|time|nohup)$/.test(w.text) && !w.text.includes('='))?.text.replace(/^.*\//, '');
    // Only words written without quotes or escapes can be replaced in place.
    const plain = (w: { text: string; start: number; end: number }) => command.slice(w.start, w.end) === w.text && VALUE_OK.test(w.text) && !w.text.includes('{{');
    const add = (kind: Kind, w: { text: string; start: number; end: number }, offset = 0, value = w.text.slice(offset)) => {
      if (plain(w) && VALUE_OK.test(value)) out.push({ kind, value, start: w.start + offset, end: w.start + offset + value.length });
    };
    for (let i = 0; i < seg.length; i++) {
      const w = seg[i];
      const next = seg[i + 1];
      if (tool === 'kubectl' || tool === 'oc' || tool === 'helm') {
        if ((w.text === '-n' || w.text === '--namespace') && next) add('namespace', next);
        else if (w.text.startsWith('--namespace=')) add('namespace', w, '--namespace='.length);
        else if (w.text === '--context' && next) add('context', next);
        else if (w.text.startsWith('--context=')) add('context', w, '--context='.length);
        else if (tool !== 'helm') {
          const m = /^(deployment|deployments|deploy|deployment\.apps|statefulset|statefulsets|sts)\/(.+)$/.exec(w.text);
          if (m) add(/^(deploy)/.test(m[1]) ? 'deployment' : 'statefulset', w, m[1].length + 1);
          else if (/^(deployment|deployments|deploy)$/.test(w.text) && next && !next.text.startsWith('-')) add('deployment', next);
          else if (/^(statefulset|statefulsets|sts)$/.test(w.text) && next && !next.text.startsWith('-')) add('statefulset', next);
        }
      } else if (tool === 'redis-cli' || tool === 'psql' || tool === 'mysql' || tool === 'pg_isready' || tool === 'pg_dump' || tool === 'mongosh' || tool === 'mongo') {
        if ((w.text === '-h' || w.text === '--host') && next) add('host', next);
        else if (w.text.startsWith('--host=')) add('host', w, '--host='.length);
      } else if ((tool === 'docker' || tool === 'docker-compose') && (w.text === '-f' || w.text === '--file') && next && /\.ya?ml$/.test(next.text)) {
        add('compose_file', next);
      }
    }
  }
  return out;
}

function commandSteps(draft: Draft): DraftStep[] {
  return draft.phases.flatMap((p) => p.steps).filter((s) => s.command !== undefined && (s.kind === 'run' || s.kind === 'print'));
}

/** Does the step still load with this command? */
function loads(step: DraftStep, command: string): boolean {
  if (step.kind !== 'run') return true;
  if (step.plan?.shell) return checkShellCommand(command).length === 0;
  return !('error' in splitCommand(command));
}

/**
 * Turns values that recur (at least twice across the whole playbook) into variables of each draft
 * that uses them, and rewrites the commands. A command that would no longer load (a value inside
 * quotes of a shell command, say) keeps its literal value.
 */
export function extractVariables(drafts: Draft[]): void {
  const counts = new Map<string, number>();
  const key = (o: Occurrence) => `${o.kind}\0${o.value}`;
  for (const d of drafts) for (const s of commandSteps(d)) for (const o of occurrences(s.command!)) counts.set(key(o), (counts.get(key(o)) ?? 0) + 1);

  for (const d of drafts) {
    const steps = commandSteps(d);
    const found = steps.map((s) => occurrences(s.command!).filter((o) => (counts.get(key(o)) ?? 0) >= 2));
    // Names: the most used value of a kind in this runbook gets the plain name.
    const byKind = new Map<Kind, Map<string, number>>();
    for (const o of found.flat()) {
      const m = byKind.get(o.kind) ?? new Map<string, number>();
      m.set(o.value, (m.get(o.value) ?? 0) + 1);
      byKind.set(o.kind, m);
    }
    const names = new Map<string, string>();
    // Names the placeholders already took are not reused for a value the playbook wrote out.
    const taken = new Set(d.variables.map((v) => v.name));
    for (const [kind, values] of byKind) {
      const sorted = [...values].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      sorted.forEach(([value], i) => names.set(`${kind}\0${value}`, i === 0 && !taken.has(kind) ? kind : `${kind}_${value.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`));
    }
    const used = new Map<string, { value: string; kind: Kind; uses: number; line: number }>();
    steps.forEach((step, i) => {
      const occ = found[i].sort((a, b) => b.start - a.start);
      if (!occ.length) return;
      let text = step.command!;
      for (const o of occ) text = `${text.slice(0, o.start)}{{${names.get(key(o))}}}${text.slice(o.end)}`;
      if (!loads(step, text)) return;
      step.command = text;
      for (const o of occ) {
        const name = names.get(key(o))!;
        const u = used.get(name) ?? { value: o.value, kind: o.kind, uses: 0, line: step.line };
        u.uses++;
        used.set(name, u);
      }
    });
    for (const [name, u] of used) {
      d.variables.push({ name, description: `${DESCRIPTIONS[u.kind]} (the playbook says ${u.value})`, default: u.value });
      d.guesses.push({ line: u.line, message: `variable {{${name}}} replaces "${u.value}" in ${u.uses} command${u.uses === 1 ? '' : 's'} (default ${u.value})` });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Placeholders a responder fills in: `<pod>`, `<pod-name>`, `[namespace]`, `$DATABASE_URL`,
// `${NS}`, `YOUR_HOST`, `KEY_ID`. Each becomes a declared variable (`{{pod_name}}`), typed where
// its name says what it holds, so that a command that only reads can still be a `run` step.

export interface Placeholder {
  name: string;
  /** As written in the playbook. */
  original: string;
  type?: 'name' | 'host' | 'port' | 'int' | 'path' | 'url' | 'text';
  /** `$NAME`: the responder's environment gives the value. */
  env?: string;
  secret?: boolean;
  /** Written right after `-n`/`--namespace`. */
  namespace?: boolean;
}

/** Environment variables every shell has: not placeholders. */
const SHELL_OWN = new Set(['HOME', 'USER', 'PATH', 'PWD', 'SHELL', 'HOSTNAME', 'RANDOM', 'TMPDIR', 'LANG', 'TERM', 'EDITOR', 'UID', 'OLDPWD', 'IFS', 'KUBECONFIG']);

export function variableName(written: string): string {
  return written
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, 'v_$1');
}

function typeFor(name: string, namespace: boolean): Placeholder['type'] {
  if (namespace || /(^|_)(namespace|ns|project)$/.test(name)) return 'name';
  if (/(^|_)(pod|deployment|deploy|node|service|svc|statefulset|sts|container|pvc|pv|ingress|configmap|cluster|context|release|job|cronjob|daemonset|replicaset|secret)(_name)?$/.test(name)) return 'name';
  if (/(^|_)(host|hostname|fqdn)$/.test(name)) return 'host';
  if (/(^|_)port$/.test(name)) return 'port';
  if (/(^|_)(pid|replicas|count)$/.test(name)) return 'int';
  if (/(^|_)(path|file|dir|directory)$/.test(name)) return 'path';
  return undefined;
}

/**
 * Replaces the placeholders of a command with `{{name}}` references. `assigned` are shell variables
 * the playbook's own script sets (they stay as written). Inside single quotes only `<x>` and
 * `YOUR_X` count: `$7` in awk or `{end}` in jsonpath are not placeholders.
 */
export function fillPlaceholders(command: string, assigned: readonly string[] = [], remote = false): { text: string; found: Placeholder[] } {
  const found = new Map<string, Placeholder>();
  let out = '';
  let quote: string | undefined;
  const add = (original: string, raw: string, extra: Partial<Placeholder> = {}): string => {
    const name = variableName(raw);
    if (!name) return original;
    const before = out.replace(/\s+$/, '');
    const namespace = /(^|\s)(-n|--namespace)$/.test(before) || /--namespace=$/.test(out);
    const p: Placeholder = found.get(name) ?? { name, original, ...extra };
    const type = typeFor(name, namespace);
    if (type && !p.type) p.type = type;
    if (namespace) p.namespace = true;
    found.set(name, p);
    return `{{${name}}}`;
  };
  for (let i = 0; i < command.length; ) {
    const c = command[i];
    const rest = command.slice(i);
    const prev = command[i - 1] ?? ' ';
    if (quote === "'" && c === "'") quote = undefined;
    else if (quote === '"' && c === '"' && prev !== '\\') quote = undefined;
    else if (!quote && (c === "'" || c === '"')) quote = c;
    let m: RegExpExecArray | null;
    if (c === '<' && prev !== '<' && (m = /^<([A-Za-z][\w.-]*(?: [A-Za-z][\w.-]*){0,3})>/.exec(rest)) && command[i + m[0].length] !== '>') {
      out += add(m[0], m[1]);
      i += m[0].length;
      continue;
    }
    if (!remote && quote !== "'" && c === '$' && (m = /^\$(?:\{([A-Z][A-Z0-9_]*)\}|([A-Z][A-Z0-9_]*))/.exec(rest))) {
      const env = m[1] ?? m[2];
      if (!SHELL_OWN.has(env) && !assigned.includes(env)) {
        out += add(m[0], env, { env, ...(/TOKEN|PASSWORD|SECRET|PASSWD|API_KEY|CREDENTIAL/.test(env) ? { secret: true } : {}) });
        i += m[0].length;
        continue;
      }
    }
    if (!/[A-Za-z0-9_$]/.test(prev) && (m = /^(YOUR[_-][A-Z0-9_-]*[A-Z0-9]|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w=(])/.exec(rest)) && (m[1].startsWith('YOUR') || !quote) && !SHELL_OWN.has(m[1]) && !assigned.includes(m[1]) && command[i + m[0].length] !== '=') {
      out += add(m[0], m[1]);
      i += m[0].length;
      continue;
    }
    if (!quote && c === '[' && /[\s=/:]/.test(prev) && (m = /^\[([A-Za-z][\w-]+)\](?![\w[])/.exec(rest))) {
      out += add(m[0], m[1]);
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return { text: out, found: [...found.values()] };
}
