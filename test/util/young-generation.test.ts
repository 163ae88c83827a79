// holdYoungGeneration (src/util/young-generation.ts) in a process of its own, as a long read runs
// it: objects that keep surviving grow V8's young generation to 32 MiB (Node 20's semi-spaces of
// 16 MiB each) unless it is held at 16 MiB once there, as the long reads do.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** The young generation's size in MiB after a run that keeps ~8 MiB of objects alive at a time, with or without the hold called as it goes. */
function youngAfterLongRun(hold: boolean): number {
  const script = `
    const { holdYoungGeneration } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'util', 'young-generation.js')).href)});
    const v8 = await import('node:v8');
    let live = [];
    for (let i = 0; i < 4e6; i++) {
      live.push({ i, text: 'event ' + i });
      if (live.length > 100000) live = [];
      if (${hold} && i % 5000 === 0) holdYoungGeneration();
    }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(young.space_size / 1048576);
  `;
  // Node 20's largest semi-space on a 64-bit machine with memory to spare, named so the run does not depend on this one's.
  const r = spawnSync(process.execPath, ['--max-semi-space-size=16', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

describe('holdYoungGeneration', () => {
  it('keeps the young generation at 16 MiB once it is there, where it would grow to 32', () => {
    expect(youngAfterLongRun(false)).toBe(32);
    expect(youngAfterLongRun(true)).toBe(16);
  }, 60_000);
});
