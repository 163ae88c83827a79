// The commander root: global options, command registration, output routed through the Context.
// Only the module of the command on the line is loaded; every other command is registered as a stub
// (name, arguments, description: what `ir --help` lists) read from dist/commands.json, which the
// build writes from the modules themselves (scripts/commands-manifest.mjs).

import { readFileSync } from 'node:fs';
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

/** A top-level command as `ir --help` shows it, without its module. */
export interface CommandStub {
  name: string;
  aliases: string[];
  description: string;
  summary: string;
  helpGroup: string;
  hidden: boolean;
  /** Whether it has options of its own (help writes `[options]`). */
  options: boolean;
  args: Array<{ name: string; required: boolean; variadic: boolean }>;
}

/** dist/commands.json: for each entry of COMMANDS, the top-level commands its module registers. */
export interface CommandManifest {
  commands: CommandStub[][];
}

/**
 * The program for `argv`: the command named on the line registered by its own module alone; with
 * none named (`ir --help`, an unknown command), every command as a stub. Without argv (completion walks every option) or without a manifest (running from the
 * sources), every module is loaded.
 */
export async function loadProgram(ctx: Context, argv?: string[]): Promise<{ program: Command; result: RunResult }> {
  const root = rootProgram(ctx);
  const manifest = argv ? readManifest() : undefined;
  const wanted = manifest && argv ? routedEntry(root.program, argv, manifest) : -1;
  // With the command on the line found, commander never looks at the others (help, suggestions and
  // routing are the command's own): registering ~40 stubs would cost every run ~5 ms for nothing.
  const registers = await Promise.all(
    COMMANDS.map(async (load, i) => (manifest && i !== wanted ? (wanted >= 0 ? () => {} : stubs(manifest.commands[i])) : (await load()).register)),
  );
  for (const register of registers) register(root.program, ctx, root.bind);
  finish(root.program);
  return { program: root.program, result: root.result };
}

/** Every command with its own module: what the manifest is written from. */
export async function buildProgram(ctx: Context): Promise<{ program: Command; result: RunResult }> {
  return loadProgram(ctx);
}

/** What `ir --help` lists for each COMMANDS entry, read from the modules (run by the build). */
export async function commandManifest(ctx: Context): Promise<CommandManifest> {
  const commands: CommandStub[][] = [];
  for (const load of COMMANDS) {
    const { program, bind } = rootProgram(ctx);
    (await load()).register(program, ctx, bind);
    commands.push(program.commands.map(describe));
  }
  return { commands };
}

function describe(cmd: Command): CommandStub {
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    description: cmd.description(),
    summary: cmd.summary(),
    helpGroup: cmd.helpGroup(),
    hidden: (cmd as unknown as { _hidden: boolean })._hidden,
    options: cmd.options.length > 0,
    args: cmd.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })),
  };
}

function readManifest(): CommandManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../commands.json', import.meta.url), 'utf8')) as CommandManifest;
    // Written by another build of the list (or by hand): load the modules rather than trust it.
    return Array.isArray(manifest.commands) && manifest.commands.length === COMMANDS.length ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The COMMANDS entry of the command commander will run for argv (for `help X`, X's): the first word
 * that is neither a root option nor the value of one. -1 when there is none, so only stubs are
 * registered: `ir --help`, an unknown command (commander's suggestion needs only names).
 */
function routedEntry(program: Command, argv: string[], manifest: CommandManifest): number {
  const operands: string[] = [];
  for (let i = 0; i < argv.length && operands.length < 2; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    if (arg.startsWith('-') && arg.length > 1) {
      const option = program.options.find((o) => o.long === arg || o.short === arg);
      if (option?.required || (option?.optional && argv[i + 1] !== undefined && !argv[i + 1].startsWith('-'))) i++;
      continue;
    }
    operands.push(arg);
    if (arg !== 'help') break;
  }
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  if (name === undefined) return -1;
  return manifest.commands.findIndex((cmds) => cmds.some((c) => c.name === name || c.aliases.includes(name)));
}

/** Registers commands as `ir --help` lists them; running one is a bug in routedEntry. */
function stubs(list: CommandStub[]): Register {
  return (program) => {
    for (const stub of list) {
      const cmd = program
        .command(stub.name, { hidden: stub.hidden })
        .aliases(stub.aliases)
        .description(stub.description)
        .summary(stub.summary)
        .helpOption(false)
        .allowUnknownOption()
        .allowExcessArguments()
        .action(() => {
          throw new Error(`ir ${stub.name} was registered without its module`);
        });
      if (stub.helpGroup) cmd.helpGroup(stub.helpGroup);
      // help writes `[options]` for a command with any option: a hidden one stands for them.
      if (stub.options) cmd.addOption(new Option('--stub-options').hideHelp());
      for (const a of stub.args) cmd.argument(a.required ? `<${a.name}${a.variadic ? '...' : ''}>` : `[${a.name}${a.variadic ? '...' : ''}]`);
    }
  };
}

function rootProgram(ctx: Context): { program: Command; result: RunResult; bind: Bind } {
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
  return { program, result, bind };
}

/** Subcommands inherit the root's output routing and error handling. */
function finish(program: Command): void {
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
      inherit(sub);
    }
  };
  inherit(program);
}
