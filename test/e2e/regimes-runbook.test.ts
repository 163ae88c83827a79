// The security runbooks offer the regulatory clocks: at a terminal the responder ticks the regimes
// that apply and each starts from the discovery time just answered; without a terminal, or under
// --yes, nothing starts unless --var regimes=… chooses, and the offer is recorded as skipped.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ir, json, ROOT, tempHome } from '../helpers/cli.js';
import { terminalSuite } from '../helpers/tty.js';

type Regimes = { regimes: { regime: string; state: string; discovered_at: string; due_at: string }[] };
type Step = { step: string; kind: string; outcome: string; reason?: string; chosen?: string[]; started?: string[] };
const steps = (home: string, id: string) =>
  json<{ events: { type: string; data: Step }[] }>(ir(home, ['timeline', id, '--json'])).events.filter((e) => e.type === 'runbook.step').map((e) => e.data);

describe('the regime offer of the security runbooks', () => {
  const term = terminalSuite();

  it('at a terminal: data-breach-notification offers GDPR, PCI DSS and SOX; ticking GDPR starts its clock from the discovery answered', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'Customer export in a public bucket', '-s', 'SEV-1'])).id;
    const session = term.open(['runbook', 'run', 'data-breach-notification']);
    await session.waitFor(/When was the possible breach discovered/);
    session.type('2026-11-24 09:00');
    session.keys('Enter');
    await session.waitFor(/tick the regimes that apply[\s\S]*GDPR — notify supervisory authority via the DPO within 72h[\s\S]*PCI DSS — notify card brands and acquirer within 24h[\s\S]*SOX — notify audit committee immediately/);
    // Nothing is ticked for the responder: Space ticks the first (GDPR), Enter confirms.
    session.keys('Space', 'Enter');
    await session.waitFor(/GDPR clock started: notify supervisory authority via the DPO by 2026-11-27 09:00Z[\s\S]*tick what is confirmed/);
    const list = json<Regimes>(ir(term.home, ['regime', 'list', '--json', '--incident', id]));
    expect(list.regimes.map((r) => [r.regime, r.discovered_at, r.due_at])).toEqual([['gdpr', '2026-11-24T09:00:00.000Z', '2026-11-27T09:00:00.000Z']]);
    expect(steps(term.home, id).find((s) => s.step === 'deadlines')).toMatchObject({ kind: 'regimes', outcome: 'done', chosen: ['gdpr'], started: ['gdpr'] });
  }, 60_000);

  it('non-interactive: --yes records the offer as skipped and starts nothing; --var regimes=pci,sox starts those', () => {
    const { home, cleanup } = tempHome();
    try {
      const id = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'Leak', '-s', 'SEV-1'])).id;
      const skipped = ir(home, ['runbook', 'run', 'security-breach-containment', '--yes', '--var', 'deployment=web', '--var', 'namespace=prod']);
      expect(skipped.stderr).toContain('regime offer skipped: --yes does not choose regulatory regimes; choose with --var regimes=gdpr,pci,sox (or none)');
      expect(steps(home, id).find((s) => s.step === 'regulatory-clocks')).toMatchObject({ kind: 'regimes', outcome: 'skipped', reason: 'regime offer skipped: --yes does not choose regulatory regimes' });
      expect(json<Regimes>(ir(home, ['regime', 'list', '--json'])).regimes).toEqual([]);

      const chosen = ir(home, ['runbook', 'run', 'data-breach-notification', '--yes', '--var', 'regimes=pci,sox', '--var', 'discovered_at=2026-11-24 08:30 UTC']);
      expect(chosen.code, chosen.stderr).toBe(0);
      const list = json<Regimes>(ir(home, ['regime', 'list', '--json']));
      expect(list.regimes.map((r) => [r.regime, r.due_at])).toEqual([
        ['pci', '2026-11-25T08:30:00.000Z'],
        ['sox', '2026-11-24T08:30:00.000Z'],
      ]);

      const bad = ir(home, ['runbook', 'run', 'data-breach-notification', '--yes', '--var', 'regimes=hipaa']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--var regimes: "hipaa" does not match');
    } finally {
      cleanup();
    }
  }, 120_000);

  it('a regimes step may offer only regimes severities.yaml defines: file:line:col, exit 2', () => {
    const { home, cleanup } = tempHome();
    try {
      const dir = join(home, 'team');
      mkdirSync(dir);
      copyFileSync(join(ROOT, 'runbooks', 'severities.yaml'), join(dir, 'severities.yaml'));
      writeFileSync(
        join(dir, 'leak.yaml'),
        'id: leak\ntitle: Leak\nphases:\n  - id: start\n    title: Start\n    steps:\n      - id: clocks\n        title: Start the clocks\n        regimes:\n          offer: [gdpr, hipaa]\n',
      );
      const r = ir(home, ['runbook', 'validate', dir]);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toContain(`${join(dir, 'leak.yaml')}:10:25: step "clocks": regime "hipaa" is not defined in ${join(dir, 'severities.yaml')}; defined: gdpr, pci, sox`);
    } finally {
      cleanup();
    }
  });
});
