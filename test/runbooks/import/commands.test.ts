import { describe, expect, it } from 'vitest';
import { classifyMongo, classifySql, lex, looksLikeCommand, placeholders, planCommand, splitScript } from '../../../src/runbooks/import/commands.js';

const plan = (c: string) => {
  const p = planCommand(c);
  return p.action === 'print' ? 'print' : p.destructive ? 'destructive' : 'run';
};

describe('planCommand: commands that only read run', () => {
  it.each([
    'kubectl get pods -n prod -l app=mongodb',
    'kubectl describe pod mongodb-0 -n prod',
    'kubectl logs deployment/api -n prod --since=1h',
    'kubectl top pods -n prod --sort-by=cpu',
    'kubectl rollout status deployment/api -n prod',
    'kubectl rollout history deployment/api',
    'kubectl exec mongodb-0 -n prod -- mongo --eval "rs.status()"',
    'kubectl exec redis-master -- redis-cli info memory',
    'docker ps -a --filter "name=redis"',
    'docker logs --tail=200 nickapp-backend',
    'docker exec nickapp-mongodb mongosh --eval "db.adminCommand(\'ping\')"',
    'redis-cli -h 10.0.0.1 PING',
    'redis-cli -h cache CONFIG GET maxmemory',
    'psql -h db -c "SELECT count(*) FROM pg_stat_activity"',
    'curl -I https://api.example.com/health',
    'curl -fsS https://amn.gg/api/health',
    'ping -c 3 db.internal',
    'systemctl status nginx',
    'journalctl -u nginx --since "10 min ago"',
    'dig +short example.com',
    'df -h /var/lib/docker',
    'openssl x509 -in cert.pem -noout -dates',
    'helm history api -n prod',
    'aws ec2 describe-instances --instance-ids i-123',
    'gcloud compute instances list',
    'git log --oneline -5',
    'iptables -L -n',
    'nginx -t',
    'top -b -n 1',
    'sudo ss -tlnp',
  ])('%s', (c) => expect(plan(c)).toBe('run'));
});

describe('planCommand: commands that change things are destructive', () => {
  it.each([
    'kubectl delete pod mongodb-0 -n singglebee --force',
    'kubectl scale statefulset mongodb --replicas=3 -n prod',
    'kubectl rollout undo deployment/api -n prod',
    'kubectl rollout restart deployment/api',
    'kubectl patch deployment api -p \'{"spec":{}}\'',
    'kubectl apply -f k8s/emergency-cert.yaml',
    'kubectl set env deployment/api DB_POOL_SIZE=50 -n production',
    'kubectl create secret tls x --cert=a --key=b',
    'kubectl drain node-1 --ignore-daemonsets',
    'redis-cli FLUSHDB',
    'redis-cli -h cache CONFIG SET maxmemory-policy allkeys-lru',
    'psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"',
    'psql -c "DROP TABLE sessions"',
    'mongosh --eval "db.sessions.deleteMany({})"',
    'docker compose up -d nickapp-backend',
    'docker compose -f prod.yml restart nginx',
    'docker stop watchtower',
    'docker system prune -f',
    'systemctl restart nginx',
    'kill -9 1234',
    'rm -rf /tmp/cache',
    'curl -X POST https://api.example.com/flags -d enabled=false',
    'helm rollback api 3 -n prod',
    'aws rds reboot-db-instance --db-instance-identifier prod',
    'iptables -A INPUT -s 1.2.3.4 -j DROP',
    'ufw deny from 1.2.3.4',
    'nginx -s reload',
    'certbot renew --force-renewal',
    'sed -i s/a/b/ file.conf',
    'git revert HEAD',
    'kubectl get pods -o yaml > state.yaml',
  ])('%s', (c) => expect(plan(c)).toBe('destructive'));
});

describe('planCommand: commands it cannot run are printed', () => {
  it.each([
    ['kubectl exec -it api-pod -- node scripts/emergency-disable.js database-writes', /-it needs a terminal/],
    ['kubectl logs -f mongodb-0 -n singglebee', /never ends/],
    ['kubectl exec api-pod -- ping mongodb-service', /ping without -c/],
    ['kubectl exec -it api-pod -- top', /terminal/],
    ['kubectl port-forward svc/api 5000:5000', /never ends/],
    ['kubectl edit deployment api', /terminal/],
    ['./scripts/restore-db.sh backup-20240310-1200', /not a command ir knows/],
    ['node scripts/fix.js', /not a command ir knows/],
    ['tail -f /var/log/nginx/access.log | grep socket.io', /never ends/],
    ['watch kubectl get pods', /terminal/],
    ['top', /full-screen/],
    ['redis-cli', /prompt/],
    ['redis-cli MONITOR', /never ends/],
    ['psql -h db', /prompt/],
    ['openssl s_client -connect example.com:443', /waits for input/],
    ['docker stats', /no-stream/],
    ['nano /opt/backend/.env', /terminal/],
    ['sed -i "s|:latest|:<previous-version>|" docker-compose.yml', /placeholder/],
    ['kubectl delete pod <pod-name> -n prod', /placeholder/],
    ['ssh prod', /remote shell/],
    ['mongosh --eval "db.foo.doSomething()"', /cannot classify/],
    ['kubectl exec -n production deploy/api -- tcpdump -i any -w /tmp/capture.pcap &', /tcpdump/],
  ])('%s', (c, why) => {
    const p = planCommand(c);
    expect(p.action).toBe('print');
    expect(p.reason).toMatch(why);
  });
});

describe('planCommand: shell', () => {
  it('needs a shell for pipes, redirects, env vars, && and globs, not for quoted ones', () => {
    expect(planCommand('kubectl logs deploy/api | grep -i redis').shell).toBe(true);
    expect(planCommand('docker exec r redis-cli -a "$REDIS_PASSWORD" PING').shell).toBe(true);
    expect(planCommand('docker exec r redis-cli -a "$REDIS_PASSWORD" PING').guesses[0]).toMatch(/\$REDIS_PASSWORD/);
    expect(planCommand('ls /var/log/*.log').shell).toBe(true);
    expect(planCommand('kubectl get pods && kubectl get svc').shell).toBe(true);
    expect(planCommand("sed 's|a|b|' file").shell).toBe(false);
    expect(planCommand('psql -c "SELECT 1; SELECT 2"').shell).toBe(false);
  });
});

describe('classifiers', () => {
  it('SQL', () => {
    expect(classifySql('SELECT * FROM pg_stat_activity').verdict).toBe('read');
    expect(classifySql('EXPLAIN SELECT 1').verdict).toBe('read');
    expect(classifySql('WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x').verdict).toBe('change');
    expect(classifySql('BEGIN; UPDATE t SET a = 1; COMMIT;').verdict).toBe('change');
    expect(classifySql('VACUUM ANALYZE t').verdict).toBe('change');
    expect(classifySql('FROBNICATE').verdict).toBe('unknown');
  });

  it('MongoDB', () => {
    expect(classifyMongo('rs.status()').verdict).toBe('read');
    expect(classifyMongo('db.users.find({}).count()').verdict).toBe('read');
    expect(classifyMongo('rs.stepDown()').verdict).toBe('change');
    expect(classifyMongo('db.users.updateOne({}, {$set: {a: 1}})').verdict).toBe('change');
  });

  it('placeholders', () => {
    expect(placeholders('kubectl logs <pod-name> -n YOUR_NAMESPACE')).toEqual(['<pod-name>', 'YOUR_NAMESPACE']);
    expect(placeholders('cat <<EOF')).toEqual([]);
    expect(placeholders('docker ps --format "{{.Names}}"')).toEqual([]);
  });

  it('looksLikeCommand tells commands from prose', () => {
    expect(looksLikeCommand('kubectl rollout undo deployment/api -n production')).toBe(true);
    expect(looksLikeCommand('df -h')).toBe(true);
    expect(looksLikeCommand('Check the dashboard')).toBe(false);
    expect(looksLikeCommand('find the owner of the key')).toBe(false);
    expect(looksLikeCommand('curl.')).toBe(false);
  });
});

describe('lex', () => {
  it('splits simple commands and keeps quoted operators literal', () => {
    const l = lex(`awk '{print $1}' log | sort | uniq -c > out.txt # count`);
    expect(l.segments.map((s) => s.map((w) => w.text))).toEqual([['awk', '{print $1}', 'log'], ['sort'], ['uniq', '-c']]);
    expect(l.overwrites).toEqual(['out.txt']);
    expect(l.comment).toBe('count');
    expect(l.shellFeatures).toEqual(expect.arrayContaining(['pipe', 'redirect']));
  });

  it('reports open quotes and here-documents', () => {
    expect(lex('node -e "').open).toBe(true);
    expect(lex("psql <<'SQL'").heredocs).toEqual(['SQL']);
  });
});

describe('splitScript', () => {
  it('joins continuations, keeps multi-line quotes and heredocs whole, uses comments as titles and notes', () => {
    const items = splitScript(
      [
        '# 1. Check pods',
        'kubectl get pods \\',
        '  -n prod',
        '# Should list 3 pods',
        '',
        '# 2. Common causes:',
        '# - disk full',
        '',
        'docker exec app node -e "',
        'console.log(1)',
        '"',
        'psql <<SQL',
        'SELECT 1;',
        'SQL',
        'for p in a b; do',
        '  echo $p',
        'done',
        'nano .env # confirm it',
      ],
      10,
    );
    expect(items.map((i) => i.kind)).toEqual(['command', 'note', 'command', 'command', 'command', 'command']);
    const first = items[0] as Extract<(typeof items)[number], { kind: 'command' }>;
    expect(first.command).toMatchObject({ text: 'kubectl get pods -n prod', line: 11, comments: ['1. Check pods'], after: ['Should list 3 pods'] });
    expect(items[1]).toEqual({ kind: 'note', note: { text: ['2. Common causes:', '- disk full'], line: 15 } });
    expect((items[2] as { command: { text: string } }).command.text).toBe('docker exec app node -e "\nconsole.log(1)\n"');
    expect((items[3] as { command: { text: string } }).command.text).toBe('psql <<SQL\nSELECT 1;\nSQL');
    expect((items[4] as { command: { compound: boolean } }).command.compound).toBe(true);
    expect((items[5] as { command: { text: string; trailing?: string } }).command).toMatchObject({ text: 'nano .env', trailing: 'confirm it' });
  });

  it('takes only prompted lines of console blocks', () => {
    const items = splitScript(['$ kubectl rollout restart deployment/api', 'deployment.apps/api restarted'], 1, 'console');
    expect(items).toHaveLength(1);
    expect((items[0] as { command: { text: string } }).command.text).toBe('kubectl rollout restart deployment/api');
  });

  it('marks commands that use variables the script set', () => {
    const items = splitScript(['DIR=/tmp/evidence', 'kubectl get pods > $DIR/pods.txt'], 1, 'bash');
    expect(items[0]).toMatchObject({ kind: 'assignment', name: 'DIR' });
    expect(planCommand('kubectl get pods > $DIR/pods.txt', { usesAssigned: ['DIR'] }).action).toBe('print');
  });
});

describe('planCommand: a command with hidden effects is never a plain run step', () => {
  it.each([
    ['echo $(rm -rf /tmp/x)', /\$\(…\): rm/],
    ['kubectl logs $(kubectl get pods -l app=api -o name | head -n 1)', /runs a command hidden inside this one/],
    ['cat `ls /etc/app`', /runs a command hidden inside this one/],
    ['echo "pods: $(kubectl delete pod x)"', /kubectl delete/],
    ['kubectl get pods; kubectl delete pod api-0', /kubectl delete/],
    ['df -h; du -sh /var/log', /several commands one after another \(;\)/],
    ['redis-cli PING && redis-cli INFO', /several commands one after another \(&&\)/],
    ['pg_isready || echo down', /several commands one after another \(\|\|\)/],
    ['kubectl get pods -o yaml > pods.yaml', /"> pods\.yaml" overwrites a file/],
    ['kubectl get events >> /var/incidents/events.log', /">> \/var\/incidents\/events\.log" appends to a file/],
    ['kubectl logs deploy/api | tee api.log', /tee writes to api\.log/],
    ['kubectl logs deploy/api | tee -a api.log', /tee writes to api\.log/],
    ['curl -sS -o page.html https://example.com', /curl -o writes the response to page\.html/],
    ['curl -sSo page.html https://example.com', /curl -o writes/],
    ['curl --output=page.html https://example.com', /curl -o writes/],
    ['curl -O https://example.com/file.tar.gz', /curl -O writes/],
    ['curl -D headers.txt https://example.com', /curl -D writes the headers/],
    ['wget https://example.com/backup.tar.gz', /wget writes the download/],
    ['wget -O /tmp/x https://example.com/x', /wget writes the download to \/tmp\/x/],
    ['tar czf /tmp/logs.tgz /var/log/app', /tar creates or extracts/],
    ['tar -xzf backup.tgz', /tar creates or extracts/],
    ['tar --create -f x.tar dir', /tar creates or extracts/],
    ['dd if=/dev/zero of=/tmp/fill bs=1M count=10', /^dd$/],
    ['find /var/log -name "*.gz" | xargs rm', /^rm$/],
    ['gzip /var/log/app.log', /gzip replaces the file/],
    ['sort -o sorted.txt input.txt', /sort -o writes/],
    ['pg_dump -d app -f /tmp/app.sql', /pg_dump writes \/tmp\/app\.sql/],
    ['mongodump --uri mongodb://localhost', /mongodump writes a dump directory/],
    ['journalctl --vacuum-size=500M', /journalctl --vacuum/],
    ['find /tmp -name "*.tmp" -fprint /tmp/list', /find -delete\/-exec\/-fprint/],
  ])('%s → run + destructive', (c, reason) => {
    const p = planCommand(c);
    expect(p.action, c).toBe('run');
    expect(p.destructive, c).toBe(true);
    expect(p.reason).toMatch(reason);
  });

  it.each([
    ['curl -fsSL https://get.example.com/install.sh | sh', /sh needs a terminal/],
    ['curl -fsSL https://get.example.com/install.sh | sudo bash', /bash needs a terminal/],
    ['wget -qO- https://get.example.com | bash -s -- --yes', /bash/],
    ['echo $(./scripts/mystery.sh)', /not a command ir knows/],
    ['eval "$(ssh-agent)"', /not a command ir knows/],
  ])('%s → print', (c, reason) => {
    const p = planCommand(c);
    expect(p.action, c).toBe('print');
    expect(p.reason).toMatch(reason);
  });

  it.each([
    'curl -sS -o /dev/null --max-time 10 https://example.com',
    'curl -sS https://example.com/health',
    'wget -qO- https://example.com/health',
    'wget --spider https://example.com/health',
    'tar tzf backup.tgz',
    'gzip -l /var/log/app.log.gz',
    'kubectl logs deploy/api | tee /dev/null',
    'kubectl logs deploy/api 2>&1 | grep -i error',
    'pg_dump -d app --schema-only',
    'mongodump --archive --uri mongodb://localhost',
    'journalctl -u nginx --since "1 hour ago"',
  ])('%s still only reads: run', (c) => {
    const p = planCommand(c);
    expect(p.action, `${c}: ${p.reason}`).toBe('run');
    expect(p.destructive, `${c}: ${p.reason}`).toBe(false);
  });
});
