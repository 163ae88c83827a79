// Every stored hash is sha256. A short command hashes in JavaScript (src/store/sha256.ts) and a long
// run switches to node:crypto partway: both must give Node's digest for any text, and the chain a
// real `ir note` writes must be the one node:crypto computes from the rows.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256HexJs } from '../../src/store/sha256.js';
import { eventBody, GENESIS_HASH, sha256Hex, type EventRow } from '../../src/store/chain.js';
import { ir, tempHome } from '../helpers/cli.js';

const node = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A small deterministic generator (no Math.random: a failure must reproduce). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// One to four UTF-8 bytes each, a NUL, JSON's escapes, and a lone surrogate (encoded as U+FFFD).
const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\0', 'é', 'ß', '€', '中', '😀', '\u{10ffff}', '\ud800'];

function text(next: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += CHARS[Math.floor(next() * CHARS.length)];
  return s;
}

describe('sha256', () => {
  it('the JavaScript digest is node:crypto\'s for every length around the block and padding edges, ASCII and multi-byte', () => {
    const next = rng(14);
    for (let length = 0; length <= 300; length++) {
      const ascii = 'x'.repeat(length);
      expect(sha256HexJs(ascii), `ascii ${length}`).toBe(node(ascii));
      for (let k = 0; k < 3; k++) {
        const mixed = text(next, length);
        expect(sha256HexJs(mixed), JSON.stringify(mixed)).toBe(node(mixed));
      }
    }
  });

  it('the JavaScript digest is node:crypto\'s for the known vectors and for long texts', () => {
    expect(sha256HexJs('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256HexJs('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256HexJs('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    const next = rng(7);
    for (const length of [1000, 4096, 65_537, 300_000]) {
      const long = text(next, length);
      expect(sha256HexJs(long), `length ${length}`).toBe(node(long));
    }
  });

  it('the chain\'s sha256Hex gives node:crypto\'s digest before and after it hands over to node:crypto', () => {
    const next = rng(21);
    // Well past the JavaScript budget, so both sides of the switch are exercised in this process.
    for (let i = 0; i < 200; i++) {
      const t = text(next, 50 + Math.floor(next() * 900));
      expect(sha256Hex(t), `text ${i}`).toBe(node(t));
    }
  });

  it('the hashes `ir note` stores are sha256 over the previous hash and the row, as node:crypto computes them', () => {
    const { home, cleanup } = tempHome();
    try {
      expect(ir(home, ['declare', '-t', 'hashed by hand', '-s', 'SEV-3']).code).toBe(0);
      for (const note of ['first', 'é€😀 "quoted" \\ back', 'x'.repeat(5000)]) expect(ir(home, ['note', note]).code).toBe(0);
      const db = new Database(join(home, 'ir.db'), { readonly: true });
      try {
        const rows = db.prepare('SELECT * FROM events ORDER BY seq').all() as EventRow[];
        expect(rows.length).toBeGreaterThanOrEqual(4);
        let prev = GENESIS_HASH;
        for (const row of rows) {
          expect(row.prev_hash, `seq ${row.seq}`).toBe(prev);
          expect(row.hash, `seq ${row.seq}`).toBe(node(prev + eventBody(row)));
          prev = row.hash;
        }
      } finally {
        db.close();
      }
      // And each event's record digest (hashed the same way) matches the record its events fold to.
      expect(ir(home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      cleanup();
    }
  });
});
