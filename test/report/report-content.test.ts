// What the postmortem and the status messages say, from a real sequence run with the spawned `ir`:
// the evidence table says why a collector was skipped; "Actions taken" keeps the fix.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, json, tempHome } from '../helpers/cli.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runbooks');

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

describe('"Actions taken" in a status update', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('keeps the fix, the escalation and the state changes with their reasons, after many checks', () => {
    const rb = ['--runbooks', FIXTURES];
    const run = (args: string[]) => {
      const r = ir(home, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    run(['declare', '-t', 'Checkout 502s', '-s', 'SEV-1']);
    run(['runbook', 'injection', '--yes', ...rb]);
    run(['status', 'identified', '--note', 'bad deploy of v4.2.0']);
    run(['escalate', '--reason', 'primary did not answer']);
    run(['status', 'mitigating', '--note', 'rolled back to v4.1.9']);
    // Checks after the fix: before, only the last five lines were kept and the rollback fell out.
    run(['runbook', 'injection', '--yes', ...rb]);
    run(['runbook', 'injection', '--yes', ...rb]);
    run(['status', 'monitoring', '--note', 'error rate at baseline']);
    const update = json<{ text: string }>(run(['comms', 'update', '--preview', '--json'])).text;
    const taken = update.split('*Actions taken:*\n')[1]?.split('\n*')[0].split('\n').filter(Boolean);
    expect(taken).toEqual([
      '• Runbook injection: 3 steps ran ok (Print each argument on its own line (no shell), …)',
      '• State investigating → identified: bad deploy of v4.2.0',
      '• Escalated to Secondary on-call (@oncall-sre-secondary): primary did not answer',
      '• State identified → mitigating: rolled back to v4.1.9',
      '• Runbook injection: 3 steps ran ok (Print each argument on its own line (no shell), …)',
      '• Runbook injection: 3 steps ran ok (Print each argument on its own line (no shell), …)',
      '• State mitigating → monitoring: error rate at baseline',
    ]);
    run(['resolve', '--summary', 'rolled back to v4.1.9; errors at baseline', '--root-cause', 'v4.2.0 halved the pool size']);
    const after = json<{ text: string }>(run(['comms', 'update', '--preview', '--json'])).text;
    expect(after).toContain('• Resolved: rolled back to v4.1.9; errors at baseline — root cause: v4.2.0 halved the pool size\n');
    // With nothing open, the message is about the incident just resolved (as `ir resolve` suggests).
    const resolved = run(['comms', 'resolved']).stdout;
    expect(resolved).toContain('*Summary:* rolled back to v4.1.9; errors at baseline');
    expect(resolved).toContain('*Root cause:* v4.2.0 halved the pool size');
  });
});
