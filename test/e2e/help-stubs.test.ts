// `ir` registers the command it runs from its module alone, and with no command named every command
// as a stub read from dist/commands.json: `ir --help` must print exactly what it prints with every
// module loaded, and the manifest must be the one the modules describe now.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ir, ROOT, tempHome } from '../helpers/cli.js';

type ProgramModule = typeof import('../../src/cli/program.js');

async function built(): Promise<{ program: ProgramModule; Context: typeof import('../../src/context.js').Context }> {
  return { program: await import(join(ROOT, 'dist/cli/program.js')), Context: (await import(join(ROOT, 'dist/context.js'))).Context };
}

const help = (program: Command) => {
  program.configureOutput({ getOutHelpWidth: () => 80, getErrHelpWidth: () => 80 });
  return program.helpInformation();
};

describe('command stubs', () => {
  it('dist/commands.json is what the command modules describe now (rebuilt with them)', async () => {
    const { program, Context } = await built();
    const manifest = JSON.parse(readFileSync(join(ROOT, 'dist', 'commands.json'), 'utf8'));
    expect(manifest).toEqual(await program.commandManifest(new Context()));
  });

  it('`ir --help` from stubs is the help of the program with every module loaded', async () => {
    const { program, Context } = await built();
    const stubbed = await program.loadProgram(new Context(), ['--help']);
    const full = await program.buildProgram(new Context());
    expect(stubbed.program.commands.map((c) => c.name())).toEqual(full.program.commands.map((c) => c.name()));
    expect(help(stubbed.program)).toBe(help(full.program));
    // A command's own help, and `help X`, come from its module.
    const home = tempHome();
    try {
      const own = ir(home.home, ['runbook', '--help']);
      expect(own.stdout).toContain(help(full.program.commands.find((c) => c.name() === 'runbook')!));
      expect(own.stdout).toContain('ir runbook redis-failure --yes');
      expect(ir(home.home, ['help', 'runbook']).stdout).toBe(own.stdout);
      // An unknown command is answered from the stubs' names, as before.
      const typo = ir(home.home, ['runbok', 'list']);
      expect(typo.code).toBe(2);
      expect(typo.stderr).toContain('(Did you mean runbook?)');
    } finally {
      home.cleanup();
    }
  });

  it('a command named on the line is registered alone, from its module: no stubs are built for it', async () => {
    const { program, Context } = await built();
    for (const argv of [['note', 'x'], ['--incident', 'INC-1', 'status'], ['help', 'runbook'], ['runbook', 'ls']]) {
      const { program: routed } = await program.loadProgram(new Context(), argv);
      const own = argv.includes('note') ? ['note'] : argv.includes('status') ? ['status'] : ['runbook'];
      expect(routed.commands.map((c) => c.name()), argv.join(' ')).toEqual(own);
    }
  });

  it('finds the command after the root options, their values included', async () => {
    const home = tempHome();
    try {
      for (const args of [['--home', home.home, 'runbook', 'list'], ['--json', '--runbooks', join(ROOT, 'runbooks'), 'runbook', 'list'], ['--as=x', '--no-color', 'runbook', 'ls']]) {
        const r = ir(home.home, args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toContain('redis-failure');
      }
    } finally {
      home.cleanup();
    }
  });
});
