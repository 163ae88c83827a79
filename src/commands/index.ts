// Every command ir offers, in the order `ir --help` lists them.

import type { Register } from '../cli/program.js';
import * as declare from './incident/declare.js';
import * as status from './incident/status.js';
import * as list from './incident/list.js';
import * as show from './incident/show.js';
import * as ack from './incident/ack.js';
import * as note from './incident/note.js';
import * as severity from './incident/severity.js';
import * as assign from './incident/assign.js';
import * as resolve from './incident/resolve.js';
import * as reopen from './incident/reopen.js';
import * as timeline from './incident/timeline.js';
import * as runbook from './runbook/index.js';
import * as evidence from './evidence/index.js';
import * as escalate from './incident/escalate.js';
import * as postmortem from './report/postmortem.js';
import * as comms from './report/comms.js';
import * as outbox from './outbox/index.js';
import * as action from './action/index.js';
import * as regime from './regime/index.js';
import * as metrics from './metrics/show.js';
import * as store from './store/index.js';
import * as completion from './completion.js';

export const COMMANDS: Register[] = [
  declare.register,
  status.register,
  list.register,
  show.register,
  ack.register,
  note.register,
  severity.register,
  assign.register,
  resolve.register,
  reopen.register,
  timeline.register,
  escalate.register,
  runbook.register,
  postmortem.register,
  comms.register,
  outbox.register,
  action.register,
  regime.register,
  metrics.register,
  evidence.register,
  store.register,
  completion.register,
];
