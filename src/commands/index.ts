// Every command ir offers, in the order `ir --help` lists them: one loader per command module (each
// exports `register`, as it always has). Only the module of the command being run is loaded; the
// others appear in `ir --help` from dist/commands.json, which `npm run build` writes from these
// very modules (see src/cli/program.ts). To add a command: write its module as before and put
// `() => import('./noun/verb.js')` here where it belongs in the help.

import type { Register } from '../cli/program.js';

export interface CommandModule {
  register: Register;
}

export const COMMANDS: Array<() => Promise<CommandModule>> = [
  () => import('./incident/declare.js'),
  () => import('./incident/status.js'),
  () => import('./incident/list.js'),
  () => import('./incident/show.js'),
  () => import('./incident/ack.js'),
  () => import('./incident/note.js'),
  () => import('./incident/severity.js'),
  () => import('./incident/assign.js'),
  () => import('./incident/resolve.js'),
  () => import('./incident/reopen.js'),
  () => import('./incident/timeline.js'),
  () => import('./incident/escalate.js'),
  () => import('./runbook/index.js'),
  () => import('./report/postmortem.js'),
  () => import('./report/comms.js'),
  () => import('./outbox/index.js'),
  () => import('./action/index.js'),
  () => import('./regime/index.js'),
  () => import('./metrics/show.js'),
  () => import('./evidence/index.js'),
  () => import('./store/index.js'),
  () => import('./completion.js'),
];
