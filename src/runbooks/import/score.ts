// How well the importer reads a directory of playbooks against the manifests a human wrote for
// them (`NN-name.md` + `NN-name.expected.yaml`: the scenarios, each step's command, line and what it
// does). Used by the corpus test and by scripts/import-score.mjs, which the team runs on playbooks
// the importer was never tuned on; not part of any `ir` command, so the CLI never loads it.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { importPlaybook } from './playbook.js';
import type { Draft, DraftStep } from './scenarios.js';

export interface ExpectedStep {
  command?: string;
  prose?: string;
  line: number;
  changes?: boolean;
  manual?: boolean;
  program_known?: boolean;
}

export interface ExpectedScenario {
  title: string;
  line: number;
  variables?: string[];
  steps?: ExpectedStep[];
}

export interface Manifest {
  file: string;
  scenarios: ExpectedScenario[];
  not_scenarios?: Array<{ title: string; line: number; steps?: ExpectedStep[] }>;
  ignored_commands?: Array<{ command: string; line: number; why?: string }>;
}

/** What the importer made of a command: `run` (plain), `destructive` (run + confirmation), `print`, or absent. */
export type Made = 'run' | 'destructive' | 'print' | 'missing';

/** What a manifest step allows: a change is confirmed or printed; manual and unknown are printed. */
export function allowed(step: ExpectedStep): Made[] {
  if (step.manual || step.program_known === false) return ['print'];
  if (step.changes) return ['destructive', 'print'];
  // A read behind sudo: the importer confirms every sudo (a policy, not a misreading).
  if (/^\s*(\$\s+)?sudo\s/.test(step.command ?? '')) return ['run', 'destructive'];
  return ['run'];
}

export interface StepResult {
  scenario: string;
  line: number;
  command: string;
  expected: Made[];
  made: Made;
  /** The step was found, but in another runbook than the scenario's. */
  elsewhere: boolean;
}

export interface PlaybookScore {
  file: string;
  scenariosExpected: number;
  scenariosFound: number;
  missingScenarios: Array<{ title: string; line: number }>;
  /** Runbooks made from sections the manifest does not call scenarios. */
  extraScenarios: Array<{ title: string; line: number }>;
  commandsExpected: number;
  commandsImported: number;
  steps: StepResult[];
  /** Commands that change something and became a plain `run` step. */
  mutatingAsRun: StepResult[];
  /** Steps made from code the manifest says is not a step. */
  ignoredImported: Array<{ command: string; line: number }>;
  /** Imported commands whose action is not one the manifest allows. */
  misclassified: StepResult[];
  drafts: Draft[];
}

export interface Score {
  playbooks: PlaybookScore[];
  scenariosExpected: number;
  scenariosFound: number;
  commandsExpected: number;
  commandsImported: number;
  mutatingAsRun: number;
  ignoredImported: number;
  misclassified: number;
}

const commandSteps = (d: Draft): DraftStep[] => d.phases.flatMap((p) => p.steps).filter((s) => (s.kind === 'run' || s.kind === 'print') && s.command !== undefined);

/** The program a command runs, for matching a step to a manifest line ("sudo", prompts and env assignments skipped). */
export function programOf(command: string): string {
  const words = command.trim().replace(/^[$#]\s+/, '').split(/\s+/);
  let i = 0;
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]) || words[i] === 'sudo')) i++;
  return (words[i] ?? '').replace(/^.*\//, '');
}

function made(s: DraftStep | undefined): Made {
  if (!s) return 'missing';
  if (s.kind === 'print') return 'print';
  return s.plan?.destructive ? 'destructive' : 'run';
}

export async function scorePlaybook(dir: string, manifestFile: string, severityIds: readonly string[] = ['SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4']): Promise<PlaybookScore> {
  const m = parse(readFileSync(join(dir, manifestFile), 'utf8')) as Manifest;
  const text = readFileSync(join(dir, m.file), 'utf8');
  const { drafts } = await importPlaybook(text, { file: m.file, severityIds });
  const byLine = new Map(drafts.map((d) => [d.line, d]));
  const used = new Set<DraftStep>();
  const all = drafts.flatMap((d) => commandSteps(d).map((s) => ({ d, s })));
  const find = (st: ExpectedStep, d: Draft | undefined): { s?: DraftStep; elsewhere: boolean } => {
    const fits = (s: DraftStep) => !used.has(s) && s.line === st.line && programOf(s.command!) === programOf(st.command!);
    const own = d ? commandSteps(d).find(fits) : undefined;
    if (own) return { s: own, elsewhere: false };
    const other = all.find((x) => fits(x.s));
    return { s: other?.s, elsewhere: other !== undefined };
  };
  const score: PlaybookScore = {
    file: m.file,
    scenariosExpected: m.scenarios.length,
    scenariosFound: 0,
    missingScenarios: [],
    extraScenarios: [],
    commandsExpected: 0,
    commandsImported: 0,
    steps: [],
    mutatingAsRun: [],
    ignoredImported: [],
    misclassified: [],
    drafts,
  };
  const take = (scenario: string, d: Draft | undefined, steps: ExpectedStep[] | undefined, anywhere: boolean) => {
    for (const st of steps ?? []) {
      if (st.command === undefined) continue;
      score.commandsExpected++;
      const { s, elsewhere } = find(st, d);
      if (s) used.add(s);
      const r: StepResult = { scenario, line: st.line, command: st.command, expected: allowed(st), made: made(s), elsewhere: elsewhere && !anywhere };
      score.steps.push(r);
      if (s) score.commandsImported++;
      if (st.changes && r.made === 'run') score.mutatingAsRun.push(r);
      if (s && !r.expected.includes(r.made)) score.misclassified.push(r);
    }
  };
  for (const sc of m.scenarios) {
    const d = byLine.get(sc.line);
    if (d) score.scenariosFound++;
    else score.missingScenarios.push({ title: sc.title, line: sc.line });
    take(sc.title, d, sc.steps, false);
  }
  for (const ns of m.not_scenarios ?? []) take(ns.title, undefined, ns.steps, true);
  const expectedLines = new Set(m.scenarios.map((s) => s.line));
  for (const d of drafts) if (!expectedLines.has(d.line) && !d.general) score.extraScenarios.push({ title: d.title, line: d.line });
  for (const ig of m.ignored_commands ?? []) {
    const hit = all.find((x) => !used.has(x.s) && x.s.line === ig.line && programOf(x.s.command!) === programOf(ig.command));
    if (hit) score.ignoredImported.push({ command: ig.command, line: ig.line });
  }
  return score;
}

/** Every `*.expected.yaml` of a directory, scored. */
export async function scoreDirectory(dir: string): Promise<Score> {
  const manifests = readdirSync(dir).filter((f) => f.endsWith('.expected.yaml')).sort();
  const playbooks: PlaybookScore[] = [];
  for (const f of manifests) playbooks.push(await scorePlaybook(dir, f));
  const sum = (f: (p: PlaybookScore) => number) => playbooks.reduce((n, p) => n + f(p), 0);
  return {
    playbooks,
    scenariosExpected: sum((p) => p.scenariosExpected),
    scenariosFound: sum((p) => p.scenariosFound),
    commandsExpected: sum((p) => p.commandsExpected),
    commandsImported: sum((p) => p.commandsImported),
    mutatingAsRun: sum((p) => p.mutatingAsRun.length),
    ignoredImported: sum((p) => p.ignoredImported.length),
    misclassified: sum((p) => p.misclassified.length),
  };
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : 'n/a');

/** The figures as lines of text; `verbose` adds what was missed, per playbook. */
export function formatScore(s: Score, verbose = false): string[] {
  const out: string[] = [];
  if (verbose) {
    for (const p of s.playbooks) {
      out.push(`${p.file}: scenarios ${p.scenariosFound}/${p.scenariosExpected}, commands ${p.commandsImported}/${p.commandsExpected}, mutating as plain run ${p.mutatingAsRun.length}, ignored imported ${p.ignoredImported.length}, misclassified ${p.misclassified.length}`);
      for (const x of p.missingScenarios) out.push(`  missing scenario: ${p.file}:${x.line} ${x.title}`);
      for (const x of p.extraScenarios) out.push(`  extra runbook: ${p.file}:${x.line} ${x.title}`);
      for (const x of p.steps.filter((r) => r.made === 'missing')) out.push(`  missing command: ${p.file}:${x.line} ${x.command}`);
      for (const x of p.steps.filter((r) => r.elsewhere)) out.push(`  in another runbook: ${p.file}:${x.line} ${x.command}`);
      for (const x of p.mutatingAsRun) out.push(`  MUTATING AS RUN: ${p.file}:${x.line} ${x.command}`);
      for (const x of p.misclassified) out.push(`  misclassified (${x.made}, expected ${x.expected.join('|')}): ${p.file}:${x.line} ${x.command}`);
      for (const x of p.ignoredImported) out.push(`  ignored but imported: ${p.file}:${x.line} ${x.command}`);
    }
  }
  out.push(`playbooks: ${s.playbooks.length}`);
  out.push(`scenarios found: ${s.scenariosFound}/${s.scenariosExpected} (${pct(s.scenariosFound, s.scenariosExpected)})`);
  out.push(`commands imported as steps: ${s.commandsImported}/${s.commandsExpected} (${pct(s.commandsImported, s.commandsExpected)})`);
  out.push(`mutating commands as plain run: ${s.mutatingAsRun}`);
  out.push(`ignored commands wrongly imported: ${s.ignoredImported}`);
  out.push(`imported commands misclassified (allowed action not met): ${s.misclassified}`);
  return out;
}
