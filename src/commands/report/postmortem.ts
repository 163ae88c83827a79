// `ir postmortem [ID] [--out FILE] [--draft] [--no-redact]`: the blameless report, written from
// the timeline, with secrets replaced by placeholders and the chain head it was written at. The
// timeline is streamed, so an incident of a million events is reported in bounded memory.

import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { OperationError, UserError } from '../../errors.js';
import { SHIPPED_TEMPLATES } from '../../config/paths.js';
import type { TimelineEvent } from '../../core/incident.js';
import { fileStream, Sink } from '../../io/sink.js';
import type { OutStream } from '../../io/streams.js';
import { ModelBuilder, redactEvents, TIMELINE_FIELDS, timelineItem, timelineRows } from '../../report/model.js';
import { outgoingRedactor, redactionNote } from '../../report/outgoing.js';
import { bootHelper, HelperOutOfMemory, helperShipped, type BootingHelper, type TimelineJob, type TimelineResult } from '../../report/report-helper.js';
import { rowsFile as openRowsFile } from '../../report/rows-file.js';
import { renderTemplate, templateAround, templatePath } from '../../report/template.js';
import { pageHelperShipped } from '../../store/sqlite/page-thread.js';
import { cutEvents, eventHash, type RangeCut } from '../../store/sqlite/range.js';
import type { SqliteStore } from '../../store/sqlite/store.js';

export interface PostmortemOptions {
  id?: string;
  out?: string;
  draft?: boolean;
  /** false with --no-redact. */
  redact?: boolean;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('postmortem')
    .description('write the blameless postmortem (markdown) from the timeline')
    .argument('[id]', 'the incident (default: the current one)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--draft', 'allow an incident that is not resolved yet (the report says DRAFT)')
    .option('--no-redact', 'keep secrets found in notes and output as they are (for a human who checked)')
    .addHelpText('after', '\nExamples:\n  ir postmortem INC-20261123-001 --out postmortems/2026-11-23-checkout.md\n  ir postmortem --draft')
    .action(bind((cmd: Command) => run({ ...cmd.opts<PostmortemOptions>(), id: cmd.args[0] }, ctx)));
};

/**
 * Events redacted together: one scan per batch instead of per event. Small enough that a batch's
 * joined text and its rows stay below V8's large-object size (~128 KiB): large strings are only
 * freed by a full collection, and piled up between two of them they were a good part of the peak RSS.
 */
const REDACT_BATCH = 500;
/**
 * From this many events the second part of the timeline is done by a helper thread, when the events
 * cannot be read on one (the store's page helper thread, page-thread.ts, not built); below it,
 * starting one costs more than it saves. IR_POSTMORTEM_HELPER_MIN sets it, and then the helper takes
 * its part whatever reads the pages (for tests). Measured on 2 quiet cores with --out: at 100k events
 * the helper made the report slower (1.02-1.17 s against 0.85-0.97 s on one thread, 0.5 s more CPU);
 * at 1M faster (4.5 s against 5.7 s). With pages read on a helper thread instead, 1M took less CPU
 * than with this helper (4.0-4.7 s user against 4.5-6.5 s), and both together more than either.
 */
const HELPER_MIN = 300_000;
/**
 * The share of the events this thread folds itself; the helper takes the rest. Less than half:
 * this thread also starts the command and writes the report around the rows.
 */
const OWN_SHARE = 0.45;

export async function run(opts: PostmortemOptions, ctx: Context): Promise<number> {
  const incident = await ctx.currentOrLatestIncident(opts.id);
  if (incident.state !== 'resolved' && !opts.draft) {
    throw new UserError(`${incident.id} is not resolved (${incident.state}): pass --draft for a draft report, or \`ir resolve\` first`);
  }
  const store = await ctx.store();
  const sqlite = await import('../../store/sqlite/store.js');
  const local = store instanceof sqlite.SqliteStore ? store : undefined;
  // In pages (one await per page, not per event). The report names the head's hash and no other:
  // the SQLite store reads that one alone at the end (eventHash), not one with every row.
  const read = () => store.eventPages(incident.id, { without: local ? ['prevHash', 'hash'] : ['prevHash'] });
  // Asked for now, though folded only once the report's other parts are loaded: a long incident's
  // pages are read on a helper thread, which starts meanwhile.
  const firstRead = read();
  // A long incident on the SQLite store: a helper thread will take the events from `cut.at` on. It
  // starts now, so that its start overlaps this thread's (the redactor, severities, template).
  const cut = local ? helperCut(local, incident.id, ctx.env) : undefined;
  let helper: BootingHelper | undefined = cut ? await bootHelper({ path: cut.path }) : undefined;
  let scratchDir: string | undefined;
  try {
    const redactor = await outgoingRedactor(opts.redact, (await ctx.team()).redaction);
    const safeIncident = redactor ? await redactor.redactDeep(incident) : incident;
    const severities = await ctx.severities();
    const now = ctx.now();
    const modelOptions = { incidentDir: ctx.incidentDir(incident.id), redacted: Boolean(redactor) };
    const templateFile = templatePath(ctx.runbookDir().dir, 'postmortem.md');
    const cacheDir = join(ctx.home, 'cache', 'templates');
    const split = await templateAround(templateFile, 'timeline', ctx.io.cwd, cacheDir, TIMELINE_FIELDS);

    // The events, in the order things happened, each batch redacted, folded into the model, and its
    // timeline row written to a private scratch file: the rows come after parts of the report that
    // need every event (the authors, the phases). Events come by seq, which is the order things
    // happened unless some arrived after later ones (written offline, delivered since): the first
    // read notes those, and only then a second read merges them in where they happened.
    scratchDir = split ? mkdtempSync(join(tmpdir(), 'ir-postmortem-')) : undefined;
    const rowsFile = scratchDir && join(scratchDir, 'timeline.md');
    /** The files the rows are in, in order: this thread's, then the helper's if its part was kept. */
    const rowsFiles = rowsFile ? [rowsFile] : [];
    let count = 0;
    let last: Pick<TimelineEvent, 'seq' | 'hash'> | undefined;
    let newest = '';
    const late: TimelineEvent[] = [];
    // By position in the stream: events still waiting in this machine's outbox have no seq yet.
    const held = new Set<number>();
    const fold = async (pages: AsyncIterable<TimelineEvent[]>, first: boolean) => {
      const builder = new ModelBuilder(safeIncident, severities, now, modelOptions);
      const rowsOut = rowsFile ? openRowsFile(rowsFile) : undefined;

      const listed: ReturnType<typeof timelineItem>[] = [];
      const rowOf = split?.line ? timelineRows(split.line) : (e: TimelineEvent) => split!.item(timelineItem(e));
      let batch: TimelineEvent[] = [];
      const flush = async () => {
        await redactEvents(batch, redactor);
        let text = '';
        for (const e of batch) {
          builder.add(e);
          if (rowsOut) text += rowOf(e);
          else listed.push(timelineItem(e));
        }
        if (text) rowsOut!.write(text);
        batch = [];
      };
      try {
        for await (const page of pages) for (const e of page) {
          if (first) {
            last = e;
            if (e.at < newest) {
              late.push(e);
              held.add(count);
            } else newest = e.at;
            count++;
            // Out of order: this read only counts now; the second one folds.
            if (late.length) continue;
          }
          batch.push(e);
          if (batch.length >= REDACT_BATCH) await flush();
        }
        await flush();
      } finally {
        rowsOut?.close();
      }
      return { builder, listed };
    };
    // The helper thread starts from where this thread's redactor stands now. Its part is kept only
    // if this thread's part found no value to redact (so the helper started from the very state this
    // thread reached) and the events are in order across both; otherwise this thread reads on past
    // the cut itself. A template whose rows cannot be cut out has no use for it.
    if (helper && !(split && scratchDir)) {
      await helper.stop();
      helper = undefined;
    }
    let kept: TimelineResult | undefined;
    let pages = firstRead;
    if (cut && helper) {
      const job: TimelineJob = {
        incidentId: incident.id,
        from: cut.at,
        to: cut.to,
        batch: REDACT_BATCH,
        template: { file: templateFile, cwd: ctx.io.cwd, cacheDir, fields: TIMELINE_FIELDS, row: split?.row },
        rowsFile: join(scratchDir!, 'timeline-2.md'),
        redact: redactor ? { patterns: (await ctx.team()).redaction ?? [], state: redactor.state() } : null,
      };
      const known = redactor?.known ?? 0;
      helper.start(job);
      const running = helper;
      pages = (async function* () {
        yield* before(firstRead, cut.at);
        // Every batch of this part is folded by now (the cut is a multiple of REDACT_BATCH events in).
        // With IR_DEBUG, a line says which way it went (the tests read it).
        const say = (what: string) => ctx.env.IR_DEBUG && ctx.err(`postmortem: ${what}`);
        let why = late.length ? 'events out of order before the cut' : 'a value to redact found before the cut';
        if (!late.length && (redactor?.known ?? 0) === known) {
          let r: TimelineResult | undefined;
          try {
            r = await running.result;
          } catch (err) {
            if (!(err instanceof HelperOutOfMemory)) throw new OperationError((err as Error).message);
            why = 'the helper thread ran out of memory';
          }
          if (r && r.inOrder && (r.firstAt === null || r.firstAt >= newest)) {
            say(`a helper thread folded the ${r.count} events from seq ${cut.at} on`);
            kept = r;
            rowsFiles.push(job.rowsFile);
            return;
          }
          if (r) why = 'events out of order after the cut';
        }
        say(`the helper thread's part is not used (${why}): this thread reads on from seq ${cut.at}`);
        await running.stop();
        yield* cut.rest();
      })();
    }
    let folded = await fold(pages, true);
    if (ctx.env.IR_DEBUG && 'read' in firstRead) {
      const { helper, here } = (firstRead as { read: { helper: number; here: number } }).read;
      ctx.err(`postmortem: ${helper} pages read on a helper thread, ${here} on this one`);
    }
    if (kept) {
      for (const op of kept.ops) folded.builder.apply(op);
      count += kept.count;
      if (kept.lastSeq !== null) last = { seq: kept.lastSeq, hash: '' };
      if (redactor && kept.redactor) redactor.restore(kept.redactor);
    }
    if (late.length) {
      late.sort(chronologically);
      folded = await fold(onePerPage(mergeChronologically(upTo(read(), count, held), late)), false);
    }
    const { builder, listed } = folded;
    const head = last ? `${last.seq}:${last.hash || (local && eventHash(local.db.db, incident.id, last.seq)) || ''}` : undefined;

    const model = builder.finish({ chainHead: head });
    // Everything the template prints comes from the redacted record or from the template's own
    // text (a team's template may hold a token in a link): the template is scanned too, and a last
    // pass replaces what either held wherever it ended up.
    // ir's own template holds no secret (test/report/template-rows.test.ts checks it), and scanning
    // it would load secretlint for a timeline that gave it nothing to look at.
    if (redactor && dirname(templateFile) !== SHIPPED_TEMPLATES) await redactor.learn(readFileSync(templateFile, 'utf8'));
    const echo = (text: string) => (redactor ? redactor.echo(text) : text);
    const note = redactionNote(redactor, 'the report');
    if (note) ctx.err(note);
    const extra = { chain_head: head ?? null, redacted: Boolean(redactor), redactions: Object.fromEntries(redactor?.counts ?? []) };

    /** The report, piece by piece: the text before the timeline rows, the rows, the text after. */
    /**
     * `out`, when given, takes bytes: with no value found anywhere (echo would change nothing),
     * the rows go from the scratch file to it as read, never decoded into text.
     */
    const write = async (sink: Sink, out?: OutStream) => {
      if (!split) {
        await sink.write(echo(await renderTemplate(templateFile, { ...model, timeline: listed }, ctx.io.cwd, cacheDir)));
        return sink.flush();
      }
      const { before, after } = split.around(model as unknown as Record<string, unknown>);
      await sink.write(echo(before));
      if (out && !redactor?.total) {
        await sink.flush();
        // A stream that queues (a pipe) keeps a chunk it was given until it has drained. One that
        // says it need not be waited for has taken it: a Node stream holding a chunk of 1 MiB would
        // be over its high-water mark (16 KiB), and ir's other streams write at once.
        await copyBytes(rowsFiles, async (chunk) => {
          if (out.write(chunk)) return true;
          if (!out.drained) return false;
          await out.drained();
          return true;
        });
      } else await copyRows(rowsFiles, (chunk) => sink.write(echo(chunk)));
      await sink.write(echo(after));
      await sink.flush();
    };

    if (opts.out) {
      const path = resolve(ctx.io.cwd, opts.out);
      mkdirSync(dirname(path), { recursive: true });
      const file = fileStream(path);
      let bytes = 0;
      try {
        const counted: OutStream = { write: (chunk) => ((bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength), file.write(chunk)) };
        await write(new Sink(counted), counted);
      } finally {
        file.close();
      }
      if (ctx.json) ctx.printJson({ incident: incident.id, file: path, draft: model.draft, bytes, ...extra });
      else ctx.err(`Wrote ${opts.out}${model.draft ? ' (DRAFT)' : ''}`);
      return 0;
    }
    if (ctx.json) {
      // One JSON document holds the whole report as one string: it is built in memory.
      const parts: string[] = [];
      await write(new Sink({ write: (chunk) => (parts.push(String(chunk)), true) }));
      ctx.printJson({ incident: incident.id, draft: model.draft, markdown: parts.join(''), ...extra });
    } else {
      await write(new Sink(ctx.io.stdout), ctx.io.stdout);
    }
    return 0;
  } finally {
    await helper?.stop();
    if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  }
}

/**
 * Where the helper thread's part starts, with the store's file, for a long incident on the SQLite
 * store whose helper thread was built; otherwise undefined (one thread does it all).
 */
function helperCut(
  store: SqliteStore,
  incidentId: string,
  env: NodeJS.ProcessEnv,
): (RangeCut & { path: string; rest: () => AsyncIterable<TimelineEvent[]> }) | undefined {
  const raw = env.IR_POSTMORTEM_HELPER_MIN;
  const set = raw !== undefined && /^\d+$/.test(raw);
  if (!set && pageHelperShipped()) return undefined;
  const min = set ? Number(raw) : HELPER_MIN;
  if (!existsSync(store.location) || !helperShipped()) return undefined;
  const cut = cutEvents(store.db.db, incidentId, OWN_SHARE, REDACT_BATCH, Math.max(min, 1));
  const db = store.db;
  // The events from the cut on, should this thread do them after all: read from there, as the
  // store's own pages are read, rather than from the start again.
  async function* rest(): AsyncIterable<TimelineEvent[]> {
    for (let after = cut!.at - 1; ; ) {
      const page = db.streamPage(incidentId, after, REDACT_BATCH, ['prevHash', 'hash']);
      if (page.length) yield page;
      if (page.length < REDACT_BATCH) return;
      after = page[page.length - 1].seq;
    }
  }
  return cut && { ...cut, path: store.location, rest };
}

/** The pages of a stream up to (not including) the event with seq `at`. */
async function* before(pages: AsyncIterable<TimelineEvent[]>, at: number): AsyncIterable<TimelineEvent[]> {
  for await (const page of pages) {
    if (page[page.length - 1].seq < at) {
      yield page;
      continue;
    }
    const end = page.findIndex((e) => e.seq >= at);
    if (end > 0) yield page.slice(0, end);
    return;
  }
}

/** The order of a report's timeline: by time, then as recorded. */
function chronologically(a: TimelineEvent, b: TimelineEvent): number {
  return a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq;
}

/** The first `count` events of a paged stream (those the first read counted), without the held positions. */
async function* upTo(pages: AsyncIterable<TimelineEvent[]>, count: number, held: Set<number>): AsyncIterable<TimelineEvent> {
  let i = 0;
  if (count <= 0) return;
  for await (const page of pages) {
    for (const e of page) {
      if (!held.has(i)) yield e;
      if (++i === count) return;
    }
  }
}

/** Events as pages of one: the rare second read that merges late events in goes at its own pace. */
async function* onePerPage(events: AsyncIterable<TimelineEvent>): AsyncIterable<TimelineEvent[]> {
  for await (const e of events) yield [e];
}

/** Two streams, each in chronological order, as one. */
async function* mergeChronologically(inOrder: AsyncIterable<TimelineEvent>, held: TimelineEvent[]): AsyncIterable<TimelineEvent> {
  let i = 0;
  for await (const e of inOrder) {
    while (i < held.length && chronologically(held[i], e) < 0) yield held[i++];
    yield e;
  }
  while (i < held.length) yield held[i++];
}

/**
 * Files read as one: each call fills `buf` from where the last stopped, across the end of one file
 * into the next, so the chunks fall where they would in one file holding them all.
 */
function filesReader(paths: string[]): { read(buf: Buffer): number; close(): void } {
  let i = 0;
  let fd: number | undefined;
  return {
    read(buf) {
      let n = 0;
      while (n < buf.length && i < paths.length) {
        fd ??= openSync(paths[i], 'r');
        const got = readSync(fd, buf, n, buf.length - n, null);
        if (got > 0) n += got;
        else {
          closeSync(fd);
          fd = undefined;
          i++;
        }
      }
      return n;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
    },
  };
}

/**
 * The files' bytes, in chunks of 1 MiB. `emit` says whether the chunk was taken (its buffer free to
 * fill again) or may still be held (the next chunk gets a new one). A buffer for each chunk of a
 * long report piles up outside the heap until a collection frees them: tens of MiB of peak RSS.
 */
async function copyBytes(paths: string[], emit: (chunk: Buffer) => Promise<boolean>): Promise<void> {
  const files = filesReader(paths);
  try {
    for (let buf = Buffer.allocUnsafe(1024 * 1024); ; ) {
      const n = files.read(buf);
      if (n === 0) break;
      if (!(await emit(buf.subarray(0, n)))) buf = Buffer.allocUnsafe(1024 * 1024);
    }
  } finally {
    files.close();
  }
}

/** Files of whole lines, handed on in chunks that end at a line break. */
async function copyRows(paths: string[], emit: (chunk: string) => Promise<void>): Promise<void> {
  const files = filesReader(paths);
  try {
    const decoder = new StringDecoder('utf8');
    const buf = Buffer.alloc(1024 * 1024);
    let pending = '';
    for (;;) {
      const n = files.read(buf);
      if (n === 0) break;
      pending += decoder.write(buf.subarray(0, n));
      const cut = pending.lastIndexOf('\n') + 1;
      if (cut > 0) {
        await emit(pending.slice(0, cut));
        pending = pending.slice(cut);
      }
    }
    pending += decoder.end();
    if (pending) await emit(pending);
  } finally {
    files.close();
  }
}
