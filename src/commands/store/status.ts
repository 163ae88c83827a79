// `ir store status`: which store this home uses and how it is doing: backend, server and schema
// version, round-trip latency, counts, this home's origin and the outbox. An unreachable team store
// is exit 1 with one line naming it (password masked) and the cause.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('status')
    .description('the store in use: backend, server and schema version, latency, counts, origin, outbox')
    .addHelpText('after', '\nExamples:\n  ir store status\n  IR_STORE=postgres://alice@db.internal:5432/ir ir store status --json')
    .action(bind((_cmd: Command) => run({}, ctx)));
};

export async function run(_opts: Record<string, never>, ctx: Context): Promise<number> {
  const store = await ctx.store();
  const { originOf } = await import('../../store/open.js');
  const { outboxSummary } = await import('./outbox.js');
  const { StoreUnreachable } = await import('../../store/postgres/errors.js');
  const origin = originOf(ctx.home);
  const outbox = await outboxSummary(ctx);
  let info;
  try {
    info = await store.describe();
  } catch (err) {
    // Unreachable is when the outbox matters most: say what waits here, then fail as before.
    if (!(err instanceof StoreUnreachable)) throw err;
    if (ctx.json) {
      // One document: the error as every command reports it, and what waits here.
      ctx.printJson({ error: { kind: err.kind, message: err.message }, store: store.location, reachable: false, origin, outbox });
      return 1;
    }
    ctx.out(`store: ${store.location}\nreachable: no\norigin: ${origin}\noutbox: ${outbox.waiting} waiting`);
    throw err;
  }
  const schemaNote =
    info.schemaVersion === info.knownSchemaVersion ? 'current' : info.schemaVersion < info.knownSchemaVersion ? `this ir knows ${info.knownSchemaVersion}` : `newer than this ir (${info.knownSchemaVersion})`;
  if (ctx.json) {
    ctx.printJson({
      store: info.location,
      backend: info.backend,
      server_version: info.serverVersion,
      schema_version: info.schemaVersion,
      known_schema_version: info.knownSchemaVersion,
      latency_ms: info.latencyMs,
      incidents: info.incidents,
      events: info.events,
      origin,
      outbox,
    });
    return 0;
  }
  const rows: [string, string][] = [
    ['store', info.location],
    ['backend', info.backend],
    ['server', info.serverVersion],
    ['schema', `${info.schemaVersion} (${schemaNote})`],
    ['latency', `${info.latencyMs} ms (median of 5 round trips)`],
    ['incidents', String(info.incidents)],
    ['events', String(info.events)],
    ['origin', origin],
    ['outbox', `${outbox.waiting} waiting`],
  ];
  for (const [k, v] of rows) ctx.out(`${k}: ${v}`);
  return 0;
}
