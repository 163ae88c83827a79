// The importer's block model (headings, lists, code, tables, quotes, paragraphs, each with the
// 1-based line it starts on so that every guess can cite `file.md:LINE`), the reader for plain-text
// playbooks, and inline helpers. Markdown files are read by markdown-it (tokens.ts); plain text
// (.txt) has no grammar to lean on, so it keeps a line reader of its own, with a few rules for the
// wiki pages people paste into text files: Title Case or UPPERCASE lines are headings, `#!` starts
// a script, and lines that start with a known command are code. Inline Markdown is left as written
// (see inlineText).

export type Block =
  | { kind: 'heading'; level: number; text: string; line: number }
  | { kind: 'paragraph'; text: string; line: number }
  | { kind: 'list'; ordered: boolean; items: ListItem[]; line: number }
  | { kind: 'code'; info: string; lines: string[]; line: number; fenced: boolean }
  | { kind: 'table'; rows: string[][]; line: number; rowLines?: number[] }
  | { kind: 'quote'; blocks: Block[]; line: number }
  | { kind: 'rule'; line: number };

export interface ListItem {
  line: number;
  /** The number of an ordered item (`3.` → 3). */
  number?: number;
  /** `- [ ]` → 'open', `- [x]` → 'done'. */
  task?: 'open' | 'done';
  /** The item's first paragraph, continuation lines joined with a space. */
  text: string;
  /** That paragraph with its line breaks, when it has several lines (to cite the line of a command in it). */
  raw?: string;
  /** Everything else inside the item: nested lists, code, further paragraphs. */
  blocks: Block[];
}

export interface ParseOptions {
  /** Plain-text rules (see the module comment). */
  plainText?: boolean;
  /** First words that make a plain-text line a command (plain text only). */
  isCommandLine?: (line: string) => boolean;
}

interface Line {
  text: string;
  /** 1-based line number in the file. */
  no: number;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const ITEM = /^(\s*)([-*+•▪◦□☐☑✓✔]|\d{1,3}[.)])(?:[ \t]+(.*))?$/;
const TASK = /^\[([ xX])\][ \t]+/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;

function indentOf(s: string): number {
  let n = 0;
  for (const c of s) {
    if (c === ' ') n++;
    else if (c === '\t') n += 4 - (n % 4);
    else break;
  }
  return n;
}

function dedent(s: string, n: number): string {
  let i = 0;
  let col = 0;
  while (i < s.length && col < n && (s[i] === ' ' || s[i] === '\t')) {
    col += s[i] === '\t' ? 4 - (col % 4) : 1;
    i++;
  }
  return s.slice(i);
}

const blank = (s: string) => s.trim() === '';

/** Reads a plain-text playbook; front matter (`---` … `---` on the first line) is skipped. */
export function parsePlainText(text: string, opts: ParseOptions = {}): Block[] {
  const raw = text.replace(/\r\n?/g, '\n').split('\n');
  let lines: Line[] = raw.map((t, i) => ({ text: t, no: i + 1 }));
  if (lines[0]?.text.trim() === '---') {
    const end = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(l.text));
    if (end > 0) lines = lines.slice(end + 1);
  }
  return parseLines(lines, opts, true);
}

function isListItem(s: string): RegExpExecArray | null {
  const m = ITEM.exec(s);
  if (!m) return null;
  // A bare "-" or "1." alone on a line is an (empty) item; "-1" or "*emphasis*" are not items.
  return m;
}

/** Does this line start a block that interrupts a paragraph? */
function startsBlock(s: string, opts: ParseOptions): boolean {
  return FENCE.test(s) || ATX.test(s) || RULE.test(s) || isListItem(s) !== null || /^ {0,3}>/.test(s) || /^\s*\|/.test(s) || (opts.plainText === true && (s.startsWith('#!') || plainHeading(s)));
}

/** Title Case or UPPERCASE short lines with no sentence punctuation: the headings of plain text. */
export function plainHeading(s: string): boolean {
  const t = s.trim();
  if (t.length < 3 || t.length > 70 || /^[-*+•□#|>`$]/.test(t) || /[.:;,!?=(){}[\]"'`]$/.test(t) || /[`=<>{}]/.test(t) || /https?:/.test(t)) return false;
  const words = t.split(/\s+/);
  if (words.length > 8 || !/^[A-Z0-9]/.test(t)) return false;
  if (/^[^a-z]*[A-Z][^a-z]*$/.test(t) && /[A-Z]{2}/.test(t)) return true; // UPPERCASE
  const small = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'in', 'of', 'on', 'or', 'the', 'to', 'vs', 'via', 'with', '&', '-', '/']);
  return words.every((w, i) => (i > 0 && small.has(w.toLowerCase())) || /^[^a-z]/.test(w));
}

function parseLines(lines: Line[], opts: ParseOptions, top: boolean): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const { text: s, no } = lines[i];
    if (blank(s)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(s);
    if (fence) {
      const [, indent, marks, info] = fence;
      const body: string[] = [];
      i++;
      while (i < lines.length) {
        const t = lines[i].text;
        const close = /^\s*(`{3,}|~{3,})\s*$/.exec(t);
        if (close && close[1][0] === marks[0] && close[1].length >= marks.length) {
          i++;
          break;
        }
        body.push(dedent(t, indent.length));
        i++;
      }
      blocks.push({ kind: 'code', info: info.toLowerCase(), lines: body, line: no, fenced: true });
      continue;
    }
    if (opts.plainText && s.startsWith('#!')) {
      // A pasted script runs until the next plain-text heading.
      const body: string[] = [s];
      i++;
      while (i < lines.length && !plainHeading(lines[i].text)) body.push(lines[i++].text);
      while (body.length && blank(body[body.length - 1])) body.pop();
      const interp = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(s);
      const program = interp ? interp[1].replace(/^.*\//, '') : '';
      const lang = program === 'env' ? (interp?.[2] ?? '') : program;
      blocks.push({ kind: 'code', info: lang.replace(/\d+$/, ''), lines: body, line: no, fenced: false });
      continue;
    }
    const atx = ATX.exec(s);
    if (atx) {
      blocks.push({ kind: 'heading', level: atx[1].length, text: (atx[2] ?? '').trim(), line: no });
      i++;
      continue;
    }
    if (RULE.test(s) && !isListItem(s)) {
      blocks.push({ kind: 'rule', line: no });
      i++;
      continue;
    }
    if (/^ {0,3}>/.test(s)) {
      const inner: Line[] = [];
      while (i < lines.length && /^ {0,3}>/.test(lines[i].text)) {
        inner.push({ text: lines[i].text.replace(/^ {0,3}> ?/, ''), no: lines[i].no });
        i++;
      }
      blocks.push({ kind: 'quote', blocks: parseLines(inner, opts, false), line: no });
      continue;
    }
    if (/^\s*\|/.test(s)) {
      const rows: string[][] = [];
      while (i < lines.length && /^\s*\|/.test(lines[i].text)) {
        const cells = lines[i].text.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
        if (!cells.every((c) => /^:?-+:?$/.test(c))) rows.push(cells);
        i++;
      }
      blocks.push({ kind: 'table', rows, line: no });
      continue;
    }
    const item = isListItem(s);
    if (item) {
      i = parseList(lines, i, opts, blocks);
      continue;
    }
    if (top && indentOf(s) >= 4 && (blocks.length === 0 || blank(lines[i - 1]?.text ?? ''))) {
      const body: Line[] = [];
      while (i < lines.length && (indentOf(lines[i].text) >= 4 || blank(lines[i].text))) body.push(lines[i++]);
      while (body.length && blank(body[body.length - 1].text)) body.pop();
      blocks.push({ kind: 'code', info: '', lines: body.map((l) => dedent(l.text, 4)), line: no, fenced: false });
      continue;
    }
    if (opts.plainText && plainHeading(s)) {
      blocks.push({ kind: 'heading', level: 1, text: s.trim(), line: no });
      i++;
      continue;
    }
    if (opts.plainText && opts.isCommandLine?.(s)) {
      const body: string[] = [];
      while (i < lines.length && !blank(lines[i].text) && (opts.isCommandLine(lines[i].text) || /\\\s*$/.test(body[body.length - 1] ?? ''))) body.push(lines[i++].text.trim());
      blocks.push({ kind: 'code', info: 'sh', lines: body, line: no, fenced: false });
      continue;
    }
    // Paragraph, possibly a setext heading.
    const para: string[] = [s.trim()];
    i++;
    while (i < lines.length && !blank(lines[i].text)) {
      const t = lines[i].text;
      const setext = SETEXT.exec(t);
      if (setext && para.length === 1 && (setext[1][0] === '=' || setextDash(para[0]))) {
        blocks.push({ kind: 'heading', level: setext[1][0] === '=' ? 1 : 2, text: para[0], line: no });
        para.length = 0;
        i++;
        break;
      }
      if (startsBlock(t, opts)) break;
      para.push(t.trim());
      i++;
    }
    if (para.length) blocks.push({ kind: 'paragraph', text: para.join('\n'), line: no });
  }
  return blocks;
}

/**
 * `---` under a paragraph is a setext heading in CommonMark, but playbooks use it as a rule after
 * their last sentence far more often: only a short line without sentence punctuation is a heading.
 */
function setextDash(text: string): boolean {
  return text.length <= 60 && !/[.!?:]$/.test(text);
}

function parseList(lines: Line[], start: number, opts: ParseOptions, out: Block[]): number {
  const first = ITEM.exec(lines[start].text)!;
  const baseIndent = indentOf(first[1]);
  const ordered = /\d/.test(first[2]);
  const list: Block & { kind: 'list' } = { kind: 'list', ordered, items: [], line: lines[start].no };
  let i = start;
  while (i < lines.length) {
    const m = ITEM.exec(lines[i].text);
    if (!m || indentOf(m[1]) !== baseIndent || /\d/.test(m[2]) !== ordered || (!ordered && m[2] !== first[2])) break;
    if (RULE.test(lines[i].text) && !m[3]) break;
    const contentIndent = indentOf(m[1]) + m[2].length + 1;
    let text = m[3] ?? '';
    let task: ListItem['task'];
    const t = TASK.exec(text);
    if (t) {
      task = t[1] === ' ' ? 'open' : 'done';
      text = text.slice(t[0].length);
    }
    if (m[2] === '□' || m[2] === '☐') task = 'open';
    if (m[2] === '☑' || m[2] === '✓' || m[2] === '✔') task = 'done';
    const item: ListItem = { line: lines[i].no, text: text.trim(), blocks: [] };
    if (ordered) item.number = Number.parseInt(m[2], 10);
    if (task) item.task = task;
    i++;
    // Lazy continuation lines of the first paragraph.
    while (i < lines.length && !blank(lines[i].text) && indentOf(lines[i].text) <= baseIndent + 1 && !startsBlock(lines[i].text, opts) && !SETEXT.test(lines[i].text)) {
      item.text += ` ${lines[i].text.trim()}`;
      i++;
    }
    const body: Line[] = [];
    while (i < lines.length) {
      const s = lines[i].text;
      if (blank(s)) {
        // A blank line continues the item only when indented content follows.
        let j = i;
        while (j < lines.length && blank(lines[j].text)) j++;
        if (j < lines.length && indentOf(lines[j].text) > baseIndent && !(ITEM.test(lines[j].text) && indentOf(lines[j].text) === baseIndent)) {
          for (; i < j; i++) body.push({ text: '', no: lines[i].no });
          continue;
        }
        break;
      }
      const ind = indentOf(s);
      if (ind > baseIndent) {
        body.push({ text: dedent(s, Math.min(ind, contentIndent)), no: lines[i].no });
        i++;
        continue;
      }
      break;
    }
    // Continuation lines of the first paragraph that were indented.
    while (body.length && !blank(body[0].text) && !startsBlock(body[0].text, opts)) {
      item.text += ` ${body.shift()!.text.trim()}`;
    }
    item.blocks = parseLines(body, opts, false);
    list.items.push(item);
    // Blank lines between items of the same list.
    let j = i;
    while (j < lines.length && blank(lines[j].text)) j++;
    const next = j < lines.length ? ITEM.exec(lines[j].text) : null;
    if (next && indentOf(next[1]) === baseIndent && /\d/.test(next[2]) === ordered && (ordered || next[2] === first[2])) i = j;
    else break;
  }
  out.push(list);
  return i;
}

/** Inline Markdown reduced to text: emphasis, code spans, links, wiki links, images, HTML tags. */
export function inlineText(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[\[([^\]|#]*)(?:#([^\]|]*))?(?:\|([^\]]*))?\]\]/g, (_m, page: string, anchor: string | undefined, alias: string | undefined) => alias ?? (page || anchor || ''))
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,:;!?]|$)/g, '$1$2')
    .replace(/<\/?(?:br|b|i|em|strong|code|span|div|p|sup|sub|kbd|details|summary|a|img|u|mark|small)\b[^>]*>/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Code spans of a piece of inline Markdown, in order. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/(`+)([^`]|[^`].*?[^`])\1(?!`)/g)].map((m) => m[2].trim());
}

/** A leading bold/italic label (`**Trigger:** rest`, `**Symptoms.** rest`): [label, rest]. */
export function leadingLabel(text: string): [string, string] | undefined {
  const m = /^(\*\*|__)(.+?)\1\s*[:.\-—–]?\s*(.*)$/s.exec(text.trim());
  if (m) return [m[2].replace(/[:.\s]+$/, '').trim(), m[3].trim()];
  const plain = /^([A-Z][A-Za-z /&-]{1,30}):\s+(.*)$/s.exec(text.trim());
  if (plain) return [plain[1].trim(), plain[2].trim()];
  return undefined;
}

/** A heading and everything up to the next heading of the same or a higher level. */
export interface Section {
  heading?: { level: number; text: string; line: number };
  /** Blocks before the first sub-heading. */
  blocks: Block[];
  children: Section[];
}

/** The document as a tree of sections; the root has no heading. */
export function sectionTree(blocks: Block[]): Section {
  const root: Section = { blocks: [], children: [] };
  const stack: Array<{ level: number; section: Section }> = [{ level: 0, section: root }];
  for (const b of blocks) {
    if (b.kind === 'heading') {
      while (stack.length > 1 && stack[stack.length - 1].level >= b.level) stack.pop();
      const section: Section = { heading: { level: b.level, text: b.text, line: b.line }, blocks: [], children: [] };
      stack[stack.length - 1].section.children.push(section);
      stack.push({ level: b.level, section });
    } else {
      stack[stack.length - 1].section.blocks.push(b);
    }
  }
  return root;
}
