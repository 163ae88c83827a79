// What a variable's value may be: its type, pattern and the dash rule, checked wherever a value is
// set (flag, environment, default, resume, prompt, ask). A value is one literal argument already;
// these rules stop it from being an option (`-delete`), a second line, or something of the wrong kind.

import { isIP } from 'node:net';
import type { Prompter } from '../io/prompter.js';
import { allSteps, type Runbook, type Step, type ValueRule, type ValueType } from './format.js';
import { findReferences } from './words.js';

export const VALUE_TYPES: readonly ValueType[] = ['name', 'host', 'port', 'int', 'path', 'url', 'text'];

/** How each type is described in messages: "is not <this>". */
const TYPE_HINTS: Record<ValueType, string> = {
  name: 'a name (lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters, as Kubernetes and DNS names are)',
  host: 'a host (a DNS name, an IPv4 or an IPv6 address)',
  port: 'a port (a whole number from 1 to 65535)',
  int: 'a whole number',
  path: 'a path (not empty)',
  url: 'a URL (scheme://host…, no spaces)',
  text: 'text',
};

const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Schemes whose URLs the WHATWG parser fully checks; others (mongodb://a:1,b:2/…) only need the shape.
const SPECIAL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);

function isHostName(v: string): boolean {
  const name = v.endsWith('.') ? v.slice(0, -1) : v;
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => DNS_LABEL.test(l));
}

function isUrl(v: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/]\S*$/.test(v)) return false;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return !SPECIAL_SCHEMES.has(`${v.slice(0, v.indexOf(':')).toLowerCase()}:`);
  }
  return !SPECIAL_SCHEMES.has(url.protocol) || url.host !== '';
}

function fitsType(v: string, type: ValueType): boolean {
  switch (type) {
    case 'name':
      return v.length <= 253 && K8S_NAME.test(v);
    case 'host':
      return isIP(v) !== 0 || isHostName(v);
    case 'port':
      return /^[0-9]{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535;
    case 'int':
      return /^-?[0-9]+$/.test(v);
    case 'path':
      return v.length > 0;
    case 'url':
      return isUrl(v);
    case 'text':
      return true;
  }
}

/** A variable's `pattern:` as it is matched: against the whole value. */
export function patternRegExp(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/**
 * Why a value is refused, or undefined when it is fine. `show` is how the value appears in the
 * reason ("-delete", or nothing for a secret, which is never echoed).
 */
export function valueProblem(value: string, rule: ValueRule, secret = false): string | undefined {
  const shown = secret ? 'the value' : JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value.includes('\0')) return `${shown} contains a NUL character, which no command argument or environment value can carry`;
  if (rule.type !== 'text' && /[\n\r]/.test(value)) return `${shown} contains a line break, which only a variable of type text may hold`;
  if (value.startsWith('-') && !rule.allowDash) {
    const hint = !secret && (rule.type === 'path' || rule.type === undefined) ? ` (a file can be written ./${value})` : '';
    return `${shown} begins with "-", so the program would read it as an option, not as a value${hint}; a variable that really takes such values needs allow_dash: true in the runbook`;
  }
  if (rule.type && !fitsType(value, rule.type)) return `${shown} is not ${TYPE_HINTS[rule.type]}`;
  if (rule.pattern !== undefined && !patternRegExp(rule.pattern).test(value)) return `${shown} does not match the pattern /${rule.pattern}/`;
  return undefined;
}

export interface VariableRule extends ValueRule {
  secret: boolean;
}

/**
 * The rule of every variable a runbook knows: declared ones, and answers of ask steps (an ask of a
 * declared variable follows the declaration; an undeclared one its own type/pattern/allow_dash).
 */
export function variableRules(runbook: Runbook): Map<string, VariableRule> {
  const rules = new Map<string, VariableRule>();
  for (const v of runbook.variables) rules.set(v.name, { type: v.type, pattern: v.pattern, allowDash: v.allowDash, secret: v.secret });
  for (const s of allSteps(runbook)) {
    if (s.kind === 'regimes') {
      // The choice of a non-interactive run: offered ids, comma-separated, or none.
      const id = `(?:${s.offer.map((o) => o.replace(/[^a-z0-9-]/g, '')).join('|')})`;
      if (!rules.has(s.variable)) rules.set(s.variable, { pattern: `none|${id}(?:\\s*,\\s*${id})*`, allowDash: false, secret: false });
      continue;
    }
    if (s.kind !== 'ask') continue;
    const declared = rules.get(s.variable);
    if (declared) declared.secret ||= s.secret;
    else rules.set(s.variable, { ...s.rule, secret: s.secret });
  }
  return rules;
}

/** The template texts of a step that values are filled into. */
export function stepTexts(step: Step): string[] {
  if (step.kind === 'run') return [step.command.source, ...Object.values(step.env).map((t) => t.source), ...(step.cwd ? [step.cwd.source] : [])];
  if (step.kind === 'print') return [step.command.source];
  return [];
}

/** The steps that would receive a variable's value, as `step "x" (file:line)`, for messages. */
export function receivers(runbook: Runbook, name: string): string {
  const steps = allSteps(runbook).filter((s) => (s.kind === 'regimes' && s.variable === name) || stepTexts(s).some((t) => findReferences(t).some((r) => r.name === name)));
  if (!steps.length) return `no step of ${runbook.id} uses it`;
  const shown = steps.slice(0, 3).map((s) => `"${s.id}" (${s.location.file}:${s.location.line})`);
  const more = steps.length > 3 ? ` and ${steps.length - 3} more` : '';
  return `${steps.length > 1 ? 'steps' : 'step'} ${shown.join(', ')}${more} would receive it`;
}

/**
 * Asks until the answer passes the variable's checks; each refusal says why (a secret is never
 * echoed). `emptyOk`: an empty answer is returned as is (an ask step treats it as "skip").
 */
export async function askValue(prompter: Prompter, message: string, rule: VariableRule, ctx: { err(text: string): void }, opts: { default?: string; emptyOk?: boolean } = {}): Promise<string> {
  const problem = (v: string) => (v === '' && opts.emptyOk ? undefined : valueProblem(v, rule, rule.secret));
  if (!rule.secret) return prompter.input({ message, default: opts.default, validate: (v) => problem(v) ?? true });
  for (;;) {
    const answer = await prompter.password({ message });
    const why = problem(answer);
    if (!why) return answer;
    ctx.err(`  ${why}: try again`);
  }
}
