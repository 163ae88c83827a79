// `ir postmortem [ID] [--out FILE] [--draft] [--no-redact]`: the blameless report, written from
// the timeline, with secrets replaced by placeholders and the chain head it was written at. The
// timeline is streamed, so an incident of a million events is reported in bounded memory.

import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UserError } from '../../errors.js';
import { SHIPPED_TEMPLATES } from '../../config/paths.js';
import type { TimelineEvent } from '../../core/incident.js';
import { fileStream, Sink } from '../../io/sink.js';
import type { OutStream } from '../../io/streams.js';
import { ModelBuilder, timelineItem } from '../../report/model.js';
import { outgoingRedactor, redactionNote } from '../../report/outgoing.js';
import { renderTemplate, templateAround, templatePath } from '../../report/template.js';

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
/** What a timeline row carries (timelineItem): a template printing only these needs no Handlebars per row. */
const TIMELINE_FIELDS = ['time', 'actor', 'text'] as const;

export async function run(opts: PostmortemOptions, ctx: Context): Promise<number> {
  const incident = await ctx.currentOrLatestIncident(opts.id);
  if (incident.state !== 'resolved' && !opts.draft) {
    throw new UserError(`${incident.id} is not resolved (${incident.state}): pass --draft for a draft report, or \`ir resolve\` first`);
  }
  const store = await ctx.store();
  // In pages (one await per page, not per event); the report names the head's hash, never a prev_hash.
  const read = () => store.eventPages(incident.id, { without: ['prevHash'] });

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
  const scratchDir = split ? mkdtempSync(join(tmpdir(), 'ir-postmortem-')) : undefined;
  try {
    const rowsFile = scratchDir && join(scratchDir, 'timeline.md');
    let count = 0;
    let last: TimelineEvent | undefined;
    let newest = '';
    const late: TimelineEvent[] = [];
    // By position in the stream: events still waiting in this machine's outbox have no seq yet.
    const held = new Set<number>();
    const fold = async (pages: AsyncIterable<TimelineEvent[]>, first: boolean) => {
      const builder = new ModelBuilder(safeIncident, severities, now, modelOptions);
      const rowsOut = rowsFile ? fileStream(rowsFile, 0o600) : undefined;

      const listed: ReturnType<typeof timelineItem>[] = [];
      let batch: TimelineEvent[] = [];
      const flush = async () => {
        if (redactor) {
          const datas = await redactor.redactDeep(batch.map((e) => e.data));
          // A copy only where something was replaced (redactDeep keeps what it did not change): a
          // store may hand the same objects to a later read (the team store's offline copy).
          for (let i = 0; i < batch.length; i++) if (datas[i] !== batch[i].data) batch[i] = { ...batch[i], data: datas[i] };
        }
        let text = '';
        for (const e of batch) {
          builder.add(e);
          if (rowsOut) text += split!.item(timelineItem(e));
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
    let folded = await fold(read(), true);
    if (late.length) {
      late.sort(chronologically);
      folded = await fold(onePerPage(mergeChronologically(upTo(read(), count, held), late)), false);
    }
    const { builder, listed } = folded;
    const head = last ? `${last.seq}:${last.hash}` : undefined;

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
        // A stream that may queue (a pipe) keeps each chunk it was given; one that never does lets the buffer be reused.
        await copyBytes(rowsFile!, !out.drained, async (chunk) => {
          if (!out.write(chunk) && out.drained) await out.drained();
        });
      } else await copyRows(rowsFile!, (chunk) => sink.write(echo(chunk)));
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
    if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
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

/** A file's bytes, in chunks of 1 MiB: one buffer reused, or with `reuse` false a buffer for each. */
async function copyBytes(path: string, reuse: boolean, emit: (chunk: Buffer) => Promise<void>): Promise<void> {
  const fd = openSync(path, 'r');
  const once = reuse ? Buffer.allocUnsafe(1024 * 1024) : undefined;
  try {
    for (;;) {
      const buf = once ?? Buffer.allocUnsafe(1024 * 1024);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      await emit(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** A file of whole lines, handed on in chunks that end at a line break. */
async function copyRows(path: string, emit: (chunk: string) => Promise<void>): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    const buf = Buffer.alloc(1024 * 1024);
    let pending = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
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
    closeSync(fd);
  }
}
