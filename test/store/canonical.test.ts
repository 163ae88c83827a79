// canonicalJson is rewritten for speed; every stored hash depends on its exact output, so it is held
// to the original definition (kept here as the reference) over fixed cases and generated values.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/store/canonical.js';

/** The definition hashes were first written with (filter/sort/map), unchanged. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** A small deterministic generator (no Math.random: a failure must reproduce). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KEYS = ['a', 'b', 'Z', 'é', '10', '2', '', 'key with space', '"quoted"', 'back\\slash', 'line\nbreak', '__proto__x', 'toJSON'];

function generate(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0: return null;
    case 1: return undefined;
    case 2: return next() < 0.5;
    case 3: return [0, -0, 1.5, -2e21, 1e-7, NaN, Infinity, 42][Math.floor(next() * 8)];
    case 4: return ['', 'plain', 'ünïcødé', 'emoji 🚨', 'ctrl \u0001\u001f', 'quote " and \\', '\u2028\u2029', 'lone \ud800'][Math.floor(next() * 8)];
    case 5: return Math.floor(next() * 1e6);
    case 6: return Array.from({ length: Math.floor(next() * 4) }, () => generate(next, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      const n = Math.floor(next() * 5);
      for (let i = 0; i < n; i++) obj[KEYS[Math.floor(next() * KEYS.length)]] = generate(next, depth + 1);
      return obj;
    }
  }
}

describe('canonicalJson', () => {
  it('writes what the original definition wrote, for fixed edge cases', () => {
    const cases: unknown[] = [
      null, undefined, true, 0, -0, NaN, 'x', [], {}, [undefined, null, () => 1], { b: 1, a: undefined, c: [undefined] },
      { z: { y: { x: [1, { b: 2, a: 1 }] } } }, { d: new Date(0) }, { f: () => 1, s: Symbol('s') }, { '10': 1, '2': 2, a: 3 },
      { text: 'secret \u2028 line', nested: { empty: {}, list: [[], [{}]] } },
    ];
    for (const c of cases) expect(canonicalJson(c)).toBe(reference(c));
  });

  it('writes what the original definition wrote, for 5,000 generated values', () => {
    const next = rng(20261124);
    for (let i = 0; i < 5000; i++) {
      const value = generate(next, 0);
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });
});
