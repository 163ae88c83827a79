// The commander root: global options, command registration, output routed through the Context.

import { Command, CommanderError, Option } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { EXIT } from '../errors.js';
import { version } from '../version.js';
import { COMMANDS } from '../commands/index.js';

export interface RunResult {
  code: number;
}

/** Wraps a command's action: records the global options in the Context and keeps the exit code. */
export type Bind = (action: (cmd: Command) => Promise<number | void>) => (...received: unknown[]) => Promise<void>;

/** Each command file exports one of these: it declares its options and arguments and binds its run(). */
export type Register = (program: Command, ctx: Context, bind: Bind) => void;

export function buildProgram(ctx: Context): { program: Command; result: RunResult } {
  const result: RunResult = { code: EXIT.OK };
  const program = new Command('ir');
  program
    .description('Incident response from the terminal: declare, follow runbooks, collect evidence, write the postmortem.')
    .version(version(), '-V, --version')
    .option('--home <dir>', 'where ir keeps its database and evidence (env IR_HOME)')
    .option('--store <url>', 'the store: postgres://user@host:5432/db for a team, or a SQLite file (env IR_STORE; default ir.db in the home)')
    .option('--runbooks <dir>', "the team's runbook directory (env IR_RUNBOOKS)")
    .option('--incident <id>', 'the incident to act on (env IR_INCIDENT)')
    .option('--as <name>', 'who is acting (env IR_USER; default git user.name, then $USER)')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--no-color', 'no colour in output (also NO_COLOR, TERM=dumb)')
    .option('--no-input', 'never prompt; a missing answer is an error naming its flag')
    .addOption(new Option('--verbose', 'show stack traces for internal errors (env IR_DEBUG=1)'))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^error: /, 'ir: ')),
    });

  const bind: Bind = (action) => async (...received: unknown[]) => {
    const cmd = received[received.length - 1] as Command;
    ctx.globals = cmd.optsWithGlobals() as GlobalOptions;
    await ctx.loadTeamStore();
    const code = await action(cmd);
    result.code = typeof code === 'number' ? code : EXIT.OK;
  };

  // commander prints the bare version; with --json anywhere on the line it is a document like every other answer.
  // Command is an EventEmitter with rawArgs at run time; commander's typings leave both out.
  const emitter = program as unknown as NodeJS.EventEmitter & { rawArgs: string[] };
  emitter.prependListener('option:version', () => {
    const raw = emitter.rawArgs;
    const args = raw.includes('--') ? raw.slice(0, raw.indexOf('--')) : raw;
    if (!args.includes('--json')) return;
    ctx.printJson({ version: version() });
    throw new CommanderError(EXIT.OK, 'commander.version', version());
  });

  for (const register of COMMANDS) register(program, ctx, bind);
  // Subcommands inherit the root's output routing and error handling.
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
      inherit(sub);
    }
  };
  inherit(program);
  return { program, result };
}
