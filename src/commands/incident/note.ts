// `ir note TEXT`: add a free-text entry to the timeline; `ir note -` reads it from stdin, and a bare
// `ir note` on a terminal opens $EDITOR the way `git commit` does.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { appendToIncident } from './mutate.js';

export interface NoteOptions {
  /** The words given; `-` alone means stdin; none means the editor. */
  words: string[];
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('note')
    .description('add a note to the timeline (`-` reads it from stdin; no text opens $EDITOR)')
    .argument('[text...]', 'the note (quote it, or let the words run on)')
    .addHelpText(
      'after',
      '\nExamples:\n  ir note "rolled back api to v2.14.1; error rate falling"\n  kubectl get pods -n shop | ir note -\n  ir note                      # opens $VISUAL, $EDITOR or vi',
    )
    .action(bind((cmd: Command) => run({ words: cmd.args }, ctx)));
};

export async function run(opts: NoteOptions, ctx: Context): Promise<number> {
  let text: string;
  if (opts.words.length === 1 && opts.words[0] === '-') {
    text = (await readAll(ctx.io.stdin)).trim();
    if (!text) throw new UsageError('ir note -: stdin was empty; nothing recorded');
  } else if (opts.words.length) {
    text = opts.words.join(' ').trim();
    if (!text) throw new UsageError('a note needs text: ir note "what happened"');
  } else {
    if (!ctx.canPrompt) throw new UsageError('a note needs text: ir note "what happened", or `ir note -` to read it from stdin');
    // Resolved first, so a missing or ambiguous incident is said before anyone types a paragraph.
    const incident = await ctx.currentIncident();
    text = await editNote(ctx, incident.id);
    if (!text) throw new UsageError('empty note; nothing recorded');
    await appendToIncident(ctx, () => ({ type: 'note.added', data: { text } }), incident.id);
    return 0;
  }
  await appendToIncident(ctx, () => ({ type: 'note.added', data: { text } }));
  return 0;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Opens the responder's editor on a template; returns the text without comment lines, trimmed. */
async function editNote(ctx: Context, id: string): Promise<string> {
  // Loaded here, not with the command: `ir note TEXT` and `ir --help` never pay for them.
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const editor = ctx.env.VISUAL || ctx.env.EDITOR || 'vi';
  const dir = mkdtempSync(join(tmpdir(), 'ir-note-'));
  const file = join(dir, `${id}-NOTE.md`);
  try {
    writeFileSync(file, `\n# The note for ${id}, for its timeline. Lines starting with '#' are left out;\n# an empty note records nothing.\n`, { mode: 0o600 });
    // Through sh, as git does: EDITOR="code --wait" carries its own arguments.
    const r = spawnSync('sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit', env: ctx.env });
    if (r.error) throw new UserError(`cannot start the editor "${editor}": ${r.error.message}; set VISUAL or EDITOR`);
    if (r.status !== 0) throw new UserError(`the editor "${editor}" exited with ${r.status ?? r.signal}; nothing recorded`);
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n')
      .trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
