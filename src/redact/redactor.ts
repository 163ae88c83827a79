// Replaces every secret found in text that leaves the machine (postmortem, status messages,
// evidence exports) with a placeholder such as [REDACTED-AWS-1]. One Redactor spans one report or
// one export: the same value gets the same placeholder everywhere in it, so a reader can still
// follow "the key pasted here was used there", and a value found once is replaced wherever else
// it appears, even where no rule would recognise it.

import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { UsageError } from '../errors.js';
import { CONTEXT_RULES, SHAPE_RULES, plausibleSecret, type Rule } from './rules.js';
import { secretlintSpans, type Span } from './secretlint.js';

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

export class Redactor {
  private readonly rules: { rule: Rule; priority: number }[];
  private readonly placeholders = new Map<string, string>();
  /** Values found by learn(): echoed whatever their length, since they were never replaced in place. */
  private readonly learned = new Set<string>();
  /** How many different values were found, by kind (the N of the last [REDACTED-KIND-N]). */
  readonly counts = new Map<string, number>();

  constructor(userPatterns: string[] = []) {
    this.rules = [
      ...userPatterns.map((p) => ({ rule: userRule(p), priority: PRIORITY_USER })),
      ...SHAPE_RULES.map((rule, i) => ({ rule, priority: PRIORITY_SHAPE + i })),
      ...CONTEXT_RULES.map((rule, i) => ({ rule, priority: PRIORITY_CONTEXT + i })),
    ].map(({ rule, priority }) => ({ rule: { ...rule, re: withIndices(rule.re) }, priority }));
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

  private ruleSpans(text: string): Span[] {
    const spans: Span[] = [];
    for (const { rule, priority } of this.rules) {
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

  /** Every secret in `text`, as disjoint spans in order, each value given its placeholder. */
  private async find(text: string): Promise<Span[]> {
    const found = [...this.ruleSpans(text), ...(await secretlintSpans(text, PRIORITY_SECRETLINT))];

    // Nothing crosses from one joined string into the next, and what is already a placeholder
    // (a second pass over rendered text) stays as it is.
    const seps: number[] = [];
    for (let i = text.indexOf(SEP); i >= 0; i = text.indexOf(SEP, i + 1)) seps.push(i);
    const done = [...text.matchAll(PLACEHOLDER)].map((m) => [m.index!, m.index! + m[0].length]);
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
    if (!text) return text;
    return this.replace(text, await this.find(text));
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
    if (texts.some((t) => t.includes(SEP))) return Promise.all(texts.map((t) => this.redact(t)));
    const out = (await this.redact(texts.join(SEP))).split(SEP);
    if (out.length !== texts.length) throw new Error('redaction changed the number of strings');
    return out;
  }

  /** A copy of a JSON-like value with every string in it redacted. */
  async redactDeep<T>(value: T): Promise<T> {
    const strings: string[] = [];
    const collect = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    collect(value);
    const redacted = await this.redactAll(strings);
    let i = 0;
    const rebuild = (v: unknown): unknown => {
      if (typeof v === 'string') return redacted[i++];
      if (Array.isArray(v)) return v.map(rebuild);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rebuild(x)]));
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
