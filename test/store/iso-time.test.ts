// The quick writers behind every stored row: isoTime must give toISOString's text and quoteJson
// JSON.stringify's, character for character, or hashes and stored times would change.

import { describe, expect, it } from 'vitest';
import { isoTime, quoteJson } from '../../src/store/canonical.js';

describe('isoTime', () => {
  it('writes what toISOString writes, at the edges of days, months, leap years and its own range', () => {
    const times = [
      0,
      1,
      999,
      Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 12, 0, 0, 5),
      Date.UTC(2024, 1, 29, 0, 0, 0, 50),
      Date.UTC(2026, 10, 25, 3, 4, 5, 6),
      Date.UTC(2100, 2, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ];
    for (const t of times) expect(isoTime(new Date(t)), String(t)).toBe(new Date(t).toISOString());
  });

  it('writes what toISOString writes over a spread of times from 1970 to 9999', () => {
    // A fixed sequence (no randomness): steps that are not a whole number of days or seconds.
    for (let t = 0; t < 253_402_300_800_000; t += 7_919_876_543_21) expect(isoTime(new Date(t))).toBe(new Date(t).toISOString());
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000 * 3 + 3_601_017) expect(isoTime(new Date(t))).toBe(new Date(t).toISOString());
  });

  it('leaves years before 1970 and from 10000 on to toISOString, and throws as it does on an invalid date', () => {
    for (const text of ['1969-12-31T23:59:59.999Z', '0001-01-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z', '-000001-06-01T00:00:00.000Z']) {
      expect(isoTime(new Date(text))).toBe(text);
    }
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('quoteJson', () => {
  it('writes what JSON.stringify writes for plain text and for every text that needs escaping', () => {
    const texts = ['', 'INC-20261125-001', 'note.added', 'alice', 'f'.repeat(64), '2026-11-25T03:04:05.006Z', 'say "hi"', 'back\\slash', 'tab\there', 'line\nbreak', '\u0000\u001f', '\u007f', 'é', 'zoë ✓', '\ud800', 'a\udc00b', '😀', '{"text":"x"}', ' ~!#[]'];
    for (let c = 0; c < 0x100; c++) texts.push(`a${String.fromCharCode(c)}b`);
    for (const text of texts) expect(quoteJson(text), JSON.stringify(text)).toBe(JSON.stringify(text));
  });
});
