// `ir evidence …`: collect, list, verify and export an incident's evidence. Each subcommand is a
// `(group, ctx, bind) => void` in its own file, registered here.

import type { Register } from '../../cli/program.js';
import * as collect from './collect.js';
import * as list from './list.js';
import * as verify from './verify.js';
import * as exportCmd from './export.js';

export const EVIDENCE_SUBCOMMANDS: Register[] = [collect.register, list.register, verify.register, exportCmd.register];

export const register: Register = (program, ctx, bind) => {
  const group = program
    .command('evidence')
    .description('collect evidence with checksums, list it, verify it, export it')
    .addHelpText(
      'after',
      '\nExamples:\n  ir evidence collect --namespace shop --selector app=api --since 2h\n  ir evidence list\n  ir evidence verify\n  ir evidence export --out inc-evidence.tar.gz --redact',
    );
  for (const add of EVIDENCE_SUBCOMMANDS) add(group, ctx, bind);
};
