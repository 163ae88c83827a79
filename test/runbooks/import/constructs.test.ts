// The Markdown constructs issue #12 lists, one small playbook each: what the hand-written parser got
// wrong and what the markdown-it importer must make of it. Every runbook produced here is loaded by
// the real loader (emit) so that a construct never yields a file `ir runbook validate` refuses.

import { describe, expect, it } from 'vitest';
import { emit } from '../../../src/runbooks/import/emit.js';
import { importPlaybook } from '../../../src/runbooks/import/playbook.js';
import type { Draft, DraftStep } from '../../../src/runbooks/import/scenarios.js';

const IDS = ['SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'];

async function load(md: string) {
  const { drafts, skipped } = await importPlaybook(md, { file: 'p.md', severityIds: IDS });
  for (const d of drafts) expect(emit(d, { source: 'p.md', schemaComment: false, severityIds: IDS, displayName: `${d.id}.yaml`, path: `/tmp/${d.id}.yaml` }).problems, d.id).toEqual([]);
  return { drafts, skipped };
}

const steps = (d: Draft): DraftStep[] => d.phases.flatMap((p) => p.steps);
const commands = (d: Draft) => steps(d).filter((s) => s.command !== undefined).map((s) => `${s.line} ${s.kind === 'print' ? 'print' : s.plan?.destructive ? 'run!' : 'run'} ${s.command}`);

describe('scenarios a human sees', () => {
  it('sections without a Symptoms list, with Diagnosis/Resolution labels, are each a scenario; contacts and glossary are named as not imported', async () => {
    const md = [
      '# Cache playbook', '', '## Contacts', '', '- Alice (owner)', '', '## Evictions spiking', '', '**Diagnosis:**', '```bash', 'redis-cli -h cache INFO memory', '```',
      '**Resolution:**', '- Flush the idempotency db: `redis-cli -h cache -n 3 FLUSHDB`', '',
      '## Replica lagging behind', '', '**Diagnosis**', '', '```', 'redis-cli -h replica INFO replication', '```', '', '## Glossary', '', 'RDB', ': snapshot file', '',
    ].join('\n');
    const { drafts, skipped } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([[7, 'Evictions spiking'], [16, 'Replica lagging behind']]);
    // The label and its fence are a diagnosis phase, not detection; FLUSHDB in a list item is a step.
    expect(drafts[0].detection).toEqual([]);
    expect(commands(drafts[0])).toEqual(['11 run redis-cli -h {{host}} INFO memory', '14 run! redis-cli -h {{host}} -n 3 FLUSHDB']);
    expect(skipped.map((s) => [s.line, s.heading])).toEqual([[3, 'Contacts'], [24, 'Glossary']]);
  });

  it('numbered entries under "Common incidents" are scenarios; Rollback and Verification are phases; a security scenario with no commands still imports', async () => {
    const md = [
      '# Payments', '', '## Common incidents', '', '1. **Gateway timing out**', '', '   **Diagnosis:**', '   ```bash', '   kubectl get pods -n pay', '   ```', '',
      '2. **Phishing email reported**', '', '   - Thank the reporter.', '   - Notify the security team.', '   - DO NOT click the links.', '', '## Bad release', '', '### Rollback', '', '```', 'helm rollback shop 41 -n web', '```', '', '### Verification', '', '```', 'kubectl rollout status deploy/shop -n web', '```', '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([[5, 'Gateway timing out'], [12, 'Phishing email reported'], [18, 'Bad release']]);
    expect(steps(drafts[1]).flatMap((s) => s.items ?? [s.text])).toEqual(['Thank the reporter.', 'Notify the security team.', 'DO NOT click the links.']);
    expect(drafts[2].phases.map((p) => p.id)).toEqual(['resolve', 'verify']);
    expect(commands(drafts[2])).toEqual(['23 run! helm rollback shop 41 -n {{namespace}}', '29 run kubectl rollout status deploy/shop -n {{namespace}}']);
  });

  it('multi-line setext headings, * * * rules and numbered scenario headings at skipped levels', async () => {
    const md = ['Kafka scenarios', '===============', '', '#### Scenario 1: Lag', '', '```sh', 'kafka-topics.sh --bootstrap-server b:9092 --describe', '```', '', '* * *', '', 'Scenario 2: Producers rejected with', '`NOT_ENOUGH_REPLICAS`', '---------------------', '', '```sh', 'kafka-topics.sh --bootstrap-server b:9092 --list', '```', '', '#### Scenario 3: Disk full', '', '```sh', 'df -h /var/lib/kafka', '```', ''].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([[4, 'Lag'], [12, 'Producers rejected with NOT_ENOUGH_REPLICAS'], [20, 'Disk full']]);
  });
});

describe('code the importer reads', () => {
  it('a fence right after a list item, a list item that opens with a fence, an indented fence, ~~~ and indented code', async () => {
    const md = [
      '# Redis master down', '', '## Mitigation', '', '1. Fail over:', '```', 'redis-cli -p 26379 SENTINEL failover mymaster', '```', '2. ~~~', '   kubectl rollout restart deploy/web -n shop', '   ~~~', '3. Watch:', '', '     ~~~', '     kubectl get pods -n shop', '     ~~~', '', '## Recovery', '', '    kubectl scale deploy/web -n shop --replicas=3', '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['7 run! redis-cli -p 26379 SENTINEL failover mymaster', '10 run! kubectl rollout restart deploy/{{deployment}} -n {{namespace}}', '15 run kubectl get pods -n {{namespace}}', '20 run! kubectl scale deploy/{{deployment}} -n {{namespace}} --replicas=3']);
  });

  it('HTML comments are not content; a command only mentioned in prose is not a step; a table of commands is', async () => {
    const md = [
      '# API latency', '', 'If `kill -TTIN 1` fails, do not retry. Note: `git revert` is not enough.', '', '<!--', 'Old procedure, do NOT use:', '', '```bash', 'redis-cli FLUSHALL', '```', '-->', '',
      '| Check | Command |', '|---|---|', '| Pods | `kubectl get pods -n api` |', '| Errors | `kubectl logs deploy/api -n api \\| grep -c ERROR` |', '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['15 run kubectl get pods -n {{namespace}}', '16 run kubectl logs deploy/api -n {{namespace}} | grep -c ERROR']);
  });

  it('console blocks: without prompts every line is a command; with prompts, output lines are dropped and continuations joined', async () => {
    const md = [
      '# Postgres connections', '', 'Check:', '', '```console', 'psql -c "SHOW max_connections"', 'df -h /var/lib/postgresql', '```', '', '```', '$ psql -c "SELECT count(*) FROM pg_stat_activity" \\', '    -h db', ' count', '-------', '   412', '$ pg_isready -h db', 'db:5432 - accepting connections', '```', '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['6 run psql -c "SHOW max_connections"', '7 run df -h /var/lib/postgresql', '11 run psql -c "SELECT count(*) FROM pg_stat_activity" -h {{host}}', '16 run pg_isready -h {{host}}']);
  });

  it('commands typed inside oc debug, kubectl exec -it and psql sessions are printed, never run here', async () => {
    const md = ['# Node not ready', '', '```', 'oc debug node/worker-3', 'chroot /host', 'systemctl restart kubelet', '```', '', '```', 'kubectl exec -it -n cache redis-0 -- sh', 'redis-cli -n 1', 'SCAN 0 MATCH rl:* COUNT 100', '```', ''].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['4 print oc debug node/worker-3', '5 print chroot /host', '6 print systemctl restart kubelet', '10 print kubectl exec -it -n cache redis-0 -- sh', '11 print redis-cli -n 1', '12 print SCAN 0 MATCH rl:* COUNT 100']);
    expect(steps(drafts[0])[2].description).toMatch(/Runs inside: oc debug node\/worker-3/);
  });
});

describe('placeholders and classification', () => {
  it('<pod>, <pod-name>, [namespace], $DATABASE_URL, ${NS}, YOUR_HOST become declared variables; <x> after -n is a namespace', async () => {
    const md = ['# Pod crashlooping', '', '```', 'kubectl logs <pod-name> -n <ns> --previous', 'kubectl get pods -n [namespace]', 'psql "$DATABASE_URL" -c "SELECT 1"', 'kubectl get svc -n ${NS}', 'curl -sI https://YOUR_HOST/healthz', '```', ''].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual([
      '4 run kubectl logs {{pod_name}} -n {{ns}} --previous',
      '5 run kubectl get pods -n {{namespace}}',
      '6 run psql {{database_url}} -c "SELECT 1"',
      '7 run kubectl get svc -n {{ns}}',
      '8 run curl -sI https://{{your_host}}/healthz',
    ]);
    const v = Object.fromEntries(drafts[0].variables.map((x) => [x.name, x]));
    expect(v.pod_name).toMatchObject({ type: 'name' });
    expect(v.ns).toMatchObject({ type: 'name', description: expect.stringMatching(/Kubernetes namespace; written <ns>/) });
    expect(v.database_url).toMatchObject({ env: 'DATABASE_URL' });
    expect(v.your_host.description).toMatch(/YOUR_HOST/);
  });

  it('no command that changes anything is a plain run step', async () => {
    const changing = [
      'kubectl get events -n prod >> events.log', 'kubectl logs deploy/api | tee api.log', 'wget -O /tmp/x.tgz https://e.example/x.tgz', 'curl -o page.html https://e.example',
      'curl -X POST https://e.example/flags -d on=false', 'sudo tar cvf /tmp/etc.tar /etc', 'sudo systemctl restart nginx', 'kubectl cordon node-1', 'kubectl drain node-1 --ignore-daemonsets',
      'kubectl annotate svc ro -n db x=y --overwrite', 'helm uninstall shop -n web', 'redis-cli -h c CONFIG SET maxmemory 6gb', 'psql -c "UPDATE orders SET paid = true"',
      'git push origin main', 'aws s3api put-bucket-policy --bucket b --policy file://p.json', 'gcloud compute instances delete vm-1', 'iptables -A INPUT -s 1.2.3.4 -j DROP', 'chmod 600 key.pem', 'dd if=/dev/zero of=/dev/sdb bs=1M count=1',
      'crictl rmi --prune', 'ceph osd out osd.3',
    ];
    const unknownOrEndless = ['./scripts/failover.sh --to eu', 'acme-ctl drain --broker 3', 'top', 'watch kubectl get pods', 'tail -f /var/log/syslog', 'kubectl logs -f deploy/api', 'kubectl get pods -w', 'psql', 'redis-cli', 'kubectl rsh -n p pod-1'];
    const md = ['# Everything', '', '```bash', ...changing, '```', '', '```bash', ...unknownOrEndless, '```', ''].join('\n');
    const { drafts } = await load(md);
    const made = steps(drafts[0]).filter((s) => s.command !== undefined);
    for (const s of made.slice(0, changing.length)) expect(s.kind === 'print' || s.plan?.destructive === true, `${s.command} is a plain run`).toBe(true);
    for (const s of made.slice(changing.length)) expect(s.kind, s.command).toBe('print');
    expect(made).toHaveLength(changing.length + unknownOrEndless.length);
  });
});

describe('playbook styles the corpus did not have', () => {
  it('sessions ir did not know: what follows aws ssm start-session, cqlsh, mysql, sqlite3, gcloud compute ssh… is printed; prompted lines of database, Python and PowerShell consoles are commands, the rest output', async () => {
    const md = [
      '# Web host unhealthy', '', '```bash', 'aws ssm start-session --target i-0abc123', 'sudo systemctl status nginx', 'journalctl -u nginx --since "10 min ago"', '```', '',
      '```', 'cqlsh 10.0.0.5 -u admin', 'mysql -h db1', 'mongosh mongodb://db1', 'sqlite3 /var/lib/app.db', 'gcloud compute ssh vm-1 --zone europe-west1-b', 'az ssh vm -n vm1 -g rg', 'docker exec -it web sh', 'nsenter -t 1234 -n', 'virsh console vm3', 'telnet db1 5432', '```', '',
      '```', 'mysql> SHOW PROCESSLIST;', '+----+------+', '| Id | User |', 'mysql> KILL 42;', 'cqlsh:shop> SELECT * FROM orders LIMIT 1;', 'redis 127.0.0.1:6379> INFO memory', 'postgres=# SELECT 1;', '>>> import os', 'PS C:\\> Get-ADUser jdoe', 'PS> Disable-ADAccount -Identity jdoe', '```', '',
      '```powershell', 'Get-ADUser jdoe -Properties LastLogonDate', 'Stop-Service -Name Spooler -Force', '```', '',
      '```', 'Get-ADUser jdoe', 'Disable-ADAccount -Identity jdoe', '```', '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual([
      '4 print aws ssm start-session --target i-0abc123', '5 print sudo systemctl status nginx', '6 print journalctl -u nginx --since "10 min ago"',
      '10 print cqlsh 10.0.0.5 -u admin', '11 print mysql -h db1', '12 print mongosh mongodb://db1', '13 print sqlite3 /var/lib/app.db', '14 print gcloud compute ssh vm-1 --zone europe-west1-b', '15 print az ssh vm -n vm1 -g rg', '16 print docker exec -it web sh', '17 print nsenter -t 1234 -n', '18 print virsh console vm3', '19 print telnet db1 5432',
      '23 print SHOW PROCESSLIST;', '26 print KILL 42;', '27 print SELECT * FROM orders LIMIT 1;', '28 print INFO memory', '29 print SELECT 1;', '30 print import os', '31 print Get-ADUser jdoe', '32 print Disable-ADAccount -Identity jdoe',
      '36 print Get-ADUser jdoe -Properties LastLogonDate', '37 print Stop-Service -Name Spooler -Force',
      '41 print Get-ADUser jdoe', '42 print Disable-ADAccount -Identity jdoe',
    ]);
    expect(steps(drafts[0]).find((s) => s.line === 5)?.description).toMatch(/Runs inside: aws ssm start-session/);
    // Lines typed after a session opener are inside it, wherever the block is.
    for (const line of [11, 12, 13]) expect(steps(drafts[0]).find((s) => s.line === line)?.description, `line ${line}`).toMatch(/Runs inside: cqlsh/);
  });

  it('never-ending commands are printed: --follow, --watch, -F, stern, journalctl -f, ping and tcpdump without -c, htop, vmstat without a count', async () => {
    const endless = ['aws logs tail /aws/lambda/x --follow', 'stern api -n prod', 'kubectl get pods -n prod --watch', 'tail -F /var/log/app.log', 'journalctl -f -u app', 'ping db1', 'tcpdump -i eth0 port 53', 'htop', 'top', 'vmstat 1', 'gcloud logging tail --follow=true', 'docker compose logs --follow'];
    const { drafts } = await load(['# Endless', '', '```bash', ...endless, '```', ''].join('\n'));
    expect(steps(drafts[0]).map((s) => `${s.kind} ${s.command}`)).toEqual(endless.map((c) => `print ${c}`));
  });

  it('read-only tools run plainly (chronyc, restic snapshots, nodetool, orchestrator-client, aws describe/get/list, $(date …) arguments); their writing subcommands and other $(…) do not', async () => {
    const reads = [
      'chronyc tracking', 'chronyc sources', 'readlink -f /etc/alternatives/java', 'restic snapshots', 'restic check', 'nodetool proxyhistograms', 'nodetool tablehistograms ks t', 'nodetool listsnapshots', 'nodetool describecluster',
      'orchestrator-client -c topology -i db1', 'orchestrator-client -c which-cluster-master -i db1', 'aws ec2 describe-instances --instance-ids i-1', 'aws iam list-users',
      "aws cloudwatch get-metric-statistics --namespace AWS/EC2 --metric-name CPUUtilization --start-time $(date -u -d '-1 hour' +%FT%T) --end-time $(date -u +%FT%T) --period 60 --statistics Average",
      'uptime', 'ps -eo pid,cmd', 'free -m', 'vmstat 1 5', 'iostat 2 3', 'ss -tlnp', 'netstat -an', 'dig example.com', 'nslookup example.com', 'host example.com', 'openssl x509 -in c.pem -noout -dates',
    ];
    const changes = ['restic forget --prune', 'nodetool repair', 'chronyc makestep', 'orchestrator-client -c graceful-master-takeover -i db1', 'aws ec2 stop-instances --instance-ids $(cat ids.txt)'];
    const { drafts } = await load(['# Reads', '', '```bash', ...reads, ...changes, '```', ''].join('\n'));
    const made = steps(drafts[0]);
    expect(made.slice(0, reads.length).map((s) => `${s.kind}${s.plan?.destructive ? '!' : ''} ${s.command}`)).toEqual(reads.map((c) => `run ${c}`));
    for (const s of made.slice(reads.length)) expect(s.kind === 'print' || s.plan?.destructive === true, `${s.command} is a plain run`).toBe(true);
    expect(made).toHaveLength(reads.length + changes.length);
  });
});

describe('list items the corpus did not have', () => {
  it('inline code of a list item that is a sequence (`uptime; ps … | head`) or a bare program (`htop`), and task-list items with code or a fence under them, are steps', async () => {
    const md = [
      '# Host slow', '', '## Checks', '', '- `uptime; ps -eo pid,pcpu,cmd --sort=-pcpu | head`', '- [ ] run `htop`', '- [ ] check disk: `df -h`', '- [x] Look at memory', '  ```bash', '  free -m', '  ```',
      '- [ ] Look at the kernel log', '```', 'dmesg -T | tail -50', '```', '- [ ] Notify the owner', '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['5 run! uptime; ps -eo pid,pcpu,cmd --sort=-pcpu | head', '6 print htop', '7 run df -h', '10 run free -m', '14 run dmesg -T | tail -50']);
    expect(steps(drafts[0]).map((s) => s.title)).toEqual(['uptime; ps -eo pid,pcpu,cmd --sort=-pcpu | head', 'run htop', 'check disk', 'Look at memory', 'Look at the kernel log', 'Notify the owner']);
  });
});

describe('scenarios written as cards and bold titles', () => {
  it('bold-titled paragraphs under Cards/Situations, bold numbered entries under "Known failure modes" and "### Card N — …" headings are each a scenario; the parent is not', async () => {
    const md = [
      "# Ransomware response cards", "", "Read this first.", "", "## Cards", "", "**Card 1 \u2014 Ransom note on a file server**", "",
      "**When:** users report files renamed to `.locked`. **Do:** isolate the server.", "", "- [ ] Pull the network cable", "- [ ] Call the security lead", "", "```bash", "sudo systemctl stop smbd", "```",
      "", "**Card 2 \u2014 Encrypted files on one workstation**", "", "**When:** one user reports it.", "", "**Do:**", "", "1. Disconnect the workstation.",
      "2. Take a memory image.", "", "## Situations", "", "**Major outage declared (SEV1)**", "", "**When:** the status page is red.", "",
      "```bash", "kubectl get pods -n prod", "```", "", "**Database failover stuck**", "", "**Do:** run `patronictl list` and check the leader.", "",
      "## Known failure modes", "", "1. **Queue backlog**", "", "   ```bash", "   rabbitmqctl list_queues", "   ```", "",
      "2. **Disk full on workers**", "", "   ```bash", "   df -h", "   ```", "", "### Card 7 \u2014 Phishing link clicked", "",
      "- Reset the user's password.", "- Revoke sessions.", "", "### Card 8 \u2014 Lost laptop", "", "- Wipe it remotely.", "- File a report.",
      '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([
      [7, 'Ransom note on a file server'], [18, 'Encrypted files on one workstation'], [29, 'Major outage declared'], [37, 'Database failover stuck'],
      [43, 'Queue backlog'], [49, 'Disk full on workers'], [55, 'Phishing link clicked'], [60, 'Lost laptop'],
    ]);
    // "**When:** … **Do:** …" in one paragraph: a trigger, then an instruction.
    expect(drafts[0].detection).toEqual(['users report files renamed to .locked.']);
    expect(steps(drafts[0])[0]).toMatchObject({ kind: 'note', text: 'isolate the server.' });
    expect(drafts[2].severity).toBe('SEV-1');
    expect(commands(drafts[0])).toEqual(['15 run! sudo systemctl stop smbd']);
    expect(commands(drafts[3])).toEqual(['39 run patronictl list']);
    expect(steps(drafts[1]).map((s) => s.text)).toEqual(['Disconnect the workstation.', 'Take a memory image.']);
  });
});

describe('numbered stages under one failure', () => {
  it('"Step 1 — …" and "Phase 1: …" sub-headings are phases of the scenario above them, not scenarios', async () => {
    const md = [
      "# Storage troubleshooting", "", "## Volume will not mount", "", "The PVC stays Pending.", "", "### Step 1 \u2014 Look around", "",
      "```bash", "kubectl get pvc -n data", "```", "", "### Step 2 \u2014 Look inside", "", "```bash", "kubectl describe pvc data-0 -n data",
      "```", "", "### Step 3 \u2014 Recreate the pod", "", "```bash", "kubectl delete pod data-0 -n data", "```", "",
      "## Node disk slow", "", "#### Phase 1: Look at the queue", "", "```bash", "iostat -x 1 3", "```", "",
      "#### Phase 2: Move the tenant", "", "- Move the noisy tenant.", "- Tell them.",
      '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([[3, 'Volume will not mount'], [25, 'Node disk slow']]);
    expect(drafts[0].phases.map((p) => [p.line, p.title])).toEqual([[7, 'Look around'], [13, 'Look inside'], [19, 'Recreate the pod']]);
    expect(drafts[1].phases.map((p) => [p.line, p.title])).toEqual([[27, 'Look at the queue'], [33, 'Move the tenant']]);
    expect(commands(drafts[0])).toEqual(['10 run kubectl get pvc -n {{namespace}}', '16 run kubectl describe pvc data-0 -n {{namespace}}', '22 run! kubectl delete pod data-0 -n {{namespace}}']);
  });
});

describe('commands outside any scenario', () => {
  it('a preamble "before you start" command and a Quick checks table become one runbook of general checks; contacts and glossary stay out', async () => {
    const md = [
      "# Billing API playbook", "", "Before you start: `aws sts get-caller-identity`", "", "## Contacts", "", "- Alice, owner: alice@example.com", "",
      "## Quick checks", "", "| Check | Command |", "|---|---|", "| Pods | `kubectl get pods -n billing` |", "| Ingress | `kubectl get ingress -n billing` |", "", "## Invoices not sent",
      "", "**Diagnosis:**", "", "```bash", "kubectl logs deploy/mailer -n billing --tail=100", "```", "", "## Glossary",
      "", "- DLQ: dead letter queue", "", "## Payments webhook failing", "", "```bash", "kubectl get events -n billing", "```",
      '',
    ].join('\n');
    const { drafts, skipped } = await load(md);
    expect(drafts.map((d) => [d.line, d.id, d.title, d.general ?? false])).toEqual([
      [16, 'invoices-not-sent', 'Invoices not sent', false],
      [28, 'payments-webhook-failing', 'Payments webhook failing', false],
      [1, 'billing-api-playbook-general-checks', 'General checks from Billing API playbook', true],
    ]);
    expect(commands(drafts[2])).toEqual(['3 run aws sts get-caller-identity', '13 run kubectl get pods -n {{namespace}}', '14 run kubectl get ingress -n {{namespace}}']);
    expect(steps(drafts[2]).filter((s) => s.command === undefined)).toEqual([]);
    expect(skipped.map((s) => [s.line, s.heading, /general-checks/.test(s.why)])).toEqual([[5, 'Contacts', false], [9, 'Quick checks', true], [24, 'Glossary', false]]);
  });

  it('prose that only names a command in the introduction ("log in with `oc login`") is not a general check', async () => {
    const md = ['# Cluster ops', '', 'Log in with `oc login` using your own account. Use `oc debug node/<name>` to reach a node.', '', '## Node NotReady', '', '```', 'oc get nodes', '```', '', '## Pod evicted', '', '```', 'oc get events -n app', '```', ''].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => d.title)).toEqual(['Node NotReady', 'Pod evicted']);
  });
});

describe('bold entries with labelled paragraphs', () => {
  it('a numbered list of bold titles whose parts are "**When:** …"/"**Do:** …" paragraphs is a list of scenarios, under any section name; "Card N:" alone titles a card', async () => {
    const md = [
      "# Support desk playbook", "", "## What can go wrong", "", "1. **Login page returns 502**", "", "   **When:** synthetic check fails.", "",
      "   **Do:** restart the auth proxy with `sudo systemctl restart auth-proxy`.", "", "2. **Emails bouncing**", "", "   **When:** bounce rate above 5%.", "", "   **Do:** check the relay queue with `mailq | tail`.", "",
      "## Runbook cards", "", "**Card 1: VPN down**", "", "- [ ] Check the tunnel: `ipsec status`", "- [ ] Call the ISP",
      '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([[5, 'Login page returns 502'], [11, 'Emails bouncing'], [19, 'VPN down']]);
    expect(drafts.map((d) => d.detection)).toEqual([['synthetic check fails.'], ['bounce rate above 5%.'], []]);
    expect(commands(drafts[0])).toEqual(['9 run! sudo systemctl restart auth-proxy']);
    expect(steps(drafts[0])[0].title).toBe('restart the auth proxy');
    expect(steps(drafts[1])).toMatchObject([{ kind: 'note', title: 'check the relay queue with mailq | tail', text: 'check the relay queue with mailq | tail.' }]);
  });
});

describe('console blocks of other programs', () => {
  it('SQL typed after cqlsh is inside it; a mysql> line after `$ mysql` is a command and its \\G output is not; a PowerShell prompt with a path marks the block as commands', async () => {
    const md = [
      "# DB node sick", "", "```", "cqlsh 10.0.0.5 -u admin", "SELECT * FROM system.peers;", "DESCRIBE KEYSPACES;",
      "```", "", "```", "$ mysql -h db1", "mysql> SHOW SLAVE STATUS\\G", "*************************** 1. row ***************************",
      "Slave_IO_Running: Yes", "```", "", "```shell", "docker exec -it cassandra-0 nodetool status", "gcloud compute ssh vm-1 --command \"uptime\"",
      "sqlite3 /var/lib/app.db \"SELECT count(*) FROM jobs\"", "```", "", "```", "PS C:\\Users\\admin> Get-Service -Name W32Time", "Status   Name",
      "------   ----", "Running  W32Time", "```",
      '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual([
      '4 print cqlsh 10.0.0.5 -u admin', '5 print SELECT * FROM system.peers;', '6 print DESCRIBE KEYSPACES;', '10 print mysql -h db1', '11 print SHOW SLAVE STATUS\\G',
      '17 print docker exec -it cassandra-0 nodetool status', '18 run gcloud compute ssh vm-1 --command "uptime"', '19 run sqlite3 /var/lib/app.db "SELECT count(*) FROM jobs"', '23 print Get-Service -Name W32Time',
    ]);
  });
});

describe('cards with their text on the next line, and stages as bold labels', () => {
  it('"**Card 1 — …**" directly followed by "When: …" is a titled card; "**Step 1 — …**" labels inside a card are its phases, not cards', async () => {
    const md = [
      "# Desk cards", "", "## Cards", "", "**Card 1 \u2014 Printer queue stuck**", "When: jobs pile up.",
      "", "```bash", "sudo systemctl restart cups", "```", "", "**Card 2 \u2014 Disk almost full**",
      "", "**Step 1 \u2014 Look around**", "", "```bash", "df -h", "```",
      "", "**Step 2 \u2014 Clean up**", "", "```bash", "sudo journalctl --vacuum-size=500M", "```",
      '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([[5, 'Printer queue stuck'], [12, 'Disk almost full']]);
    expect(drafts[0].detection).toEqual(['jobs pile up.']);
    expect(drafts[1].phases.map((p) => [p.line, p.title])).toEqual([[14, 'Look around'], [20, 'Clean up']]);
    expect(commands(drafts[1])).toEqual(['17 run df -h', '23 run! sudo journalctl --vacuum-size=500M']);
  });
});

describe('a session opened in a block of its own', () => {
  it('the block after a lone `aws ssm start-session` is typed on the instance (print); after "from your laptop" commands run here again', async () => {
    const md = [
      "# Web host unhealthy", "", "Connect to the instance:", "", "```bash", "aws ssm start-session --target i-0abc123",
      "```", "", "Then check the service:", "", "```bash", "sudo systemctl status nginx",
      "journalctl -u nginx -n 100", "```", "", "From your laptop, check the load balancer:", "", "```bash",
      "aws elbv2 describe-target-health --target-group-arn arn:aws:x", "```",
      '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['6 print aws ssm start-session --target i-0abc123', '12 print sudo systemctl status nginx', '13 print journalctl -u nginx -n 100', '19 run aws elbv2 describe-target-health --target-group-arn arn:aws:x']);
    expect(steps(drafts[0]).find((s) => s.line === 13)?.description).toMatch(/Runs inside: aws ssm start-session --target i-0abc123/);
  });
});

describe('streams and file writers among read-looking commands', () => {
  it('az/gcloud log tail never ends (print); openssl … -out writes a file (never a plain run)', async () => {
    const md = ['# Cert and logs', '', '```bash', 'az webapp log tail -n app -g rg', 'gcloud alpha logging tail "resource.type=k8s_container"', 'openssl x509 -in c.pem -out c.der -outform der', 'openssl x509 -in c.pem -noout -enddate', '```', ''].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['4 print az webapp log tail -n app -g rg', '5 print gcloud alpha logging tail "resource.type=k8s_container"', '6 run! openssl x509 -in c.pem -out c.der -outform der', '7 run openssl x509 -in c.pem -noout -enddate']);
  });
});

describe('bold warnings under a container', () => {
  it('"**Do not …**" or "**Note: …**" alone on a line under "Situations" is a warning inside the entry above, not a scenario', async () => {
    const md = ['# Ops', '', '## Situations', '', '**Queue backlog growing**', '', '```bash', 'rabbitmqctl list_queues', '```', '', '**Do not purge the queue without approval**', '', '**Workers crash on start**', '', '```bash', 'kubectl get pods -n jobs', '```', ''].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => [d.line, d.title])).toEqual([[5, 'Queue backlog growing'], [13, 'Workers crash on start']]);
    expect(steps(drafts[0]).map((s) => s.text ?? s.command)).toEqual(['rabbitmqctl list_queues', 'Do not purge the queue without approval']);
  });
});

describe('general checks from text before any heading', () => {
  it('"Before you start: `…`" in the first line, a command table under the title and a Before you start list are steps of the general checks, in document order', async () => {
    const md = [
      "Owner: platform team. Before you start: `kubectl config current-context`", "", "# Platform playbook", "", "| What | Command |",
      "|---|---|", "| Nodes | `kubectl get nodes` |", "", "## Before you start", "",
      "- Check your identity: `aws sts get-caller-identity`", "- Join the #incident channel", "", "## Etcd slow", "",
      "```bash", "etcdctl endpoint status --cluster -w table", "```", "", "## DNS failing",
      "", "```bash", "kubectl -n kube-system get pods -l k8s-app=kube-dns", "```", "",
      "## Escalation", "", "- Page the platform lead: `pd-send --service platform`",
      '',
    ].join('\n');
    const { drafts } = await load(md);
    expect(drafts.map((d) => d.id)).toEqual(['etcd-slow', 'dns-failing', 'platform-playbook-general-checks']);
    expect(commands(drafts[2])).toEqual(['1 run kubectl config current-context', '7 run kubectl get nodes', '11 run aws sts get-caller-identity', '28 print pd-send --service platform']);
  });
});

describe('database consoles inside containers', () => {
  it('statements typed after `kubectl exec -it … -- mysql -uroot -p` are printed, inside that console', async () => {
    const md = ['# MySQL replica lag', '', '```', 'kubectl exec -it mysql-0 -n db -- mysql -uroot -p', 'SHOW REPLICA STATUS\\G', 'STOP REPLICA;', '```', ''].join('\n');
    const { drafts } = await load(md);
    expect(commands(drafts[0])).toEqual(['4 print kubectl exec -it mysql-0 -n db -- mysql -uroot -p', '5 print SHOW REPLICA STATUS\\G', '6 print STOP REPLICA;']);
    expect(steps(drafts[0])[2].description).toMatch(/Runs inside: kubectl exec -it mysql-0/);
  });
});
