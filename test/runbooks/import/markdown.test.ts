import { describe, expect, it } from 'vitest';
import { codeSpans, inlineText, leadingLabel, parsePlainText, plainHeading, sectionTree, type Block } from '../../../src/runbooks/import/markdown.js';
import { readMarkdown as parseMarkdown } from '../../../src/runbooks/import/tokens.js';
import { looksLikeCommand } from '../../../src/runbooks/import/commands.js';

const kinds = (blocks: Block[]) => blocks.map((b) => b.kind);

describe('readMarkdown (markdown-it tokens to blocks)', () => {
  it('reads ATX and setext headings with their lines, and skips front matter', async () => {
    const blocks = await parseMarkdown('---\ntags: [x]\n---\n# Title #\n\nIntro\n\nSub\n---\n\n## 🚨 Two\n');
    expect(blocks).toEqual([
      { kind: 'heading', level: 1, text: 'Title', line: 4 },
      { kind: 'paragraph', text: 'Intro', line: 6 },
      { kind: 'heading', level: 2, text: 'Sub', line: 8 },
      { kind: 'heading', level: 2, text: '🚨 Two', line: 11 },
    ]);
  });

  it('treats --- under a sentence as a rule, not a heading', async () => {
    expect(kinds(await parseMarkdown('Stability before forensics.\n---\n'))).toEqual(['paragraph', 'rule']);
    expect((await parseMarkdown('Title\n=====\n'))[0]).toMatchObject({ kind: 'heading', level: 1 });
  });

  it('reads fenced code with ``` and ~~~, info strings, and fences indented in list items', async () => {
    const blocks = await parseMarkdown('```bash\nkubectl get pods\n```\n~~~sh\nls\n~~~\n1) Check:\n   ~~~sh\n   df -h\n   ~~~\n');
    expect(blocks[0]).toEqual({ kind: 'code', info: 'bash', lines: ['kubectl get pods'], line: 1, fenced: true });
    expect(blocks[1]).toMatchObject({ kind: 'code', info: 'sh', lines: ['ls'] });
    const list = blocks[2] as Block & { kind: 'list' };
    expect(list).toMatchObject({ kind: 'list', ordered: true, line: 7 });
    expect(list.items[0]).toMatchObject({ number: 1, text: 'Check:', line: 7 });
    expect(list.items[0].blocks[0]).toMatchObject({ kind: 'code', info: 'sh', lines: ['df -h'], line: 8 });
  });

  it('keeps a fence open until the matching close and does not read headings inside', async () => {
    const blocks = await parseMarkdown('````md\n```\n# not a heading\n````\n');
    expect(blocks).toEqual([{ kind: 'code', info: 'md', lines: ['```', '# not a heading'], line: 1, fenced: true }]);
  });

  it('reads ordered and bullet lists, nesting, numbering, task items and lazy lines', async () => {
    const blocks = await parseMarkdown('3. **Three**\n   - a\n   - b\n4. Four\ncontinues\n\n- [ ] open\n- [x] done\n* star\n');
    const [ordered, tasks, star] = blocks as Array<Block & { kind: 'list' }>;
    expect(ordered.items.map((i) => [i.number, i.text])).toEqual([[3, '**Three**'], [4, 'Four continues']]);
    expect((ordered.items[0].blocks[0] as Block & { kind: 'list' }).items.map((i) => i.text)).toEqual(['a', 'b']);
    expect(tasks.items.map((i) => [i.task, i.text])).toEqual([['open', 'open'], ['done', 'done']]);
    expect(star.items[0].text).toBe('star');
  });

  it('reads tables, quotes and indented code', async () => {
    const blocks = await parseMarkdown('| a | b |\n|---|---|\n| 1 | 2 |\n\n> [!warning] Careful\n\n    kubectl get pods\n');
    expect(blocks[0]).toEqual({ kind: 'table', rows: [['a', 'b'], ['1', '2']], rowLines: [1, 3], line: 1 });
    expect(blocks[1]).toMatchObject({ kind: 'quote', blocks: [{ kind: 'paragraph', text: '[!warning] Careful' }] });
    expect(blocks[2]).toMatchObject({ kind: 'code', info: '', lines: ['kubectl get pods'] });
  });

  it('plain text: Title Case and UPPERCASE lines are headings, #! starts a script, command lines are code', async () => {
    const text = 'Runbook Template\n## Symptoms\n- errors\nRESOLUTION\nkubectl rollout undo deployment/api -n production\nUsers cannot complete purchases\nChaos Engineering\n#!/bin/bash\n# comment, not a heading\necho hi\nBest Practices\n□ Isolate systems\n';
    const blocks = parsePlainText(text, { plainText: true, isCommandLine: looksLikeCommand });
    expect(blocks.map((b) => (b.kind === 'heading' ? `h${b.level}:${b.text}` : b.kind))).toEqual([
      'h1:Runbook Template', 'h2:Symptoms', 'list', 'h1:RESOLUTION', 'code', 'paragraph', 'h1:Chaos Engineering', 'code', 'h1:Best Practices', 'list',
    ]);
    expect(blocks[7]).toMatchObject({ kind: 'code', info: 'bash', lines: ['#!/bin/bash', '# comment, not a heading', 'echo hi'] });
    expect((blocks[9] as Block & { kind: 'list' }).items[0]).toMatchObject({ task: 'open', text: 'Isolate systems' });
  });

  it('plainHeading refuses sentences, commands and key: value lines', async () => {
    expect(plainHeading('Evidence Collection & Forensics')).toBe(true);
    expect(plainHeading('Thanks to @oncall-team for rapid response.')).toBe(false);
    expect(plainHeading('kubectl get pods')).toBe(false);
    expect(plainHeading('name: Primary On-Call')).toBe(false);
    expect(plainHeading('API became unresponsive due to load')).toBe(false);
  });
});

describe('inline helpers', () => {
  it('inlineText strips emphasis, code, links and wiki links but keeps <placeholders>', async () => {
    expect(inlineText('**Declare incident** in `#incidents` see [[Deployment#roll-back|rollback]] and [docs](http://x)')).toBe('Declare incident in #incidents see rollback and docs');
    expect(inlineText('copy logs to /var/incidents/<date>/')).toBe('copy logs to /var/incidents/<date>/');
  });

  it('codeSpans and leadingLabel', async () => {
    expect(codeSpans('run `kubectl get pods` then `ls`')).toEqual(['kubectl get pods', 'ls']);
    expect(leadingLabel('**Trigger:** MongoDB down')).toEqual(['Trigger', 'MongoDB down']);
    expect(leadingLabel('**Symptoms.** slow')).toEqual(['Symptoms', 'slow']);
    expect(leadingLabel('**Runbook.**')).toEqual(['Runbook', '']);
    expect(leadingLabel('Severity: SEV-1')).toEqual(['Severity', 'SEV-1']);
  });

  it('sectionTree nests headings by level', async () => {
    const root = sectionTree(await parseMarkdown('# A\ntext\n## B\n### C\n## D\n# E\n'));
    expect(root.children.map((s) => s.heading?.text)).toEqual(['A', 'E']);
    expect(root.children[0].children.map((s) => s.heading?.text)).toEqual(['B', 'D']);
    expect(root.children[0].children[0].children[0].heading).toEqual({ level: 3, text: 'C', line: 4 });
    expect(root.children[0].blocks).toEqual([{ kind: 'paragraph', text: 'text', line: 2 }]);
  });
});
