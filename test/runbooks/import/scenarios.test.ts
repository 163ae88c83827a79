import { describe, expect, it } from 'vitest';
import { cleanHeading, matchSeverity, partKind, severityIn, slug, timeBudget, escapeTemplates } from '../../../src/runbooks/import/scenarios.js';
import { importPlaybook } from '../../../src/runbooks/import/playbook.js';
import { emit } from '../../../src/runbooks/import/emit.js';

const IDS = ['SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'];

describe('headings', () => {
  it('cleans numbering, emoji, severity markers and time budgets', () => {
    expect(cleanHeading('1. Database Outage (SEV-0)')).toBe('Database Outage');
    expect(cleanHeading('🚨 Redis down [P1]')).toBe('Redis down');
    expect(cleanHeading('3.1 Backend down (crashloop)')).toBe('Backend down (crashloop)');
    expect(cleanHeading('Runbook: High API Error Rate')).toBe('High API Error Rate');
    expect(cleanHeading('Immediate Actions (0-5 min)')).toBe('Immediate Actions');
    expect(slug('High CPU/Memory Usage')).toBe('high-cpu-memory-usage');
    expect(slug('Évènement & co')).toBe('evenement-and-co');
  });

  it('classifies parts of a scenario', () => {
    expect(partKind('Immediate Actions (0-5 min)')).toBe('immediate');
    expect(partKind('First 5 minutes')).toBe('immediate');
    expect(partKind('Triage')).toBe('immediate');
    expect(partKind('Mitigation')).toBe('immediate');
    expect(partKind('Investigation (5-15 min)')).toBe('investigate');
    expect(partKind('Diagnosis')).toBe('investigate');
    expect(partKind('Resolution (15-60 min)')).toBe('resolve');
    expect(partKind('Containment')).toBe('resolve');
    expect(partKind('Eradication')).toBe('resolve');
    expect(partKind('Symptoms')).toBe('detection');
    expect(partKind('Detection')).toBe('detection');
    expect(partKind('Verification')).toBe('verify');
    expect(partKind('Post-Incident')).toBe('follow_up');
    expect(partKind('Database Outage')).toBe('other');
  });

  it('reads time budgets as the end of the range', () => {
    expect(timeBudget('(0-5 min)')).toBe('5m');
    expect(timeBudget('(5-15 min)')).toBe('15m');
    expect(timeBudget('(15-60 min)')).toBe('1h');
    expect(timeBudget('(first 30 minutes)')).toBe('30m');
    expect(timeBudget('(< 1 hour)')).toBe('1h');
    expect(timeBudget('(0–2 hours)')).toBe('2h');
    expect(timeBudget('First 5 minutes — always do this')).toBe('5m');
    expect(timeBudget('Resolution')).toBeUndefined();
  });

  it('maps severities onto the team ids', () => {
    expect(severityIn('Database Outage (SEV-0)')).toBe('SEV-0');
    expect(severityIn('p95 latency')).toBeUndefined();
    expect(matchSeverity('Sev 1', IDS)).toBe('SEV-1');
    expect(matchSeverity('SEV1', IDS)).toBe('SEV-1');
    expect(matchSeverity('P1', IDS)).toBeUndefined();
    expect(matchSeverity('P1', ['P0', 'P1'])).toBe('P1');
  });

  it('escapes {{name}} but not Go templates', () => {
    expect(escapeTemplates('echo {{ name }}')).toBe('echo \\{{ name }}');
    expect(escapeTemplates('docker ps --format "{{.Names}}"')).toBe('docker ps --format "{{.Names}}"');
  });
});

const load = async (md: string, file = 'x.md') => {
  const { drafts, skipped } = await importPlaybook(md, { file, severityIds: IDS });
  for (const d of drafts) {
    const r = emit(d, { source: file, schemaComment: false, severityIds: IDS, displayName: `${d.id}.yaml`, path: `/tmp/${d.id}.yaml` });
    expect(r.problems).toEqual([]);
  }
  return { drafts, skipped };
};

describe('scenarios', () => {
  it('a container heading of scenarios is not a scenario; general procedures are skipped', async () => {
    const md = [
      '# Playbook', '## Failure scenarios',
      '### 1. Redis down (SEV-1)', '#### Symptoms', '- redis_up == 0', '#### Immediate actions (0-5 min)', '```bash', 'redis-cli -h cache-1 PING', 'kubectl delete pod redis-0 -n cache', '```',
      '### 2. Disk full (SEV-2)', '**Trigger:** disk > 90%', '#### Resolution', '1. Clean up:', '```sh', 'docker system prune -f', 'redis-cli -h cache-1 INFO persistence', '```', '2. Tell the team',
      '## General procedures', '1. Open a channel', '2. Page someone',
    ].join('\n');
    const { drafts, skipped } = await load(md);
    expect(drafts.map((d) => [d.id, d.severity, d.phases.map((p) => `${p.id}:${p.within ?? ''}:${p.steps.length}`)])).toEqual([
      ['redis-down', 'SEV-1', ['immediate:5m:2']],
      ['disk-full', 'SEV-2', ['resolve::3']],
    ]);
    expect(drafts[1].detection).toEqual(['disk > 90%']);
    expect(skipped.map((s) => s.heading)).toEqual(['General procedures']);
    // cache-1 recurs across the playbook: a variable in both runbooks.
    expect(drafts.map((d) => d.variables.map((v) => `${v.name}=${v.default}`))).toEqual([['host=cache-1'], ['host=cache-1']]);
  });

  it('a one-scenario page with steps but no phase headings gets one phase', async () => {
    const { drafts } = await load('# Restart the worker\n\n1. Check it: `systemctl status worker`\n2. Restart it: `systemctl restart worker`\n3. Watch the logs\n');
    expect(drafts).toHaveLength(1);
    expect(drafts[0].phases.map((p) => p.steps.map((s) => `${s.kind}${s.plan?.destructive ? '!' : ''}:${s.title}`))).toEqual([['run:Check it', 'run!:Restart it', 'note:Watch the logs']]);
  });

  it('finds nothing in a page without steps or commands', async () => {
    expect((await load('# Notes\n\nSome prose.\n\n- a\n- b\n')).drafts).toEqual([]);
  });
});
