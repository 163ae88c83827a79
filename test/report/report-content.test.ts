// What the postmortem and the status messages say, from a real sequence run with the spawned `ir`:
// the evidence table says why a collector was skipped.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, tempHome } from '../helpers/cli.js';

describe('postmortem evidence table', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('a skipped collector shows its reason, and no empty file or hash cells', () => {
    const team = join(home, 'team');
    mkdirSync(team, { recursive: true });
    writeFileSync(
      join(team, 'evidence.yaml'),
      [
        'collectors:',
        '  - name: settings',
        '    description: pool settings',
        '    command: [printf, "%s\\n", "pool_size=20"]',
        '  - name: vendor-dump',
        '    description: a tool this machine does not have',
        '    command: [ir-no-such-vendor-tool, dump]',
        '',
      ].join('\n'),
    );
    expect(ir(home, ['declare', '-t', 'Pool exhausted', '-s', 'SEV-2']).code).toBe(0);
    const collect = ir(home, ['evidence', 'collect', '--only', 'settings,vendor-dump', '--runbooks', team]);
    expect(collect.code, collect.stderr).toBe(0);
    expect(ir(home, ['resolve', '--summary', 'pool resized']).code).toBe(0);
    const report = ir(home, ['postmortem']);
    expect(report.code, report.stderr).toBe(0);
    const rows = report.stdout.split('\n').filter((l) => /^\| .* \| (settings|vendor-dump) \|/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[1]).toBe('| — | vendor-dump | skipped: ir-no-such-vendor-tool not found on PATH | 0 | — |');
    expect(rows[0]).toMatch(/^\| `evidence\/EV-[^`]+\/settings[^`]*` \| settings \| ok \| 13 \| `[0-9a-f]{64}` \|$/);
    expect(report.stdout).not.toMatch(/\| `` \|/);
  });
});
