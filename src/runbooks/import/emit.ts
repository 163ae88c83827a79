// Draft runbook → YAML text in the order of the format spec, with `# guessed: …` comments where a
// human should look, checked with the real loader before it is written. A step the loader refuses
// is demoted (run → print → note) rather than leaving the team with a file that does not load.

import { Document, isMap, type YAMLMap } from 'yaml';
import type { Problem } from '../../config/yaml.js';
import { loadRunbookText } from '../loader.js';
import { slug, type Draft, type DraftStep } from './scenarios.js';

export interface EmitOptions {
  /** The playbook as shown in messages. */
  source: string;
  /** Write `# yaml-language-server: $schema=./schema.json` first. */
  schemaComment: boolean;
  severityIds: readonly string[];
  /** The file's name as shown and its absolute path, for the loader's messages and default id. */
  displayName: string;
  path: string;
}

export interface Emitted {
  text: string;
  problems: Problem[];
}

function stepIds(draft: Draft): Map<DraftStep, string> {
  const ids = new Map<DraftStep, string>();
  const used = new Set<string>();
  for (const step of draft.phases.flatMap((p) => p.steps)) {
    let base = slug(step.title, 32) || step.kind;
    if (base === 'continue' || base === 'abort') base = `${base}-step`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    ids.set(step, id);
  }
  return ids;
}

function stepObject(step: DraftStep, id: string): Record<string, unknown> {
  const o: Record<string, unknown> = { id, title: step.title };
  if (step.description) o.description = step.description;
  switch (step.kind) {
    case 'run':
      o.run = step.command;
      if (step.plan?.destructive) o.destructive = true;
      if (step.plan?.shell) o.shell = true;
      break;
    case 'print':
      o.print = step.command;
      break;
    case 'checklist':
      o.checklist = step.items;
      break;
    case 'note':
      o.note = step.text;
      break;
  }
  return o;
}

export function render(draft: Draft, opts: EmitOptions): string {
  const ids = stepIds(draft);
  const data: Record<string, unknown> = { id: draft.id, title: draft.title };
  if (draft.description) data.description = draft.description;
  if (draft.severity) data.severity = draft.severity;
  data.tags = ['imported'];
  if (draft.detection.length) data.detection = draft.detection;
  if (draft.variables.length) {
    data.variables = Object.fromEntries(
      draft.variables.map((v) => [v.name, { description: v.description, ...(v.type ? { type: v.type } : {}), ...(v.default !== undefined ? { default: v.default } : {}), ...(v.env ? { env: v.env } : {}), ...(v.secret ? { secret: true } : {}) }]),
    );
  }
  data.phases = draft.phases.map((p) => ({ id: p.id, title: p.title, ...(p.within ? { within: p.within } : {}), steps: p.steps.map((s) => stepObject(s, ids.get(s)!)) }));
  if (draft.verify.length) data.verify = draft.verify;
  if (draft.followUp.length) data.follow_up = draft.followUp;

  const doc = new Document(data);
  const header = [
    ...(opts.schemaComment ? [' yaml-language-server: $schema=./schema.json'] : []),
    ` Imported by \`ir runbook import\` from ${opts.source}:${draft.line} ("${draft.heading.replace(/\n/g, ' ')}").`,
    ' Review every "guessed:" comment, then run `ir runbook validate`.',
  ];
  doc.commentBefore = header.join('\n');
  draft.phases.forEach((p, pi) => {
    p.steps.forEach((s, si) => {
      if (!s.guesses.length) return;
      const node = doc.getIn(['phases', pi, 'steps', si], true);
      if (isMap(node)) (node as YAMLMap).commentBefore = s.guesses.map((g) => ` guessed: ${g.replace(/\n/g, ' ')} (${opts.source}:${s.line})`).join('\n');
    });
  });
  return doc.toString({ lineWidth: 0 });
}

/**
 * Renders and loads the runbook; steps named in load problems are demoted (run → print → note)
 * and recorded as guesses, up to a few rounds. Problems left over are returned.
 */
export function emit(draft: Draft, opts: EmitOptions): Emitted {
  for (let round = 0; ; round++) {
    const text = render(draft, opts);
    const result = loadRunbookText(text, opts.displayName, opts.path, { severityIds: opts.severityIds });
    if (!result.problems.length || round >= 3) return { text, problems: result.problems };
    const ids = stepIds(draft);
    let changed = false;
    for (const problem of result.problems) {
      const m = /step "([^"]+)"/.exec(problem.message);
      const step = m ? [...ids].find(([, id]) => id === m[1])?.[0] : undefined;
      if (!step) continue;
      if (step.kind === 'run') {
        step.kind = 'print';
        step.guesses.unshift(`print, not run: the command would not load as a run step (${problem.message.replace(/^step "[^"]+": /, '')})`);
        changed = true;
      } else if (step.kind === 'print') {
        step.kind = 'note';
        step.text = step.command!.replace(/\{\{/g, '{ {');
        step.guesses.unshift(`note, not print: ${problem.message}`);
        changed = true;
      }
    }
    if (!changed) {
      if (result.problems.some((p) => /severity/.test(p.message)) && draft.severity) {
        delete draft.severity;
        continue;
      }
      return { text, problems: result.problems };
    }
  }
}
