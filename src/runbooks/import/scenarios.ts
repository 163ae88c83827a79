// From a parsed playbook to draft runbooks: which sections are scenarios, which of their parts are
// detection, phases, verification and follow-up, and which steps each phase holds. Everything here
// is a guess about a document written for people; each guess a reviewer should check is recorded
// with the playbook line it came from.

import { codeSpans, inlineText, leadingLabel, sectionTree, type Block, type ListItem, type Section } from './markdown.js';
import { fillPlaceholders } from './variables.js';
import { SESSION_PROMPT, commandish, opensSession, commandTitle, looksLikeCommand, planCommand, splitScript, stripNumber, classifySql, type CommandPlan } from './commands.js';

export interface Guess {
  line: number;
  message: string;
}

export interface DraftStep {
  title: string;
  line: number;
  description?: string;
  kind: 'run' | 'print' | 'note' | 'checklist';
  /** run / print */
  command?: string;
  plan?: CommandPlan;
  /** note */
  text?: string;
  /** checklist */
  items?: string[];
  /** Shown as YAML comments and in the review summary. */
  guesses: string[];
}

export interface DraftPhase {
  id: string;
  title: string;
  within?: string;
  line: number;
  steps: DraftStep[];
}

export interface DraftVariable {
  name: string;
  description: string;
  default?: string;
  type?: string;
  env?: string;
  secret?: boolean;
}

export interface Draft {
  id: string;
  title: string;
  heading: string;
  line: number;
  severity?: string;
  description?: string;
  detection: string[];
  phases: DraftPhase[];
  verify: string[];
  followUp: string[];
  variables: DraftVariable[];
  guesses: Guess[];
  /** Made from the commands outside every scenario, not from a scenario. */
  general?: boolean;
}

export interface Skipped {
  heading: string;
  line: number;
  why: string;
}

export type PartKind = 'detection' | 'impact' | 'verify' | 'follow_up' | 'immediate' | 'investigate' | 'resolve' | 'communicate' | 'escalate' | 'other';

const PART_PATTERNS: Array<[PartKind, RegExp]> = [
  ['detection', /^when$|\b(when (this|it) (fires|happens)|symptoms?|detection|detecting|detect|triggers?|alerts?|alerting|signals?|signs|indicators?|how to (recognize|identify|spot|tell)|when to use)\b/],
  ['follow_up', /\b(post[- ]?incident|post[- ]?mortem|follow[- ]?ups?|afterwards|after (the|every|an) incident|prevention|preventive|action items|lessons|long[- ]term|next steps|improvements?)\b/],
  ['verify', /\b(verif(y|ication|ying)|validat(e|ion)|confirm(ation)?|success criteria|done when|exit criteria|health checks?|smoke tests?)\b/],
  ['immediate', /\b(immediate(ly)?|first (\d+|few|five|ten|fifteen|thirty) (min|mins|minutes?)|first (response|steps|actions)|triage|mitigat(e|ion|ions)|stabili[sz](e|ation)|quick (fix|actions?|mitigation)|workarounds?|emergency|initial (response|actions?|steps)|act now|right now|short[- ]term)\b/],
  ['investigate', /\b(investigat(e|ion|ing)|diagnos(e|is|tics?|ing)|debug(ging)?|troubleshoot(ing)?|analy(sis|ze|se)|root cause|identif(y|ication)|checks|assessment|assess)\b/],
  ['resolve', /\b(resol(ve|ution|ving)|recover(y|ing)?|remediat(e|ion)|contain(ment)?|eradicat(e|ion)|fix(es|ing)?|roll ?backs?|restor(e|ation)|repair|failover|rebuild)\b/],
  ['communicate', /\b(communicat(e|ion|ions)|comms|notif(y|ication|ications)|stakeholders?|status page|announce)\b/],
  ['escalate', /\b(escalat(e|ion|ions))\b/],
  ['impact', /\b(impact|meaning|overview|summary|context|description|background|causes?|about|what it means|likely causes)\b/],
];

/** What a sub-heading (or a bold label) of a scenario is. */
export function partKind(text: string): PartKind {
  const t = cleanHeading(text).toLowerCase();
  for (const [kind, re] of PART_PATTERNS) if (re.test(t)) return kind;
  return 'other';
}

const RUN_PHASES = new Set<PartKind>(['immediate', 'investigate', 'resolve', 'communicate', 'escalate']);
const PHASE_IDS: Partial<Record<PartKind, string>> = { verify: 'verify', immediate: 'immediate', investigate: 'investigate', resolve: 'resolve', communicate: 'communicate', escalate: 'escalate' };


const EMOJI = /\p{Extended_Pictographic}|\u{FE0F}|\u{200D}|\u{20E3}|[\u{1F1E6}-\u{1F1FF}]/gu;
const SEVERITY_IN_TEXT = /(?:^|[\s([{:,-])((?:SEV|Sev|sev|P|p|Priority|priority)[\s-]?([0-9]))(?=$|[\s)\]},.:;!-])/;

/** Heading text without numbering, emoji, severity markers and time budgets. */
export function cleanHeading(text: string): string {
  return inlineText(text)
    .replace(EMOJI, '')
    .replace(/^\s*(?:(?:scenario|case|incident|runbook|playbook|section|part|card|situation)\s*#?\d*\s*[:.)\-—–]\s*)/i, '')
    .replace(/^\s*(?:step|phase|stage)\s*#?\d+\s*[:.)\-—–]\s*(?=\S)/i, '')
    .replace(/^\s*(?:\d+(?:\.\d+)*[.)]?|[A-Za-z][.)]|[IVX]+\.)\s+/, '')
    .replace(/^\s*(?:scenario|runbook|playbook|incident)\s*:\s*/i, '')
    .replace(/\s*[([]\s*(?:SEV|Sev|sev|P|Priority)[\s-]?\d\s*[)\]]/g, '')
    .replace(/\s*[-—–:]\s*(?:SEV|Sev|P)[\s-]?\d\s*$/g, '')
    .replace(/\s*\((?:[^()]*\d+\s*(?:-|–|to)?\s*\d*\s*(?:s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?)\b[^()]*)\)\s*$/i, '')
    .replace(/[\s:.\-—–]+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `[a-z0-9][a-z0-9-]*`, at most `max` characters, cut at a dash. */
export function slug(text: string, max = 48): string {
  let s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (s.length > max) {
    s = s.slice(0, max);
    const dash = s.lastIndexOf('-');
    if (dash > max / 2) s = s.slice(0, dash);
    s = s.replace(/-+$/, '');
  }
  return s;
}

/** The time budget a heading gives: `(0-5 min)` → 5m, `(first 30 minutes)` → 30m, `(< 1 hour)` → 1h. */
export function timeBudget(text: string): string | undefined {
  const unit = '(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)';
  const t = text.toLowerCase();
  const range = new RegExp(`(?:t\\s*\\+\\s*)?(\\d+)\\s*${unit}?\\s*(?:-|–|—|to)\\s*(?:t\\s*\\+\\s*)?(\\d+)\\s*${unit}\\b`).exec(t);
  let n: number | undefined;
  let u: string | undefined;
  if (range) {
    n = Number(range[3]);
    u = range[4];
  } else {
    const bound = new RegExp(`(?:first|within|under|<=?|≤|up to|next|in|by|t\\s*\\+)\\s*(\\d+)\\s*${unit}\\b`).exec(t) ?? new RegExp(`\\(\\s*(\\d+)\\s*${unit}\\s*\\)`).exec(t);
    if (bound) {
      n = Number(bound[1]);
      u = bound[2];
    }
  }
  if (n === undefined || u === undefined || n <= 0) return undefined;
  const minutes = u.startsWith('s') ? n / 60 : u.startsWith('h') ? n * 60 : u.startsWith('d') ? n * 1440 : n;
  if (minutes < 1) return `${Math.round(minutes * 60)}s`;
  const h = Math.floor(minutes / 60);
  const m = Math.round(minutes % 60);
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}`;
}

/** A severity marker in a heading or a severity field, as written (`SEV-0`, `Sev 1`, `P2`). */
export function severityIn(text: string, loose = false): string | undefined {
  const m = SEVERITY_IN_TEXT.exec(text);
  if (!m) return undefined;
  // A lone "P2" in running text is too often something else (P95 is excluded by the pattern).
  if (!loose && /^p/i.test(m[1]) && !/[([]/.test(text[Math.max(0, (m.index ?? 0))] ?? '')) return undefined;
  return m[1];
}

/** The team's id for a severity as written, compared without case, dashes and spaces. */
export function matchSeverity(written: string, ids: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/priority/, 'p').replace(/[-_\s]/g, '');
  return ids.find((id) => norm(id) === norm(written));
}

// ---------------------------------------------------------------------------------------------
// What counts as actionable: commands and numbered steps.

/** Fences of PowerShell: commands, but typed on a Windows machine, never in the responder's shell. */
const POWERSHELL_INFO = ['powershell', 'pwsh', 'ps1', 'posh'];

const SHELL_INFO = new Set(['bash', 'sh', 'shell', 'console', 'zsh', 'shell-session', 'sh-session', 'terminal', 'ksh', 'fish', ...POWERSHELL_INFO]);

const PLAIN_INFO = new Set(['', 'text', 'txt', 'plain', 'plaintext', 'none', 'cmd', 'command', 'commands']);

/**
 * Shell commands, by its info string, or for a plain block by its lines: commands line by line
 * unless it is plainly output or configuration (JSON, YAML, key = value, a table of columns).
 */
function isShellCode(b: Block & { kind: 'code' }): boolean {
  if (SHELL_INFO.has(b.info)) return true;
  if (!PLAIN_INFO.has(b.info)) return false;
  // Continuation lines (`\`) belong to the command above them.
  const joined = b.lines.join('\n').replace(/\\\n\s*/g, ' ').split('\n');
  const lines = joined.map((l) => l.trim()).filter((l) => l && !/^#(\s|$|[^!])/.test(l));
  if (!lines.length) return false;
  if (lines.some((l) => /^[$%] \S/.test(l) || /^[\w.@:~-]+(?:[$#%>]|=>|=#) \S/.test(l) || SESSION_PROMPT.test(l))) return true;
  if (/^[{[<]/.test(lines[0]) || lines.filter((l) => /^[\w.-]+:(\s|$)|^[\w.-]+\s*=\s*\S/.test(l) && !/^[A-Za-z_][A-Za-z0-9_]*=\S*\s+\S/.test(l)).length * 2 > lines.length) return false;
  // Lines after a session opener (`kubectl exec -it … sh`, `redis-cli`) are typed in it, whatever they look like.
  const opener = lines.findIndex((l) => commandish(l) && opensSession(l));
  const counted = opener < 0 ? lines : lines.slice(0, opener + 1);
  return counted.filter((l) => commandish(l)).length * 5 >= counted.length * 3;
}

/**
 * Code spans of a piece of prose that are commands to carry out: a known program with arguments,
 * or a site tool (`./tools/flagctl set …`, `acme-ctl undrain --cluster …`) with options. A command
 * only mentioned ("if `kill -TTIN` fails", "`git revert` is not enough", "never `rm -rf` here") is
 * not one.
 */
function inlineCommands(text: string): string[] {
  const out: string[] = [];
  const spans = [...text.matchAll(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g)];
  for (const m of spans) {
    const c = m[2].trim().replace(/\\\|/g, '|');
    if (!commandSpan(c)) continue;
    if (mentioned(text, m.index ?? 0, m[0].length)) continue;
    out.push(c);
  }
  return out;
}

function commandSpan(c: string): boolean {
  // `uptime; ps -eo … | head`: a sequence is a command when its first command is one.
  const head = c.split(/\s*(?:;|&&|\|\|?)\s*/)[0];
  if (head !== c && head && commandSpan(head)) return true;
  const words = c.split(/\s+/);
  // `htop`, `uptime`: a lone word only when it is a program that is run bare.
  if (words.length < 2) return looksLikeCommand(c) && !/[.!?]$/.test(c);
  if (/^(for|while|until|if)\s.*;\s*(do|then)\b.*\b(done|fi)$/.test(c)) return true;
  if (looksLikeCommand(c)) return true;
  const program = words[0] === 'sudo' ? words[1] ?? '' : words[0];
  if (/^(\.{0,2}\/|~\/)[\w./-]+$/.test(program)) return true;
  if (/^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$/.test(program) && words.length >= (words[0] === 'sudo' ? 4 : 3)) return true;
  return /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+$|\.(sh|py|rb)$/.test(program) && words.some((w) => /^--?[A-Za-z]/.test(w) || /^<[^>]+>$/.test(w));
}

/**
 * The commands of a list item's text. "retry the dead jobs from the same console:
 * `Sidekiq::DeadSet.new.retry_all`": whatever is in code there is typed into a session opened
 * earlier, shell command or not.
 */
function itemCommands(text: string): { session?: string; commands: string[] } {
  if (/\b(?:in|inside|from|within) (?:the|that|this) (?:same )?[\w-]*\s?(?:console|session|shell|prompt)\b/i.test(text) && !/\bopen\b/i.test(text)) {
    const commands = codeSpans(text).filter((c) => /\S\s+\S|[.:(]/.test(c));
    if (commands.length) return { session: 'the session opened above', commands };
  }
  return { commands: inlineCommands(text) };
}

/** Is the code span at `at` only talked about in its sentence, not given as something to do? */
function mentioned(text: string, at: number, length: number): boolean {
  const start = Math.max(text.lastIndexOf('.', at) , text.lastIndexOf(';', at), text.lastIndexOf('\n\n', at)) + 1;
  const endDot = text.slice(at + length).search(/[.;](\s|$)/);
  const before = text.slice(start, at).toLowerCase();
  const after = text.slice(at + length, endDot < 0 ? undefined : at + length + endDot).toLowerCase();
  if (/\b(if|when|unless|whether)\s*$/.test(before.trim()) || /^\s*(fails?|failed|errors?|is not|isn't|does not|doesn't|is|are|was|will|would|only|alone|shows?|returns?|prints?|reports?|hangs?)\b/.test(after)) return true;
  // "never `rm -rf` here", "do not run `FLUSHALL`", "instead of `kubectl edit`".
  if (/\b(do not|don't|never|avoid|instead of|rather than|without)\s+(?:[\w-]+\s+){0,3}$/.test(before)) return true;
  if (/\b(reversible|undo(ne)?|revert(ed)?|reverse(d)?) (with|by)\s*$/.test(before)) return true;
  // "the serial number from `smartctl -i`", "(`git revert` in the repo, …)": named, not given to run.
  if (/\b(from|output of|shown by|reported by|printed by)\s*$/.test(before)) return true;
  if (/\(\s*$/.test(before) && text.slice(at + 1, at + length - 1).trim().split(/\s+/).length <= 2) return true;
  return false;
}

/** "From a second terminal", "back on your laptop", "exit the session": what follows runs here again. */
const LEAVES_SESSION = /\b(locally|your (own )?(laptop|workstation|machine)|(second|another|new|other|local) (terminal|shell|window)|exit(ed)?|log ?out|back (on|in|at|to)|from (a|the) workstation|close the session)\b/i;

/** Sessions on another machine or in a container whose shell stays open across blocks. */
const REMOTE_SESSION = /^(sudo\s+)?(aws\s.*\b(ssm\s+start-session|ecs\s+execute-command)|gcloud\s.*\bcompute\s+ssh|az\s+ssh|ssh\s|(oc|kubectl)\s.*\b(debug|rsh|exec)\b|(docker|podman|nerdctl)\s.*\bexec\b|nsenter\b|virsh\s+console|chroot\s)/;

/** Labels that open the steps without naming a kind of phase ("**Runbook.**", "**Do:**"). */
const GENERIC_LABEL = /^(runbook|procedure|steps|actions|response|what to do|how to fix|playbook|do|actions to take)$/i;

/** A paragraph that opens with a label telling the reader what to do (`**Do:**`, `**Fix:**`). */
const ACTION_LABEL = /^(\*\*|__)(do|fix|action|actions|mitigation|mitigate|resolution|resolve|remediation|workaround|run|check|diagnos(is|e)|investigate|triage)\s*[:.]?\s*\1\s*[:.]?\s/i;

function blocksHaveCommands(blocks: Block[]): boolean {
  return blocks.some((b) => {
    if (b.kind === 'code') return isShellCode(b) || b.info === 'sql';
    if (b.kind === 'list') return b.items.some((it) => inlineCommands(it.text).length > 0 || blocksHaveCommands(it.blocks));
    if (b.kind === 'quote') return blocksHaveCommands(b.blocks);
    if (b.kind === 'table') return b.rows.slice(1).some((r) => r.some((c) => inlineCommands(c).length > 0));
    // "**Do:** run `patronictl list` and check the leader": an instruction with its command.
    if (b.kind === 'paragraph') return ACTION_LABEL.test(b.text.trim()) && inlineCommands(b.text).length > 0;
    return false;
  });
}

function blocksActionable(blocks: Block[]): boolean {
  return blocksHaveCommands(blocks) || blocks.some((b) => b.kind === 'list' && b.ordered && b.items.length >= 2);
}

function subtree(sec: Section): Block[] {
  return [...sec.blocks, ...sec.children.flatMap(subtree)];
}

const actionable = (sec: Section) => blocksActionable(subtree(sec));

function hasDetection(sec: Section): boolean {
  if (sec.children.some((c) => partKind(c.heading!.text) === 'detection')) return true;
  const labelled = (blocks: Block[]) => blocks.some((b) => b.kind === 'paragraph' && leadingLabel(b.text) !== undefined && partKind(leadingLabel(b.text)![0]) === 'detection');
  return labelled(sec.blocks) || sec.children.some((c) => labelled(c.blocks));
}


const ENTRY_CONTAINER = /\b(common (incidents|issues|problems|failures)|scenarios?|playbooks?|known (issues|incidents|problems)|failure modes|incident types|situations|cards|incidents)\b/i;

/** `**Card 3 — Encrypted files on one workstation**`, `### Card 7: …`: an entry of a deck of cards. */
const CARD_TITLE = /^\s*(?:card|situation|case)\s*#?\d+\s*[:.)\-—–]\s*\S/i;

/**
 * A paragraph that is nothing but a bold title (`**Major outage declared (SEV1)**`) and names an
 * entry rather than a part: not a label with a colon, and not the name of a part (Diagnosis, Do).
 */
function entryTitle(b: Block, container: boolean): string | undefined {
  if (b.kind !== 'paragraph') return undefined;
  const m = /^(\*\*|__)([^*_\n]+?)\1$/.exec(b.text.trim());
  if (!m || /[:.]$/.test(m[2].trim())) return undefined;
  const text = m[2].trim();
  if (STAGE_HEADING.test(text)) return undefined;
  if (CARD_TITLE.test(text)) return text;
  if (!container || text.split(/\s+/).length < 2) return undefined;
  // "**Do not restart the primary without approval**" is a warning, not a title.
  if (/^(note|warning|important|caution|tip|nb|do not|don't|never|always|make sure|remember)\b/i.test(text)) return undefined;
  return partKind(text) === 'other' || partKind(text) === 'impact' || namesFailure(text) ? text : undefined;
}
const NUMBERED_HEADING = /^\s*(?:(?:[Ss]cenario|[Cc]ase|[Ii]ncident|[Pp]laybook|[Rr]unbook|SCENARIO|CASE|INCIDENT)\s*\d+\s*[:.)-]|\d+[.)]\s|[A-H][.)]\s)/;

/** `**Diagnosis:**` alone in its paragraph: the name of a part, written as a label instead of a heading. */
function labelOnly(b: Block): string | undefined {
  if (b.kind !== 'paragraph') return undefined;
  const m = /^(\*\*|__)([^*_\n]+?)[:.]?\1[:.]?$/.exec(b.text.trim());
  return m ? m[2].replace(/[:.\s]+$/, '').trim() : undefined;
}

/** A list item that is a titled scenario entry (`1. **Card authorisations timing out**` and what follows). */
function entryItem(it: ListItem, container: boolean): boolean {
  if (!it.blocks.length) return false;
  const bold = /^(\*\*|__)[^*_]+\1[:.]?$/.test(it.text.trim());
  // Under the title: parts (`**When:** …`, `**Diagnosis:**`), code or a list of its own.
  const rich = it.blocks.some((b) => labelOnly(b) !== undefined || b.kind === 'code' || b.kind === 'list' || (b.kind === 'paragraph' && /^(\*\*|__)[^*_]+?[:.]?\1[:.]?\s+\S/.test(b.text.trim())));
  return rich && (bold || (container && blocksHaveCommands(it.blocks)));
}

/**
 * The document as sections, with three things people use in place of headings made into headings:
 * a bold label naming a part (`**Diagnosis:**`, `**Mitigation**`) splits its section like a
 * sub-heading; titled entries of a list under "Common incidents"/"Scenarios" become sections of
 * their own; and numbered scenario headings ("Scenario 4: …", "2. …") written at different levels
 * are read as siblings.
 */
export function outline(blocks: Block[]): Section {
  return sectionTree(flatten(blocks, 0, false));
}

function flatten(blocks: Block[], base: number, inContainer: boolean): Block[] {
  const out: Block[] = [];
  let real = base;
  let container = inContainer;
  // Under an entry made from a bold title, part labels are one level deeper.
  let entry: number | undefined;
  const numberedLevel = new Map<string, number>();
  for (const b of blocks) {
    if (b.kind === 'heading') {
      entry = undefined;
      let level = b.level + base;
      const numbered = NUMBERED_HEADING.exec(b.text);
      if (numbered) {
        const key = numbered[0].replace(/\d+/g, 'N').trim().toLowerCase();
        const seen = numberedLevel.get(key);
        if (seen !== undefined) level = seen;
        else numberedLevel.set(key, level);
      }
      real = level;
      container = ENTRY_CONTAINER.test(cleanHeading(b.text));
      out.push({ ...b, level });
      continue;
    }
    // `**Card 3 — …**` with its text on the next line, no blank line between: title, then text.
    const firstLine = b.kind === 'paragraph' && b.text.includes('\n') ? b.text.slice(0, b.text.indexOf('\n')) : undefined;
    const titled = firstLine !== undefined ? entryTitle({ kind: 'paragraph', text: firstLine, line: b.line }, container) : entryTitle(b, container);
    if (titled !== undefined) {
      entry = real + 1;
      out.push({ kind: 'heading', level: entry, text: titled, line: b.line });
      if (firstLine !== undefined && b.kind === 'paragraph') out.push({ kind: 'paragraph', text: b.text.slice(firstLine.length + 1), line: b.line + 1 });
      continue;
    }
    const label = labelOnly(b);
    if (label !== undefined && (partKind(label) !== 'other' || STAGE_HEADING.test(label))) {
      out.push({ kind: 'heading', level: (entry ?? real) + 1, text: label, line: b.line });
      continue;
    }
    if (b.kind === 'list' && b.items.some((it) => entryItem(it, container))) {
      for (const it of b.items) {
        out.push({ kind: 'heading', level: real + 1, text: it.text, line: it.line });
        out.push(...flatten(it.blocks, real + 1, false));
      }
      continue;
    }
    out.push(b);
  }
  return out;
}

/** Sections that describe the process around incidents, or reference, rather than one kind of failure. */
const GENERAL = /\b(general|procedures?|process|tools?|commands|cheat ?sheet|checklists?|contacts?|templates?|links|documentation|references?|appendix|glossary|overview|roles|responsibilities|best practices|severity|severities|escalation|on-?call|metrics|configuration|setup|installation|post-?mortems?|post-incident|script|classification|requirements|who to call|related|ground rules|rules|conventions|silenc(e|es|ing)|owners?|introduction|about|faq|changelog|history|after the incident)\b/i;

/** A part of a scenario (Diagnosis, Rollback…); a section with parts of its own is a scenario, whatever its name ("Master unreachable, no failover happened"). */
/** Whatever else the heading says: a checklist, a template, a drill or a script is not a failure scenario. */
const GENERAL_ONLY = /\b(quick (checks?|reference|diagnostics|commands)|before you (start|begin)|prerequisites|pre-?flight|first checks|general (checks|diagnostics)|useful commands|checklists?|templates?|scripts?|cheat ?sheets?|tests?|experiments?|drills?|chaos|glossary|contacts?|evidence collection|forensics|tools and commands)\b/i;

/** "Step 2 — Look inside", "Phase 1: Contain": a numbered stage of the scenario above it. */
const STAGE_HEADING = /^\s*(?:step|phase|stage)\s*#?\d+\b/i;

const isPart = (sec: Section) =>
  STAGE_HEADING.test(inlineText(sec.heading!.text)) ||
  !['other', 'impact'].includes(partKind(sec.heading!.text)) && !namesFailure(sec.heading!.text) && !sec.children.some((c) => ['detection', 'investigate', 'immediate', 'resolve'].includes(partKind(c.heading!.text)));

/** "DNS resolution failures inside the cluster" names a failure, though "resolution" names a part. */
function namesFailure(text: string): boolean {
  const t = cleanHeading(text);
  return t.split(/\s+/).length >= 3 && /\b(fail(s|ed|ing|ures?)?|errors?|down|unreachable|unavailable|unhealthy|stuck|lag(ging)?|full|high|slow|expired?|leak(ed)?|broken|corrupt(ed|ion)?|time?outs?|timing out|crash(es|ing)?|outage|degraded|spik(e|es|ing)|compromised?|blocked|missing|wrong|lost|stolen)\b/i.test(t);
}

/** Prose a responder acts on: numbered steps, or a list of instructions. */
function instructions(blocks: Block[]): boolean {
  if (blocks.some((b) => b.kind === 'paragraph' && DO_LABEL.test(b.text.trim()))) return true;
  return blocks.some((b) => b.kind === 'list' && b.items.length >= 2 && (b.ordered || b.items.some((it) => IMPERATIVE.test(inlineText(it.text)))));
}

/** "**Do:** check the relay queue": an instruction under its label. */
const DO_LABEL = /^(\*\*|__)(do|fix|action|actions|mitigation|mitigate|resolution|resolve|remediation|workaround|response)\s*[:.]?\s*\1\s*[:.]?\s+\S/i;

const IMPERATIVE = /^(?:(?:if|when|once|after|before|then|first|finally|otherwise|for each)\b[^,]*,\s*)?(?:do not|don't|never|always|ask|call|check|confirm|contact|continue|disable|document|email|escalate|export|find|inform|isolate|keep|look|make|move|notify|open|page|post|preserve|pull|record|remove|reset|restart|review|revoke|rotate|screenshot|search|send|stop|suspend|take|tell|thank|treat|update|verify|wait|write|capture|collect|block|lock|quarantine|snapshot|create|file|raise|report|run|use|switch|scale|roll|restore|delete|drain|hand|say|give|set|add)\b/i;

const content = (sec: Section): Block[] => [...sec.blocks, ...sec.children.flatMap(content)];

/**
 * Sections that each hold one scenario: the deepest sections, not parts of a scenario, whose
 * content a responder acts on (commands, numbered steps or instructions); a section whose parts
 * (diagnosis, mitigation, rollback…) make it a scenario is one, whatever it has or lacks besides.
 */
export function findCandidates(sec: Section, parents: Section[] = []): Array<{ section: Section; parent?: Section }> {
  // The document's title ("Platform alert runbooks") is not a part, even when its words say "alert".
  const titled = !sec.heading && sec.children.filter(isPart).length < 2;
  const nonParts = sec.children.filter((c) => titled || !isPart(c));
  let results = nonParts.flatMap((c) => findCandidates(c, [...parents, sec]));
  // Among sibling scenarios ("A. Exposed bucket", "B. …", "D. Notification decision"), a section
  // named like a part (but not detection, verification or follow-up) is one more scenario.
  if (results.filter((r) => sec.children.includes(r.section)).length >= 2) {
    const more = sec.children.filter((c) => !nonParts.includes(c) && ['resolve', 'investigate', 'communicate', 'immediate'].includes(partKind(c.heading!.text)) && (actionable(c) || instructions(content(c))));
    if (more.length) results = sec.children.flatMap((c) => (more.includes(c) ? [{ section: c, parent: sec }] : results.filter((r) => r.section === c || isWithin(r.section, c))));
  }
  if (!sec.heading) return results;
  const parent = parents[parents.length - 1];
  const self = [{ section: sec, parent }];
  const parts = sec.children.some(isPart);
  const acts = (s: Section) => actionable(s) || instructions(content(s));
  if (parts && results.length < 2 && acts(sec)) return self;
  if (results.length === 1 && blocksActionable(sec.blocks)) return self;
  if (results.length) return results;
  return acts(sec) ? self : [];
}

function isWithin(inner: Section, outer: Section): boolean {
  return outer.children.some((c) => c === inner || isWithin(inner, c));
}

/** The scenarios of a document, and the sections left out with the reason. */
export function pickScenarios(root: Section): { scenarios: Section[]; skipped: Skipped[]; outside: Section[] } {
  let candidates = findCandidates(root);
  if (!candidates.length && blocksActionable(root.blocks)) candidates = [{ section: root }];
  const skipped: Skipped[] = [];
  const label = (s: Section) => (s.heading ? inlineText(s.heading.text) : '(document)');
  const line = (s: Section) => s.heading?.line ?? 1;
  const parents = new Map<Section, Section>();
  const link = (s: Section) => s.children.forEach((c) => (parents.set(c, s), link(c)));
  link(root);
  const named = (s: Section) => s.heading !== undefined && (GENERAL_ONLY.test(cleanHeading(s.heading.text)) || (GENERAL.test(cleanHeading(s.heading.text)) && !namesFailure(s.heading.text) && !hasDetection(s)));
  // Under "General incident procedures" or "Tools and commands", nothing is a failure scenario.
  // The document's title ("Payments platform — on-call playbook") names the whole page, not a section.
  const title = (s: Section) => parents.get(s) === root && (root.children.length === 1 || (s.heading?.level === 1 && root.children.filter((c) => c.heading?.level === 1).length === 1));
  const general = (s: Section): boolean => (named(s) && !title(s)) || (parents.get(s) !== undefined && general(parents.get(s)!));
  const keep = candidates.filter((c) => !general(c.section));
  const kept = new Set(keep.map((c) => c.section));
  // Sections outside every scenario, and the text around the scenarios (a preamble, an intro):
  // their commands go to one runbook of general checks.
  const outside: Section[] = [];
  for (const c of candidates) {
    if (kept.has(c.section)) continue;
    skipped.push({ heading: label(c.section), line: line(c.section), why: 'a general section (reference, contacts, process), not a failure scenario' });
    outside.push(c.section);
  }
  // Every other section outside the scenarios is named, so nothing is dropped without a word.
  const inside = new Set<Section>();
  const mark = (s: Section) => {
    inside.add(s);
    s.children.forEach(mark);
  };
  keep.forEach((c) => mark(c.section));
  const ancestors = new Set<Section>();
  const up = (s: Section, path: Section[]): void => {
    if (s.children.some((c) => kept.has(c)) || kept.has(s)) path.forEach((p) => ancestors.add(p));
    s.children.forEach((c) => up(c, [...path, s]));
  };
  up(root, []);
  const walk = (s: Section) => {
    for (const c of s.children) {
      if (inside.has(c) || candidates.some((x) => x.section === c)) continue;
      const has = content(c).some((b) => b.kind !== 'rule');
      if (!ancestors.has(c) && has) {
        skipped.push({ heading: label(c), line: line(c), why: blocksHaveCommands(content(c)) ? 'not a failure scenario: its commands were not imported' : 'no steps or commands found under it' });
        outside.push(c);
      } else walk(c);
    }
  };
  walk(root);
  outside.unshift(...[...new Set([root, ...ancestors])].filter((s) => !kept.has(s)).map((s) => ({ ...s, children: [] })));
  return { scenarios: keep.map((c) => c.section), skipped, outside };
}

/**
 * The commands written outside every scenario ("before you start: `aws sts get-caller-identity`",
 * a "Quick checks" table) as one section of their own, each source section a part of it; prose
 * (contacts, glossary) stays out. Undefined when there are none.
 */
/** Pasted scripts, drills and templates are not checks to run during an incident. */
const NOT_CHECKS = /\b(templates?|scripts?|tests?|experiments?|drills?|chaos|game ?days?|evidence collection|forensics|post-?mortems?|configuration|setup|installation)\b/i;

const PREAMBLE_STEP = /(?:^|[.!?]\s+)\s*(?:\*\*|__)?(?:before (?:you )?(?:start|begin|anything)|first(?: things first)?|prerequisites?|pre-?flight|sanity checks?|start here|always)\b[^`]{0,60}`|^\s*(?:first,? )?(?:run|check|verify|confirm)\s+`/i;

export function generalSection(outside: Section[], title: string): Section | undefined {
  // Prose around the scenarios mostly names commands ("log in with `oc login`"); only a paragraph
  // that tells the reader to run something first is an instruction.
  const commandBlocks = (blocks: Block[]) => attachToItems(blocks).filter((b) => blocksHaveCommands([b]) || (b.kind === 'paragraph' && PREAMBLE_STEP.test(b.text) && inlineCommands(b.text).length > 0));
  const children: Section[] = [];
  for (const sec of outside) {
    if (sec.heading && NOT_CHECKS.test(cleanHeading(sec.heading.text))) continue;
    const blocks = commandBlocks(sec.children.length ? subtree(sec) : sec.blocks);
    if (!blocks.length) continue;
    // Text before the first heading is a part too, so its paragraphs are steps, not a description.
    children.push({ heading: sec.heading ? { ...sec.heading, level: 2 } : { level: 2, text: 'Before you start', line: blocks[0].line }, blocks, children: [] });
  }
  if (!children.length) return undefined;
  const line = Math.min(...children.map((c) => c.heading!.line));
  return { heading: { level: 1, text: title, line }, blocks: [], children: children.sort((a, b) => a.heading!.line - b.heading!.line) };
}

// ---------------------------------------------------------------------------------------------
// Building a draft runbook from a scenario section.

export interface BuildOptions {
  /** The playbook as named in messages (`playbook.md`). */
  file: string;
  /** The team's severity ids. */
  severityIds: readonly string[];
  /** Title for a document without headings. */
  fallbackTitle: string;
}

class Builder {
  readonly draft: Draft;
  private phase?: DraftPhase;
  private readonly phaseIds = new Set<string>();

  constructor(
    private readonly sec: Section,
    private readonly opts: BuildOptions,
  ) {
    const headingText = sec.heading ? sec.heading.text : opts.fallbackTitle;
    const title = cleanHeading(headingText) || opts.fallbackTitle;
    this.draft = {
      id: slug(title.replace(/\s*\([^)]*\)\s*/g, ' ')) || slug(title) || 'scenario',
      title,
      heading: inlineText(headingText),
      line: sec.heading?.line ?? 1,
      detection: [],
      phases: [],
      verify: [],
      followUp: [],
      variables: [],
      guesses: [],
    };
    const sev = sec.heading ? severityIn(sec.heading.text) : undefined;
    if (sev) this.setSeverity(sev, this.draft.line, false);
  }

  private guess(line: number, message: string): void {
    this.draft.guesses.push({ line, message });
  }

  private setSeverity(written: string, line: number, fromText: boolean): void {
    if (this.draft.severity) return;
    const id = matchSeverity(written, this.opts.severityIds);
    if (id) {
      this.draft.severity = id;
      if (fromText) this.guess(line, `severity ${id} taken from the text "${written}"`);
    } else {
      this.guess(line, `severity "${written}" is not one of the team's (${this.opts.severityIds.join(', ')}): left out`);
    }
  }

  build(): Draft {
    // Text before the first step or sub-heading introduces the scenario: it is the description.
    const own = attachToItems(this.sec.blocks);
    let k = 0;
    for (; k < own.length; k++) {
      const b = own[k];
      const label = b.kind === 'paragraph' ? leadingLabel(b.text) : undefined;
      if (label && (partKind(label[0]) !== 'other' || GENERIC_LABEL.test(label[0]))) break;
      if (b.kind === 'paragraph' && !commandParagraph(b.text)) this.addDescription(inlineText(b.text));
      else if (b.kind === 'quote' && !blocksHaveCommands(b.blocks)) this.addDescription(b.blocks.map((x) => (x.kind === 'paragraph' ? inlineText(x.text.replace(/^\[![a-z]+\][+-]?\s*/i, '')) : '')).filter(Boolean).join('\n'));
      else if (b.kind === 'table' && blocksHaveCommands([b])) break;
      else if (b.kind !== 'table' && b.kind !== 'rule') break;
    }
    this.blocks(own.slice(k), 'other', undefined);
    for (const child of this.sec.children) this.part(child);
    if (!this.draft.severity) {
      const text = this.draft.detection.join(' ');
      const sev = severityIn(text, false) ?? severityIn(this.draft.description ?? '', false);
      if (sev) this.setSeverity(sev, this.draft.line, true);
    }
    this.draft.phases = this.draft.phases.filter((p) => p.steps.length);
    return this.draft;
  }

  private addDescription(text: string): void {
    const t = text.trim();
    if (!t) return;
    this.draft.description = this.draft.description ? `${this.draft.description}\n\n${t}` : t;
  }

  /** Starts a phase (or returns the current one when the kind matches and no heading is given). */
  private openPhase(kind: PartKind, title: string | undefined, line: number, budgetText = ''): DraftPhase {
    const own = slug(title ?? '', 24);
    let base = PHASE_IDS[kind] ?? (own || 'respond');
    // Two sections of one kind (Triage, then Mitigation) read better under their own names.
    if (this.phaseIds.has(base) && own && !this.phaseIds.has(own)) base = own;
    let id = base;
    for (let n = 2; this.phaseIds.has(id); n++) id = `${base}-${n}`;
    this.phaseIds.add(id);
    const phase: DraftPhase = { id, title: title ?? 'Response', line, steps: [] };
    const within = timeBudget(budgetText);
    if (within) phase.within = within;
    this.draft.phases.push(phase);
    this.phase = phase;
    return phase;
  }

  private current(line: number): DraftPhase {
    return this.phase ?? this.openPhase('other', undefined, line);
  }

  private part(sec: Section): void {
    const heading = sec.heading!;
    const kind = partKind(heading.text);
    const title = cleanHeading(heading.text) || inlineText(heading.text);
    if (kind === 'detection' || kind === 'verify' || kind === 'follow_up' || kind === 'impact') {
      this.phase = undefined;
      const code = subtree(sec).filter((b) => b.kind === 'code' && (isShellCode(b) || b.info === 'sql') || b.kind === 'table' && b.rows.slice(1).some((r) => r.some((c) => inlineCommands(c).length)));
      // Commands under "Verification" or "Symptoms" are still commands to run: steps of a phase of
      // that name; the rest of the part stays what it is (verify list, detection, follow-up).
      for (const b of subtree(sec)) if (!code.includes(b)) this.collect(kind, b);
      if (code.length) {
        this.openPhase(kind === 'verify' ? 'verify' : kind === 'detection' ? 'investigate' : 'other', title, heading.line, heading.text);
        this.blocks(code, kind, undefined);
      }
      this.phase = undefined;
      return;
    }
    if (!actionable(sec) && !subtree(sec).some((b) => b.kind === 'list' || b.kind === 'paragraph' || b.kind === 'quote')) return;
    this.openPhase(kind, title, heading.line, heading.text);
    this.blocks(sec.blocks, kind, undefined);
    for (const child of sec.children) {
      // Sub-headings of a phase ("Option 1: Rollback") title the steps under them.
      const childKind = partKind(child.heading!.text);
      if (childKind === 'verify' || childKind === 'follow_up' || childKind === 'detection') {
        for (const b of subtree(child)) this.collect(childKind, b);
        continue;
      }
      this.blocks(subtree(child), kind, cleanHeading(child.heading!.text) || inlineText(child.heading!.text), child.heading!.line);
    }
  }

  /** Detection, verification, follow-up and impact: items as text. */
  private collect(kind: PartKind, b: Block): void {
    const push = (text: string) => {
      const t = inlineText(text).replace(/^\[[ xX]\]\s*/, '');
      if (!t) return;
      if (kind === 'detection') this.draft.detection.push(t);
      else if (kind === 'verify') this.draft.verify.push(t);
      else if (kind === 'follow_up') this.draft.followUp.push(t);
      else this.addDescription(t);
    };
    if (b.kind === 'list') {
      for (const it of b.items) {
        push(it.text);
        for (const inner of it.blocks) this.collect(kind, inner);
      }
    } else if (b.kind === 'paragraph') {
      if (kind === 'impact') this.addDescription(inlineText(b.text));
      else for (const l of b.text.split('\n')) push(l);
    } else if (b.kind === 'code' && kind !== 'impact') {
      for (const l of b.lines) if (l.trim()) push(l.trim());
    } else if (b.kind === 'quote') {
      for (const inner of b.blocks) this.collect(kind, inner);
    } else if (b.kind === 'table' && kind !== 'impact') {
      for (const row of b.rows.slice(1)) push(row.filter(Boolean).join(' — '));
    }
  }

  /**
   * Steps from blocks in a phase. `title` (a sub-heading) titles the first step; a label such as
   * `**Verification:**` sends the blocks after it elsewhere.
   */
  private blocks(input: Block[], kind: PartKind, title: string | undefined, titleLine?: number): void {
    const blocks = attachToItems(input);
    let target: PartKind | undefined;
    let pendingTitle = title;
    let lastList: (Block & { kind: 'list' }) | undefined;
    let pendingSession: string | undefined;
    // A block that ends inside a session (`aws ssm start-session …` as its last line): the next
    // block of the section is typed there too, unless the text between says it is not.
    let openSession: string | undefined;
    const takeTitle = () => {
      const t = pendingTitle;
      pendingTitle = undefined;
      return t;
    };
    for (const b of blocks) {
      if (b.kind === 'paragraph') {
        lastList = undefined;
        const label = leadingLabel(b.text);
        if (label) {
          const lk = partKind(label[0]);
          if (/^severity$/i.test(label[0]) && severityIn(label[1], true)) {
            this.setSeverity(severityIn(label[1], true)!, b.line, false);
            continue;
          }
          if (lk === 'detection' || lk === 'verify' || lk === 'follow_up' || lk === 'impact') {
            target = lk;
            if (label[1]) {
              this.collect(lk, { kind: 'paragraph', text: lk === 'detection' && /^trigger/i.test(label[0]) ? label[1] : label[1], line: b.line });
              if (lk === 'detection') {
                const sev = severityIn(label[1], false);
                if (sev) this.setSeverity(sev, b.line, true);
              }
              target = undefined;
            }
            continue;
          }
          const generic = GENERIC_LABEL.test(label[0]);
          if ((RUN_PHASES.has(lk) || generic) && !label[1]) {
            // "**Runbook.**", "**Immediate actions:**": the blocks after it are a phase.
            target = undefined;
            if (!this.phase || this.phase.steps.length) this.openPhase(generic ? 'other' : lk, generic ? undefined : inlineText(label[0]), b.line, label[0]);
            continue;
          }
        }
        if (target) {
          this.collect(target, b);
          continue;
        }
        const text = inlineText(b.text);
        if (!text) continue;
        if (LEAVES_SESSION.test(text)) openSession = undefined;
        // "(still in the toolbox shell)": the next block is typed in a session opened earlier.
        pendingSession = /\b(?:in|inside|from|within) (?:the|that|this|your|same) (?:same )?[\w-]*\s?(?:shell|session|console)\b/i.test(text) && !/\bopen\b/i.test(text) ? 'the session opened above' : undefined;
        // "Inside the `chroot /host` session run `systemctl restart kubelet`": the first names the
        // session, the second is typed in it.
        const within = /\b(?:inside|in|from|within) (?:the|that|this|your|a) (?:(`[^`]+`) )?(?:same |debug |remote |toolbox |node )?(?:session|shell|console|prompt)\b/i.exec(b.text);
        const named = within?.[1]?.slice(1, -1).trim();
        const commands = inlineCommands(b.text).filter((c) => c !== named);
        if (commands.length) {
          const said = label && GENERIC_LABEL.test(label[0]) ? inlineText(label[1]) : text;
          for (const c of commands) this.command(c, lineWithin(b.text, c, b.line), takeTitle() ?? shortTitle(said.replace(c, '').replace(/\s+(with|using|by running|run)?\s*[.:]?$/i, '').trim() || c), text !== c ? text : undefined, [], false, within ? (named ?? 'the session opened above') : undefined);
          continue;
        }
        if (label && label[1]) this.note(takeTitle() ?? shortTitle(inlineText(GENERIC_LABEL.test(label[0]) ? label[1] : label[0])), inlineText(label[1]), b.line);
        else this.note(takeTitle() ?? shortTitle(text), text, b.line);
        continue;
      }
      if (target && b.kind !== 'code') {
        this.collect(target, b);
        continue;
      }
      target = undefined;
      if (b.kind === 'list') {
        this.list(b, takeTitle());
        lastList = b;
        openSession = undefined;
        continue;
      }
      if (b.kind === 'code') {
        // A code block right after a list belongs to the list's last item (flush-left fences).
        const owner = lastList?.items[lastList.items.length - 1];
        openSession = this.code(b, owner ? undefined : takeTitle(), owner ? itemTitle(owner) : undefined, titleLine, pendingSession ?? openSession);
        pendingSession = undefined;
        continue;
      }
      lastList = undefined;
      openSession = undefined;
      if (b.kind === 'table') {
        this.table(b, takeTitle());
        continue;
      }
      if (b.kind === 'quote') {
        const text = b.blocks.map((x) => (x.kind === 'paragraph' ? inlineText(x.text.replace(/^\[![a-z]+\][+-]?\s*/i, '')) : '')).filter(Boolean).join('\n');
        if (blocksHaveCommands(b.blocks)) this.blocks(b.blocks, kind, takeTitle());
        else if (text) this.note(takeTitle() ?? shortTitle(text), text, b.line);
      }
    }
  }

  /** Variables for the placeholders of a command, declared once per runbook. */
  private declare(found: ReturnType<typeof fillPlaceholders>['found'], line: number): void {
    for (const p of found) {
      if (this.draft.variables.some((v) => v.name === p.name)) continue;
      const what = p.namespace ? 'Kubernetes namespace; ' : '';
      const v: DraftVariable = { name: p.name, description: `${what}written ${p.original} in the playbook (${this.opts.file}:${line})` };
      if (p.type) v.type = p.type;
      if (p.env) v.env = p.env;
      if (p.secret) v.secret = true;
      this.draft.variables.push(v);
    }
  }

  /**
   * A table of commands: each command in a cell is a step, titled by the row's first cell; with a
   * column headed "Command", only that column holds steps (the others describe them).
   */
  private table(b: Block & { kind: 'table' }, title: string | undefined): void {
    const [header, ...rows] = b.rows;
    if (!header) return;
    const column = header.findIndex((h) => /\b(command|commands|cmd|run)\b/i.test(inlineText(h)));
    rows.forEach((row, r) => {
      const line = b.rowLines?.[r + 1] ?? b.line;
      const cells = column >= 0 ? [row[column] ?? ''] : row;
      const commands = cells.flatMap((c) => inlineCommands(c));
      const label = row.find((c, k) => k !== column && inlineText(c) && !inlineCommands(c).length && !/^\d+$/.test(inlineText(c)));
      const rest = row.filter((c, k) => k !== column && c !== label && inlineText(c)).map((c) => inlineText(c)).join(' — ');
      commands.forEach((c, k) => this.command(c, line, (k === 0 ? title : undefined) ?? (label ? shortTitle(inlineText(label)) : commandTitle(c)), rest || undefined, []));
    });
  }

  private note(title: string, text: string, line: number): void {
    this.current(line).steps.push({ title, line, kind: 'note', text, guesses: [] });
  }

  private list(b: Block & { kind: 'list' }, title: string | undefined): void {
    const plain = b.items.every((it) => !itemCommands(it.text).commands.length && !blocksHaveCommands(it.blocks) && !it.blocks.some((x) => x.kind === 'list'));
    if (!b.ordered && plain) {
      const items = b.items.map((it) => inlineText(it.text)).filter(Boolean);
      const phase = this.current(b.line);
      if (items.length) phase.steps.push({ title: title ?? (items.length === 1 ? shortTitle(items[0]) : phase.steps.length ? 'Check' : phase.title), line: b.line, kind: 'checklist', items, guesses: [] });
      return;
    }
    for (const it of b.items) this.item(it, b.items.length === 1 ? title : undefined);
  }

  private item(it: ListItem, heading: string | undefined): void {
    const title = heading ?? itemTitle(it);
    const full = inlineText(it.text);
    const norm = (x: string) => x.replace(/[\s:.!?]+$/, '');
    const rest = norm(full) !== norm(title) ? full : undefined;
    // "retry the dead jobs from the same console: `Sidekiq::DeadSet.new.retry_all`": whatever is
    // in code there is typed into a session opened earlier, not a shell command.
    const { session, commands } = itemCommands(it.text);
    let made = 0;
    for (const c of commands) {
      let d = inlineText(it.text.replace(/`[^`]*`/g, (m) => (m.slice(1, -1).trim() === c ? '' : m))).replace(/\s+([.,:;])/g, '$1').replace(/[\s:→.-]+$/, '');
      if (d === title) d = '';
      this.command(c, lineWithin(it.raw ?? it.text, c, it.line), made ? commandTitle(c) : title, d || undefined, [], false, session);
      made++;
    }
    for (const b of it.blocks) {
      if (b.kind === 'paragraph') {
        // Text after an item's code ("and email the partner's NOC") is an instruction too.
        const cmds = inlineCommands(b.text);
        for (const c of cmds) this.command(c, lineWithin(b.text, c, b.line), commandTitle(c), inlineText(b.text), []);
        if (!cmds.length && inlineText(b.text)) this.note(shortTitle(inlineText(b.text)), inlineText(b.text), b.line);
        continue;
      }
      if (b.kind === 'code') {
        this.code(b, undefined, made ? undefined : title);
        made++;
      } else if (b.kind === 'list') {
        const plain = b.items.every((x) => !inlineCommands(x.text).length && !blocksHaveCommands(x.blocks));
        if (plain) {
          this.current(it.line).steps.push({ title, line: it.line, kind: 'checklist', items: b.items.map((x) => inlineText(x.text)).filter(Boolean), guesses: [], ...(rest ? { description: rest } : {}) });
        } else for (const x of b.items) this.item(x, undefined);
        made++;
      }
    }
    if (!made) this.note(title, full, it.line);
  }

  /**
   * `firstTitle` titles the first command when it has no comment; `ownerTitle` when it comes from a
   * list item. Returns the session still open after the block's last command, if any.
   */
  private code(b: Block & { kind: 'code' }, firstTitle: string | undefined, ownerTitle: string | undefined, _titleLine?: number, session?: string): string | undefined {
    if (b.info === 'sql' || b.info === 'postgresql' || b.info === 'psql' || b.info === 'pgsql') {
      const sql = b.lines.filter((l) => !/^\s*--/.test(l)).join('\n').trim();
      if (!sql) return;
      const command = `psql -X -c ${singleQuote(sql)}`;
      const c = classifySql(sql);
      const step = this.command(command, b.line + 1, ownerTitle ?? firstTitle ?? `SQL: ${shortTitle(sql.split('\n')[0])}`, undefined, []);
      step.guesses.push(`SQL block made a psql step (${c.reason}): psql connects with the PG* environment variables (PGHOST, PGUSER, PGDATABASE)`);
      return undefined;
    }
    if (!isShellCode(b)) {
      if (b.lines.some((l) => l.trim())) this.guess(b.line, `a ${b.info || 'plain'} code block was not imported (not shell commands)`);
      return undefined;
    }
    let open: string | undefined;
    let first = true;
    const firstLine = b.fenced ? b.line + 1 : b.line;
    if (POWERSHELL_INFO.includes(b.info)) session ??= 'PowerShell (a Windows machine)';
    for (const item of splitScript(b.lines, firstLine, b.info)) {
      if (item.kind === 'note') {
        const lines = item.note.text.filter((l) => l.trim());
        if (!lines.length) continue;
        this.note(shortTitle(stripNumber(lines[0])), [stripNumber(lines[0]), ...lines.slice(1)].join('\n'), item.note.line);
        continue;
      }
      if (item.kind === 'assignment') {
        this.guess(item.line, `shell variable ${item.name} is set by the script; the commands that use it became print steps`);
        continue;
      }
      const cmd = item.command;
      const comments = cmd.comments.filter((c) => c.trim());
      let title: string;
      let description: string | undefined;
      if (first && ownerTitle) {
        title = ownerTitle;
        description = comments.length ? comments.map(stripNumber).join('\n') : undefined;
      } else if (comments.length) {
        title = shortTitle(stripNumber(comments[0]));
        description = comments.length > 1 ? comments.slice(1).map((c) => c.replace(/^-\s*/, '- ')).join('\n') : undefined;
      } else if (first && firstTitle) {
        title = firstTitle;
      } else {
        title = commandTitle(cmd.text);
      }
      for (const extra of [...(cmd.trailing ? [cmd.trailing] : []), ...cmd.after]) description = description ? `${description}\n${extra}` : extra;
      this.command(cmd.text, cmd.line, title, description, cmd.usesAssigned, cmd.compound, cmd.session ?? session);
      first = false;
      // Only a block that ends with the opener itself hands its session on: one that already
      // typed its commands inside (`sh-4.4$ …`) is done with it.
      open = !cmd.session && !session && REMOTE_SESSION.test(cmd.text) && opensSession(cmd.text) ? cmd.text : undefined;
    }
    return open;
  }

  private command(text: string, line: number, title: string, description: string | undefined, usesAssigned: string[], compound = false, session?: string): DraftStep {
    // In a session on another machine `$DB_HOST` is that machine's variable, not one to fill in.
    const filled = fillPlaceholders(escapeTemplates(text), usesAssigned, session !== undefined);
    // A placeholder that is a whole quoted word needs no quotes: a value is always one word.
    const escaped = filled.text.replace(/(["'])(\{\{\w+\}\})\1/g, '$2');
    this.declare(filled.found, line);
    const plan = planCommand(escaped, { compound, usesAssigned });
    if (session) {
      // Typed inside another session: never run on the responder's machine.
      plan.action = 'print';
      plan.destructive = false;
      plan.shell = false;
      plan.reason = `typed inside the session opened by "${session.split('\n')[0]}", not on this machine`;
      description = description ? `${description}\n(Runs inside: ${session.split('\n')[0]})` : `Runs inside: ${session.split('\n')[0]}`;
    }
    const step: DraftStep = { title: title || shortTitle(text), line, kind: plan.action, command: escaped, plan, guesses: [...plan.guesses] };
    if (description && description !== step.title) step.description = description;
    if (plan.action === 'print') step.guesses.unshift(`print, not run: ${plan.reason}`);
    else if (plan.destructive) step.guesses.unshift(`destructive (${plan.reason})`);
    if (escapeTemplates(text) !== text) step.guesses.push('"{{" in the command written as "\\{{" so it is not read as a variable');
    for (const p of filled.found) step.guesses.push(`{{${p.name}}} stands for ${p.original}${p.env ? ` (read from $${p.env})` : ''}`);
    this.current(line).steps.push(step);
    return step;
  }
}

/**
 * Flush-left code under a numbered item ends the list in Markdown, yet it belongs to that item, and
 * the list goes on after it (`3.`): code right after a list joins its last item, and a list that
 * continues the numbering of the one before is merged into it.
 */
export function attachToItems(blocks: Block[]): Block[] {
  const out: Block[] = [];
  for (const b of splitLabelled(blocks).map(asCode)) {
    const prev = out[out.length - 1];
    const nests = b.kind === 'list' && prev?.kind === 'list' && prev.ordered && !b.ordered && /:\s*(\*\*|__)?\s*$/.test(prev.items[prev.items.length - 1].text);
    if (prev?.kind === 'list' && (b.kind === 'code' || nests)) {
      const last = prev.items[prev.items.length - 1];
      prev.items[prev.items.length - 1] = { ...last, blocks: [...last.blocks, b] };
      continue;
    }
    if (prev?.kind === 'list' && b.kind === 'list' && prev.ordered === b.ordered && (!b.ordered || b.items[0].number === (prev.items[prev.items.length - 1].number ?? 0) + 1)) {
      out[out.length - 1] = { ...prev, items: [...prev.items, ...b.items] };
      continue;
    }
    out.push(b.kind === 'list' ? { ...b, items: [...b.items] } : b);
  }
  return out;
}

/** Every line a command: bare command lines (or code indented inside a list item) are code. */
function commandParagraph(text: string): boolean {
  const lines = text.split('\n');
  return lines.every((l, k) => looksLikeCommand(l) || /\\\s*$/.test(lines[k - 1] ?? ''));
}

function asCode(b: Block): Block {
  if (b.kind === 'paragraph' && commandParagraph(b.text)) return { kind: 'code', info: 'sh', lines: b.text.split('\n'), line: b.line, fenced: false };
  if (b.kind === 'list') return { ...b, items: b.items.map((it) => ({ ...it, blocks: it.blocks.map(asCode) })) };
  return b;
}

/** `**Symptoms.** …` and `**Runbook.**` on consecutive lines are two paragraphs, not one. */
function splitLabelled(blocks: Block[]): Block[] {
  return blocks.flatMap((b): Block[] => {
    if (b.kind !== 'paragraph') return [b];
    const out: Array<Block & { kind: 'paragraph' }> = [];
    b.text.split('\n').forEach((l, k) => {
      if (!out.length || /^(\*\*|__)[^*_]+\1/.test(l)) out.push({ kind: 'paragraph', text: l, line: b.line + k });
      else out[out.length - 1].text += `\n${l}`;
    });
    return out.flatMap(splitInlineLabels);
  });
}

/** "**When:** users report it. **Do:** isolate the server.": two labelled parts on one line. */
function splitInlineLabels(b: Block & { kind: 'paragraph' }): Block[] {
  if (!/^(\*\*|__)[^*_]+?[:.]?\1/.test(b.text)) return [b];
  const parts = b.text.split(/(?<=[.!?])\s+(?=(?:\*\*|__)[A-Z][^*_\n]{0,30}?:(?:\*\*|__))/);
  return parts.map((text) => ({ kind: 'paragraph', text, line: b.line + (b.text.slice(0, b.text.indexOf(text)).match(/\n/g)?.length ?? 0) }));
}

/** The line a command written inside a multi-line paragraph starts on. */
function lineWithin(text: string, command: string, first: number): number {
  const at = text.indexOf(command.split(/\s+/)[0]);
  return at < 0 ? first : first + (text.slice(0, at).match(/\n/g)?.length ?? 0);
}

/** `{{name}}` in playbook text is not a runbook variable: escape it so the loader keeps it literal. */
export function escapeTemplates(text: string): string {
  return text.replace(/\{\{(?=\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})/g, '\\{{');
}

function singleQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The title of a list item: its bold label, else its text up to the first sentence end. */
export function itemTitle(it: ListItem): string {
  const label = /^(\*\*|__)(.+?)\1/.exec(it.text.trim());
  if (label) return shortTitle(inlineText(label[2]).replace(/[:.]$/, ''));
  const bare = inlineText(it.text.replace(/`[^`]*`/g, (m) => (looksLikeCommand(m.slice(1, -1)) ? '' : m))).replace(/[\s:→-]+$/, '');
  // "run `htop`": a lone verb left is no title; the item as written is.
  return shortTitle(bare.includes(' ') ? bare : inlineText(it.text));
}

/** At most ~72 characters, cut at a sentence or word end. */
export function shortTitle(text: string): string {
  let t = inlineText(text).replace(/[:\s]+$/, '');
  const sentence = /^(.{12,}?[.!?])\s/.exec(t);
  if (sentence) t = sentence[1];
  if (t.length > 72) t = `${t.slice(0, 70).replace(/\s+\S*$/, '')}…`;
  return t.replace(/\.$/, '') || 'Step';
}

export function buildDraft(sec: Section, opts: BuildOptions): Draft {
  return new Builder(sec, opts).build();
}
