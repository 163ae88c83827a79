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

export async function renderTemplate(file: string, context: unknown, cwd: string, cacheDir?: string): Promise<string> {
  const shown = displayPath(file, cwd);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read template: ${(err as Error).message}`, { location: { file: shown } });
  }
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
