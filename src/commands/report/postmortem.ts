// `ir postmortem [ID] [--out FILE] [--draft] [--no-redact]`: the blameless report, written from
// the timeline, with secrets replaced by placeholders and the chain head it was written at.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UserError } from '../../errors.js';
import { buildModel } from '../../report/model.js';
import { chainHead, outgoingRedactor, redactionNote, redactRecord } from '../../report/outgoing.js';
import { renderTemplate, templatePath } from '../../report/template.js';

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

export async function run(opts: PostmortemOptions, ctx: Context): Promise<number> {
  const incident = await ctx.currentOrLatestIncident(opts.id);
  if (incident.state !== 'resolved' && !opts.draft) {
    throw new UserError(`${incident.id} is not resolved (${incident.state}): pass --draft for a draft report, or \`ir resolve\` first`);
  }
  const store = await ctx.store();
  const events = await store.events(incident.id);
  const head = chainHead(events);
  const redactor = await outgoingRedactor(opts.redact, (await ctx.team()).redaction);
  const safe = await redactRecord(redactor, incident, events);
  // In the order things happened: an event written offline arrives after later ones but tells its own time.
  const chronological = [...safe.events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
  const model = buildModel(safe.incident, chronological, await ctx.severities(), ctx.now(), { incidentDir: ctx.incidentDir(incident.id), chainHead: head, redacted: Boolean(redactor) });
  const template = templatePath(ctx.runbookDir().dir, 'postmortem.md');
  const rendered = await renderTemplate(template, model, ctx.io.cwd, join(ctx.home, 'cache', 'templates'));
  // Everything the template prints comes from the redacted record or from the template's own
  // text (a team's template may hold a token in a link): the template is scanned too, and a last
  // pass replaces what either held wherever it ended up. A full scan of a 10,000-event report
  // would cost as much again and find nothing new.
  let text = rendered;
  if (redactor) {
    await redactor.learn(readFileSync(template, 'utf8'));
    text = redactor.echo(rendered);
  }
  const note = redactionNote(redactor, 'the report');
  if (note) ctx.err(note);
  const extra = { chain_head: head ?? null, redacted: Boolean(redactor), redactions: Object.fromEntries(redactor?.counts ?? []) };
  if (opts.out) {
    const path = resolve(ctx.io.cwd, opts.out);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    if (ctx.json) ctx.printJson({ incident: incident.id, file: path, draft: model.draft, bytes: Buffer.byteLength(text), ...extra });
    else ctx.err(`Wrote ${opts.out}${model.draft ? ' (DRAFT)' : ''}`);
    return 0;
  }
  if (ctx.json) ctx.printJson({ incident: incident.id, draft: model.draft, markdown: text, ...extra });
  else ctx.io.stdout.write(text);
  return 0;
}
