// The Context's colourless style stands in for chalk at level 0 (so a run without colour never
// loads chalk): every chain the commands use gives exactly what chalk gives.

import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { plainStyle } from '../src/context.js';

describe('plainStyle', () => {
  it('prints what chalk at level 0 prints, for every style chain and argument shape', async () => {
    const chalk = new Chalk({ level: 0 });
    const plain = plainStyle();
    const chains = ['dim', 'bold', 'yellow', 'red', 'green', 'red.bold', 'bold.cyan', 'yellow.bold', 'bgRed.white.underline'];
    const args: unknown[][] = [['text'], [''], [], ['a', 'b'], [42], ['multi\nline'], [null], [undefined, 'x']];
    for (const chain of chains) {
      const pick = (root: unknown) => chain.split('.').reduce((s, k) => (s as Record<string, unknown>)[k], root) as (...a: unknown[]) => string;
      for (const a of args) expect(pick(plain)(...a), `${chain}(${JSON.stringify(a)})`).toBe(pick(chalk)(...a));
    }
    expect(plain.level).toBe(0);
    // Handed out by an async function: it must not look like a promise.
    expect(await Promise.resolve(plain)).toBe(plain);
  });
});
