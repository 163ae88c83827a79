// Metrics over incidents with known times match values computed by hand.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../helpers/cli.js';
import { FixedClock, runIr } from '../helpers/context.js';
import { stat } from '../../src/core/metrics.js';

const MIN = 60_000;

describe('ir metrics', () => {
  let home: string;
  let cleanup: () => void;
  let clock: FixedClock;

  async function ir(args: string[]) {
    const r = await runIr(home, args, { clock });
    if (r.code !== 0) throw new Error(`ir ${args.join(' ')}: ${r.stderr}`);
    return r;
  }
  async function incident(at: string, sev: string, service: string, steps: { ack?: number; mitigating?: number; monitoring?: number; resolve?: number; detectedBefore?: number }) {
    clock = new FixedClock(at);
    const start = Date.parse(at);
    const args = ['declare', '--json', '-t', `${service} ${sev}`, '-s', sev, '--service', service];
    if (steps.detectedBefore) args.push('--detected-at', new Date(start - steps.detectedBefore * MIN).toISOString());
    const id = JSON.parse((await ir(args)).stdout).id as string;
    const to = (m: number) => (clock = new FixedClock(new Date(start + m * MIN).toISOString()));
    if (steps.ack !== undefined) {
      to(steps.ack);
      await ir(['ack', '--incident', id]);
    }
    if (steps.mitigating !== undefined) {
      to(steps.mitigating);
      await ir(['status', 'mitigating', '--incident', id]);
    }
    if (steps.monitoring !== undefined) {
      to(steps.monitoring);
      await ir(['status', 'monitoring', '--incident', id]);
    }
    if (steps.resolve !== undefined) {
      to(steps.resolve);
      await ir(['resolve', '--summary', 'done', '--incident', id]);
    }
    return id;
  }

  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    await incident('2026-05-01T00:00:00.000Z', 'SEV-3', 'old', { ack: 1, resolve: 2 }); // outside 90d
    await incident('2026-09-01T00:00:00.000Z', 'SEV-1', 'checkout', { ack: 10, mitigating: 20, monitoring: 30, resolve: 60, detectedBefore: 20 });
    await incident('2026-09-02T00:00:00.000Z', 'SEV-1', 'checkout', { ack: 20, mitigating: 40, monitoring: 60, resolve: 300 });
    await incident('2026-09-03T00:00:00.000Z', 'SEV-2', 'search', { ack: 5, resolve: 120 });
    await incident('2026-09-04T00:00:00.000Z', 'SEV-2', 'api', { ack: 40 });
    clock = new FixedClock('2026-09-10T00:00:00.000Z');
  });
  afterAll(() => cleanup());

  it('computes MTTA / MTTM / MTTR / MTTD, SLA compliance and top services', async () => {
    const m = JSON.parse((await ir(['metrics', '--json'])).stdout);
    expect(m.overall.count).toBe(4);
    expect(m.overall.open).toBe(1);
    // MTTA: 600, 1200, 300, 2400 s → mean 1125, median (600+1200)/2 = 900, p90 (nearest rank 4 of 4) 2400.
    expect(m.overall.mtta).toEqual({ n: 4, mean_s: 1125, median_s: 900, p90_s: 2400 });
    // MTTM, declared → impact stopped (first monitoring; mitigating only means mitigation began):
    // 1800, 3600, and 7200 (resolved without monitoring: mitigated at resolution).
    expect(m.overall.mttm).toEqual({ n: 3, mean_s: 4200, median_s: 3600, p90_s: 7200 });
    // MTTR: 3600, 18000, 7200.
    expect(m.overall.mttr).toEqual({ n: 3, mean_s: 9600, median_s: 7200, p90_s: 18000 });
    expect(m.overall.mttd).toEqual({ n: 1, mean_s: 1200, median_s: 1200, p90_s: 1200 });
    expect(m.by_severity['SEV-1']).toMatchObject({
      count: 2,
      respond_sla: { measured: 2, met: 1, rate: 50 }, // 10m met, 20m > 15m breached
      resolve_sla: { measured: 2, met: 1, rate: 50 }, // 1h met, 5h > 4h breached
    });
    expect(m.by_severity['SEV-2']).toMatchObject({
      count: 2,
      open: 1,
      respond_sla: { measured: 2, met: 1, rate: 50 }, // 5m met, 40m > 30m breached
      resolve_sla: { measured: 1, met: 1, rate: 100 },
    });
    expect(m.by_severity['SEV-3']).toBeUndefined();
    expect(m.top_services).toEqual([
      { service: 'checkout', count: 2 },
      { service: 'api', count: 1 },
      { service: 'search', count: 1 },
    ]);
    const wide = JSON.parse((await ir(['metrics', '--since', '200d', '--json'])).stdout);
    expect(wide.overall.count).toBe(5);
  });

  it('prints a readable table', async () => {
    const out = (await ir(['metrics'])).stdout;
    expect(out).toMatch(/SEV-1\s+2\s+15m \/ 15m \/ 20m/);
    expect(out).toMatch(/all\s+4\s+18m45s \/ 15m \/ 40m/);
    expect(out).toMatch(/checkout\s+2/);
  });

  it('statistics: median of an odd count, p90 by nearest rank', () => {
    expect(stat([5, 1, 3])).toEqual({ n: 3, mean_s: 3, median_s: 3, p90_s: 5 });
    expect(stat(Array.from({ length: 10 }, (_, i) => i + 1)).p90_s).toBe(9);
    expect(stat([])).toEqual({ n: 0, mean_s: null, median_s: null, p90_s: null });
  });
});
