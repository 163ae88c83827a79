// Entry point: build the program, parse argv, run the command, map every error to one exit code.

import type { Context, ContextParts } from './context.js';

/** ir's version, written into the build by scripts/bundle.mjs; undefined running from dist/ or the sources. */
declare const IR_VERSION: string | undefined;

export async function run(argv: string[], parts: ContextParts = {}): Promise<number> {
  // `ir --version` is on every health check and shell prompt: answer it before loading anything.
  // Every import below is dynamic, so that the bundle's main.cjs loads no other file for it.
  const versionFlag = (a: string) => a === '--version' || a === '-V';
  if (argv.length >= 1 && argv.length <= 2 && argv.some(versionFlag) && argv.every((a) => versionFlag(a) || a === '--json')) {
    const v = typeof IR_VERSION === 'string' ? IR_VERSION : (await import('./version.js')).version();
    const text = argv.includes('--json') ? `${JSON.stringify({ version: v }, null, 2)}\n` : `${v}\n`;
    if (parts.io) parts.io.stdout.write(text);
    else writeVersion(text);
    return 0;
  }
  // One module (the Context re-exports the stream watch): each file loaded costs.
  const { Context, watchOutputPipes } = await import('./context.js');
  // `ir … | head` closes the pipe early; that is the reader's choice, not an error.
  if (!parts.io) watchOutputPipes();
  const ctx = new Context(parts);
  try {
    // The shells' completion scripts call this on every Tab: no commander parse, no usage errors.
    if (argv[0] === '__complete') {
      const { completeCommand } = await import('./cli/complete.js');
      return await completeCommand(argv.slice(1), ctx);
    }
    const { loadProgram } = await import('./cli/program.js');
    const { program, result } = await loadProgram(ctx, argv);
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    return report(err, ctx, argv, await import('./errors.js'));
  } finally {
    await ctx.close();
  }
}

/**
 * One short line to fd 1 as it is: making process.stdout (Node's stream classes, and net for a pipe)
 * would cost --version a tenth of its time. A descriptor that cannot take it at once (a non-blocking
 * pipe that is full, a closed one) gets the rest through Node's stream, as any other output would.
 */
function writeVersion(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    written = process.getBuiltinModule('node:fs').writeSync(1, bytes);
  } catch (err) {
    // The reader has gone (`ir --version | true`): its choice, as for every command (io/streams.ts).
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
  }
  if (written < bytes.length) process.stdout.write(bytes.subarray(written));
}

function report(err: unknown, ctx: Context, argv: string[], { EXIT, IrError, UserError, systemError }: typeof import('./errors.js')): number {
  const debug = ctx.globals.verbose || argv.includes('--verbose') || ctx.env.IR_DEBUG === '1';
  const json = ctx.globals.json || argv.includes('--json');
  // commander has already printed its own usage errors; only the exit code is ours to set.
  if (isCommanderError(err)) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
    if (json) ctx.printJson({ error: { kind: 'usage', message: err.message.replace(/^error: /, '') } });
    return EXIT.USAGE;
  }
  if (!(err instanceof IrError)) {
    // SQLite's errors name no file: the store is the one SQLite file ir writes.
    const sqlite = String((err as { code?: unknown } | undefined)?.code ?? '').startsWith('SQLITE_');
    err = systemError(err, sqlite ? ctx.dbPath : undefined) ?? err;
  }
  if (err instanceof IrError) {
    const details = (err as { details?: string[] }).details ?? [];
    if (json) {
      const doc: Record<string, unknown> = { kind: err.kind, message: err.message };
      if (details.length) doc.details = details;
      if (err instanceof UserError && err.location) doc.location = err.location;
      ctx.printJson({ error: doc });
    } else {
      ctx.err(`ir: ${err.message}`);
      for (const line of details) ctx.err(line);
    }
    if (debug && err.stack) ctx.err(err.stack);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) ctx.printJson({ error: { kind: 'internal', message } });
  else ctx.err(`ir: internal error: ${message}${debug ? '' : ' (run with --verbose for details)'}`);
  if (debug && err instanceof Error && err.stack) ctx.err(err.stack);
  return EXIT.FAILED;
}

function isCommanderError(err: unknown): err is Error & { code: string; exitCode: number } {
  // By its code, not its class name: a bundler may rename the class.
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('commander.');
}
