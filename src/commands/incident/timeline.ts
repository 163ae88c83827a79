// `ir timeline [ID] [--verify] [--head [SEQ:HASH]]`: the events in order, a walk of the hash chain
// that proves them, and the chain head a team keeps outside ir to prove later that nothing was cut.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { eventJson, mapPages, STREAM_READ, streamTimeline } from './render.js';

export interface TimelineOptions {
  id?: string;
  verify?: boolean;
  /** true: print the head; strings: anchored heads (`SEQ:HASH`) the chain must still contain. */
  head?: true | string[];
  /** Keep printing events as they land, until Ctrl-C. */
  follow?: boolean;
}

const collectHead = (value: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), value];

export const register: Register = (program, ctx, bind) => {
  program
    .command('timeline')
    .description('print the timeline; --verify checks its hash chain and the incident records (exit 1 names what changed)')
    .argument('[id]', 'the incident (default: the current one; with --verify and no incident, all of them)')
    .option('--verify', 'walk the sha256 chain, recompute each incident from its events, report the first difference')
    .option('--head [SEQ:HASH]', 'alone: print the chain head to keep somewhere safe; with --verify: prove the chain still contains this head (repeatable)', collectHead)
    .option('-f, --follow', 'keep printing events as they land, from any machine, until Ctrl-C; with no incident named and several open, all of them (each line led by its id); with --json, one JSON event per line (NDJSON)')
    .addHelpText(
      'after',
      '\nExamples:\n  ir timeline INC-20261123-001\n  ir timeline --head                 # prints e.g. 42:9f86d0…  (keep it in the ticket or chat)\n  ir timeline --verify\n  ir timeline --verify --head 42:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n  ir timeline --follow               # then each new event as it lands; Ctrl-C to stop\n  ir timeline -f --json | jq -r .summary   # newline-delimited JSON: one event per line',
    )
    .action(bind((cmd: Command) => {
      const o = cmd.opts() as { verify?: boolean; head?: true | string[]; follow?: boolean };
      return run({ id: cmd.args[0], verify: o.verify, head: o.head, follow: o.follow }, ctx);
    }));
};

export async function run(opts: TimelineOptions, ctx: Context): Promise<number> {
  if (opts.follow) {
    // Checked before the store opens: a usage error costs no connection.
    if (opts.verify || opts.head) throw new UsageError(`--follow prints events as they land; it does not combine with ${opts.verify ? '--verify' : '--head'}`);
    const { followTimeline } = await import('./live.js');
    return followTimeline(ctx, opts.id);
  }
  const store = await ctx.store();
  const { parseHead, formatHead } = await import('../../store/chain.js');
  let id = opts.id;
  const anchors: { seq: number; hash: string }[] = [];
  if (Array.isArray(opts.head)) {
    for (const text of opts.head) {
      const head = parseHead(text);
      if (head) anchors.push(head);
      // `ir timeline --head INC-…`: the optional value swallowed the incident id.
      else if (!id && !opts.verify && /^INC-/i.test(text)) id = text;
      else throw new UsageError(`--head "${text}": expected SEQ:HASH as printed by \`ir timeline --head\` (e.g. 42:<64 hex digits>)`);
    }
  }
  const printHead = opts.head === true || (Array.isArray(opts.head) && anchors.length === 0);

  if (opts.verify) {
    const named = id ?? ctx.globals.incident ?? ctx.env.IR_INCIDENT;
    // With an anchor, a missing incident is the finding itself (deleted), not a typo.
    if (named && !anchors.length && !(await store.getIncident(named))) throw new UserError(`no incident ${named}`);
    const result = await store.verify(named, anchors);
    if (ctx.json) {
      ctx.printJson({
        ok: result.ok,
        incidents: result.incidents,
        events: result.events,
        anchors: result.anchors.map((a) => ({ head: formatHead(a), incident: a.incidentId ?? null, ok: a.ok, reason: a.reason })),
        problems: result.problems.map((p) => ({ incident: p.incidentId, seq: p.seq ?? null, reason: p.reason })),
      });
    } else {
      for (const a of result.anchors) if (a.ok) ctx.out(`anchored head ${a.seq}:${a.hash.slice(0, 12)}… verified: ${a.reason}`);
      if (result.ok) {
        ctx.out(`timeline intact: ${result.events} events in ${result.incidents} incident${result.incidents === 1 ? '' : 's'}, every hash verified, every incident record matches its events`);
      } else {
        for (const p of result.problems) ctx.out(`TAMPERED ${p.incidentId}${p.seq !== undefined ? ` event ${p.seq}` : ''}: ${p.reason}`);
      }
    }
    return result.ok ? 0 : 1;
  }
  if (anchors.length) throw new UsageError('--head SEQ:HASH is checked with --verify: `ir timeline --verify --head SEQ:HASH`');

  const incident = await ctx.currentOrLatestIncident(id);
  if (printHead) {
    const head = (await store.head(incident.id))!;
    if (ctx.json) ctx.printJson({ incident: incident.id, seq: head.seq, hash: head.hash, at: head.at, head: formatHead(head) });
    else ctx.out(`${formatHead(head)}`);
    if (!ctx.json) ctx.err(`(${incident.id} as of ${head.at}; later: ir timeline --verify --head ${formatHead(head)})`);
    return 0;
  }
  // Streamed: a timeline of a million events is printed in the memory of a few pages.
  const { jsonArrayClose, jsonArrayOpen, Sink, writeJsonWithPages } = await import('../../io/sink.js');
  const sink = new Sink(ctx.io.stdout);
  const read = () => store.eventPages(incident.id, STREAM_READ(ctx.json));
  // A long timeline in a local SQLite file is rendered on two threads.
  const style = ctx.json ? undefined : await ctx.style();
  const { startParallel } = await import('./parallel.js');
  const parallel = await startParallel(store, incident.id, { json: ctx.json, style, env: ctx.env });
  try {
    if (!style) {
      if (!parallel) {
        await writeJsonWithPages(sink, { incident: incident.id }, 'events', mapPages(read(), eventJson));
        return 0;
      }
      await sink.write(jsonArrayOpen({ incident: incident.id }, 'events'));
      await sink.write(jsonArrayClose(await parallel.write(sink)));
      await sink.flush();
      return 0;
    }
    if (parallel) await parallel.write(sink);
    else await streamTimeline(read, style, sink, await store.eventOutline?.(incident.id));
    return 0;
  } finally {
    await parallel?.stop();
  }
}
