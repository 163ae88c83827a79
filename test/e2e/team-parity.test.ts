// "Everything that works today works there, with the same output": one responder's whole incident,
// run command by command through the real binary on the local SQLite store and on the team store
// (a real PostgreSQL on loopback), with a real redis-server under the runbook. The outputs must be
// the same once what differs by nature (times, durations, hashes, paths, ports) is normalised.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { irAsync, tempHome } from '../helpers/cli.js';
import { psql, startPostgres, startRedis, type PostgresServer, type RedisServer } from '../helpers/services.js';

describe('the same incident on SQLite and on the team store', () => {
  let pg: PostgresServer;
  let redis: RedisServer;
  const local = tempHome('ir-parity-local-');
  const team = tempHome('ir-parity-team-');
  let url: string;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    psql(pg, 'postgres', 'CREATE DATABASE parity');
    url = `postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/parity`;
  }, 60_000);
  afterAll(async () => {
    local.cleanup();
    team.cleanup();
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  const script = (port: number): string[][] => [
    ['declare', '-t', 'checkout errors', '-s', 'SEV-2', '--service', 'checkout', '--impact', 'EU card payments failing'],
    ['ack'],
    ['assign', 'scribe', 'Dana Kim'],
    ['note', 'error rate 12% since the 02:10 deploy'],
    ['status', 'identified', '--note', 'bad deploy'],
    ['severity', 'SEV-1', '--reason', 'all regions now'],
    ['runbook', 'redis-failure', '--yes', '--var', `port=${port}`],
    ['status', 'mitigating'],
    ['action', 'add', 'alert on pool saturation', '--owner', 'dana'],
    ['action', 'list'],
    ['show'],
    ['timeline'],
    ['evidence', 'list'],
    ['resolve', '--summary', 'rolled back v2.15.0', '--root-cause', 'pool size halved'],
    ['action', 'done', '1'],
    ['comms', 'resolved'],
    ['postmortem'],
    ['metrics'],
    ['list', '--all'],
    ['timeline', '--verify'],
    ['reopen', '--reason', 'errors back'],
    ['status'],
  ];

  const normalise = (text: string, home: string): string =>
    text
      .split(home)
      .join('<HOME>')
      .replace(/\b[0-9a-f]{64}\b/g, '<SHA256>')
      .replace(/\b[0-9a-f]{12}\b/g, '<SHORTHASH>')
      .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?Z?/g, '<TIME>')
      .replace(/\d{8}T\d{6}/g, '<STAMP>')
      // The postmortem names severity changes by the minute of the day ("SEV-2 → SEV-1 at 10:40").
      .replace(/ at \d\d:\d\d\b/g, ' at <HH:MM>')
      .replace(/\b\d+(\.\d+)?\s?(ms|s)\b/g, '<DUR>')
      .replace(/\b(\d+h)?(\d+m)?\d+s\b/g, '<DUR>')
      .replace(/\b\d+m\b/g, '<DUR>')
      .replace(/\b\d+ (second|minute|hour)s?\b/g, '<DUR>')
      // redis INFO counters differ between any two runs.
      .replace(/^(\s*[a-z_]+:)[0-9.]+[A-Za-z%]*$/gm, '$1<N>')
      .replace(/\bport=\d+|-p \d+/g, '<PORT>')
      .replace(/ +\n/g, '\n')
      // Column widths follow the widest cell, which may be a duration.
      .replace(/ {2,}/g, '  ');

  it('every command prints the same and exits the same', async () => {
    const outputs: Record<'sqlite' | 'postgres', { code: number; out: string }[]> = { sqlite: [], postgres: [] };
    for (const [name, home, extra] of [
      ['sqlite', local.home, {}],
      ['postgres', team.home, { IR_STORE: url }],
    ] as const) {
      for (const args of script(redis.port)) {
        // Spawned asynchronously: a long run of synchronous spawns would starve vitest's worker RPC.
        const r = await irAsync(home, args, { env: { IR_USER: 'alice', NO_COLOR: '1', ...extra } });
        outputs[name].push({ code: r.code, out: `$ ir ${args.join(' ')}\n${normalise(r.stdout, home)}--- stderr\n${normalise(r.stderr, home)}` });
      }
    }
    for (let i = 0; i < outputs.sqlite.length; i++) {
      expect(outputs.postgres[i].code, outputs.postgres[i].out).toBe(outputs.sqlite[i].code);
      expect(outputs.postgres[i].out).toBe(outputs.sqlite[i].out);
    }
    // The script did real work on both: the runbook ran against redis and the chain verified.
    expect(outputs.postgres.find((o) => o.out.startsWith('$ ir runbook'))?.out).toContain('PONG');
    expect(outputs.postgres.find((o) => o.out.startsWith('$ ir timeline --verify'))?.code).toBe(0);
  }, 180_000);
});
