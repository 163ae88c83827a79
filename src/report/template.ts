// Renders the user-editable templates (postmortem, comms) with Handlebars. A team's directory can
// override any of them; a mistake in one names the template file and line. Compiled templates are
// cached under <home>/cache, keyed by their source, so the next run loads only the small runtime.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { displayPath, SHIPPED_TEMPLATES, teamOrShipped } from '../config/paths.js';

/** The template file to use: `<team dir>/templates/<name>` when it exists, else the shipped one. */
export function templatePath(teamDir: string, name: string): string {
  return teamOrShipped(join(teamDir, 'templates'), name, SHIPPED_TEMPLATES);
}

interface HandlebarsLike {
  create(): HandlebarsLike;
  registerHelper(name: string, fn: (...args: unknown[]) => unknown): void;
  template(spec: unknown): (context: unknown) => string;
  VERSION: string;
}

const COMPILE_OPTIONS = { noEscape: true, strict: false };

function helpers(hb: HandlebarsLike): HandlebarsLike {
  const env = hb.create();
  env.registerHelper('capitalize', (s: unknown) => (typeof s === 'string' && s ? s[0].toUpperCase() + s.slice(1) : s));
  env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  env.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : ''));
  return env;
}

/** A template's text, and its name as the responder would type it for messages. */
function readTemplate(file: string, cwd: string): { shown: string; source: string } {
  const shown = displayPath(file, cwd);
  try {
    return { shown, source: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new UserError(`cannot read template: ${(err as Error).message}`, { location: { file: shown } });
  }
}

export async function renderTemplate(file: string, context: unknown, cwd: string, cacheDir?: string): Promise<string> {
  const { shown, source } = readTemplate(file, cwd);
  const key = createHash('sha256').update(JSON.stringify(COMPILE_OPTIONS)).update('\0').update(source).digest('hex').slice(0, 32);
  const cached = cacheDir ? join(cacheDir, `${key}.js`) : undefined;

  let spec: string | undefined;
  let runtime: HandlebarsLike;
  if (cached && existsSync(cached)) {
    spec = readFileSync(cached, 'utf8');
    runtime = (await import('handlebars/runtime.js')).default as unknown as HandlebarsLike;
  } else {
    const { default: Handlebars } = await import('handlebars');
    try {
      Handlebars.parse(source);
      spec = Handlebars.precompile(source, COMPILE_OPTIONS) as string;
    } catch (err) {
      const message = (err as Error).message;
      const line = /line (\d+)/.exec(message)?.[1];
      const what = message.split('\n').filter((l) => l.trim() && !/^[-^ ]*$/.test(l) && !/^Parse error/.test(l)).pop() ?? message.split('\n')[0];
      throw new UserError(`template error: ${what}`, { location: { file: shown, line: line ? Number(line) : undefined } });
    }
    runtime = Handlebars as unknown as HandlebarsLike;
    if (cached) {
      try {
        mkdirSync(cacheDir!, { recursive: true, mode: 0o700 });
        const tmp = `${cached}.${process.pid}.tmp`;
        writeFileSync(tmp, spec, { mode: 0o600 });
        renameSync(tmp, cached);
      } catch {
        /* a cache is an optimisation; a read-only home still renders */
      }
    }
  }
  try {
    // The spec is Handlebars' own precompiled output for this exact source (keyed by its hash).
    const template = helpers(runtime).template(new Function(`return ${spec};`)());
    return template(context);
  } catch (err) {
    const e = err as Error & { lineNumber?: number };
    throw new UserError(`template error: ${e.message.split('\n')[0]}`, { location: { file: shown, line: e.lineNumber } });
  }
}

/** A template cut around one list: the text before it, each item's text, the text after it. */
export interface SplitTemplate {
  /** One item's text, as the each-block renders it. */
  item: (item: Record<string, unknown>) => string;
  /** Whether `item` prints the rows without Handlebars (a body of plain fields; see rowParts). */
  direct: boolean;
  /** For a direct split, what a row is made of: another thread prints rows with rowText() and no Handlebars. */
  row?: RowParts;
  /** For a direct split, `item` as a function of the fields' values in the order of `fields` (compileRow). */
  line?: (...values: string[]) => string;
  /** The rest of the template, cut where the items go. */
  around: (context: Record<string, unknown>) => { before: string; after: string };
}

/** Where the list's rows go in the rendered text: a string no template or record can contain. */
const SLOT = '\u0000ir-list-slot\u0000';

interface AstNode {
  type: string;
  path?: { type?: string; original?: string; parts?: string[]; depth?: number; data?: boolean };
  params?: AstNode[];
  hash?: unknown;
  original?: string;
  program?: { body: AstNode[]; blockParams?: string[] };
  inverse?: unknown;
  body?: AstNode[];
  loc?: unknown;
  value?: string;
}

/** Helpers a row's `{{name}}` would call instead of reading the field (Handlebars' built-ins and ours). */
const HELPER_NAMES = new Set(['helperMissing', 'blockHelperMissing', 'each', 'if', 'unless', 'with', 'log', 'lookup', 'capitalize', 'eq', 'join']);

/** A row as literal text and field names, in order: what a plain each-block body prints. */
export type RowParts = (string | { field: string })[];

/** One row printed from its parts, as the compiled each-block prints it (see rowParts). */
export function rowText(row: RowParts, x: Record<string, unknown>): string {
  let out = '';
  for (const p of row) out += typeof p === 'string' ? p : (x[p.field] ?? '');
  return out;
}

/**
 * rowText for one row's parts as a function of the fields' values, given in the order of `fields`:
 * one concatenation per row, with no object to build for it and no loop over the parts (a tenth of
 * a long report's per-event work). A field the row names outside `fields` prints nothing, as rowText.
 */
export function compileRow(row: RowParts, fields: readonly string[]): (...values: string[]) => string {
  // The literal text goes in as JSON string literals, the values by position: no source of the
  // template's is ever code.
  const terms = row.map((p) => (typeof p === 'string' ? JSON.stringify(p) : fields.includes(p.field) ? `v${fields.indexOf(p.field)}` : '""'));
  const params = fields.map((_, i) => `v${i}`);
  return new Function(...params, `return ${terms.length ? terms.join(' + ') : '""'};`) as (...values: string[]) => string;
}

/**
 * The each-block's body as text and fields, when it holds nothing else: literal text (already
 * trimmed by Handlebars' whitespace rules), comments, and `{{field}}`/`{{{field}}}` of a field the
 * rows carry (`fields`), which is not a helper's name. For such a body, string concatenation prints
 * exactly what the compiled template prints for rows of strings; Handlebars' per-call set-up cost
 * more than the rest of a row's work. Anything else (a helper, a path, a block) keeps Handlebars.
 */
function rowParts(body: AstNode[], fields: readonly string[]): RowParts | undefined {
  const parts: RowParts = [];
  for (const n of body) {
    if (n.type === 'ContentStatement') parts.push(n.value ?? '');
    else if (n.type === 'CommentStatement') continue;
    else if (n.type === 'MustacheStatement') {
      const p = n.path;
      const name = p?.original ?? '';
      const plain = p?.type === 'PathExpression' && !p?.data && !p?.depth && p?.parts?.length === 1 && p.parts[0] === name;
      if (!plain || n.params?.length || n.hash || HELPER_NAMES.has(name) || !fields.includes(name)) return undefined;
      parts.push({ field: name });
    } else return undefined;
  }
  return parts;
}

/**
 * `file` with the `{{#each list}}` block at its top level cut out, so a caller can write the rows
 * one at a time between `before` and `after` — a timeline of a million rows is never one string.
 * The output is what renderTemplate gives for the same context with the list in it.
 * Undefined when the template uses the list otherwise (nested, with `{{else}}`, `@index`, `../`):
 * then the caller renders the whole list with renderTemplate.
 */
export async function templateAround(file: string, list: string, cwd: string, cacheDir?: string, fields: readonly string[] = []): Promise<SplitTemplate | undefined> {
  const { shown, source } = readTemplate(file, cwd);
  const key = createHash('sha256').update(JSON.stringify(COMPILE_OPTIONS)).update(`\0around2:${list}:${fields.join(',')}\0`).update(source).digest('hex').slice(0, 32);
  const cached = cacheDir ? join(cacheDir, `${key}.json`) : undefined;
  let specs: { whole: string; item: string; row?: RowParts } | null | undefined;
  let runtime: HandlebarsLike;
  if (cached && existsSync(cached)) {
    specs = JSON.parse(readFileSync(cached, 'utf8')) as { whole: string; item: string; row?: RowParts } | null;
    runtime = (await import('handlebars/runtime.js')).default as unknown as HandlebarsLike;
  } else {
    const { default: Handlebars } = await import('handlebars');
    let ast: AstNode;
    try {
      ast = Handlebars.parse(source) as unknown as AstNode;
    } catch {
      // renderTemplate reports the mistake with its line.
      return undefined;
    }
    const body = ast.body ?? [];
    const at = body.findIndex((n) => n.type === 'BlockStatement' && n.path?.original === 'each' && n.params?.length === 1 && n.params[0].type === 'PathExpression' && n.params[0].original === list);
    const block = body[at];
    const inner = block && JSON.stringify(block.program);
    // The rows are rendered alone: a row that looks outside itself cannot be.
    const alone = block && !block.inverse && !block.program?.blockParams && !/"data":true|"depth":[1-9]|"original":"\.\.\//.test(inner!) && !/"original":"(this\.)?\.\./.test(inner!);
    const elsewhere = body.some((n, i) => i !== at && JSON.stringify(n).includes(`"original":"${list}`));
    if (!alone || elsewhere) specs = null;
    else {
      const whole = { ...ast, body: [...body.slice(0, at), { type: 'ContentStatement', value: SLOT, original: SLOT, loc: block.loc }, ...body.slice(at + 1)] };
      const item = { type: 'Program', body: block.program!.body, strip: {}, loc: block.loc };
      specs = {
        whole: Handlebars.precompile(whole as unknown as Parameters<typeof Handlebars.precompile>[0], COMPILE_OPTIONS) as string,
        item: Handlebars.precompile(item as unknown as Parameters<typeof Handlebars.precompile>[0], COMPILE_OPTIONS) as string,
        row: rowParts(block.program!.body, fields),
      };
    }
    runtime = Handlebars as unknown as HandlebarsLike;
    if (cached) {
      try {
        mkdirSync(cacheDir!, { recursive: true, mode: 0o700 });
        const tmp = `${cached}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(specs), { mode: 0o600 });
        renameSync(tmp, cached);
      } catch {
        /* a cache is an optimisation; a read-only home still renders */
      }
    }
  }
  if (!specs) return undefined;
  try {
    const env = helpers(runtime);
    // The specs are Handlebars' own precompiled output for this exact source (keyed by its hash).
    const whole = env.template(new Function(`return ${specs.whole};`)());
    const item = env.template(new Function(`return ${specs.item};`)());
    const fail = (err: unknown) => {
      const e = err as Error & { lineNumber?: number };
      return new UserError(`template error: ${e.message.split('\n')[0]}`, { location: { file: shown, line: e.lineNumber } });
    };
    const row = specs.row;
    return {
      direct: Boolean(row),
      row,
      line: row && compileRow(row, fields),
      item: row
        ? (x) => rowText(row, x)
        : (x) => {
            try {
              return item(x);
            } catch (err) {
              throw fail(err);
            }
          },
      around: (context) => {
        let text: string;
        try {
          text = whole({ ...context, [list]: [] });
        } catch (err) {
          throw fail(err);
        }
        const cut = text.indexOf(SLOT);
        // The slot sits at the top level of the template, so it is rendered exactly once.
        return { before: text.slice(0, cut), after: text.slice(cut + SLOT.length) };
      },
    };
  } catch (err) {
    const e = err as Error & { lineNumber?: number };
    throw new UserError(`template error: ${e.message.split('\n')[0]}`, { location: { file: shown, line: e.lineNumber } });
  }
}
