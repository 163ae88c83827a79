// `ir evidence list`: the incident's collections with their state — complete, partial, running, or
// incomplete (started, never finished: the process was killed) — derived from the store. Files such
// a collection opened and never sealed are listed as partial with their size on disk now.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { columns, utc } from '../../io/format.js';

export interface ListOptions {
  files?: boolean;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('list')
    .alias('ls')
    .description("the incident's evidence collections; --files lists every file with its sha256")
    .option('--files', 'list each file with its status and sha256')
    .addHelpText('after', '\nExamples:\n  ir evidence list\n  ir evidence list --files\n  ir evidence list --json')
    .action(bind((cmd: Command) => run(cmd.opts<ListOptions>(), ctx)));
};

export async function run(opts: ListOptions, ctx: Context): Promise<number> {
  const incident = await ctx.currentIncident();
  const store = await ctx.store();
  const { collections } = await import('../../evidence/verify.js');
  const { formatBytes } = await import('../../evidence/progress.js');
  const facts = await collections(store, incident.id, hostname());
  const sizeNow = (file: string): number | null => {
    try {
      return statSync(join(ctx.incidentDir(incident.id), file)).size;
    } catch {
      return null;
    }
  };
  const summary = facts.map((c) => {
    const files = c.files.filter((f) => f.file);
    // The manifest of a killed collection only counts when it reached the disk.
    const partial = c.partial.map((o) => ({ ...o, bytes: sizeNow(o.file) })).filter((o) => o.collector !== 'manifest' || o.bytes !== null);
    const interrupted = typeof c.collected?.data.interrupted === 'string' ? c.collected.data.interrupted : c.state === 'incomplete' ? 'the collecting process ended without recording the end (killed, crashed, or the machine stopped)' : null;
    return {
      id: c.collection.id,
      state: c.state,
      started_at: c.collection.startedAt,
      finished_at: c.collection.finishedAt,
      collected_by: c.collection.collectedBy,
      ir_version: c.collection.irVersion,
      kube_context: c.collection.kubeContext,
      namespace: c.collection.namespace,
      selector: c.collection.selector,
      collectors: c.collection.collectors,
      files: files.length,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      failed: c.files.filter((f) => f.status === 'failed' || f.status === 'timeout').map((f) => f.file ?? f.collector),
      skipped: c.files.filter((f) => f.status === 'skipped').map((f) => f.collector),
      interrupted,
      partial: partial.map((o) => o.file),
      // An incomplete collection's collectors that never recorded anything were cut off by the crash.
      unfinished: c.state === 'incomplete' || c.state === 'running' ? c.collection.collectors.filter((n) => !c.files.some((f) => f.collector === n)) : [],
      file_list: [
        ...c.files.map((f) => ({ collector: f.collector, file: f.file, bytes: f.bytes, sha256: f.sha256, status: f.status, ...(f.reason ? { reason: f.reason } : {}) })),
        ...partial.map((o) => ({ collector: o.collector, file: o.file, bytes: o.bytes ?? 0, sha256: null, status: 'partial', reason: o.bytes === null ? 'opened, never written' : 'never sealed: the collection was interrupted; size is what is on disk now' })),
      ],
    };
  });
  if (ctx.json) {
    ctx.printJson({ incident: incident.id, collections: summary.map(({ file_list, ...rest }) => ({ ...rest, file_list })) });
    return 0;
  }
  if (!summary.length) {
    ctx.out(`No evidence for ${incident.id} yet: \`ir evidence collect\` gathers it.`);
    return 0;
  }
  ctx.out(
    columns(
      ['COLLECTION', 'STATE', 'STARTED', 'FILES', 'SIZE', 'BY', 'CONTEXT', 'NOTES'],
      summary.map((s) => [
        s.id,
        s.state,
        utc(s.started_at),
        String(s.files),
        formatBytes(s.bytes),
        s.collected_by,
        s.kube_context ?? '-',
        [
          s.interrupted && s.state !== 'incomplete' ? s.interrupted : '',
          s.failed.length ? `${s.failed.length} failed/timed out` : '',
          s.partial.length ? `${s.partial.length} partial` : '',
          s.unfinished.length ? `never finished: ${s.unfinished.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ') || '-',
      ]),
    ),
  );
  if (opts.files) {
    for (const s of summary) {
      ctx.out(`\n${s.id}`);
      ctx.out(columns(['STATUS', 'SIZE', 'SHA256', 'FILE'], s.file_list.map((f) => [f.status, f.file ? formatBytes(f.bytes) : '-', f.sha256 ?? '-', f.file ? `${f.file}${f.status === 'partial' ? '  (never sealed)' : ''}` : `${f.collector}: ${f.reason ?? ''}`])));
    }
  }
  return 0;
}
