// evidence.yaml: the shipped file is valid, and every mistake in a team's file is named file:line:col.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandCollectors, expand, parseEvidenceConfig } from '../../src/evidence/commands.js';
import { ROOT } from '../helpers/cli.js';

describe('evidence.yaml', () => {
  it('ships a valid file with the PostgreSQL, Redis, git, docker and host collectors', () => {
    const { collectors, problems } = parseEvidenceConfig('runbooks/evidence.yaml', readFileSync(join(ROOT, 'runbooks', 'evidence.yaml'), 'utf8'));
    expect(problems).toEqual([]);
    expect(collectors.map((c) => c.name)).toEqual([
      'postgres-activity', 'postgres-locks', 'postgres-long-queries', 'redis-info', 'redis-slowlog', 'redis-clients',
      'git-commits', 'docker-ps', 'docker-logs', 'host-uptime', 'host-disk', 'host-memory',
    ]);
  });

  it('reports every problem with its position', () => {
    const text = [
      'collectors:',
      '  - name: Bad_Name',
      '    command: [echo, hi]',
      '  - name: ok-one',
      '    command: "echo no shell"',
      '    timeout: soon',
      '    colour: blue',
      '  - name: ok-one',
      '    command: [echo]',
      '  - name: k8s-mine',
      '    command: [echo]',
      'extra: 1',
      '',
    ].join('\n');
    const { problems } = parseEvidenceConfig('team/evidence.yaml', text);
    const lines = problems.map((p) => `${p.location.line}:${p.location.col} ${p.message}`);
    expect(lines).toEqual([
      expect.stringMatching(/^12:1 unknown field "extra"/),
      expect.stringMatching(/^2:11 name must be lowercase/),
      expect.stringMatching(/^7:5 unknown field "colour"/),
      expect.stringMatching(/^5:14 command must be a list of arguments.*needs `shell: true`/),
      expect.stringMatching(/^6:14 timeout must be a duration/),
      expect.stringMatching(/^8:11 duplicate collector name "ok-one"/),
      expect.stringMatching(/^10:11 "k8s-mine": names starting with k8s- belong/),
    ]);
  });

  it('expands ${VAR} and ${VAR:-default}, skips when a variable or binary is missing, masks secret env values', async () => {
    expect(expand('-p ${PORT:-6379} -h ${HOST}', { HOST: 'db' })).toEqual({ value: '-p 6379 -h db', missing: [] });
    expect(expand('${NOPE}', {}).missing).toEqual(['NOPE']);
    const { collectors: specs } = parseEvidenceConfig('e.yaml', [
      'collectors:',
      '  - name: needs-host',
      '    command: [echo, "${SOME_HOST}"]',
      '  - name: no-binary',
      '    command: [definitely-not-installed-xyz]',
      '  - name: leaky',
      '    command: [echo, "token=${API_TOKEN}"]',
      '',
    ].join('\n'));
    const cs = commandCollectors(specs, { env: { PATH: process.env.PATH, API_TOKEN: 'tok-123456' }, cwd: ROOT, vars: {}, defaultTimeoutMs: 5000 });
    expect(await cs[0].skipReason!()).toBe('SOME_HOST is not set');
    expect(await cs[1].skipReason!()).toBe('definitely-not-installed-xyz not found on PATH');
    expect(await cs[2].skipReason!()).toBeUndefined();
    expect(cs[2].description).toBe("echo token=****");
  });
});
