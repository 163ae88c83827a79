// `ir note TEXT`: add a free-text entry to the timeline.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { appendToIncident } from './mutate.js';

export interface NoteOptions {
  text: string;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('note')
    .description('add a note to the timeline')
    .argument('<text...>', 'the note (quote it, or let the words run on)')
    .addHelpText('after', '\nExample:\n  ir note "rolled back api to v2.14.1; error rate falling"')
    .action(bind((cmd: Command) => run({ text: cmd.args.join(' ') }, ctx)));
};

export async function run(opts: NoteOptions, ctx: Context): Promise<number> {
  const text = opts.text.trim();
  if (!text) throw new UsageError('a note needs text: ir note "what happened"');
  await appendToIncident(ctx, () => ({ type: 'note.added', data: { text } }));
  return 0;
}
