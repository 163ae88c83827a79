// `ir evidence export --out FILE.tar.gz`: files, manifests, SHA256SUMS and the custody log in one
// archive. It leaves the machine, so it holds redacted copies unless --no-redact says otherwise;
// the originals stay untouched either way.

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { displayPath } from '../../config/paths.js';

export interface ExportOptions {
  out?: string;
  /** false with --no-redact; true or unset: redact (the default). */
  redact?: boolean;
  redactPattern?: string[];
  collection?: string[];
  force?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const register: Register = (group, ctx, bind) => {
  group
    .command('export')
    .description('write the evidence, manifests, SHA256SUMS and custody log to a .tar.gz')
    .requiredOption('-o, --out <file>', 'the archive to write (.tar.gz)')
    .option('--redact', 'archive redacted copies (the default; kept for scripts that pass it)')
    .option('--no-redact', 'archive the files as they are, secrets and all (for a human who checked)')
    .option('--redact-pattern <regex>', 'also redact this (repeatable; with a capture group, only the group)', collect)
    .option('--collection <id>', 'only this collection (repeatable; default all)', collect)
    .option('--force', 'overwrite an existing archive')
    .addHelpText('after', '\nExamples:\n  ir evidence export --out INC-20261123-001.tar.gz\n  ir evidence export --out shareable.tar.gz --redact-pattern "session=(\\w+)"\n  ir evidence export --out for-forensics.tar.gz --no-redact')
    .action(bind((cmd: Command) => run(cmd.opts<ExportOptions>(), ctx)));
};

export async function run(opts: ExportOptions, ctx: Context): Promise<number> {
  if (!opts.out) throw new UsageError('--out FILE.tar.gz is required');
  const out = resolve(ctx.io.cwd, opts.out);
  if (existsSync(out) && !opts.force) throw new UsageError(`${displayPath(out, ctx.io.cwd)} exists; pass --force to overwrite it`);
  const redact = opts.redact !== false;
  const only = opts.collection ?? [];
  if (opts.redactPattern?.length && !redact) throw new UsageError('--redact-pattern and --no-redact contradict each other');
  // The archive leaves the machine like a postmortem: the team's own patterns (ir.yaml) apply too.
  const patterns = redact ? [...(await ctx.team()).redaction, ...(opts.redactPattern ?? [])] : [];
  const { Redactor } = await import('../../redact/redactor.js');
  const redaction = redact ? new Redactor(patterns) : undefined;
  const incident = await ctx.currentIncident();
  const store = await ctx.store();
  const { exportEvidence } = await import('../../evidence/export.js');
  const result = await exportEvidence(store, {
    incidentId: incident.id,
    incidentDir: ctx.incidentDir(incident.id),
    out,
    host: hostname(),
    redaction,
    collectionIds: only.length ? only : undefined,
  });
  await store.append(
    incident.id,
    () => ({
      type: 'evidence.exported',
      data: {
        file: result.file,
        sha256: result.sha256,
        redacted: result.redacted,
        files: result.files,
        collections: result.collections,
        ...(result.redacted ? { redactions: result.redactions } : {}),
        ...(result.chainHead ? { chain_head: result.chainHead } : {}),
      },
    }),
    ctx.now(),
    ctx.actor(),
  );
  if (ctx.json) {
    ctx.printJson({ incident: incident.id, ...result });
  } else {
    const { formatBytes } = await import('../../evidence/progress.js');
    ctx.out(`${displayPath(result.file, ctx.io.cwd)}  ${formatBytes(result.bytes)}  sha256 ${result.sha256}`);
    ctx.out(
      `${result.files} files from ${result.collections.length} collection${result.collections.length === 1 ? '' : 's'}, ${result.redacted ? `redacted (${Object.entries(result.redactions).map(([k, n]) => `${n} ${k.toLowerCase()}`).join(', ') || 'nothing matched'})` : 'NOT redacted (--no-redact)'}; SHA256SUMS and custody.log inside`,
    );
  }
  if (!result.redacted) ctx.err('Redaction is OFF (--no-redact): the archive carries every file exactly as collected.');
  return 0;
}
