// The test harness itself: a suite whose services fail half-way leaves nothing running behind it.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startAll, startPostgres } from './helpers/services.js';

const accepts = (port: number) =>
  spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', String(port), '-t', '2'], { encoding: 'utf8' }).status === 0;

describe('startAll', () => {
  it('stops the servers that started when another fails to start', async () => {
    let pgPort: number | undefined;
    const started = startAll({
      pg: async () => {
        const pg = await startPostgres();
        pgPort = pg.port;
        return pg;
      },
      broken: async () => {
        throw new Error('spawn redis-server ENOENT');
      },
    });
    await expect(started).rejects.toThrow(/broken: spawn redis-server ENOENT.*the others were stopped|the others were stopped.*broken: spawn redis-server ENOENT/);
    expect(pgPort).toBeDefined();
    expect(accepts(pgPort!)).toBe(false);
  });
});
