// Checks a runbook document against runbooks/schema.json and turns each ajv error into a sentence
// a runbook author understands, placed at file:line:col. The semantic rules (ids, references,
// commands, on_failure) live in loader.ts; the schema's oneOf/if-then parts that repeat them for
// editors are left to loader.ts so each mistake is reported once.

import type { ErrorObject } from 'ajv/dist/2020.js';
import { join } from 'node:path';
import { SHIPPED_RUNBOOKS } from '../config/paths.js';
import type { Problem, YamlPath, YamlSource } from '../config/yaml.js';
// Compiled from schema.json when ir is built: ajv's compiler never loads at run time.
import { validate as validator } from './schema-validator.js';

export const SCHEMA_FILE = join(SHIPPED_RUNBOOKS, 'schema.json');

export interface SchemaCheck {
  problems: Problem[];
  /** True when the schema already complained about this path or one above it. */
  flagged(path: YamlPath): boolean;
}

/** Keywords whose errors repeat what loader.ts says in better words (step actions, run-only fields). */
const LEFT_TO_LOADER = /\/(oneOf|anyOf|if|then|else|not)(\/|$)/;

export function checkSchema(source: YamlSource): SchemaCheck {
  const validate = validator;
  const problems: Problem[] = [];
  const flaggedPaths = new Set<string>();
  const flag = (path: YamlPath) => flaggedPaths.add(key(path));
  validate(source.data);
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    if (LEFT_TO_LOADER.test(err.schemaPath) || err.keyword === 'false schema') continue;
    if (err.schemaPath.includes('/propertyNames/')) continue; // reported by the propertyNames error itself
    const translated = translate(err, source);
    if (!translated) continue;
    flag(translated.path);
    const text = `${translated.problem.location.line}:${translated.problem.location.col}:${translated.problem.message}`;
    if (seen.has(text)) continue;
    seen.add(text);
    problems.push(translated.problem);
  }
  return {
    problems,
    flagged(path) {
      for (let depth = path.length; depth >= 0; depth--) if (flaggedPaths.has(key(path.slice(0, depth)))) return true;
      return false;
    },
  };
}

function key(path: YamlPath): string {
  return JSON.stringify(path);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON pointer → YAML path, with array indexes as numbers. */
function toPath(pointer: string, data: unknown): Array<string | number> {
  if (pointer === '') return [];
  const path: Array<string | number> = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const i = Number(seg);
      path.push(i);
      node = node[i];
    } else {
      path.push(seg);
      node = isRecord(node) ? node[seg] : undefined;
    }
  }
  return path;
}

/**
 * Who a path belongs to, in an author's words: `step "ping"`, `phase "immediate"`,
 * `variable "host"` or the runbook itself (''), and the path below it.
 */
export function describePath(data: unknown, path: YamlPath): { label: string; rest: YamlPath } {
  const get = (p: YamlPath): unknown => p.reduce<unknown>((n, k) => (Array.isArray(n) ? n[k as number] : isRecord(n) ? n[k as string] : undefined), data);
  if (path[0] === 'phases' && typeof path[1] === 'number') {
    const phase = get(path.slice(0, 2));
    const phaseId = isRecord(phase) && typeof phase.id === 'string' ? phase.id : undefined;
    const phaseLabel = phaseId !== undefined ? `phase "${phaseId}"` : `phase ${path[1] + 1}`;
    if (path[2] === 'steps' && typeof path[3] === 'number') {
      const step = get(path.slice(0, 4));
      const stepLabel = isRecord(step) && typeof step.id === 'string' ? `step "${step.id}"` : `step ${path[3] + 1} of ${phaseLabel}`;
      return { label: stepLabel, rest: path.slice(4) };
    }
    return { label: phaseLabel, rest: path.slice(2) };
  }
  if (path[0] === 'variables' && typeof path[1] === 'string') return { label: `variable "${path[1]}"`, rest: path.slice(2) };
  return { label: '', rest: path };
}

/** `"within"`, `"expect.stdout"`, `item 2 of "tags"`. */
export function fieldName(rest: YamlPath): string {
  const last = rest[rest.length - 1];
  if (typeof last === 'number') return `item ${last + 1} of ${fieldName(rest.slice(0, -1))}`;
  return `"${rest.join('.')}"`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  array: 'a list',
  object: 'a mapping (name: value)',
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
  null: 'empty',
};

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? (type as string[]) : [String(type)];
  const words = types.map((t) => TYPE_WORDS[t] ?? t);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : words[0];
}

function shortValue(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Closest candidate by edit distance, when close enough to be a typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Edit distance counting a swap of two neighbouring letters as one edit (rnu → run). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

function translate(err: ErrorObject, source: YamlSource): { path: YamlPath; problem: Problem } | undefined {
  const data = source.data;
  const path = toPath(err.instancePath, data);
  const { label, rest } = describePath(data, path);
  const prefix = label ? `${label}: ` : '';
  const parent = err.parentSchema ?? {};
  const params = err.params as Record<string, unknown>;
  /** The field's name, or the thing itself when the path ends at a step/phase/variable. */
  const subject = rest.length ? fieldName(rest) : label || 'the runbook';
  const whole = (sentence: string) => (rest.length ? `${prefix}${subject} ${sentence}` : `${subject} ${sentence}`);

  switch (err.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = isRecord(parent.properties) ? Object.keys(parent.properties) : [];
      const guess = didYouMean(name, allowed);
      const where = rest.length ? ` in ${fieldName(rest)}` : '';
      const hint = guess ? ` (did you mean "${guess}"?)` : allowed.length ? ` (expected one of: ${allowed.filter((k) => k !== '$schema').join(', ')})` : '';
      const full = [...path, name];
      return { path: full, problem: source.problem(full, `${prefix}unknown field "${name}"${where}${hint}`, true) };
    }
    case 'required': {
      const name = String(params.missingProperty);
      const message = rest.length ? `${prefix}${subject} is missing "${name}"` : `${prefix}missing "${name}"`;
      return { path: [...path, name], problem: source.problem(path, message) };
    }
    case 'type': {
      const hint = typeof parent.patternErrorMessage === 'string' ? parent.patternErrorMessage : `must be ${typeWords(params.type)}`;
      return { path, problem: source.problem(path, `${whole(hint)}, not ${shortValue(err.data)}`) };
    }
    case 'pattern': {
      const hint = typeof parent.patternErrorMessage === 'string' ? parent.patternErrorMessage : `must match ${String(params.pattern)}`;
      return { path, problem: source.problem(path, `${whole(hint)}, not ${shortValue(err.data)}`) };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const names = isRecord(parent.propertyNames) ? parent.propertyNames : {};
      const hint = typeof names.patternErrorMessage === 'string' ? names.patternErrorMessage : 'is not allowed';
      const what = path[path.length - 1] === 'variables' ? 'variable name' : path[path.length - 1] === 'env' ? 'environment variable name' : 'name';
      const full = [...path, name];
      return { path: full, problem: source.problem(full, `${prefix}${what} "${name}" ${hint}`, true) };
    }
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
      return { path, problem: source.problem(path, `${whole(`must be one of ${allowed.join(', ')}`)}, not ${shortValue(err.data)}`) };
    }
    case 'minItems':
    case 'minLength':
      return { path, problem: source.problem(path, whole('must not be empty')) };
    case 'minimum':
    case 'maximum': {
      const range = typeof parent.minimum === 'number' && typeof parent.maximum === 'number' ? `from ${parent.minimum} to ${parent.maximum}` : `${err.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}`;
      return { path, problem: source.problem(path, `${whole(`must be ${range}`)}, not ${shortValue(err.data)}`) };
    }
    default:
      return { path, problem: source.problem(path, whole(err.message ?? 'is not valid')) };
  }
}
