// Loads runbooks: YAML with positions, the schema (validate.ts), then the rules a schema cannot
// express — unique ids, on_failure jumping forward, {{name}} declared before use, commands that
// split into words without a shell. Every problem of every file is collected, each at file:line:col.

import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UserError, type SourceLocation } from '../errors.js';
import { problemsError, YamlSource, type Problem, type YamlPath } from '../config/yaml.js';
import { DURATION_HINT, parseDuration } from '../util/duration.js';
import {
  ACTIONS,
  DEFAULT_TIMEOUT_MS,
  ID_PATTERN,
  RUN_ONLY_FIELDS,
  type CommandTemplate,
  type OnFailure,
  type Phase,
  type Position,
  REGIMES_VARIABLE,
  type RegimesStep,
  type Runbook,
  type Step,
  type TextTemplate,
  type ValueRule,
  type ValueType,
  type Variable,
} from './format.js';
import { checkDuplicateIds, readRunbookText, runbookFiles, sortProblems } from './files.js';
import { findNestedShell } from './nested.js';
import { patternRegExp, valueProblem, VALUE_TYPES } from './values.js';
import { checkSchema, describePath, didYouMean, type SchemaCheck } from './validate.js';
import { checkShellCommand, findReferences, parseTemplate, splitCommand } from './words.js';

// Moved to files.ts (no YAML parser there); still exported from here.
export { checkDuplicateIds, isRunbookFileName, runbookFiles } from './files.js';

export interface LoadOptions {
  /** Valid severity ids; when given, a runbook's `severity` must be one of them. */
  severityIds?: readonly string[];
  /** Where those ids come from, for messages (e.g. runbooks/severities.yaml). */
  severityFile?: string;
  /** Valid regime ids; when given, a `regimes` step may offer only these. */
  regimeIds?: readonly string[];
}

export interface DirOptions extends LoadOptions {
  /** How a path is shown to users (default: as given). */
  display?: (path: string) => string;
}

export interface FileResult {
  /** As shown to users. */
  file: string;
  /** Absolute path. */
  path: string;
  /** The runbook's id as far as it could be read, also when the file has problems. */
  id?: string;
  /** Present only when the file has no problems. */
  runbook?: Runbook;
  problems: Problem[];
  /** Where the id is written (or the file's start when it comes from the file name). */
  idLocation?: SourceLocation;
}

export interface DirResult {
  /** Runbooks without problems, sorted by id. */
  runbooks: Runbook[];
  /** Every problem of every file, file by file. */
  problems: Problem[];
  files: FileResult[];
}

export function loadRunbookFile(path: string, displayName: string = path, opts: LoadOptions = {}): FileResult {
  const abs = resolve(path);
  const read = readRunbookText(abs, displayName);
  if ('problem' in read) return { file: displayName, path: abs, problems: [read.problem] };
  return loadRunbookText(read.text, displayName, abs, opts);
}

/** Loads a runbook from its text; `path` gives the default id (the file name) and Runbook.path. */
export function loadRunbookText(text: string, displayName: string, path: string, opts: LoadOptions = {}): FileResult {
  const result: FileResult = { file: displayName, path, problems: [] };
  const parsed = YamlSource.parse(displayName, text);
  if (!parsed.source) {
    result.problems = parsed.problems;
    return result;
  }
  const source = parsed.source;
  if (source.data === null || source.data === undefined) {
    result.problems = [{ location: { file: displayName, line: 1, col: 1 }, message: 'the file is empty: a runbook needs at least a title and phases' }];
    return result;
  }
  const schema = checkSchema(source);
  const built = new Builder(source, text, path, opts, schema).build();
  result.id = built.id;
  result.idLocation = built.idLocation;
  result.problems = sortProblems([...schema.problems, ...built.problems]);
  if (!result.problems.length) result.runbook = built.runbook;
  return result;
}

/**
 * Every runbook of a directory, and every problem: per file, and ids used by more than one file.
 * A directory that does not exist is one problem.
 */
export function loadRunbookDir(dir: string, opts: DirOptions = {}): DirResult {
  const display = opts.display ?? ((p: string) => p);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return { runbooks: [], files: [], problems: [{ location: { file: display(dir) }, message: 'runbook directory not found' }] };
  }
  const files = runbookFiles(dir).map((p) => loadRunbookFile(p, display(p), opts));
  checkDuplicateIds(files);
  return {
    runbooks: files.flatMap((f) => (f.runbook ? [f.runbook] : [])).sort((a, b) => a.id.localeCompare(b.id)),
    problems: files.flatMap((f) => f.problems),
    files,
  };
}

/**
 * One runbook by id from a directory, or by path when `idOrPath` names a .yaml file. Throws a
 * UserError listing every problem of that runbook, or saying which ids exist.
 */
export function findRunbook(dir: string, idOrPath: string, opts: DirOptions & { cwd?: string } = {}): Runbook {
  const display = opts.display ?? ((p: string) => p);
  if (/[\\/]/.test(idOrPath) || /\.ya?ml$/i.test(idOrPath)) {
    const abs = resolve(opts.cwd ?? process.cwd(), idOrPath);
    const result = loadRunbookFile(abs, display(abs), opts);
    if (!result.runbook) throw problemsError(result.problems);
    return result.runbook;
  }
  const { files } = loadRunbookDir(dir, opts);
  const match = files.find((f) => f.id === idOrPath) ?? files.find((f) => f.id?.toLowerCase() === idOrPath.toLowerCase());
  if (!match) {
    const ids = files.flatMap((f) => (f.id ? [f.id] : []));
    const guess = didYouMean(idOrPath, ids);
    throw new UserError(`no runbook "${idOrPath}" in ${display(dir)}${guess ? ` (did you mean "${guess}"?)` : ''}; \`ir runbook list\` shows them`);
  }
  if (!match.runbook) throw problemsError(match.problems);
  return match.runbook;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

interface PendingJump {
  label: string;
  target: string;
  index: number;
  path: YamlPath;
}

class Builder {
  private readonly problems: Problem[] = [];
  private readonly lineStarts: number[];
  /** Variables a step may use: declared ones plus answers of earlier ask steps. */
  private readonly known = new Set<string>();
  /** Every ask in the file: variable → the step that asks, for "asked only later" messages. */
  private readonly asks = new Map<string, { step: string; index: number }>();
  private readonly stepIndex = new Map<string, { index: number; line?: number }>();
  private readonly jumps: PendingJump[] = [];
  /** Declared variables' rules, for ask steps of the same variable. */
  private readonly declared = new Map<string, ValueRule & { secret: boolean }>();

  constructor(
    private readonly source: YamlSource,
    private readonly text: string,
    private readonly path: string,
    private readonly opts: LoadOptions,
    private readonly schema: SchemaCheck,
  ) {
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  private at(path: YamlPath, message: string, key = false): void {
    this.problems.push(this.source.problem(path, message, key));
  }

  private position(path: YamlPath): Position {
    const loc = this.source.at(path);
    return { file: loc.file, line: loc.line ?? 1, col: loc.col ?? 1 };
  }

  /** Reads a field only when the schema found nothing wrong with it. */
  private ok(path: YamlPath): boolean {
    return !this.schema.flagged(path);
  }

  build(): { runbook?: Runbook; id?: string; idLocation?: SourceLocation; problems: Problem[] } {
    const data = this.source.data;
    if (!isRecord(data)) return { problems: this.problems };

    let id: string | undefined;
    let idLocation: SourceLocation | undefined;
    const fileName = basename(this.path);
    if (typeof data.id === 'string') {
      id = data.id;
      idLocation = this.source.at(['id']);
    } else if (data.id === undefined) {
      const stem = fileName.replace(/\.ya?ml$/i, '');
      if (ID_PATTERN.test(stem)) id = stem;
      else this.at([], `the file name "${fileName}" is not a valid runbook id: add "id:" with lowercase letters, digits and dashes`);
      idLocation = { file: this.source.file, line: 1, col: 1 };
    }

    let severity: string | undefined;
    if (typeof data.severity === 'string') {
      severity = data.severity;
      const ids = this.opts.severityIds;
      if (ids && !ids.includes(severity)) {
        const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
        const guess = ids.find((s) => norm(s) === norm(severity!)) ?? didYouMean(severity, ids);
        const where = this.opts.severityFile ? ` in ${this.opts.severityFile}` : ' in the severity definitions';
        this.at(['severity'], `severity "${severity}" is not defined${where}${guess ? ` (did you mean "${guess}"?)` : ''}; defined: ${ids.join(', ')}`);
      }
    }

    const variables: Variable[] = [];
    if (isRecord(data.variables) && this.ok(['variables'])) {
      for (const [name, def] of Object.entries(data.variables)) {
        this.known.add(name);
        if (!isRecord(def)) continue;
        const base: YamlPath = ['variables', name];
        const v: Variable = { name, secret: def.secret === true, ...this.rule(def, base) };
        if (typeof def.description === 'string') v.description = def.description;
        const dflt = scalar(def.default);
        if (dflt !== undefined) {
          v.default = dflt;
          this.checkDefault(dflt, v, v.secret, [...base, 'default'], `variable "${name}"`);
        }
        if (typeof def.env === 'string') v.env = def.env;
        if (def.kube === 'namespace') v.kube = 'namespace';
        variables.push(v);
        this.declared.set(name, v);
      }
    }

    this.collectAsks(data.phases);
    const phases = this.phases(data.phases);
    this.checkJumps();

    const runbook: Runbook = {
      id: id ?? '',
      title: typeof data.title === 'string' ? data.title : '',
      tags: strings(data.tags),
      detection: strings(data.detection),
      variables,
      phases,
      verify: strings(data.verify),
      followUp: strings(data.follow_up),
      file: this.source.file,
      path: this.path,
    };
    if (typeof data.description === 'string') runbook.description = data.description;
    if (severity !== undefined) runbook.severity = severity;
    return { runbook, id, idLocation, problems: this.problems };
  }

  private collectAsks(phases: unknown): void {
    let index = 0;
    for (const phase of Array.isArray(phases) ? phases : []) {
      for (const step of isRecord(phase) && Array.isArray(phase.steps) ? phase.steps : []) {
        if (isRecord(step) && isRecord(step.ask) && typeof step.ask.variable === 'string' && !this.asks.has(step.ask.variable)) {
          this.asks.set(step.ask.variable, { step: typeof step.id === 'string' ? step.id : `number ${index + 1}`, index });
        }
        index++;
      }
    }
  }

  private phases(raw: unknown): Phase[] {
    const phases: Phase[] = [];
    if (!Array.isArray(raw)) return phases;
    const phaseIds = new Map<string, number | undefined>();
    let index = 0;
    raw.forEach((p, pi) => {
      const base: YamlPath = ['phases', pi];
      if (!isRecord(p)) return;
      const label = typeof p.id === 'string' ? `phase "${p.id}"` : `phase ${pi + 1}`;
      if (typeof p.id === 'string') {
        if (phaseIds.has(p.id)) {
          this.at([...base, 'id'], `${label}: the id "${p.id}" is already used by an earlier phase${lineNote(phaseIds.get(p.id))}`);
        } else {
          phaseIds.set(p.id, this.source.at([...base, 'id']).line);
        }
      }
      let withinMs: number | undefined;
      if (typeof p.within === 'string' && this.ok([...base, 'within'])) {
        withinMs = parseDuration(p.within);
        if (withinMs === undefined) this.at([...base, 'within'], `${label}: "within" must be ${DURATION_HINT}`);
        else if (withinMs === 0) this.at([...base, 'within'], `${label}: "within" must be longer than 0s`);
      }
      const phase: Phase = {
        id: typeof p.id === 'string' ? p.id : '',
        title: typeof p.title === 'string' ? p.title : typeof p.id === 'string' ? p.id : '',
        steps: [],
        location: this.position(base),
      };
      if (typeof p.description === 'string') phase.description = p.description;
      if (withinMs !== undefined) phase.withinMs = withinMs;
      (Array.isArray(p.steps) ? p.steps : []).forEach((s, si) => {
        const step = this.step(s, [...base, 'steps', si], phase.id, index);
        index++;
        if (step) phase.steps.push(step);
      });
      phases.push(phase);
    });
    return phases;
  }

  /** A `regimes` step: offered ids must be regimes the team defines; `discovered` may use {{name}}. */
  private regimesStep(s: Record<string, unknown>, base: YamlPath, label: string, common: Omit<RegimesStep, 'kind' | 'offer' | 'variable' | 'discovered'>): RegimesStep | undefined {
    const r = s.regimes;
    if (!isRecord(r) || !Array.isArray(r.offer)) return undefined;
    const offer = strings(r.offer);
    const ids = this.opts.regimeIds;
    offer.forEach((id, i) => {
      if (ids && !ids.includes(id)) {
        const where = this.opts.severityFile ? ` in ${this.opts.severityFile}` : '';
        this.at([...base, 'regimes', 'offer', i], `${label}: regime "${id}" is not defined${where}; defined: ${ids.join(', ')}`);
      }
    });
    const step: RegimesStep = { ...common, kind: 'regimes', offer, variable: typeof r.variable === 'string' ? r.variable : REGIMES_VARIABLE };
    if (r.discovered !== undefined) {
      const discovered = this.text_(r.discovered, [...base, 'regimes', 'discovered'], label);
      if (discovered) step.discovered = discovered;
    }
    return step;
  }

  private step(s: unknown, base: YamlPath, phase: string, index: number): Step | undefined {
    if (!isRecord(s)) return undefined;
    const { label } = describePath(this.source.data, base);
    const id = typeof s.id === 'string' ? s.id : '';
    if (typeof s.id === 'string') {
      if (s.id === 'continue' || s.id === 'abort') {
        this.at([...base, 'id'], `${label}: "${s.id}" is reserved for on_failure: choose another step id`);
      }
      const earlier = this.stepIndex.get(s.id);
      if (earlier) this.at([...base, 'id'], `${label}: the id "${s.id}" is already used by an earlier step${lineNote(earlier.line)}`);
      else this.stepIndex.set(s.id, { index, line: this.source.at([...base, 'id']).line });
    }

    const actions = ACTIONS.filter((a) => s[a] !== undefined);
    if (actions.length === 0) {
      this.at(base, `${label}: has no action: a step needs exactly one of run, print, checklist, ask, note or regimes`);
    } else if (actions.length > 1) {
      this.at([...base, actions[1]], `${label}: has both "${actions[0]}" and "${actions[1]}": a step does exactly one of run, print, checklist, ask, note or regimes (split it into separate steps)`, true);
    }
    const kind = actions[0];
    if (kind !== 'run') {
      for (const field of RUN_ONLY_FIELDS) {
        if (s[field] !== undefined) {
          this.at([...base, field], `${label}: "${field}" applies only to run steps${kind ? `, and this is a ${kind} step` : ''}`, true);
        }
      }
    }

    const common = {
      id,
      title: typeof s.title === 'string' ? s.title : id,
      optional: s.when === 'optional',
      phase,
      index,
      location: this.position(base),
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
    };
    let step: Step | undefined;
    switch (kind) {
      case 'run':
        step = this.runStep(s, base, label, common);
        break;
      case 'print': {
        const command = this.text_(s.print, [...base, 'print'], label);
        if (command) step = { ...common, kind: 'print', command };
        break;
      }
      case 'checklist':
        step = { ...common, kind: 'checklist', items: strings(s.checklist) };
        break;
      case 'ask': {
        const ask = s.ask;
        if (isRecord(ask) && typeof ask.variable === 'string') {
          const askPath = [...base, 'ask'];
          const rule = this.rule(ask, askPath);
          const declared = this.declared.get(ask.variable);
          const own = ['type', 'pattern', 'allow_dash'].find((k) => ask[k] !== undefined);
          if (declared && own) {
            this.at([...askPath, own], `${label}: "${ask.variable}" is declared under "variables", so its type, pattern and allow_dash are set there: remove "${own}" here`, true);
          }
          step = { ...common, kind: 'ask', variable: ask.variable, message: typeof ask.message === 'string' ? ask.message : ask.variable, secret: ask.secret === true, rule };
          const dflt = scalar(ask.default);
          if (dflt !== undefined) {
            step.default = dflt;
            this.checkDefault(dflt, declared ?? rule, step.secret || declared?.secret === true, [...askPath, 'default'], label);
          }
        }
        break;
      }
      case 'note':
        if (typeof s.note === 'string') step = { ...common, kind: 'note', text: s.note };
        break;
      case 'regimes':
        step = this.regimesStep(s, base, label, common);
        break;
      default:
        break;
    }
    // The answer is available from the next step on, not to the asking step itself.
    if (isRecord(s.ask) && typeof s.ask.variable === 'string') this.known.add(s.ask.variable);
    if (step?.kind === 'regimes') this.known.add(step.variable);
    return step;
  }

  private runStep(s: Record<string, unknown>, base: YamlPath, label: string, common: Omit<Step, 'kind'>): Step | undefined {
    const runPath = [...base, 'run'];
    let command: CommandTemplate | undefined;
    if (typeof s.run === 'string' && this.ok(runPath)) {
      const text = s.run;
      if (s.shell === true) {
        for (const e of checkShellCommand(text)) this.problems.push({ location: this.locate(runPath, text, e.column - 1), message: `${label}: ${e.error}` });
        command = { shell: true, source: text };
      } else {
        const split = splitCommand(text);
        if ('error' in split) this.problems.push({ location: this.locate(runPath, text, split.column - 1), message: `${label}: ${split.error}` });
        else command = { shell: false, source: text, words: split.words };
      }
      this.checkReferences(text, runPath, label);
      for (const n of findNestedShell(text, s.shell === true)) {
        this.problems.push({ location: this.locate(runPath, text, n.offset), message: `${label}: ${n.error}` });
      }
    }

    const env: Record<string, TextTemplate> = {};
    if (isRecord(s.env) && this.ok([...base, 'env'])) {
      for (const [name, value] of Object.entries(s.env)) {
        const text = scalar(value);
        if (text === undefined) continue;
        env[name] = parseTemplate(text);
        this.checkReferences(text, [...base, 'env', name], label);
      }
    }
    const cwd = s.cwd === undefined ? undefined : this.text_(s.cwd, [...base, 'cwd'], label);

    let exit = 0;
    let stdout: string | undefined;
    if (isRecord(s.expect)) {
      if (typeof s.expect.exit === 'number') exit = s.expect.exit;
      if (typeof s.expect.stdout === 'string' && this.ok([...base, 'expect', 'stdout'])) {
        stdout = s.expect.stdout;
        try {
          new RegExp(stdout, 'm');
        } catch (err) {
          const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
          this.at([...base, 'expect', 'stdout'], `${label}: "expect.stdout" is not a valid regular expression: ${why}`);
        }
      }
    }

    let timeoutMs = DEFAULT_TIMEOUT_MS;
    if (typeof s.timeout === 'string' && this.ok([...base, 'timeout'])) {
      const ms = parseDuration(s.timeout);
      if (ms === undefined) this.at([...base, 'timeout'], `${label}: "timeout" must be ${DURATION_HINT}`);
      else if (ms === 0) this.at([...base, 'timeout'], `${label}: "timeout" must be longer than 0s`);
      else timeoutMs = ms;
    }

    let onFailure: OnFailure = { action: 'continue' };
    if (typeof s.on_failure === 'string' && this.ok([...base, 'on_failure'])) {
      if (s.on_failure === 'abort') onFailure = { action: 'abort' };
      else if (s.on_failure !== 'continue') {
        onFailure = { action: 'goto', step: s.on_failure };
        this.jumps.push({ label, target: s.on_failure, index: common.index, path: [...base, 'on_failure'] });
      }
    }

    if (!command) return undefined;
    const step: Step = {
      ...common,
      kind: 'run',
      command,
      expect: stdout === undefined ? { exit } : { exit, stdout },
      timeoutMs,
      onFailure,
      destructive: s.destructive === true,
      env,
    };
    if (cwd) step.cwd = cwd;
    return step;
  }

  /** type / pattern / allow_dash of a variable or an ask, each checked where it is written. */
  private rule(def: Record<string, unknown>, base: YamlPath): ValueRule {
    const rule: ValueRule = { allowDash: def.allow_dash === true };
    if (typeof def.type === 'string' && this.ok([...base, 'type']) && (VALUE_TYPES as readonly string[]).includes(def.type)) rule.type = def.type as ValueType;
    if (typeof def.pattern === 'string' && this.ok([...base, 'pattern'])) {
      const { label } = describePath(this.source.data, base);
      try {
        patternRegExp(def.pattern);
        rule.pattern = def.pattern;
      } catch (err) {
        const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
        this.at([...base, 'pattern'], `${label}: "pattern" is not a valid regular expression: ${why}`);
      }
    }
    return rule;
  }

  /** A default must pass its own variable's checks: otherwise every run would be refused. */
  private checkDefault(value: string, rule: ValueRule, secret: boolean, path: YamlPath, label: string): void {
    if (!this.ok(path)) return;
    const why = valueProblem(value, rule, secret);
    if (why) this.at(path, `${label}: the default ${why.replace(/^the value /, 'value ')}`);
  }

  /** A print command or cwd: any text, with its references checked. */
  private text_(value: unknown, path: YamlPath, label: string): TextTemplate | undefined {
    if (typeof value !== 'string' || !this.ok(path)) return undefined;
    this.checkReferences(value, path, label);
    return parseTemplate(value);
  }

  private checkReferences(text: string, path: YamlPath, label: string): void {
    for (const ref of findReferences(text)) {
      if (this.known.has(ref.name)) continue;
      const asked = this.asks.get(ref.name);
      const message = asked
        ? `{{${ref.name}}} is asked for only later, by step "${asked.step}": move that step before this one, or declare "${ref.name}" under "variables"`
        : `{{${ref.name}}} is not a declared variable: declare it under "variables" or ask for it in an earlier step${suggest(ref.name, this.known)}`;
      this.problems.push({ location: this.locate(path, text, ref.offset), message: `${label}: ${message}` });
    }
  }

  private checkJumps(): void {
    for (const jump of this.jumps) {
      const target = this.stepIndex.get(jump.target);
      if (target && target.index > jump.index) continue;
      const later = [...this.stepIndex].filter(([, v]) => v.index > jump.index).map(([k]) => k);
      const why = target ? ' (it comes before this step: on_failure only jumps forward)' : suggest(jump.target, later);
      this.at(jump.path, `${jump.label}: on_failure names "${jump.target}", which is not a later step of this runbook${why}; use continue, abort or the id of a later step`);
    }
  }

  /**
   * The position of character `offset` of a scalar's value in the file. Plain, quoted, literal and
   * folded scalars all differ from their values, so the value is walked against the source text;
   * when the walk goes astray the scalar's own position is used.
   */
  private locate(path: YamlPath, value: string, offset: number): SourceLocation {
    const start = this.source.at(path);
    if (start.line === undefined || start.col === undefined) return start;
    const text = this.text;
    let p = this.lineStarts[start.line - 1] + start.col - 1;
    const c = text[p];
    if (c === '|' || c === '>') {
      const nl = text.indexOf('\n', p);
      if (nl < 0) return start;
      p = nl + 1;
    } else if (c === '"' || c === "'") {
      p++;
    }
    const limit = p + value.length * 2 + 256;
    const space = (ch: string | undefined) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
    let i = 0;
    while (i < offset && p < text.length && p < limit) {
      if (value[i] === text[p]) {
        i++;
        p++;
      } else if (space(value[i]) && space(text[p])) {
        i++;
        while (p < text.length && space(text[p])) p++;
      } else {
        p++;
      }
    }
    // In a single-quoted scalar '' is one quote: the walk stops between the two when a value follows.
    if (c === "'" && text[p] === "'" && text[p - 1] === "'" && value[offset - 1] === "'") p++;
    while (p < text.length && p < limit && text[p] !== value[offset] && space(text[p])) p++;
    if (i !== offset || text[p] !== value[offset]) return start;
    let line = 0;
    while (line + 1 < this.lineStarts.length && this.lineStarts[line + 1] <= p) line++;
    return { file: start.file, line: line + 1, col: p - this.lineStarts[line] + 1 };
  }
}

function lineNote(line: number | undefined): string {
  return line === undefined ? '' : ` (line ${line})`;
}

function suggest(word: string, candidates: Iterable<string>): string {
  const guess = didYouMean(word, candidates);
  return guess ? ` (did you mean "${guess}"?)` : '';
}
