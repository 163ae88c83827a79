// A runbook as the engine sees it once loaded: checked, commands split into templates, every step
// carrying the file:line:col it came from. The YAML side of the contract is runbooks/schema.json.

/** Where a runbook, phase or step starts in its file (file is the name shown to users). */
export interface Position {
  file: string;
  line: number;
  col: number;
}

/** A piece of a template: text kept as written, or a `{{name}}` reference filled in at run time. */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'var'; name: string };

/**
 * One argv element of a `run` command: its parts are joined after substitution, and a value is
 * never split again, so `x; rm -rf /` in a value stays one literal argument.
 */
export type WordTemplate = TemplatePart[];

/** Text with `{{name}}` references that is not a command: print commands, env values, cwd. */
export interface TextTemplate {
  source: string;
  parts: TemplatePart[];
}

/**
 * A `run` command. Without `shell: true` it was split into words at load time and runs with no
 * shell; with `shell: true` the source runs under `/bin/sh -c` and each value is inserted
 * single-quoted (see words.ts renderShell).
 */
export type CommandTemplate = { shell: false; source: string; words: WordTemplate[] } | { shell: true; source: string };

/** What a value may be; see values.ts and RUNBOOK-FORMAT "Values and safety". */
export type ValueType = 'name' | 'host' | 'port' | 'int' | 'path' | 'url' | 'text';

/** The checks every value of a variable passes when it is set (flag, env, default, resume, answer). */
export interface ValueRule {
  type?: ValueType;
  /** Regular expression the whole value must match. */
  pattern?: string;
  /** `allow_dash: true`: a value may begin with "-" (refused otherwise: it would read as an option). */
  allowDash: boolean;
}

export interface Variable extends ValueRule {
  name: string;
  description?: string;
  /** Used when nothing else supplies a value (flag, environment, answer). */
  default?: string;
  /** Environment variable whose value, when set, replaces the default. */
  env?: string;
  /** `kube: namespace`: when no flag or environment variable gives a value, the current kube context's namespace does (before the default). */
  kube?: 'namespace';
  /** Shown and stored as `****` everywhere. */
  secret: boolean;
}

export interface Expect {
  /** Exit code that counts as success (default 0). */
  exit: number;
  /** Regular expression (JavaScript syntax) that must match the output; see expectRegExp. */
  stdout?: string;
}

/** What to do when a run step fails: go on, stop the run, or jump forward to a later step. */
export type OnFailure = { action: 'continue' } | { action: 'abort' } | { action: 'goto'; step: string };

interface StepCommon {
  id: string;
  title: string;
  description?: string;
  /** `when: optional`: the responder is asked whether to do the step at all. */
  optional: boolean;
  /** The phase the step belongs to. */
  phase: string;
  /** Position in the whole runbook (0-based, across phases): on_failure jumps only forward. */
  index: number;
  /** Where the step starts, for the engine and the timeline to cite. */
  location: Position;
}

export interface RunStep extends StepCommon {
  kind: 'run';
  command: CommandTemplate;
  expect: Expect;
  timeoutMs: number;
  onFailure: OnFailure;
  /** Needs a typed confirmation; never run by --yes. */
  destructive: boolean;
  env: Record<string, TextTemplate>;
  cwd?: TextTemplate;
}

export interface PrintStep extends StepCommon {
  kind: 'print';
  /** Shown filled in for the responder to run by hand; never executed. */
  command: TextTemplate;
}

export interface ChecklistStep extends StepCommon {
  kind: 'checklist';
  items: string[];
}

export interface AskStep extends StepCommon {
  kind: 'ask';
  variable: string;
  message: string;
  default?: string;
  /** The answer is masked like a secret variable (also when the variable is declared secret). */
  secret: boolean;
  /** The ask's own type/pattern/allow_dash; a variable declared under `variables` uses its declaration. */
  rule: ValueRule;
}

export interface NoteStep extends StepCommon {
  kind: 'note';
  text: string;
}

/**
 * Offers regulatory deadline clocks (GDPR, PCI DSS, …): the responder ticks the regimes that apply
 * and a clock starts for each. Never chosen silently: without a terminal, or under --yes, only
 * `--var <variable>=gdpr,pci` (or `none`) starts them; otherwise the offer is recorded as skipped.
 */
export interface RegimesStep extends StepCommon {
  kind: 'regimes';
  /** Regime ids from severities.yaml, in the order offered. */
  offer: string[];
  /** The variable that carries the choice (`--var regimes=gdpr,pci`); default `regimes`. */
  variable: string;
  /** When the breach was discovered, usually `{{discovered_at}}`; default: the incident's start. */
  discovered?: TextTemplate;
}

export type Step = RunStep | PrintStep | ChecklistStep | AskStep | NoteStep | RegimesStep;
export type StepKind = Step['kind'];

export interface Phase {
  id: string;
  title: string;
  description?: string;
  /** Time budget counted from the start of the run. */
  withinMs?: number;
  steps: Step[];
  location: Position;
}

export interface Runbook {
  id: string;
  title: string;
  description?: string;
  /** Suggested severity id; exists in the severity definitions it was loaded against. */
  severity?: string;
  tags: string[];
  detection: string[];
  /** In the order they are declared. */
  variables: Variable[];
  phases: Phase[];
  verify: string[];
  followUp: string[];
  /** The file as shown to users (relative to the working directory when inside it). */
  file: string;
  /** The file's absolute path. */
  path: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const ACTIONS = ['run', 'print', 'checklist', 'ask', 'note', 'regimes'] as const;
/** The default variable of a `regimes` step. */
export const REGIMES_VARIABLE = 'regimes';
/** Fields that only make sense on a `run` step. */
export const RUN_ONLY_FIELDS = ['expect', 'timeout', 'on_failure', 'destructive', 'shell', 'env', 'cwd'] as const;
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every step in run order. */
export function allSteps(runbook: Runbook): Step[] {
  return runbook.phases.flatMap((p) => p.steps);
}

/** Names whose values must be shown as `****`: secret variables and answers to secret asks. */
export function secretNames(runbook: Runbook): Set<string> {
  const names = new Set(runbook.variables.filter((v) => v.secret).map((v) => v.name));
  for (const step of allSteps(runbook)) if (step.kind === 'ask' && step.secret) names.add(step.variable);
  return names;
}

/** The `expect.stdout` pattern as it is matched: against the whole output, `^`/`$` at line ends. */
export function expectRegExp(expect: Expect): RegExp | undefined {
  return expect.stdout === undefined ? undefined : new RegExp(expect.stdout, 'm');
}
