// One playbook in, draft runbooks out: parse (Markdown with markdown-it, or plain text for .txt), find the
// scenarios, build a draft for each, give ids that do not clash, and turn recurring names into
// variables. No files are touched here; the command writes what this returns.

import { looksLikeCommand } from './commands.js';
import { parsePlainText } from './markdown.js';
import { buildDraft, cleanHeading, generalSection, outline, pickScenarios, slug, type Draft, type Skipped } from './scenarios.js';
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
  const { scenarios, skipped, outside } = pickScenarios(root);
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
  // Commands outside every scenario (a preamble, "Quick checks") are steps too, in a runbook of their own.
  const docTitle = root.children.length === 1 && root.children[0].heading ? cleanHeading(root.children[0].heading.text) : stem.replace(/[-_]+/g, ' ');
  const general = generalSection(outside, `General checks from ${docTitle}`);
  if (general) {
    const draft = buildDraft(general, { file: opts.file, severityIds: opts.severityIds, fallbackTitle: docTitle });
    if (draft.phases.some((p) => p.steps.some((s) => s.command !== undefined))) {
      let id = `${slug(docTitle, 32) || slug(stem) || 'playbook'}-general-checks`;
      const base = id;
      for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
      draft.id = id;
      draft.general = true;
      drafts.push(draft);
      for (const s of skipped) if (s.why.endsWith('its commands were not imported') || s.why.startsWith('a general section')) s.why = `${s.why.replace(/: its commands were not imported$/, '')}; its commands are steps of ${id}`;
    }
  }
  extractVariables(drafts);
  skipped.sort((a, b) => a.line - b.line);
  return { drafts, skipped };
}
