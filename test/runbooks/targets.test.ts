// Every shipped runbook takes its connection from the responder's environment: each value a psql,
// redis-cli or kubectl step connects with comes from a variable bound to PG*, REDIS_* or the kube
// context's namespace (the few deliberate exceptions are listed with their reason).

import { describe, expect, it } from 'vitest';
import { loadRunbookDir } from '../../src/runbooks/loader.js';
import { allSteps } from '../../src/runbooks/format.js';
import { ROOT } from '../helpers/cli.js';

const CONNECTION_FLAGS: Record<string, Record<string, string>> = {
  psql: { '-h': 'PGHOST', '-p': 'PGPORT', '-U': 'PGUSER', '-d': 'PGDATABASE' },
  pg_dump: { '-h': 'PGHOST', '-p': 'PGPORT', '-U': 'PGUSER', '-d': 'PGDATABASE' },
  pg_restore: { '-h': 'PGHOST', '-p': 'PGPORT', '-U': 'PGUSER', '-d': 'PGDATABASE' },
  'redis-cli': { '-h': 'REDIS_HOST', '-p': 'REDIS_PORT' },
};

/** Not the server PGHOST names: the replica being promoted is a different machine by definition. */
const EXCEPTIONS = new Set(['postgres-primary-failover: replica_host']);

describe('shipped runbooks', () => {
  const { runbooks } = loadRunbookDir(`${ROOT}/runbooks`);

  it('bind every connection value of psql/pg_dump/pg_restore/redis-cli to its client\'s environment variable', () => {
    const unbound: string[] = [];
    let checked = 0;
    for (const rb of runbooks) {
      for (const step of allSteps(rb)) {
        if (step.kind !== 'run' || step.command.shell) continue;
        const words = step.command.words;
        const program = words[0]?.map((p) => (p.kind === 'text' ? p.text : '')).join('');
        const flags = CONNECTION_FLAGS[program ?? ''];
        if (!flags) continue;
        for (let i = 1; i + 1 < words.length; i++) {
          const flag = words[i].map((p) => (p.kind === 'text' ? p.text : '?')).join('');
          const ref = words[i + 1].length === 1 && words[i + 1][0].kind === 'var' ? (words[i + 1][0] as { name: string }).name : undefined;
          if (!flags[flag] || !ref) continue;
          checked++;
          const v = rb.variables.find((x) => x.name === ref);
          if (v?.env !== flags[flag] && !EXCEPTIONS.has(`${rb.id}: ${ref}`)) unbound.push(`${rb.id} ${step.id}: ${flag} {{${ref}}} (env ${v?.env ?? 'none'}, expected ${flags[flag]})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(unbound).toEqual([]);
  });

  it('take the namespace of kubectl steps from the kube context (kube: namespace) unless it is another component\'s namespace', () => {
    const unbound: string[] = [];
    for (const rb of runbooks) {
      for (const v of rb.variables) if (v.name === 'namespace' && v.kube !== 'namespace') unbound.push(`${rb.id}: namespace`);
    }
    expect(unbound).toEqual([]);
    expect(runbooks.filter((rb) => rb.variables.some((v) => v.kube === 'namespace')).length).toBeGreaterThanOrEqual(19);
  });
});
