// Timeline rows printed without Handlebars: for a row body of plain fields, the text is exactly
// what the compiled template prints (the shipped postmortem template and variants a team might
// write), and any other body (a helper, a path, an unknown field) keeps Handlebars.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderTemplate, templateAround } from '../../src/report/template.js';
import { Redactor } from '../../src/redact/redactor.js';
import { SHIPPED_TEMPLATES } from '../../src/config/paths.js';
import { cell, TIMELINE_FIELDS, timelineItem, timelineRows } from '../../src/report/model.js';
import { generator } from './secret-corpus.js';
import type { TimelineEvent } from '../../src/core/incident.js';

const FIELDS = ['time', 'actor', 'text'] as const;
const dir = mkdtempSync(join(tmpdir(), 'ir-template-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = [
  { time: '2026-11-22 02:47:00Z', actor: 'alice', text: 'Note: checkout \\| errors at 12% & rising <fast>' },
  { time: '2026-11-22 02:48:00Z', actor: '', text: '' },
  { time: '2026-11-22 02:49:00Z', actor: 'bob', text: 'Step s1 ok exit 0: `kubectl get pods -n shop` — ünïcödé {{not a tag}} [REDACTED-AWS-1]' },
];

function write(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

/** The report as one render, and as before + rows + after through templateAround. */
async function both(file: string, cacheDir?: string) {
  const context = { title: 'T', timeline: rows };
  const whole = await renderTemplate(file, context, dir);
  const split = (await templateAround(file, 'timeline', dir, cacheDir, FIELDS))!;
  const { before, after } = split.around({ title: 'T' });
  // A direct split prints the same rows from the fields' values alone (compileRow).
  if (split.line) for (const r of rows) expect(split.line(...FIELDS.map((f) => r[f]))).toBe(split.item(r));
  return { whole, pieces: before + rows.map((r) => split.item(r)).join('') + after, direct: split.direct, line: Boolean(split.line) };
}

/** Events whose rows need escaping, and actors that change, repeat and are missing. */
function events(): TimelineEvent[] {
  const base = { incidentId: 'INC-1', prevHash: '', hash: '' };
  const texts = ['checkout | errors at 12%', 'two\nlines and a \\ backslash', '  padded  ', 'ünïcödé {{not a tag}}', ''];
  const actors: (string | undefined)[] = ['alice', 'alice', 'bob|ops', 'bob|ops', undefined, '', 'alice', ' carol ', ' carol '];
  return actors.flatMap((actor, i) => [
    { ...base, seq: 2 * i + 1, at: `2026-11-22T02:${String(10 + i).padStart(2, '0')}:05.123Z`, type: 'note.added', actor: actor as string, data: { text: texts[i % texts.length] } },
    { ...base, seq: 2 * i + 2, at: `2026-11-22T03:${String(10 + i).padStart(2, '0')}:00.000Z`, type: 'runbook.step', actor: actor as string, data: { step: `s${i}`, outcome: 'ok', kind: 'run', command: 'kubectl get pods | grep -v Running', exit_code: 0 }, ...(i === 3 ? { recordedAt: '2026-11-22T05:00:00.000Z' } : {}) },
  ]);
}

describe('timeline rows without Handlebars', () => {
  it('the shipped postmortem template prints its rows directly, byte for byte what Handlebars prints', async () => {
    const file = write('postmortem.md', readFileSync(join(__dirname, '..', '..', 'templates', 'postmortem.md'), 'utf8'));
    const split = (await templateAround(file, 'timeline', dir, undefined, FIELDS))!;
    expect(split.direct).toBe(true);
    const slow = (await templateAround(file, 'timeline', dir, undefined, []))!;
    expect(slow.direct).toBe(false);
    for (const r of rows) expect(split.item(r)).toBe(slow.item(r));
  });

  it('escapes a cell as the three replaces always did, for any mix of pipes, backslashes, line breaks and spaces', () => {
    const reference = (t: unknown) =>
      String(t ?? '')
        .replace(/\\/g, '\\\\')
        .replace(/\|/g, '\\|')
        .replace(/\r?\n/g, ' ')
        .trim();
    const g = generator(5);
    const alphabet = ['|', '\\', '\n', '\r', ' ', '\t', 'a', 'é', 'Note: '];
    const texts: unknown[] = [undefined, null, 42, '', ' | ', 'a\r\nb', 'a\rb', 'plain', ...Array.from({ length: 5000 }, () => Array.from({ length: g.int(8) }, () => alphabet[g.int(alphabet.length)]).join(''))];
    for (const t of texts) expect(cell(t), JSON.stringify(t)).toBe(reference(t));
  });

  it('prints rows straight from events as Handlebars prints the rows timelineItem makes of them', async () => {
    const file = write('postmortem-events.md', readFileSync(join(__dirname, '..', '..', 'templates', 'postmortem.md'), 'utf8'));
    const split = (await templateAround(file, 'timeline', dir, undefined, TIMELINE_FIELDS))!;
    const slow = (await templateAround(file, 'timeline', dir, undefined, []))!;
    expect(split.line).toBeDefined();
    const rowOf = timelineRows(split.line!);
    const printed = events().map(rowOf);
    expect(printed).toEqual(events().map((e) => slow.item(timelineItem(e))));
    // The cells were escaped (the comparison is not one of plain text only).
    expect(printed.join('')).toContain('bob\\|ops');
    expect(printed.join('')).toContain('checkout \\| errors');
  });

  it('ir\'s own postmortem template holds nothing a redactor finds: the postmortem does not scan it', async () => {
    const r = new Redactor([], { prefilter: false });
    await r.learn(readFileSync(join(SHIPPED_TEMPLATES, 'postmortem.md'), 'utf8'));
    expect(r.total).toBe(0);
  });

  const variants: [string, string, boolean][] = [
    ['table', 'x\n{{#each timeline}}\n| {{time}} | {{actor}} | {{text}} |\n{{/each}}\ny', true],
    ['triple and tilde', 'x\n{{#each timeline}}\n  - {{{time}}} {{~actor~}}   : {{text}}\n{{/each}}\ny', true],
    ['comment and inline', 'x {{#each timeline}}[{{!-- who --}}{{actor}}/{{text}}]{{/each}} y', true],
    ['this.field', 'x\n{{#each timeline}}\n{{this.time}} {{text}}\n{{/each}}\n', false],
    ['helper', 'x\n{{#each timeline}}\n{{capitalize text}} {{time}}\n{{/each}}\n', false],
    ['unknown field', 'x\n{{#each timeline}}\n{{time}} {{who}}\n{{/each}}\n', false],
    ['block inside', 'x\n{{#each timeline}}\n{{#if actor}}{{actor}}{{/if}} {{text}}\n{{/each}}\n', false],
  ];
  for (const [name, source, direct] of variants) {
    it(`a team template (${name}) ${direct ? 'prints directly' : 'keeps Handlebars'}, with the same text either way`, async () => {
      const file = write(`${name.replace(/\W+/g, '-')}.md`, source);
      const cache = join(dir, `cache-${name.replace(/\W+/g, '-')}`);
      const first = await both(file, cache);
      expect(first.direct).toBe(direct);
      expect(first.pieces).toBe(first.whole);
      // From the cache (the compiled form and the row parts read back), the same.
      const again = await both(file, cache);
      expect(again).toEqual(first);
    });
  }
});
