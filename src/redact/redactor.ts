// Replaces every secret found in text that leaves the machine (postmortem, status messages,
// evidence exports) with a placeholder such as [REDACTED-AWS-1]. One Redactor spans one report or
// one export: the same value gets the same placeholder everywhere in it, so a reader can still
// follow "the key pasted here was used there", and a value found once is replaced wherever else
// it appears, even where no rule would recognise it.

import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { UsageError } from '../errors.js';
import { CONTEXT_RULES, RULE_TRIGGERS, SHAPE_RULES, plausibleSecret, type Rule } from './rules.js';
import { SECRETLINT_TRIGGERS, secretlintSpans, type Span } from './secretlint.js';

/** Strings redacted together are joined by this; no span may cross it. */
const SEP = '\n\u001e\n';
/** A value found once is also replaced where it appears bare, if it is at least this long. */
const MIN_ECHO = 6;
const PLACEHOLDER = /\[REDACTED-[A-Z0-9-]+-\d+\]/g;
/** Streams are redacted in pieces of about this size … */
const CHUNK = 1024 * 1024;
/** … each scanned together with what follows it, so a secret across the cut is still whole. */
const LOOKAHEAD = 64 * 1024;
/** A finding this long may be emitted as it stands (a base64 run after a BEGIN line, say). */
const MAX_PENDING = 8 * 1024 * 1024;

/**
 * The alternation of `words` (regex sources), those that start with the same plain character
 * written as one branch (`a(?:kia|sia|uth)`): the engine then tries one branch per character of a
 * long text instead of every word, about a third faster on a timeline's batches, matching at the
 * same places. A word that starts with regex syntax stays a branch of its own.
 */
export function byFirstCharacter(words: string[]): string {
  const branches = new Map<string, string[]>();
  for (const w of words) {
    const head = /^[A-Za-z0-9_"':-]/.test(w) ? w[0] : w;
    const rests = branches.get(head) ?? branches.set(head, []).get(head)!;
    rests.push(head === w ? '' : w.slice(1));
  }
  return [...branches].map(([head, rests]) => (rests.length === 1 ? head + rests[0] : `${head}(?:${rests.join('|')})`)).join('|');
}

/**
 * One of the words some built-in rule or secretlint rule needs: a string holding none of them is
 * left to the user's patterns and the values already found, which is most of a long timeline.
 */
const TRIGGER = new RegExp(byFirstCharacter([...new Set([...RULE_TRIGGERS, ...SECRETLINT_TRIGGERS])]), 'gi');
/**
 * The same words matched case-sensitively, for text lowercased first: a third faster than the
 * case-insensitive scan of a long batch. Only while every word is written in lower case (an upper
 * case letter in the list would then never match); otherwise the case-insensitive scan is used.
 */
const TRIGGER_LOWER = /[A-Z]/.test(TRIGGER.source) ? undefined : new RegExp(TRIGGER.source, 'g');

/**
 * `text` as the trigger scan reads it, and the pattern for it: lowercased where that keeps every
 * index (a few letters, such as U+0130, lowercase to two units), which can only add matches (a
 * Kelvin sign reads as `k`): a string scanned needlessly, never one skipped.
 */
function triggerScan(text: string): { scanned: string; re: RegExp } {
  if (TRIGGER_LOWER) {
    const lower = text.toLowerCase();
    if (lower.length === text.length) return { scanned: lower, re: TRIGGER_LOWER };
  }
  return { scanned: text, re: TRIGGER };
}

/** Whether `text` holds a trigger word: false means no built-in or secretlint rule can match in it. */
export function mayHoldSecret(text: string): boolean {
  TRIGGER.lastIndex = 0;
  return TRIGGER.test(text);
}

/**
 * Every three characters a match of the regex source `word` can begin with, or undefined when the
 * word is written in syntax this does not read (only literal characters, escaped punctuation,
 * classes of single characters and `?` are) or can match fewer than three characters.
 */
export function firstThree(word: string): string[] | undefined {
  const atoms: { chars: string; optional: boolean }[] = [];
  for (let i = 0; i < word.length; ) {
    let chars: string;
    const c = word[i];
    if (c === '\\') {
      chars = word[i + 1] ?? '';
      if (!/^[!-/:-@[-`{-~]$/.test(chars)) return undefined;
      i += 2;
    } else if (c === '[') {
      const end = word.indexOf(']', i + 1);
      chars = end < 0 ? '' : word.slice(i + 1, end);
      // A range (a-z), a negation or an escape inside: not read here.
      if (!chars || /[\\^]|.-./.test(chars)) return undefined;
      i = end + 1;
    } else {
      if ('.^$|?*+()[]{}'.includes(c)) return undefined;
      chars = c;
      i++;
    }
    const optional = word[i] === '?';
    if (optional) i++;
    if (word[i] !== undefined && '*+{'.includes(word[i])) return undefined;
    atoms.push({ chars, optional });
  }
  const out = new Set<string>();
  let short = false;
  const walk = (k: number, prefix: string) => {
    if (prefix.length === 3) out.add(prefix);
    else if (k === atoms.length) short = true;
    else {
      if (atoms[k].optional) walk(k + 1, prefix);
      for (const ch of atoms[k].chars) walk(k + 1, prefix + ch);
    }
  };
  walk(0, '');
  return short ? undefined : [...out];
}

/**
 * The trigger words' first three characters as a set of bits, at c0 << 14 | c1 << 7 | c2 for
 * ASCII characters in lower case; undefined if some word has a start not written that way (then
 * the regex alone decides).
 */
function trigramTable(words: string[]): Uint32Array | undefined {
  const table = new Uint32Array(1 << 16);
  for (const w of words) {
    const starts = firstThree(w);
    if (!starts) return undefined;
    for (const t of starts) {
      if ([...t].some((ch) => ch.charCodeAt(0) > 0x7f || (ch >= 'A' && ch <= 'Z'))) return undefined;
      const key = (t.charCodeAt(0) << 14) | (t.charCodeAt(1) << 7) | t.charCodeAt(2);
      table[key >>> 5] |= 1 << (key & 31);
    }
  }
  return table;
}

const TRIGRAMS = trigramTable([...new Set([...RULE_TRIGGERS, ...SECRETLINT_TRIGGERS])]);
/** The trigger regex tried at one place: where three characters that start a trigger word are. */
const TRIGGER_AT = new RegExp(TRIGGER.source, 'iy');

/**
 * Whether `text` holds a trigger word, as the trigger scan of it would tell (triggerScan): a loop
 * over its characters with the regex tried only where one of the words can start, several times
 * faster than the regex over every character. A text with a character past ASCII is left to the
 * regex (letters such as the Kelvin sign read as ASCII once lowercased).
 */
export function holdsTrigger(text: string): boolean {
  if (TRIGRAMS) {
    const table = TRIGRAMS;
    let key = 0;
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      if (c >= 65 && c <= 90) c += 32;
      key = ((key << 7) | c) & 0x1fffff;
      if (i >= 2 && (table[key >>> 5] & (1 << (key & 31))) !== 0) {
        // In ASCII text, the case-insensitive regex matches where the lower-case one matches the lowered text.
        TRIGGER_AT.lastIndex = i - 2;
        if (TRIGGER_AT.test(text)) return true;
      }
    }
    if (ascii) return false;
  }
  const { scanned, re } = triggerScan(text);
  re.lastIndex = 0;
  return re.test(scanned);
}

/**
 * What a string left out of the scan stands in for, so the rules that read across strings see the
 * same: a quoted JSON value left open at the end of one string (a `"value":"…` cut over two notes)
 * ends at the first unescaped quote of a later one, and a backslash before a line break stops it.
 * A string that does neither is left out entirely. (The other rule that reads across strings, a
 * PEM block up to its END line, finds the END line in a string that is scanned, only sooner.)
 */
function standIn(text: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return '"';
    if (c === 92) {
      const next = i + 1 < end ? text.charCodeAt(i + 1) : 10;
      if (next === 10 || next === 13 || next === 0x2028 || next === 0x2029) return '\\';
      i++;
    }
  }
  return '';
}

/**
 * The strings of a JSON-like value, depth first, in the order Object.values lists them (own
 * enumerable keys; for...in adds inherited ones, hence the check). A plain function over for...in:
 * the closure over Object.values it replaces took a third of a long report's redaction, most of it
 * before the optimiser caught up.
 */
function collectStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'object' && v !== null) {
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) collectStrings(v[i], out);
    else for (const k in v) if (Object.hasOwn(v, k)) collectStrings((v as Record<string, unknown>)[k], out);
  }
}

/** Whether a string in a JSON-like value (as collectStrings walks it) holds a trigger word. */
function anyTrigger(v: unknown): boolean {
  if (typeof v === 'string') return holdsTrigger(v);
  if (typeof v === 'object' && v !== null) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (anyTrigger(v[i])) return true;
    } else for (const k in v) if (Object.hasOwn(v, k) && anyTrigger((v as Record<string, unknown>)[k])) return true;
  }
  return false;
}

const PRIORITY_USER = 0;
const PRIORITY_SHAPE = 1;
const PRIORITY_SECRETLINT = 50;
const PRIORITY_CONTEXT = 60;

function withIndices(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.includes('d') ? re.flags : `${re.flags}d`);
}

function userRule(pattern: string): Rule {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'g');
  } catch (err) {
    throw new UsageError(`--redact-pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(err as Error).message}`);
  }
  if (re.test('')) throw new UsageError(`--redact-pattern ${JSON.stringify(pattern)} matches the empty string`);
  // With a capture group, only the group is the secret (e.g. "session=(\w+)").
  const groups = new RegExp(`${pattern}|`).exec('')!.length - 1;
  return { kind: 'CUSTOM', re, group: groups > 0 ? 1 : 0 };
}

/** How much of `span` the sorted, disjoint `regions` cover. */
function covered(regions: number[][], span: Span): number {
  let lo = 0;
  let hi = regions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (regions[mid][1] <= span.start) lo = mid + 1;
    else hi = mid;
  }
  let n = 0;
  for (let i = lo; i < regions.length && regions[i][0] < span.end; i++) n += Math.min(regions[i][1], span.end) - Math.max(regions[i][0], span.start);
  return n;
}

/** Overlapping spans become one; the most specific rule among them names it. */
function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
      if (s.priority < last.priority) {
        last.priority = s.priority;
        last.kind = s.kind;
      }
    } else {
      out.push({ ...s });
    }
  }
  return out;
}

export interface RedactorOptions {
  /**
   * Skip the built-in rules and secretlint for strings without a trigger word (default). Off, every
   * string is scanned: the tests compare the two.
   */
  prefilter?: boolean;
}

/** A redactor's knowledge as plain data (postable to another thread), in the order it was gained. */
export interface RedactorState {
  placeholders: [value: string, placeholder: string][];
  learned: string[];
  counts: [kind: string, n: number][];
}

export class Redactor {
  /** The user's patterns, run over all text: no word tells where they may match. */
  private readonly userRules: { rule: Rule; priority: number }[];
  private readonly rules: { rule: Rule; priority: number }[];
  private readonly prefilter: boolean;
  private readonly placeholders = new Map<string, string>();
  /** Values found by learn(): echoed whatever their length, since they were never replaced in place. */
  private readonly learned = new Set<string>();
  /** How many different values were found, by kind (the N of the last [REDACTED-KIND-N]). */
  readonly counts = new Map<string, number>();

  constructor(userPatterns: string[] = [], opts: RedactorOptions = {}) {
    const indexed = ({ rule, priority }: { rule: Rule; priority: number }) => ({ rule: { ...rule, re: withIndices(rule.re) }, priority });
    this.userRules = userPatterns.map((p) => ({ rule: userRule(p), priority: PRIORITY_USER })).map(indexed);
    this.rules = [...SHAPE_RULES.map((rule, i) => ({ rule, priority: PRIORITY_SHAPE + i })), ...CONTEXT_RULES.map((rule, i) => ({ rule, priority: PRIORITY_CONTEXT + i }))].map(indexed);
    this.prefilter = opts.prefilter !== false;
  }

  /** How many different values are known (found or learned): unchanged means nothing new was found. */
  get known(): number {
    return this.placeholders.size;
  }

  /**
   * What this redactor knows, to start another one (a helper thread's) exactly where this one is:
   * the same values get the same placeholders and the next value found the next number.
   */
  state(): RedactorState {
    return { placeholders: [...this.placeholders], learned: [...this.learned], counts: [...this.counts] };
  }

  /** Continues from `state` (see state()), as if this redactor had done the work that led to it. */
  restore(state: RedactorState): void {
    this.placeholders.clear();
    this.learned.clear();
    this.counts.clear();
    for (const [value, p] of state.placeholders) this.placeholders.set(value, p);
    for (const value of state.learned) this.learned.add(value);
    for (const [kind, n] of state.counts) this.counts.set(kind, n);
  }

  /**
   * True when redacting `value` surely changes nothing: no pattern of the user's, no value found
   * yet, and no string in it with a trigger word. A quick walk, for a caller that would otherwise
   * gather the strings of thousands of such values only to get them back unchanged.
   */
  unchanged(value: unknown): boolean {
    return this.prefilter && !this.userRules.length && !this.placeholders.size && !anyTrigger(value);
  }

  /** Different values found, all kinds together. */
  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** "2 password, 1 aws" — for the line that tells a human what was replaced. */
  summary(): string {
    return [...this.counts].map(([k, n]) => `${n} ${k.toLowerCase()}`).join(', ');
  }

  private placeholder(kind: string, value: string): string {
    let p = this.placeholders.get(value);
    if (!p) {
      const n = (this.counts.get(kind) ?? 0) + 1;
      this.counts.set(kind, n);
      p = `[REDACTED-${kind}-${n}]`;
      this.placeholders.set(value, p);
    }
    return p;
  }

  private ruleSpans(text: string, rules: { rule: Rule; priority: number }[]): Span[] {
    const spans: Span[] = [];
    for (const { rule, priority } of rules) {
      for (const m of text.matchAll(rule.re)) {
        const at = m.indices?.[rule.group];
        if (!at) continue;
        let [start, end] = at;
        const q = text[start];
        if (end - start >= 2 && (q === '"' || q === "'") && text[end - 1] === q) {
          start++;
          end--;
        }
        const value = text.slice(start, end);
        if (!value.trim() || (rule.generic && !plausibleSecret(value))) continue;
        spans.push({ start, end, kind: rule.kind, priority });
      }
    }
    return spans;
  }

  /** What the built-in rules and secretlint find in `text`, whose joined strings start at `starts`. */
  private async builtinSpans(text: string): Promise<Span[]> {
    return [...this.ruleSpans(text, this.rules), ...(await secretlintSpans(text, PRIORITY_SECRETLINT))];
  }

  /**
   * The same, scanning only the strings that hold a trigger word (with stand-ins for the others),
   * each span moved back to where it lies in `text` and cut at the end of its string.
   */
  private async prefiltered(text: string, seps: number[], known?: Uint8Array): Promise<Span[]> {
    const starts = [0, ...seps.map((i) => i + SEP.length)];
    const ends = [...seps, text.length];
    // Separators that overlap (text that is not strings joined by ir) are scanned as they stand.
    for (let k = 1; k < starts.length; k++) if (starts[k] < ends[k - 1]) return this.builtinSpans(text);
    let suspect = known;
    if (!suspect) {
      suspect = new Uint8Array(starts.length);
      const { scanned, re } = triggerScan(text);
      re.lastIndex = 0;
      for (let k = 0, m = re.exec(scanned); m; m = re.exec(scanned)) {
        while (ends[k] <= m.index) k++;
        suspect[k] = 1;
        re.lastIndex = ends[k];
      }
    }
    if (!suspect.includes(1)) return [];
    if (suspect.every((x) => x === 1)) return this.builtinSpans(text);

    const parts: string[] = [];
    /** For each scanned string: where it starts in the scanned text, in `text`, and its length. */
    const placed: { at: number; from: number; length: number }[] = [];
    let at = 0;
    for (let k = 0; k < starts.length; k++) {
      const part = suspect[k] ? text.slice(starts[k], ends[k]) : standIn(text, starts[k], ends[k]);
      if (!suspect[k] && !part) continue;
      if (parts.length) at += SEP.length;
      if (suspect[k]) placed.push({ at, from: starts[k], length: part.length });
      parts.push(part);
      at += part.length;
    }
    const spans: Span[] = [];
    for (const s of await this.builtinSpans(parts.join(SEP))) {
      let lo = 0;
      let hi = placed.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (placed[mid].at <= s.start) lo = mid;
        else hi = mid - 1;
      }
      const p = placed[lo];
      // A span that starts in a stand-in or a separator is at most a character or two: nothing.
      if (!p || s.start < p.at || s.start >= p.at + p.length) continue;
      const shift = p.from - p.at;
      spans.push({ ...s, start: s.start + shift, end: Math.min(s.end, p.at + p.length) + shift });
    }
    return spans;
  }

  /**
   * Every secret in `text`, as disjoint spans in order, each value given its placeholder. `seps`,
   * where the separators of strings joined by redactAll are, when the caller knows them already.
   */
  private async find(text: string, seps?: number[], suspect?: Uint8Array): Promise<Span[]> {
    if (!seps) {
      seps = [];
      for (let i = text.indexOf(SEP); i >= 0; i = text.indexOf(SEP, i + 1)) seps.push(i);
    }
    const found = [...this.ruleSpans(text, this.userRules), ...(this.prefilter ? await this.prefiltered(text, seps, suspect) : await this.builtinSpans(text))];

    // Nothing crosses from one joined string into the next, and what is already a placeholder
    // (a second pass over rendered text) stays as it is.
    // Looked for only when something was found: a long timeline's batches mostly hold nothing.
    const done = found.length ? [...text.matchAll(PLACEHOLDER)].map((m) => [m.index!, m.index! + m[0].length]) : [];
    const clipped: Span[] = [];
    for (const s of found) {
      const cut = seps.find((i) => i >= s.start && i < s.end);
      const span = cut === undefined ? s : { ...s, end: cut };
      if (span.end - span.start - covered(done, span) < 3) continue;
      clipped.push(span);
    }
    const merged = merge(clipped);

    const spans = this.withEchoes(text, merged);
    for (const s of spans) this.placeholder(s.kind, text.slice(s.start, s.end));
    return spans;
  }

  /** `spans` plus every occurrence of a value already known, or found in `spans`: a value found anywhere is a secret everywhere. */
  private withEchoes(text: string, spans: Span[]): Span[] {
    const echoes = new Map<string, string>();
    for (const [value, p] of this.placeholders) if (value.length >= MIN_ECHO || this.learned.has(value)) echoes.set(value, p);
    for (const s of spans) {
      const value = text.slice(s.start, s.end);
      if (value.length >= MIN_ECHO && !echoes.has(value)) echoes.set(value, s.kind);
    }
    const echoed: Span[] = [];
    for (const [value, label] of echoes) {
      const kind = /^\[REDACTED-(.+)-\d+\]$/.exec(label)?.[1] ?? label;
      for (let i = text.indexOf(value); i >= 0; i = text.indexOf(value, i + value.length)) {
        echoed.push({ start: i, end: i + value.length, kind, priority: PRIORITY_USER - 1 });
      }
    }
    return echoed.length ? merge([...spans, ...echoed]) : spans;
  }

  /** `text` up to `limit` with the given spans (those that end by then) replaced. */
  private replace(text: string, spans: Span[], limit = text.length): string {
    let out = '';
    let at = 0;
    for (const s of spans) {
      if (s.end > limit) break;
      const value = text.slice(s.start, s.end);
      out += text.slice(at, s.start) + this.placeholders.get(value)!;
      at = s.end;
    }
    return out + text.slice(at, limit);
  }

  async redact(text: string): Promise<string> {
    return this.redactJoined(text);
  }

  private async redactJoined(text: string, seps?: number[], suspect?: Uint8Array): Promise<string> {
    if (!text) return text;
    const spans = await this.find(text, seps, suspect);
    return spans.length ? this.replace(text, spans) : text;
  }

  /**
   * Learns the secrets in `text` without rewriting it: for a template, whose literal text reaches
   * the output without passing through the record.
   */
  async learn(text: string): Promise<void> {
    if (!text) return;
    for (const s of await this.find(text)) this.learned.add(text.slice(s.start, s.end));
  }

  /**
   * Replaces only the values already found (by redact or learn), wherever they occur: the cheap
   * second pass over text made from redacted parts, where a full scan would find nothing new.
   */
  echo(text: string): string {
    const spans = this.withEchoes(text, []);
    for (const s of spans) this.placeholder(s.kind, text.slice(s.start, s.end));
    return this.replace(text, spans);
  }

  /** Many strings, scanned as one text (one secretlint pass instead of one per string). */
  async redactAll(texts: string[]): Promise<string[]> {
    if (!texts.length) return [];
    // Which strings the built-in rules must read, told string by string: with none of them, no
    // pattern of the user's and no value found yet, nothing can change, and the strings are not even
    // joined (most batches of a long timeline).
    let suspect: Uint8Array | undefined;
    if (this.prefilter) {
      suspect = new Uint8Array(texts.length);
      let any = false;
      for (let k = 0; k < texts.length; k++) {
        if (holdsTrigger(texts[k])) {
          suspect[k] = 1;
          any = true;
        }
      }
      if (!any && !this.userRules.length && !this.placeholders.size) return texts;
    }
    if (texts.some((t) => t.includes(SEP))) return Promise.all(texts.map((t) => this.redact(t)));
    const joined = texts.join(SEP);
    // No text holds the separator, so the separators are where the lengths put them: no search of
    // the joined text for them (that search was a fifth of a long report's redaction).
    const seps: number[] = new Array(texts.length - 1);
    for (let k = 0, at = 0; k < seps.length; k++) {
      at += texts[k].length;
      seps[k] = at;
      at += SEP.length;
    }
    const redacted = await this.redactJoined(joined, seps, suspect);
    if (redacted === joined) return texts;
    const out = redacted.split(SEP);
    if (out.length !== texts.length) throw new Error('redaction changed the number of strings');
    return out;
  }

  /**
   * A JSON-like value with every string in it redacted: a copy where something was replaced, the
   * same objects where nothing was (a long timeline is mostly such events, and copying them was
   * a good part of the cost of a report).
   */
  async redactDeep<T>(value: T): Promise<T> {
    const strings: string[] = [];
    collectStrings(value, strings);
    const redacted = await this.redactAll(strings);
    if (redacted === strings) return value;
    let i = 0;
    const rebuild = (v: unknown): unknown => {
      if (typeof v === 'string') return redacted[i++];
      if (Array.isArray(v)) {
        let out: unknown[] | undefined;
        for (let k = 0; k < v.length; k++) {
          const x = rebuild(v[k]);
          if (x !== v[k]) (out ??= [...v])[k] = x;
        }
        return out ?? v;
      }
      if (v && typeof v === 'object') {
        let out: Record<string, unknown> | undefined;
        for (const [k, old] of Object.entries(v)) {
          const x = rebuild(old);
          if (x !== old) (out ??= { ...v })[k] = x;
        }
        return out ?? v;
      }
      return v;
    };
    return rebuild(value) as T;
  }

  /**
   * A transform that redacts a byte stream (UTF-8) in pieces of about 1 MiB. Each piece is scanned
   * with the 64 KiB after it and cut before any secret that crosses its end, so a key split over
   * two reads, or a YAML name/value pair over two lines, is found whole.
   */
  stream(): Transform {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const step = async (final: boolean): Promise<string> => {
      const spans = await this.find(pending);
      let cut = pending.length;
      if (!final) {
        const target = pending.length - LOOKAHEAD;
        const nl = pending.lastIndexOf('\n', target);
        cut = nl >= 0 ? nl + 1 : target;
        const across = spans.find((s) => s.start < cut && s.end > cut);
        if (across) cut = across.start;
        if (cut <= 0 && pending.length < MAX_PENDING) return '';
        if (cut <= 0) cut = pending.length;
      }
      const out = this.replace(pending, spans, cut);
      pending = pending.slice(cut);
      return out;
    };
    return new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        pending += decoder.write(chunk);
        if (pending.length < CHUNK + LOOKAHEAD) return cb();
        step(false).then((out) => cb(null, out), cb);
      },
      flush(cb: TransformCallback) {
        pending += decoder.end();
        step(true).then((out) => cb(null, out), cb);
      },
    });
  }
}
