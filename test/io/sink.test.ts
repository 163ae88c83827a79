// The output path of long results: Sink's chunks (bytes exactly as written, in order, whatever falls
// on a chunk's edge), its wait for a slow reader, writeJsonWithArray/Pages against JSON.stringify, and
// utc()'s shortcut for ir's own times against the Date it stands in for.

import { describe, expect, it } from 'vitest';
import { Sink, writeJsonWithArray, writeJsonWithPages } from '../../src/io/sink.js';
import { utc } from '../../src/io/format.js';

/** A reader that takes what it is given as bytes and says "wait" after each write until drained. */
function slowReader() {
  const got: Buffer[] = [];
  let waiting = false;
  let maxUnread = 0;
  let unread = 0;
  return {
    got,
    get maxUnread() {
      return maxUnread;
    },
    stream: {
      write(chunk: string | Uint8Array) {
        // A write while the last is still unread is what an unbounded writer does.
        if (waiting) unread++;
        maxUnread = Math.max(maxUnread, unread);
        got.push(Buffer.from(chunk));
        waiting = true;
        return false;
      },
      drained: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            waiting = false;
            unread = 0;
            resolve();
          }, 1),
        ),
    },
  };
}

describe('Sink', () => {
  it('hands over exactly the bytes written, in order: multi-byte characters across chunk edges, pieces larger than a chunk', async () => {
    const reader = slowReader();
    const sink = new Sink(reader.stream);
    const pieces: string[] = [];
    // Sizes that put 2-, 3- and 4-byte characters (and lone surrogates) on every offset of a chunk's end.
    const alphabet = ['a', 'é', '€', '🚒', '\ud800', '\n'];
    for (let i = 0; i < 40_000; i++) pieces.push(alphabet[i % alphabet.length].repeat(1 + (i % 13)));
    pieces.splice(1000, 0, 'x'.repeat(300_000), '€'.repeat(100_000));
    for (const p of pieces) await sink.write(p);
    await sink.flush();
    expect(Buffer.concat(reader.got).equals(Buffer.from(pieces.join('')))).toBe(true);
    expect(reader.got.length).toBeGreaterThan(3);
    // Each write was taken before the next was handed over: memory stays at a chunk or two.
    expect(reader.maxUnread).toBe(0);
  });

  it('add() in a loop with drain() when it asks keeps the same bytes and the same bound', async () => {
    const reader = slowReader();
    const sink = new Sink(reader.stream);
    let text = '';
    for (let i = 0; i < 100_000; i++) {
      const row = `2026-11-22 02:00:${String(i % 60).padStart(2, '0')}Z  alice  Note: n${i} — ü\n`;
      text += row;
      if (sink.add(row)) await sink.drain();
    }
    await sink.flush();
    expect(Buffer.concat(reader.got).toString('utf8')).toBe(text);
    expect(reader.maxUnread).toBe(0);
  });

  it('an empty flush writes nothing', async () => {
    const reader = slowReader();
    const sink = new Sink(reader.stream);
    await sink.flush();
    await sink.write('');
    await sink.flush();
    expect(reader.got).toEqual([]);
  });
});

describe('writeJsonWithArray', () => {
  const cases: [string, Record<string, unknown>, unknown[]][] = [
    ['no items', { incident: 'INC-1' }, []],
    ['an empty document', {}, [{ a: 1 }]],
    ['one item', { a: { nested: [1, {}] } }, [{ seq: 1, data: { text: 'x\ny', list: [[], {}, null] } }]],
    ['items over several batches, with odd values', { incident: 'INC-1', n: 3 }, Array.from({ length: 1000 }, (_, i) => (i % 97 === 0 ? null : i % 101 === 0 ? undefined : { seq: i, at: new Date(i), data: { text: `n${i}`, deep: { x: [i, { y: `"${i}"` }] } }, empty: i % 2 ? {} : [] }))],
  ];
  for (const [name, doc, items] of cases) {
    it(`is JSON.stringify(…, null, 2) and a newline: ${name}`, async () => {
      let out = '';
      await writeJsonWithArray(new Sink({ write: (c) => ((out += String(c)), true) }), doc, 'events', items);
      expect(out).toBe(`${JSON.stringify({ ...doc, events: items }, null, 2)}\n`);
    });
    it(`writeJsonWithPages gives the same from pages of any size (empty, 1, a batch, one over, many): ${name}`, async () => {
      const pages: unknown[][] = [];
      const sizes = [1, 31, 32, 33, 0, 100, 1000];
      for (let at = 0, k = 0; at < items.length; k++) {
        const size = sizes[k % sizes.length];
        pages.push(items.slice(at, at + size));
        at += size;
      }
      async function* each() {
        yield* pages;
      }
      let out = '';
      await writeJsonWithPages(new Sink({ write: (c) => ((out += String(c)), true) }), doc, 'events', each());
      expect(out).toBe(`${JSON.stringify({ ...doc, events: items }, null, 2)}\n`);
    });
  }
});

describe('utc', () => {
  const viaDate = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  it('gives what the Date parse gave, for ir times and for every form that must not take the shortcut', () => {
    const times = [
      '2026-11-22T02:00:00.000Z',
      '2026-11-22T02:00:59.999Z',
      '2026-11-22T02:01:00.000Z',
      '2026-11-22T23:59:59.000Z',
      '2026-02-30T10:00:00.000Z', // Date moves it to March
      '2026-11-22T24:00:00.000Z', // Date makes it the next day
      '2026-11-22T02:00:00Z',
      '2026-11-22T02:00:00.5Z',
      '2026-11-22T03:00:00.000+01:00',
      '2026-11-22',
      '+010000-01-01T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
    ];
    // Twice over, in and out of order: the shortcut remembers the last minute it checked.
    for (const t of [...times, ...times.reverse()]) expect(utc(t), t).toBe(viaDate(t));
    expect(utc(new Date('2026-11-22T02:00:07.123Z'))).toBe('2026-11-22 02:00:07Z');
  });

  it('fails as the Date parse failed for a time that is no time (seconds 60)', () => {
    utc('2026-11-22T02:00:00.000Z');
    expect(() => viaDate('2026-11-22T02:00:60.000Z')).toThrow(RangeError);
    expect(() => utc('2026-11-22T02:00:60.000Z')).toThrow(RangeError);
  });
});
