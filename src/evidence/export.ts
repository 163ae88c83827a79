// `ir evidence export`: a tar.gz of an incident's evidence with its manifests, a SHA256SUMS of
// what is in the archive, and the custody log (the evidence events of the hash-chained timeline).
// Each original is rehashed as it is copied: a file that no longer matches custody stops the
// export. With redaction (the default), the archive holds redacted copies — files, manifests and
// the custody log share one placeholder map — and the originals stay as they were.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OperationError } from '../errors.js';
import type { Store } from '../store/types.js';
import { describeEvent } from '../core/describe.js';
import { collections, hashFile } from './verify.js';
import type { Redactor } from '../redact/redactor.js';
import { HashingFileWriter } from './writer.js';

export interface ExportInput {
  incidentId: string;
  incidentDir: string;
  out: string;
  host: string;
  redaction?: Redactor;
  /** Only these collections (default: all of the incident's). */
  collectionIds?: string[];
}

export interface ExportResult {
  file: string;
  sha256: string;
  bytes: number;
  files: number;
  collections: string[];
  redacted: boolean;
  redactions: Record<string, number>;
  /** `SEQ:HASH` of the incident's chain head when the archive was written. */
  chainHead?: string;
}

export async function exportEvidence(store: Store, input: ExportInput): Promise<ExportResult> {
  const facts = (await collections(store, input.incidentId, input.host)).filter((c) => !input.collectionIds || input.collectionIds.includes(c.collection.id));
  if (input.collectionIds) {
    const unknown = input.collectionIds.filter((id) => !facts.some((c) => c.collection.id === id));
    if (unknown.length) throw new OperationError(`no collection ${unknown.join(', ')} in ${input.incidentId}`);
  }
  const wanted: { file: string; sha256: string }[] = [];
  for (const c of facts) {
    for (const f of c.files) if (f.file && f.sha256) wanted.push({ file: f.file, sha256: f.sha256 });
    const d = c.collected?.data;
    if (d && typeof d.manifest === 'string' && typeof d.manifest_sha256 === 'string') wanted.push({ file: d.manifest, sha256: d.manifest_sha256 });
  }
  if (!wanted.length) throw new OperationError(`${input.incidentId} has no evidence to export; collect some with \`ir evidence collect\``);

  const root = `${input.incidentId}-evidence`;
  const staging = mkdtempSync(join(dirname(input.out), `.${basename(input.out)}.staging-`));
  chmodSync(staging, 0o700);
  const tmpOut = `${input.out}.partial`;
  try {
    const sums: string[] = [];
    const mismatched: string[] = [];
    const missing: string[] = [];
    for (const w of wanted) {
      if (!existsSync(join(input.incidentDir, w.file))) {
        missing.push(w.file);
        continue;
      }
      // Hash the original on the way through; redact (or not) into the staged copy.
      const original = createHash('sha256');
      const tap = new Transform({
        transform(chunk: Buffer, _e, cb) {
          original.update(chunk);
          cb(null, chunk);
        },
      });
      const copy = new HashingFileWriter(join(staging, root, w.file));
      await pipeline(createReadStream(join(input.incidentDir, w.file), { highWaterMark: 1024 * 1024 }), tap, input.redaction ? input.redaction.stream() : new PassThrough(), copy);
      const staged = await copy.finish();
      if (original.digest('hex') !== w.sha256) mismatched.push(w.file);
      sums.push(`${staged.sha256}  ${w.file}`);
    }
    if (mismatched.length || missing.length) {
      throw new OperationError(`evidence does not match its custody record; not exporting (\`ir evidence verify\` shows every problem)`, [
        ...missing.map((f) => `  missing:  ${f}`),
        ...mismatched.map((f) => `  modified: ${f}`),
      ]);
    }
    const chain = await store.verify(input.incidentId);
    const events = await store.events(input.incidentId);
    const head = events.at(-1);
    let custody = events
      .filter((e) => e.type.startsWith('evidence.'))
      .map((e) => `${e.at}  seq=${e.seq}  ${e.actor}  ${e.type}  hash=${e.hash}\n    ${describeEvent(e)}\n    ${JSON.stringify(e.data)}`);
    if (input.redaction) custody = await input.redaction.redactAll(custody);
    const header = [
      `# Chain of custody for the evidence of ${input.incidentId}, from ir's hash-chained timeline.`,
      `# Timeline chain ${chain.ok ? `verified: ${chain.events} events intact` : `FAILED verification: ${chain.problems.map((p) => p.reason).join('; ')}`}.`,
      head ? `# Chain head as of this export: ${head.seq}:${head.hash} (check later with \`ir timeline --verify --head ${head.seq}:${head.hash}\`).` : '',
      input.redaction
        ? '# Files in this archive are REDACTED copies (secrets replaced by [REDACTED-KIND-N] placeholders, the same value the same placeholder in every file); the sha256 values in the manifests and the hashes below are of the originals.'
        : '# Files in this archive are NOT redacted (--no-redact).',
      '',
    ].filter((l) => l !== '');
    writeFileSync(join(staging, root, 'custody.log'), `${header.join('\n')}\n\n${custody.join('\n')}\n`, { mode: 0o600 });
    sums.push(`${(await hashFile(join(staging, root, 'custody.log'))).sha256}  custody.log`);
    writeFileSync(join(staging, root, 'SHA256SUMS'), `${sums.join('\n')}\n`, { mode: 0o600 });

    const tar = await import('tar');
    await tar.c({ gzip: true, cwd: staging, file: tmpOut, portable: true }, [root]);
    chmodSync(tmpOut, 0o600);
    renameSync(tmpOut, input.out);
    const archive = await hashFile(input.out);
    return {
      file: input.out,
      sha256: archive.sha256,
      bytes: archive.bytes,
      files: wanted.length,
      collections: facts.map((c) => c.collection.id),
      redacted: Boolean(input.redaction),
      redactions: Object.fromEntries(input.redaction?.counts ?? []),
      chainHead: head ? `${head.seq}:${head.hash}` : undefined,
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(tmpOut, { force: true });
  }
}
