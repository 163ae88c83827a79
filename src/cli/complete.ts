// `ir __complete WORDS…`: what the shell completion scripts ask for. It walks commander's own tree
// and the lists the commands themselves check against, so completion always matches the CLI; it
// reads the store or runbooks only for a value that needs them (incident id, runbook id, --var).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import type { Context } from '../context.js';
import { DEFAULT_ROLES, STATES } from '../core/incident.js';
import { KINDS } from '../commands/report/comms.js';

/** Bits of the last line (`:N`) the scripts read: how to treat the candidates. */
export const DIRECTIVE = {
  /** Complete file names instead (the shell's own file completion). */
  FILES: 1,
  /** No space after the candidate (`--var host=` goes on). */
  NO_SPACE: 2,
} as const;

export interface Candidate {
  value: string;
  description?: string;
}

interface Answer {
  candidates: Candidate[];
  directive: number;
}

const FILE_OPTIONS = new Set(['--home', '--store', '--runbooks', '--out', '--kubeconfig']);
const FILE_ARGUMENTS = new Set(['paths', 'files']);

const visible = (cmd: Command) => !(cmd as unknown as { _hidden?: boolean })._hidden;
const firstLine = (s: string) => s.split('\n')[0];

function findOption(chain: Command[], flag: string): Option | undefined {
  for (const cmd of [...chain].reverse()) {
    const found = cmd.options.find((o) => o.long === flag || o.short === flag);
    if (found) return found;
  }
  return undefined;
}

/** Prints the candidates for the last word of `words` (the words after `ir`), one a line, then `:directive`. */
export async function completeCommand(words: string[], ctx: Context): Promise<number> {
  let answer: Answer;
  try {
    answer = await complete(words, ctx);
  } catch {
    // A completion that fails (no store yet, a broken runbook) offers nothing rather than noise.
    answer = { candidates: [], directive: 0 };
  }
  const lines = answer.candidates.map((c) => (c.description ? `${c.value}\t${firstLine(c.description)}` : c.value));
  ctx.io.stdout.write(`${[...lines, `:${answer.directive}`].join('\n')}\n`);
  return 0;
}

export async function complete(words: string[], ctx: Context): Promise<Answer> {
  const current = words.length ? words[words.length - 1] : '';
  const before = words.slice(0, -1);
  // Every option of every command: all modules load.
  // Imported, not a static dependency: the program and commander then stay one file, which every
  // other command fetches as it is.
  const { buildProgram } = await import('./program.js');
  const { program } = await buildProgram(ctx);
  const chain: Command[] = [program];
  const positionals: string[] = [];
  const globals: Record<string, string> = {};
  const vars: string[] = [];
  let optionsDone = false;
  let pendingOption: Option | undefined;

  for (const word of before) {
    if (pendingOption) {
      if (pendingOption.long) globals[pendingOption.long] = word;
      if (pendingOption.long === '--var') vars.push(word);
      pendingOption = undefined;
      continue;
    }
    if (!optionsDone && word === '--') {
      optionsDone = true;
      continue;
    }
    if (!optionsDone && word.startsWith('-')) {
      const [flag, inline] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
      const option = findOption(chain, flag);
      if (option && (option.required || option.optional)) {
        if (inline === undefined && option.required) pendingOption = option;
        else if (option.long) globals[option.long] = inline ?? '';
      }
      continue;
    }
    const cmd = chain[chain.length - 1];
    const sub = positionals.length === 0 ? cmd.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub) chain.push(sub);
    else positionals.push(word);
  }

  // Values given on the line (--home, --runbooks, --store, --incident) decide where to look, as they would for the command.
  ctx.globals = {
    ...ctx.globals,
    ...(globals['--home'] !== undefined ? { home: globals['--home'] } : {}),
    ...(globals['--store'] !== undefined ? { store: globals['--store'] } : {}),
    ...(globals['--runbooks'] !== undefined ? { runbooks: globals['--runbooks'] } : {}),
  };
  const cmd = chain[chain.length - 1];
  const path = chain.slice(1).map((c) => c.name());
  const filter = (cands: Candidate[], directive = 0): Answer => ({ candidates: cands.filter((c) => c.value.startsWith(current)), directive });

  if (pendingOption) {
    const long = pendingOption.long ?? '';
    if (FILE_OPTIONS.has(long)) return { candidates: [], directive: DIRECTIVE.FILES };
    return filter(await optionValues(pendingOption, ctx, path, positionals, vars), long === '--var' ? DIRECTIVE.NO_SPACE : 0);
  }

  if (!optionsDone && current.startsWith('-')) {
    const eq = current.indexOf('=');
    if (eq > 0) {
      // --severity=SEV-1 style: complete the value after the '='.
      const option = findOption(chain, current.slice(0, eq));
      if (!option) return { candidates: [], directive: 0 };
      const prefix = current.slice(0, eq + 1);
      return filter((await optionValues(option, ctx, path, positionals, vars)).map((c) => ({ ...c, value: prefix + c.value })));
    }
    const options: Candidate[] = [];
    for (const c of [...chain].reverse()) {
      for (const o of c.options) {
        if (o.hidden || !o.long) continue;
        if (options.some((x) => x.value === o.long)) continue;
        options.push({ value: o.long, description: o.description });
      }
    }
    if (!options.some((o) => o.value === '--help')) options.push({ value: '--help', description: 'display help for command' });
    return filter(options);
  }

  const candidates: Candidate[] = [];
  if (positionals.length === 0) {
    for (const sub of cmd.commands) if (visible(sub)) candidates.push({ value: sub.name(), description: sub.description() });
  }
  const arg = cmd.registeredArguments[Math.min(positionals.length, cmd.registeredArguments.length - 1)];
  if (arg && (positionals.length < cmd.registeredArguments.length || arg.variadic)) {
    if (FILE_ARGUMENTS.has(arg.name())) return { candidates: [], directive: DIRECTIVE.FILES };
    candidates.push(...(await argumentValues(arg.name(), path, ctx)));
  }
  return filter(candidates);
}

async function optionValues(option: Option, ctx: Context, path: string[], positionals: string[], given: string[]): Promise<Candidate[]> {
  switch (option.long) {
    case '--incident':
      return incidentIds(ctx);
    case '--severity':
      return severities(ctx);
    case '--var':
      return varNames(ctx, path, positionals, given);
    default:
      return [];
  }
}

async function argumentValues(name: string, path: string[], ctx: Context): Promise<Candidate[]> {
  switch (name) {
    case 'state':
      return STATES.map((value) => ({ value }));
    case 'level':
      return severities(ctx);
    case 'id':
      return path[0] === 'runbook' ? runbookIds(ctx) : incidentIds(ctx);
    case 'shell':
      return ['bash', 'zsh', 'fish'].map((value) => ({ value }));
    case 'kind':
      return KINDS.map((value) => ({ value }));
    case 'role':
      return DEFAULT_ROLES.map((value) => ({ value }));
    default:
      return [];
  }
}

async function incidentIds(ctx: Context): Promise<Candidate[]> {
  const store = await ctx.store();
  const open = await store.listIncidents();
  const all = await store.listIncidents({ all: true });
  // Open incidents first: they are what a responder names at 3 a.m.
  const ordered = [...open, ...all.filter((i) => !open.some((o) => o.id === i.id))];
  return ordered.map((i) => ({ value: i.id, description: `${i.severity} ${i.state} ${i.title}` }));
}

async function severities(ctx: Context): Promise<Candidate[]> {
  const config = await ctx.severities();
  return config.levels.map((l) => ({ value: l.id, description: `${l.name} — ${l.definition}` }));
}

/** Runbook ids from the runbook directory, read with a pattern: no YAML parser on this path. */
function runbookIds(ctx: Context): Candidate[] {
  const dir = ctx.runbookDir().dir;
  const out: Candidate[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/i.test(name) || name.startsWith('.') || /^(severities|evidence|schema)(\.[^.]+)*\.ya?ml$/i.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const id = /^id:\s*["']?([A-Za-z0-9_.-]+)/m.exec(text)?.[1];
    const title = /^title:\s*["']?(.+?)["']?\s*$/m.exec(text)?.[1];
    if (id) out.push({ value: id, description: title });
  }
  return out;
}

/** `--var NAME=` for the runbook named on the line; names already given are left out. */
async function varNames(ctx: Context, path: string[], positionals: string[], given: string[]): Promise<Candidate[]> {
  if (path[0] !== 'runbook' || !positionals[0]) return [];
  const { loadRunbookById } = await import('../commands/runbook/load.js');
  const runbook = await loadRunbookById(ctx, positionals[0]);
  const named = new Set(given.map((g) => g.split('=')[0]));
  return runbook.variables.filter((v) => !named.has(v.name)).map((v) => ({ value: `${v.name}=`, description: v.description }));
}
