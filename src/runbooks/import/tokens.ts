// Markdown playbooks read by markdown-it (CommonMark plus tables), turned into the importer's blocks
// with the 1-based line each starts on (from the tokens' source maps), so that the heuristics never
// have to guess where a list, a fence or a quote ends. HTML blocks (comments such as "old
// procedure, do NOT use") are not content and are left out. markdown-it is imported here, on first
// use, so that only `ir runbook import` pays for it.

import type MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it/index.js';
import { looksLikeCommand } from './commands.js';
import type { Block, ListItem } from './markdown.js';

let parser: MarkdownIt | undefined;

async function markdownIt(): Promise<MarkdownIt> {
  if (!parser) {
    const { default: Md } = await import('markdown-it');
    parser = new Md('commonmark').enable('table');
  }
  return parser;
}

/** Front matter (`---` … `---` on the first line) blanked, so line numbers stay those of the file. */
function blankFrontMatter(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0]?.trim() !== '---') return lines.join('\n');
  const end = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(l));
  if (end < 0) return lines.join('\n');
  return lines.map((l, i) => (i <= end ? '' : l)).join('\n');
}

export async function readMarkdown(text: string): Promise<Block[]> {
  const md = await markdownIt();
  const tokens = md.parse(blankFrontMatter(text), {});
  return convert(tokens, 0, tokens.length)[0];
}

const lineOf = (t: Token): number => (t.map ? t.map[0] + 1 : 0);

/** Index of the token closing the one opened at `i`. */
function closing(tokens: Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    depth += tokens[j].nesting;
    if (depth === 0) return j;
  }
  return tokens.length - 1;
}

function codeLines(content: string): string[] {
  const lines = content.replace(/\n$/, '').split('\n');
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  return lines;
}

/** Blocks from tokens[i, end). */
function convert(tokens: Token[], i: number, end: number): [Block[], number] {
  const out: Block[] = [];
  while (i < end) {
    const t = tokens[i];
    switch (t.type) {
      case 'heading_open': {
        const inline = tokens[i + 1];
        const text = inline.content.replace(/\s*\n\s*/g, ' ').trim();
        if (t.markup === '-' && /[.!?]$/.test(text)) {
          // `---` under a sentence is a setext heading to CommonMark, but in playbooks it is far more
          // often a rule drawn after the last sentence of a part.
          out.push({ kind: 'paragraph', text: inline.content, line: lineOf(t) }, { kind: 'rule', line: (t.map?.[1] ?? 0) });
        } else out.push({ kind: 'heading', level: Number(t.tag.slice(1)), text, line: lineOf(t) });
        i = closing(tokens, i) + 1;
        break;
      }
      case 'paragraph_open': {
        const inline = tokens[i + 1];
        out.push({ kind: 'paragraph', text: inline.content.split('\n').map((l) => l.trim()).join('\n'), line: lineOf(t) });
        i = closing(tokens, i) + 1;
        break;
      }
      case 'fence':
        out.push({ kind: 'code', info: (t.info.trim().split(/\s+/)[0] ?? '').replace(/^\{?\.?/, '').replace(/\}$/, '').toLowerCase(), lines: codeLines(t.content), line: lineOf(t), fenced: true });
        i++;
        break;
      case 'code_block':
        out.push({ kind: 'code', info: '', lines: codeLines(t.content), line: lineOf(t), fenced: false });
        i++;
        break;
      case 'hr':
        out.push({ kind: 'rule', line: lineOf(t) });
        i++;
        break;
      case 'blockquote_open': {
        const close = closing(tokens, i);
        out.push({ kind: 'quote', blocks: convert(tokens, i + 1, close)[0], line: lineOf(t) });
        i = close + 1;
        break;
      }
      case 'bullet_list_open':
      case 'ordered_list_open': {
        const close = closing(tokens, i);
        out.push({ kind: 'list', ordered: t.type === 'ordered_list_open', items: listItems(tokens, i + 1, close), line: lineOf(t) });
        i = close + 1;
        break;
      }
      case 'table_open': {
        const close = closing(tokens, i);
        const rows: string[][] = [];
        const rowLines: number[] = [];
        for (let j = i + 1; j < close; j++) {
          if (tokens[j].type === 'tr_open') {
            rows.push([]);
            rowLines.push(lineOf(tokens[j]));
          } else if (tokens[j].type === 'inline') rows[rows.length - 1]?.push(tokens[j].content.trim());
        }
        out.push({ kind: 'table', rows, rowLines, line: lineOf(t) });
        i = close + 1;
        break;
      }
      default:
        // html_block (comments are not content), and closing tokens of what the caller handles.
        i = t.nesting === 1 ? closing(tokens, i) + 1 : i + 1;
    }
  }
  return [out, i];
}

function listItems(tokens: Token[], i: number, end: number): ListItem[] {
  const items: ListItem[] = [];
  while (i < end) {
    const t = tokens[i];
    if (t.type !== 'list_item_open') {
      i++;
      continue;
    }
    const close = closing(tokens, i);
    const blocks = convert(tokens, i + 1, close)[0];
    let text = '';
    // The item's first paragraph is its text; an item may also open with a fence or a list.
    if (blocks[0]?.kind === 'paragraph') {
      const first = blocks.shift() as Block & { kind: 'paragraph' };
      // "Check the pods:" with the command on the next line (no blank line): the command is code.
      const lines = first.text.split('\n');
      const at = lines.findIndex((l, k) => k > 0 && looksLikeCommand(l.replace(/^`|`$/g, '')));
      if (at > 0) {
        blocks.unshift({ kind: 'code', info: 'sh', lines: lines.slice(at).map((l) => l.replace(/^`|`$/g, '')), line: first.line + at, fenced: false });
        lines.length = at;
      }
      text = lines.join('\n');
    }
    const item: ListItem = { line: lineOf(t), text: text.replace(/\n/g, ' '), blocks };
    if (text.includes('\n')) item.raw = text;
    if (t.info) item.number = Number.parseInt(t.info, 10);
    const task = /^\[([ xX])\][ \t]+/.exec(item.text);
    if (task) {
      item.task = task[1] === ' ' ? 'open' : 'done';
      item.text = item.text.slice(task[0].length);
    }
    items.push(item);
    i = close + 1;
  }
  return items;
}
