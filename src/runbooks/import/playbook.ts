// One playbook in, draft runbooks out: parse (Markdown with markdown-it, or plain text for .txt), find the
// scenarios, build a draft for each, give ids that do not clash, and turn recurring names into
// variables. No files are touched here; the command writes what this returns.

import { looksLikeCommand } from './commands.js';
import { parsePlainText } from './markdown.js';
import { buildDraft, outline, pickScenarios, slug, type Draft, type Skipped } from './scenarios.js';
import { readMarkdown } from './tokens.js';
import { extractVariables } from './variables.js';

export interface PlaybookOptions {
  /** The playbook as named in messages and comments. */
  file: string;
  severityIds: readonly string[];
  /** Plain-text rules (default: by extension, .txt and files without Markdown headings). */
  plainText?: boolean;
}

export interface PlaybookResult {
  drafts: Draft[];
  /** Sections that looked actionable but were not taken as scenarios. */
  skipped: Skipped[];
}

export async function importPlaybook(text: string, opts: PlaybookOptions): Promise<PlaybookResult> {
  const plainText = opts.plainText ?? /\.(txt|text)$/i.test(opts.file);
  const blocks = plainText ? parsePlainText(text, { plainText, isCommandLine: looksLikeCommand }) : await readMarkdown(text);
  const root = outline(blocks);
  const { scenarios, skipped } = pickScenarios(root);
  const stem = opts.file.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');
  const drafts: Draft[] = [];
  const ids = new Set<string>();
  for (const sec of scenarios) {
    const draft = buildDraft(sec, { file: opts.file, severityIds: opts.severityIds, fallbackTitle: stem.replace(/[-_]+/g, ' ') });
    if (!draft.phases.length) {
      skipped.push({ heading: draft.heading, line: draft.line, why: 'no steps found under it' });
      continue;
    }
    let id = draft.id || slug(stem) || 'scenario';
    const base = id;
    for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
    ids.add(id);
    draft.id = id;
    drafts.push(draft);
  }
  extractVariables(drafts);
  skipped.sort((a, b) => a.line - b.line);
  return { drafts, skipped };
}
