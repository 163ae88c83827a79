// `ir runbook import` end to end: the real bin/ir.js imports the playbooks in test/fixtures/playbooks
// (three real ones and two written in other shapes, the "never shown" check), every runbook it
// writes passes `ir runbook validate`, and the counts below were verified by reading each playbook.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ir, json, ROOT, tempHome } from '../helpers/cli.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'playbooks');
const { home, cleanup } = tempHome('ir-import-');
afterAll(cleanup);

interface YamlStep {
  id: string;
  title: string;
  run?: string;
  print?: string;
  note?: string;
  checklist?: string[];
  destructive?: boolean;
  shell?: boolean;
}
interface YamlRunbook {
  id: string;
  title: string;
  severity?: string;
  detection?: string[];
  variables?: Record<string, { default: string }>;
  phases: Array<{ id: string; within?: string; steps: YamlStep[] }>;
  verify?: string[];
  follow_up?: string[];
}

/** Imports one playbook into its own directory, checks it validates, and returns the runbooks by id. */
function importAndValidate(playbook: string): { out: string; runbooks: Map<string, YamlRunbook>; stdout: string } {
  const out = join(home, playbook.replace(/\W+/g, '-'));
  const r = ir(home, ['runbook', 'import', join(FIXTURES, playbook), '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  const v = ir(home, ['runbook', 'validate', out]);
  expect(v.code, v.stdout + v.stderr).toBe(0);
  const runbooks = new Map<string, YamlRunbook>();
  for (const f of readdirSync(out)) {
    const doc = parse(readFileSync(join(out, f), 'utf8')) as YamlRunbook;
    runbooks.set(doc.id, doc);
  }
  return { out, runbooks, stdout: r.stdout };
}

const steps = (rb: YamlRunbook) => rb.phases.flatMap((p) => p.steps);
const command = (s: YamlStep) => s.run ?? s.print ?? '';
const destructive = (rb: YamlRunbook) => steps(rb).filter((s) => s.destructive).map(command);
const phases = (rb: YamlRunbook) => rb.phases.map((p) => `${p.id}${p.within ? `:${p.within}` : ''}:${p.steps.length}`);
const find = (rb: YamlRunbook, text: string) => {
  const s = steps(rb).find((x) => command(x).includes(text));
  if (!s) throw new Error(`no step with "${text}" in ${rb.id}`);
  return s;
};

describe('ir runbook import: the SINGGLEBEE playbook', () => {
  const { runbooks, stdout } = importAndValidate('singglebee-incident-playbook.md');

  it('yields its five failure scenarios with immediate, investigation and resolution phases', () => {
    // The "Tools and Commands" section is no scenario: its commands are a runbook of general checks.
    expect([...runbooks.keys()].sort()).toEqual(['cache-memory-store-failure', 'database-outage', 'high-cpu-memory-usage', 'payment-gateway-failure', 'singglebee-incident-response-general-checks', 'ssl-tls-certificate-expiry']);
    const expected: Record<string, { severity: string; phases: string[]; steps: number; destructive: string[] }> = {
      'database-outage': {
        severity: 'SEV-0',
        phases: ['immediate:5m:5', 'investigate:15m:4', 'resolve:1h:3'],
        steps: 12,
        destructive: ['kubectl delete pod mongodb-0 -n {{namespace}} --force', 'kubectl scale statefulset mongodb --replicas=3 -n {{namespace}}'],
      },
      'payment-gateway-failure': { severity: 'SEV-1', phases: ['immediate:5m:4', 'investigate:15m:3', 'resolve:1h:3'], steps: 10, destructive: [] },
      'high-cpu-memory-usage': {
        severity: 'SEV-2',
        phases: ['immediate:5m:4', 'investigate:15m:4', 'resolve:1h:3'],
        steps: 11,
        destructive: ['kubectl scale deployment {{deployment}} --replicas=10 -n {{namespace}}', 'kubectl rollout undo deployment/{{deployment}} -n {{namespace}}'],
      },
      'ssl-tls-certificate-expiry': {
        severity: 'SEV-0',
        phases: ['immediate:5m:3', 'investigate:15m:3', 'resolve:1h:4'],
        steps: 10,
        destructive: ['kubectl apply -f k8s/emergency-cert.yaml', 'certbot renew --force-renewal', 'kubectl create secret tls singglebee-tls --cert=fullchain.pem --key=privkey.pem'],
      },
      'cache-memory-store-failure': {
        severity: 'SEV-1',
        phases: ['immediate:5m:4', 'investigate:15m:3', 'resolve:1h:3'],
        steps: 10,
        destructive: ['kubectl delete pod redis-master -n {{namespace}}', 'kubectl scale statefulset redis --replicas=3 -n {{namespace}}'],
      },
    };
    for (const [id, want] of Object.entries(expected)) {
      const rb = runbooks.get(id)!;
      expect(rb.severity, id).toBe(want.severity);
      expect(phases(rb), id).toEqual(want.phases);
      expect(steps(rb).length, id).toBe(want.steps);
      expect(destructive(rb), id).toEqual(want.destructive);
    }
  });

  it('runs reads, confirms changes and prints what it cannot run', () => {
    const db = runbooks.get('database-outage')!;
    expect(find(db, 'kubectl delete pod mongodb-0')).toMatchObject({ run: 'kubectl delete pod mongodb-0 -n {{namespace}} --force', destructive: true });
    expect(find(db, 'kubectl get pods')).toMatchObject({ run: 'kubectl get pods -n {{namespace}} -l app=mongodb' });
    expect(find(db, 'kubectl get pods').destructive).toBeUndefined();
    expect(find(db, 'emergency-disable.js database-writes')).toMatchObject({ print: 'kubectl exec -it api-pod -- node scripts/emergency-disable.js database-writes' });
    expect(find(db, 'kubectl logs -f').print).toBeDefined(); // follows forever
    expect(find(db, 'rs.status()').run).toBeDefined(); // kubectl exec … mongo --eval rs.status(): a read
    expect(find(db, 'restore-db.sh').print).toBeDefined(); // an unknown script is never run
    expect(db.variables).toEqual({ namespace: expect.objectContaining({ default: 'singglebee' }) });
    expect(db.detection).toContain('Alert: mongodb_up == 0');
    expect(db.follow_up).toEqual(['Root cause analysis (RCA) within 24 hours', 'Update database monitoring thresholds', 'Review backup restoration procedures']);
    expect(steps(db).find((s) => s.title === 'Review recent changes')?.checklist).toEqual(['Database schema migrations', 'Index modifications', 'Configuration updates']);
    const cpu = runbooks.get('high-cpu-memory-usage')!;
    expect(find(cpu, '-- top').print).toBeDefined();
  });

  it('says which sections it left out and why, and cites guesses with file.md:LINE', () => {
    expect(stdout).toMatch(/not imported: "🛠️ General Incident Procedures" \(.*singglebee-incident-playbook\.md:226\)/);
    expect(stdout).toMatch(/singglebee-incident-playbook\.md:37: step .*print, not run: kubectl logs -f follows the log/);
    expect(stdout).toMatch(/singglebee-incident-playbook\.md:65: step "Restart MongoDB primary": destructive \(kubectl delete\)/);
  });
});

describe('ir runbook import: the AMN (Obsidian) playbook', () => {
  const { runbooks } = importAndValidate('amn-incident-response.md');

  it('yields the seven common incidents, one phase each, from symptoms and commented shell blocks', () => {
    const expected: Record<string, { steps: number; destructive: number; severity?: string }> = {
      // The sed -i with <previous-version> is now a confirmed step with a declared variable (was a print).
      'backend-down': { steps: 7, destructive: 3 },
      'mongodb-unreachable': { steps: 8, destructive: 1 },
      'redis-unreachable': { steps: 8, destructive: 3 },
      'shkeeper-api-down': { steps: 6, destructive: 0, severity: 'SEV-1' },
      'email-delivery-failure': { steps: 5, destructive: 0, severity: 'SEV-2' },
      'websocket-disconnect-storm': { steps: 5, destructive: 1, severity: 'SEV-2' },
      'suspicious-activity-abuse': { steps: 6, destructive: 0 },
    };
    // "First 5 minutes — always do this" is no scenario: its commands are a runbook of general checks.
    expect([...runbooks.keys()].sort()).toEqual([...Object.keys(expected), 'incident-response-general-checks'].sort());
    for (const [id, want] of Object.entries(expected)) {
      const rb = runbooks.get(id)!;
      expect(rb.phases.map((p) => p.id), id).toEqual(['respond']);
      expect(steps(rb).length, id).toBe(want.steps);
      expect(destructive(rb).length, id).toBe(want.destructive);
      expect(rb.severity, id).toBe(want.severity);
      expect(rb.detection?.length, id).toBe(1);
    }
    const backend = runbooks.get('backend-down')!;
    expect(find(backend, 'docker logs --tail=200')).toMatchObject({ title: 'Inspect last lines', run: 'docker logs --tail=200 nickapp-backend' });
    expect(find(backend, 'jq')).toMatchObject({ shell: true });
    expect(find(backend, 'docker stop watchtower')).toMatchObject({ title: "Pause Watchtower for nickapp-backend so it doesn't re-pull", destructive: true });
    // A placeholder to fill in is a declared variable, asked for before the (confirmed) step runs.
    expect(find(backend, '{{previous_version}}')).toMatchObject({ run: "sed -i 's|:latest|:{{previous_version}}|' docker-compose.production.yml", destructive: true });
    expect(backend.variables?.previous_version).toBeDefined();
    const redis = runbooks.get('redis-unreachable')!;
    // $REDIS_PASSWORD is a declared secret variable read from the environment (masked on screen and
    // in the timeline), so the command no longer needs a shell.
    expect(find(redis, 'CONFIG SET')).toMatchObject({ run: 'docker exec nickapp-redis redis-cli -a {{redis_password}} CONFIG SET maxmemory-policy allkeys-lru', destructive: true });
    expect(redis.variables?.redis_password).toMatchObject({ env: 'REDIS_PASSWORD', secret: true });
    expect(find(redis, 'nano').print).toBeDefined();
    const shkeeper = runbooks.get('shkeeper-api-down')!;
    // A backslash continuation is joined into one line.
    // A backslash continuation is joined into one line; $SHKEEPER_API_KEY is a secret variable read
    // from the environment (was left to the shell, unmasked).
    expect(find(shkeeper, 'X-Shkeeper-Api-Key').run).toBe('curl -fsS -H "X-Shkeeper-Api-Key: {{shkeeper_api_key}}" "{{shkeeper_api_url}}/api/v1/healthcheck"');
    expect(shkeeper.variables?.shkeeper_api_key).toMatchObject({ env: 'SHKEEPER_API_KEY', secret: true });
    expect(find(runbooks.get('suspicious-activity-abuse')!, 'docker exec -it').print).toBeDefined();
  });
});

describe('ir runbook import: the plain-text playbook', () => {
  const { runbooks } = importAndValidate('incident-response-practices.txt');

  it('finds the one runbook among pasted scripts and templates', () => {
    expect([...runbooks.keys()]).toEqual(['high-api-error-rate']);
    const rb = runbooks.get('high-api-error-rate')!;
    expect(phases(rb)).toEqual(['immediate:3', 'resolve:3', 'communicate:1']);
    expect(destructive(rb)).toEqual([
      'kubectl rollout undo deployment/{{deployment}} -n {{namespace}}',
      'kubectl scale deployment/{{deployment}} --replicas=10 -n {{namespace}}',
      'kubectl set env deployment/{{deployment}} DB_POOL_SIZE=50 -n {{namespace}}',
    ]);
    expect(find(rb, 'rollout history')).toMatchObject({ run: 'kubectl rollout history deployment/{{deployment}}' });
    expect(rb.variables).toEqual({ deployment: expect.objectContaining({ default: 'api' }), namespace: expect.objectContaining({ default: 'production' }) });
    expect(rb.detection).toEqual(['Alert: api_error_rate > 0.05', 'Dashboard: https://grafana.example.com/d/api-errors']);
    expect(rb.verify).toEqual(['Error rate <1%', 'P95 latency <500ms', 'Health checks passing']);
  });
});

describe('ir runbook import: playbooks in shapes never shown to the importer', () => {
  it('imports an Obsidian note with ~~~sh fences inside 1) items, Symptoms/Mitigation/Diagnosis/Recovery', () => {
    const { runbooks } = importAndValidate('obsidian-kafka-consumer-lag.md');
    const rb = runbooks.get('kafka-consumer-lag')!;
    expect(phases(rb)).toEqual(['immediate:10m:4', 'investigate:2', 'resolve:2']);
    // kafka-consumer-groups.sh is known now: --reset-offsets --execute is a confirmed change (was a print).
    expect(destructive(rb)).toEqual([
      'kubectl scale deploy/{{deployment}} --replicas=6 -n {{namespace}}',
      'kubectl rollout restart deploy/{{deployment}} -n {{namespace}}',
      'kafka-consumer-groups.sh --bootstrap-server kafka-0:9092 --group orders --reset-offsets --shift-by 1 --topic orders:3 --execute',
    ]);
    expect(find(rb, '--describe --group orders')).toMatchObject({ run: 'kafka-consumer-groups.sh --bootstrap-server kafka-0:9092 --describe --group orders' });
    expect(find(rb, 'grep -i error')).toMatchObject({ shell: true });
    expect(rb.verify).toHaveLength(2);
    expect(rb.follow_up).toHaveLength(2);
  });

  it('imports a docs/runbooks page with setext headings, sql and console blocks, indented code', () => {
    const { runbooks } = importAndValidate('docs-runbook-postgres-connections.md');
    const rb = runbooks.get('postgres-connection-exhaustion')!;
    expect(rb.severity).toBe('SEV-1');
    expect(phases(rb)).toEqual(['immediate:5m:3', 'resolve:30m:6']);
    expect(destructive(rb)).toHaveLength(3);
    expect(find(rb, 'pg_terminate_backend')).toMatchObject({ destructive: true });
    expect(find(rb, 'GROUP BY').run).toMatch(/^psql -X -c 'SELECT usename/);
    expect(find(rb, 'rollout status')).toMatchObject({ run: 'kubectl rollout status deployment/{{deployment}} -n {{namespace}}' });
    expect(find(rb, 'SELECT count(*)')).toMatchObject({ run: 'psql -h {{host}} -U ops -c "SELECT count(*) FROM pg_stat_activity"' });
    expect(steps(rb).some((s) => command(s).includes('deployment.apps/api restarted'))).toBe(false); // console output
  });
});

describe('ir runbook import: files', () => {
  it('never overwrites without --force, and does with it', () => {
    const out = join(home, 'again');
    const playbook = join(FIXTURES, 'obsidian-kafka-consumer-lag.md');
    expect(ir(home, ['runbook', 'import', playbook, '--out', out]).code).toBe(0);
    const file = join(out, 'kafka-consumer-lag.yaml');
    writeFileSync(file, '# edited by hand\n');
    const again = ir(home, ['runbook', 'import', playbook, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/kafka-consumer-lag\.yaml exists: not overwritten \(use --force/);
    expect(readFileSync(file, 'utf8')).toBe('# edited by hand\n');
    const forced = ir(home, ['runbook', 'import', playbook, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^# Imported by `ir runbook import`/);
  });

  it('--dry-run writes nothing and prints the runbooks; --json reports them', () => {
    const out = join(home, 'dry');
    const r = ir(home, ['runbook', 'import', join(FIXTURES, 'singglebee-incident-playbook.md'), '--out', out, '--dry-run']);
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(false);
    expect(r.stdout).toMatch(/--- .*database-outage\.yaml \(not written: --dry-run\)\n# Imported by/);
    const j = json<{ runbooks: Array<{ id: string; steps: number; destructive: unknown[]; guesses: Array<{ line: number; message: string }> }>; written: string[] }>(
      ir(home, ['runbook', 'import', join(FIXTURES, 'singglebee-incident-playbook.md'), '--out', out, '--dry-run', '--json']),
    );
    expect(j.written).toEqual([]);
    expect(j.runbooks.map((x) => [x.id, x.steps, x.destructive.length])).toEqual([
      ['database-outage', 12, 2],
      ['payment-gateway-failure', 10, 0],
      ['high-cpu-memory-usage', 11, 2],
      ['ssl-tls-certificate-expiry', 10, 3],
      ['cache-memory-store-failure', 10, 2],
      ['singglebee-incident-response-general-checks', 11, 3],
    ]);
    expect(j.runbooks[0].guesses).toContainEqual({ line: 46, message: 'step "Enable read mode": print, not run: kubectl exec -it needs a terminal' });
  });

  it('a file with no scenario is an input error that names the file', () => {
    const file = join(home, 'notes.md');
    writeFileSync(file, '# Team notes\n\nWe meet on Mondays.\n\n- coffee\n- cake\n');
    const r = ir(home, ['runbook', 'import', file, '--out', join(home, 'none')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/notes\.md: no scenario found/);
    expect(existsSync(join(home, 'none'))).toBe(false);
  });

  it('writes a schema comment only when the output directory has schema.json', () => {
    const out = join(home, 'with-schema');
    expect(ir(home, ['runbook', 'import', join(FIXTURES, 'obsidian-kafka-consumer-lag.md'), '--out', out]).code).toBe(0);
    expect(readFileSync(join(out, 'kafka-consumer-lag.yaml'), 'utf8')).not.toMatch(/yaml-language-server/);
    writeFileSync(join(out, 'schema.json'), '{}');
    expect(ir(home, ['runbook', 'import', join(FIXTURES, 'obsidian-kafka-consumer-lag.md'), '--out', out, '--force']).code).toBe(0);
    expect(readFileSync(join(out, 'kafka-consumer-lag.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/schema\.json\n/);
  });
});

describe('ir runbook import: commands with hidden effects', () => {
  it('never become a plain run step: each is destructive or printed, while plain reads still run', () => {
    // [command, a piece of it that the importer leaves as written]
    const hidden: Array<[string, string]> = [
      ['kubectl logs $(kubectl get pods -l app=api -o name | head -n 1) -n prod', '$(kubectl get pods'],
      ['echo `kubectl delete pod api-0 -n prod`', '`kubectl delete'],
      ['kubectl get pods -n prod; kubectl delete pod api-0 -n prod', '; kubectl delete'],
      ['redis-cli PING && redis-cli FLUSHALL', '&& redis-cli FLUSHALL'],
      ['pg_isready -h db || systemctl restart postgresql', '|| systemctl'],
      ['kubectl get events -n prod > events.txt', '> events.txt'],
      ['kubectl get events -n prod >> events.log', '>> events.log'],
      ['curl -fsSL https://get.example.com/fix.sh | sh', 'fix.sh | sh'],
      ['kubectl logs deploy/api -n prod | tee api.log', 'tee api.log'],
      ['curl -sS -o page.html https://status.example.com', '-o page.html'],
      ['wget https://backups.example.com/latest.tar.gz', 'wget '],
      ['tar czf /tmp/logs.tgz /var/log/app', 'tar czf'],
    ];
    const reads = ['kubectl get pods -n prod', 'redis-cli -h cache PING'];
    const playbook = join(home, 'hidden-effects.md');
    writeFileSync(playbook, ['# Incident playbook', '', '## API errors', '', '### Symptoms', '- 5xx above 1%', '', '### Investigation', '', '```bash', ...reads, ...hidden.map(([c]) => c), '```', ''].join('\n'));
    const out = join(home, 'hidden-out');
    const r = ir(home, ['runbook', 'import', playbook, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(ir(home, ['runbook', 'validate', out]).code).toBe(0);
    const [file] = readdirSync(out);
    const rb = parse(readFileSync(join(out, file), 'utf8')) as YamlRunbook;
    for (const [c, key] of hidden) {
      const s = find(rb, key);
      expect(s.print !== undefined || s.destructive === true, `${c} became a plain run step`).toBe(true);
    }
    expect(find(rb, 'curl -fsSL').print).toBeDefined();
    const plain = steps(rb).filter((s) => s.run !== undefined && !s.destructive).map(command);
    expect(plain).toHaveLength(reads.length);
    expect(plain.some((c) => c.startsWith('redis-cli -h cache PING'))).toBe(true);
  });
});

describe('ir runbook import: the corpus of playbooks in shapes the importer was not built on', () => {
  const CORPUS = join(ROOT, 'test', 'fixtures', 'playbooks-corpus');
  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.md')).sort();

  it('imports every playbook in one run, every runbook validates, and the summary names what was not imported', () => {
    const out = join(home, 'corpus');
    const r = ir(home, ['runbook', 'import', ...files.map((f) => join(CORPUS, f)), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const v = ir(home, ['runbook', 'validate', out]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    // General sections are named with their line, never dropped silently.
    expect(r.stdout).toMatch(/not imported: "Contacts" \(.*02-payments-common-incidents\.md:104\)/);
    expect(r.stdout).toMatch(/not imported: "Glossary" \(.*03-account-compromise\.md:107\)/);
    expect(r.stdout).toMatch(/not imported: "Escalation policy" \(.*02-payments-common-incidents\.md:9\)/);
    const all = readdirSync(out).map((f) => parse(readFileSync(join(out, f), 'utf8')) as YamlRunbook);
    const every = all.flatMap(steps).map(command);
    // The fenced block inside an HTML comment ("old procedure, do NOT use") is not content.
    expect(every.some((c) => c.includes('FLUSHALL'))).toBe(false);
    // A fenced block of a list item that opens with a fence keeps its command.
    const master = all.find((rb) => rb.title === 'Master unreachable, no failover happened')!;
    expect(find(master, 'SENTINEL failover')).toMatchObject({ destructive: true });
    // Placeholders are declared variables; a read with one still runs.
    const crash = all.find((rb) => rb.title === 'KubePodCrashLooping')!;
    expect(find(crash, 'kubectl describe pod')).toMatchObject({ run: 'kubectl describe pod {{pod}} -n {{namespace}}' });
    expect(crash.variables?.namespace).toMatchObject({ type: 'name' });
    // Commands typed inside `oc debug node/…` are printed, never run here.
    const node = all.find((rb) => rb.title === 'KubeNodeNotReady')!;
    expect(find(node, 'crictl ps').print).toBeDefined();
    expect(find(node, 'systemctl restart kubelet').print).toBeDefined();
  });
});
