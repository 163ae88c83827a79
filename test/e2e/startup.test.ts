// The start-up path stays light: --version and --help load none of the heavy modules.

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, irEnv, tempHome } from '../helpers/cli.js';

const HEAVY = ['better-sqlite3', '@inquirer', 'ora', '@kubernetes/client-node', 'ajv', 'handlebars', 'yaml', 'execa', 'chalk', 'tar'];

describe('start-up cost', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  function loaded(args: string[]): string[] {
    const trace = join(home, `trace-${args.join('-').replace(/\W/g, '')}.txt`);
    rmSync(trace, { force: true });
    const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test/helpers/trace-imports.mjs'), BIN, ...args], {
      env: irEnv(home, { IR_TRACE_FILE: trace }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  }

  const heavyIn = (urls: string[]) => HEAVY.filter((h) => urls.some((u) => u.includes(`/node_modules/${h}`)));

  it('ir --version loads nothing heavy (not even commander)', () => {
    const urls = loaded(['--version']);
    expect(heavyIn(urls)).toEqual([]);
    expect(urls.some((u) => /\/dist\/bin\/program-/.test(u) || u.includes('/node_modules/commander'))).toBe(false);
  });

  it('ir --help loads the command tree but nothing heavy', () => {
    const urls = loaded(['--help']);
    // commander is bundled into the program chunk, which --version never loads.
    expect(urls.some((u) => /\/dist\/bin\/program-[A-Z0-9]+\.js$/.test(u))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
  });

  it('the tracer does see heavy modules when a command needs them', () => {
    loaded(['declare', '-t', 'trace', '-s', 'SEV-4']);
    const urls = loaded(['note', 'traced']);
    expect(heavyIn(urls)).toContain('better-sqlite3');
    expect(heavyIn(urls)).not.toContain('@inquirer');
  });
});
