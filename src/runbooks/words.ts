// Commands in runbooks: `{{name}}` templates, POSIX-like word splitting at load time, and filling
// values in so that a value is always exactly one literal argument — with or without a shell.
//
// Two layers, applied in this order:
// 1. Template: `{{name}}` (spaces inside the braces allowed) refers to a variable; `\{{` is a literal
//    `{{`; any other `{{` (Go templates such as `{{.State.Status}}`) is literal text.
// 2. Shell words (run commands without `shell: true`): whitespace separates words; '...' is
//    literal; "..." keeps the text with backslash escaping only \" \\ \$ \` and a line break;
//    a backslash outside quotes escapes the next character. What a shell would do on its own —
//    pipes, redirects, `;`, `&&`, `$(...)`, `$NAME`, backticks, unquoted globs — is refused, because
//    nothing would do it: the command runs without a shell.

import { UserError } from '../errors.js';
import type { CommandTemplate, TemplatePart, TextTemplate, WordTemplate } from './format.js';

/** Values of variables by name; a name without a value is left out (or undefined). */
export type Values = ReadonlyMap<string, string> | Readonly<Record<string, string | undefined>>;

export interface CommandError {
  error: string;
  /** 1-based column in the command text. */
  column: number;
}

export type SplitResult = { words: WordTemplate[] } | CommandError;

const REF = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/y;

type TemplateToken = { kind: 'ref'; name: string; end: number } | { kind: 'escape'; end: number };

function templateAt(text: string, i: number): TemplateToken | undefined {
  if (text.startsWith('\\{{', i)) return { kind: 'escape', end: i + 3 };
  if (text.startsWith('{{', i)) {
    REF.lastIndex = i;
    const m = REF.exec(text);
    if (m) return { kind: 'ref', name: m[1], end: i + m[0].length };
  }
  return undefined;
}

/** Every `{{name}}` in text with its 0-based offset, in order. */
export function findReferences(text: string): Array<{ name: string; offset: number }> {
  const refs: Array<{ name: string; offset: number }> = [];
  for (let i = 0; i < text.length; ) {
    const t = templateAt(text, i);
    if (t?.kind === 'ref') refs.push({ name: t.name, offset: i });
    i = t ? t.end : i + 1;
  }
  return refs;
}

/** Text with references, for print commands, env values and cwd. */
export function parseTemplate(source: string): TextTemplate {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < source.length; ) {
    const t = templateAt(source, i);
    if (t?.kind === 'ref') {
      flush();
      parts.push({ kind: 'var', name: t.name });
    } else if (t?.kind === 'escape') {
      text += '{{';
    } else {
      text += source[i];
    }
    i = t ? t.end : i + 1;
  }
  flush();
  return { source, parts };
}

const NEEDS_SHELL = 'needs a shell: add shell: true, or quote it if it is meant literally';

function operatorAt(text: string, i: number): string | undefined {
  const two = text.slice(i, i + 2);
  if (two === '&&' || two === '||') return `"${two}" ${NEEDS_SHELL}`;
  if (two === '>>' || two === '<<') return `"${two}" (a redirect) ${NEEDS_SHELL}`;
  switch (text[i]) {
    case '|':
      return `"|" (a pipe) ${NEEDS_SHELL}`;
    case '&':
      return `"&" (run in the background) ${NEEDS_SHELL}`;
    case ';':
      return `";" (a command separator) ${NEEDS_SHELL}`;
    case '<':
    case '>':
      return `"${text[i]}" (a redirect) ${NEEDS_SHELL}`;
    case '(':
    case ')':
      return `"${text[i]}" ${NEEDS_SHELL}`;
    default:
      return undefined;
  }
}

/** `$(...)`, `$NAME`, `${NAME}` and backticks: expansions only a shell performs. */
function expansionAt(text: string, i: number): string | undefined {
  if (text[i] === '`') return `backticks (command substitution) need a shell: add shell: true, or quote them with '...'`;
  if (text[i] !== '$') return undefined;
  if (templateAt(text, i + 1)?.kind === 'ref') return undefined; // `${{price}}`: a literal $ before a value
  const next = text[i + 1];
  if (next === '(') return `"$(...)" (command substitution) ${NEEDS_SHELL}`;
  const m = /^\$(\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(text.slice(i));
  if (m) {
    return `"${m[0]}" is expanded only by a shell: use a runbook variable ({{name}}) or env:, add shell: true, or quote it with '...' if it is meant literally`;
  }
  return undefined;
}

/**
 * Splits a run command into word templates, or says what is wrong and where. Only the first
 * problem is reported: after one, the rest of the command cannot be read reliably.
 */
export function splitCommand(text: string): SplitResult {
  const words: WordTemplate[] = [];
  let word: WordTemplate | undefined;
  const literal = (s: string) => {
    word ??= [];
    const last = word[word.length - 1];
    if (last?.kind === 'text') last.text += s;
    else word.push({ kind: 'text', text: s });
  };
  const fail = (error: string, at: number): CommandError => ({ error, column: at + 1 });

  const assignment = /^(\s*)[A-Za-z_][A-Za-z0-9_]*=/.exec(text);
  if (assignment) {
    return fail('a NAME=value before the command sets an environment variable only in a shell: use env: instead', assignment[1].length);
  }

  let quote: '"' | "'" | undefined;
  let quoteAt = 0;
  for (let i = 0; i < text.length; ) {
    const t = templateAt(text, i);
    if (t) {
      if (t.kind === 'ref') {
        word ??= [];
        word.push({ kind: 'var', name: t.name });
      } else {
        literal('{{');
      }
      i = t.end;
      continue;
    }
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else literal(c);
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') {
        quote = undefined;
        i++;
      } else if (c === '\\') {
        const n = text[i + 1];
        if (n === '\n') i += 2;
        else if (n !== undefined && '"\\$`'.includes(n)) {
          literal(n);
          i += 2;
        } else {
          literal('\\');
          i++;
        }
      } else {
        const bad = expansionAt(text, i);
        if (bad) return fail(bad, i);
        literal(c);
        i++;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (word) words.push(word);
      word = undefined;
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      quoteAt = i;
      word ??= [];
      i++;
      continue;
    }
    if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) return fail('a backslash at the end of the command escapes nothing', i);
      if (n !== '\n') literal(n);
      i += 2;
      continue;
    }
    const bad = operatorAt(text, i) ?? expansionAt(text, i);
    if (bad) return fail(bad, i);
    if (c === '*' || c === '?' || c === '[') {
      return fail(`unquoted "${c}" is a wildcard that only a shell expands: quote it ('${c}') if it is meant literally, or add shell: true`, i);
    }
    if (word === undefined && c === '#') return fail('"#" starts a comment in a shell: quote it if it is meant literally', i);
    if (word === undefined && c === '~') return fail('"~" at the start of a word is expanded only by a shell: write the path in full, or add shell: true', i);
    literal(c);
    i++;
  }
  if (quote) return fail(`unbalanced quotes: the ${quote} here is never closed`, quoteAt);
  if (word) words.push(word);
  if (!words.length) return fail('the command is empty', 0);
  return { words };
}

type ShellContext = 'top' | 'paren' | 'sq' | 'dq' | 'bq' | 'brace' | 'arith';

/**
 * Checks a `shell: true` command: quotes balanced, and every `{{name}}` where a single-quoted
 * value stays one literal word — outside quotes, backticks, `${...}`, `$((...))` and here-documents.
 */
export function checkShellCommand(text: string): CommandError[] {
  const problems: CommandError[] = [];
  const stack: Array<{ ctx: ShellContext; at: number }> = [];
  const top = (): ShellContext => stack[stack.length - 1]?.ctx ?? 'top';
  let heredoc = false;
  let wordStart = true;
  const hint = 'pass the value in env: and write "$NAME" instead';
  for (let i = 0; i < text.length; ) {
    const t = templateAt(text, i);
    const ctx = top();
    if (t) {
      if (t.kind === 'ref') {
        const ref = text.slice(i, t.end);
        let error: string | undefined;
        if (ctx === 'sq' || ctx === 'dq') {
          error = `${ref} is inside quotes: with shell: true ir inserts every value single-quoted, so write ${ref} without quotes around it`;
        } else if (ctx === 'bq') error = `${ref} is inside backticks: use $(...) instead`;
        else if (ctx === 'brace') error = `${ref} is inside \${...}, where a quoted value is not one literal word: ${hint}`;
        else if (ctx === 'arith') error = `${ref} is inside $((...)), where a value would be evaluated: ${hint}`;
        else if (heredoc) error = `${ref} is in a command with a here-document, where a shell would expand $(...) in the value: ${hint}`;
        else if (text[i - 1] === '$') error = `"$" right before ${ref} would change how the value is quoted: remove it`;
        if (error) problems.push({ error, column: i + 1 });
      }
      wordStart = false;
      i = t.end;
      continue;
    }
    const c = text[i];
    const starts = (s: string) => text.startsWith(s, i);
    switch (ctx) {
      case 'sq':
        if (c === "'") stack.pop();
        i++;
        continue;
      case 'dq':
      case 'bq':
      case 'brace':
        if (c === '\\') i += 2;
        else if ((ctx === 'dq' && c === '"') || (ctx === 'bq' && c === '`') || (ctx === 'brace' && c === '}')) {
          stack.pop();
          i++;
        } else if (ctx !== 'bq' && starts('$((')) {
          stack.push({ ctx: 'arith', at: i });
          i += 3;
        } else if (ctx !== 'bq' && starts('$(')) {
          stack.push({ ctx: 'paren', at: i });
          i += 2;
        } else if (ctx !== 'bq' && starts('${') && templateAt(text, i + 1)?.kind !== 'ref') {
          stack.push({ ctx: 'brace', at: i });
          i += 2;
        } else if (ctx !== 'bq' && c === '`') {
          stack.push({ ctx: 'bq', at: i });
          i++;
        } else if (ctx === 'brace' && (c === '"' || c === "'")) {
          stack.push({ ctx: c === '"' ? 'dq' : 'sq', at: i });
          i++;
        } else i++;
        continue;
      case 'arith':
        if (starts('))')) {
          stack.pop();
          i += 2;
        } else i++;
        continue;
      default:
        break;
    }
    // top level or inside $( ... )
    if (c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '|' || c === '&') {
      wordStart = true;
      i++;
      continue;
    }
    if (c === '#' && wordStart) {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
      continue;
    }
    wordStart = false;
    if (c === '\\') i += 2;
    else if (c === "'" || c === '"') {
      stack.push({ ctx: c === '"' ? 'dq' : 'sq', at: i });
      i++;
    } else if (c === '`') {
      stack.push({ ctx: 'bq', at: i });
      i++;
    } else if (starts('$((')) {
      stack.push({ ctx: 'arith', at: i });
      i += 3;
    } else if (starts('$(')) {
      stack.push({ ctx: 'paren', at: i });
      i += 2;
    } else if (starts('${') && templateAt(text, i + 1)?.kind !== 'ref') {
      stack.push({ ctx: 'brace', at: i });
      i += 2;
    } else if (c === '(') {
      stack.push({ ctx: 'paren', at: i });
      wordStart = true;
      i++;
    } else if (c === ')') {
      if (ctx === 'paren') stack.pop();
      i++;
    } else if (starts('<<')) {
      heredoc = true;
      i += 2;
    } else i++;
  }
  for (const open of stack) {
    if (open.ctx === 'sq' || open.ctx === 'dq') {
      problems.push({ error: `unbalanced quotes: the ${open.ctx === 'sq' ? "'" : '"'} here is never closed`, column: open.at + 1 });
    } else if (open.ctx === 'bq') {
      problems.push({ error: 'unbalanced backticks: the ` here is never closed', column: open.at + 1 });
    }
  }
  return problems;
}

function lookup(values: Values, name: string): string | undefined {
  if (values instanceof Map) return values.get(name);
  const record = values as Readonly<Record<string, string | undefined>>;
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

function required(values: Values, name: string): string {
  const v = lookup(values, name);
  if (v === undefined) throw new UserError(`no value for {{${name}}}`);
  return v;
}

/** argv for a split command: each word's parts joined, values inserted as they are. */
export function renderArgv(words: WordTemplate[], values: Values): string[] {
  return words.map((w) => w.map((p) => (p.kind === 'text' ? p.text : required(values, p.name))).join(''));
}

/** A value as one literal word for /bin/sh: single-quoted, each ' written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes only when a shell would otherwise change the text; for showing commands to people. */
export function quoteIfNeeded(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : shellQuote(value);
}

/**
 * The script for `/bin/sh -c` of a `shell: true` command: each `{{name}}` becomes the value
 * single-quoted. Authors must not put quotes around `{{name}}` (checkShellCommand refuses it).
 */
export function renderShell(text: string, values: Values): string {
  return substitute(text, (name) => shellQuote(required(values, name)));
}

/** A text template (print, env, cwd) with its values inserted as they are. */
export function renderText(template: TextTemplate, values: Values): string {
  return template.parts.map((p) => (p.kind === 'text' ? p.text : required(values, p.name))).join('');
}

export interface DisplayOptions {
  /** Names whose values are shown as `****`. */
  secrets?: ReadonlySet<string>;
}

const MASK = '****';

function shown(name: string, values: Values, opts: DisplayOptions, quote: (s: string) => string): string {
  if (opts.secrets?.has(name)) return MASK;
  const v = lookup(values, name);
  return v === undefined ? `{{${name}}}` : quote(v);
}

/**
 * A command filled in for people to read (and copy): secret values as `****`, names without a
 * value left as `{{name}}`, quoting only where a shell would need it.
 */
export function displayCommand(command: CommandTemplate, values: Values, opts: DisplayOptions = {}): string {
  if (command.shell) return substitute(command.source, (name) => shown(name, values, opts, quoteIfNeeded));
  return command.words
    .map((w) => (w.length === 0 ? "''" : w.map((p) => (p.kind === 'text' ? quoteIfNeeded(p.text) : shown(p.name, values, opts, quoteIfNeeded))).join('')))
    .join(' ');
}

/** A text template filled in for people to read: secrets `****`, missing values `{{name}}`. */
export function displayText(template: TextTemplate, values: Values, opts: DisplayOptions = {}): string {
  return template.parts.map((p) => (p.kind === 'text' ? p.text : shown(p.name, values, opts, (s) => s))).join('');
}

function substitute(text: string, replace: (name: string) => string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const t = templateAt(text, i);
    if (t?.kind === 'ref') out += replace(t.name);
    else if (t?.kind === 'escape') out += '{{';
    else out += text[i];
    i = t ? t.end : i + 1;
  }
  return out;
}
