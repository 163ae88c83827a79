// ir.yaml, the team's integrations file: the minimal file loads, every kind of mistake is one
// file:line:col line with exit 2 (a pasted secret included), and its settings reach the commands
// that use them (time zone, extra redaction, the team store URL). The hand-written checks and the
// shipped JSON Schema agree on the same documents.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, ROOT, tempHome } from '../helpers/cli.js';
import { checkTeamConfig } from '../../src/config/team.js';
import { YamlSource } from '../../src/config/yaml.js';

export const MINIMAL = `pagerduty:
  routing_key_env: PD_ROUTING_KEY
  events_url: http://127.0.0.1:9999/v2/enqueue
`;

const FULL = `# yaml-language-server: $schema=./ir.schema.json
pagerduty:
  routing_key_env: PD_ROUTING_KEY
  severity:
    SEV-2: critical
opsgenie:
  api_key_env: OPSGENIE_API_KEY
  api_url: https://api.eu.opsgenie.com
slack:
  token_env: SLACK_BOT_TOKEN
  channel: C0123ABC
escalation:
  - notify: Secondary on-call
    routing_key_env: PD_SECONDARY_KEY
    opsgenie_escalation: sre-secondary
timezone: Europe/Berlin
redaction:
  - 'session=(\\w+)'
store: postgres://ir@db.internal:5432/ir
`;

const BAD: Record<string, { text: string; line: number; col: number; message: RegExp }> = {
  'unknown key': { text: 'pagerduty:\n  routing_key_env: PD_ROUTING_KEY\n  evnts_url: http://x\n', line: 3, col: 3, message: /unknown field "evnts_url" in pagerduty: expected routing_key_env, events_url/ },
  'unknown top-level key': { text: 'pagerdooty:\n  routing_key_env: PD\n', line: 1, col: 1, message: /unknown field "pagerdooty": expected pagerduty, opsgenie, slack/ },
  'wrong type': { text: 'pagerduty:\n  routing_key_env: [PD_ROUTING_KEY]\n', line: 2, col: 20, message: /"routing_key_env" must be a non-empty string/ },
  'section of the wrong type': { text: 'slack: yes\n', line: 1, col: 8, message: /"slack" must be a mapping/ },
  'literal routing key': { text: 'pagerduty:\n  routing_key_env: 0123456789abcdef0123456789abcdef\n', line: 2, col: 20, message: /looks like a PagerDuty integration key: ir.yaml names the environment variable/ },
  'literal secret key': { text: 'opsgenie:\n  api_key_env: OG\n  api_key: abc-not-a-variable\n', line: 3, col: 3, message: /"api_key" would put a secret in the file: use api_key_env/ },
  'pasted Slack token': { text: 'slack:\n  channel: C1\n  token: xoxb-123456789-abcdefghij\n', line: 3, col: 10, message: /looks like a Slack token/ },
  'token pasted into token_env': { text: 'slack:\n  channel: C1\n  token_env: xoxb-123456789-abcdefghij\n', line: 3, col: 14, message: /looks like a Slack token/ },
  'store URL with a password': { text: 'store: postgres://ir:hunter2@db:5432/ir\n', line: 1, col: 8, message: /"store" carries a password: remove it from the URL; give it in PGPASSWORD or ~\/\.pgpass/ },
  'bad time zone': { text: 'timezone: Mars/Olympus\n', line: 1, col: 11, message: /expected an IANA time zone/ },
  'bad redaction pattern': { text: 'redaction:\n  - "session=(\\\\w+"\n', line: 2, col: 5, message: /is not a valid regular expression/ },
};

describe('ir.yaml', () => {
  let home: string;
  let cleanup: () => void;
  let dir: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    dir = mkdtempSync(join(tmpdir(), 'ir-team-'));
  });
  afterAll(() => {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const withYaml = (text: string, args: string[], env: Record<string, string | undefined> = {}) => {
    writeFileSync(join(dir, 'ir.yaml'), text);
    return ir(home, args, { env: { IR_RUNBOOKS: dir, ...env } });
  };

  it('the minimal file from the issue loads; commands run as before', () => {
    const r = withYaml(MINIMAL, ['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toEqual({ incidents: [] });
  });

  for (const [name, bad] of Object.entries(BAD)) {
    it(`${name}: file:line:col, exit 2, no stack trace`, () => {
      const r = withYaml(bad.text, ['list']);
      expect(r.code).toBe(2);
      const first = r.stderr.split('\n')[0];
      expect(first).toMatch(new RegExp(`^ir: .*ir\\.yaml:${bad.line}:${bad.col}: `));
      expect(r.stderr).toMatch(bad.message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // The secret itself is never echoed back.
      expect(r.stderr).not.toMatch(/hunter2|0123456789abcdef0123456789abcdef|abcdefghij/);
    });
  }

  it('the store URL in ir.yaml is used when neither --store nor IR_STORE is set; IR_STORE wins', () => {
    const r = withYaml('store: postgres://nobody@127.0.0.1:1/ir\n', ['store', 'status', '--json'], { PGCONNECT_TIMEOUT: '2' });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/postgres:\/\/nobody@127\.0\.0\.1:1\/ir/);
    const local = withYaml('store: postgres://nobody@127.0.0.1:1/ir\n', ['store', 'status', '--json'], { IR_STORE: join(home, 'ir.db') });
    expect(local.code, local.stderr).toBe(0);
    expect(json<{ backend: string }>(local).backend).toBe('sqlite');
  });

  it('timezone wins over severities.yaml comms.timezone; redaction patterns reach outgoing text', () => {
    writeFileSync(join(dir, 'severities.yaml'), readFileSync(join(ROOT, 'runbooks', 'severities.yaml'), 'utf8') + '\ncomms:\n  timezone: America/New_York\n');
    writeFileSync(join(dir, 'ir.yaml'), 'timezone: Asia/Tokyo\nredaction:\n  - "ticket-(\\\\d{6})"\n');
    const env = { IR_RUNBOOKS: dir };
    expect(ir(home, ['declare', '-t', 'Checkout ticket-424242 broken', '-s', 'SEV-2', '--service', 'checkout'], { env }).code).toBe(0);
    const customer = ir(home, ['comms', 'customer', '--preview'], { env });
    expect(customer.code, customer.stderr).toBe(0);
    expect(customer.stdout).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} (JST|GMT\+9)/);
    const update = ir(home, ['comms', 'update', '--preview'], { env });
    expect(update.stdout).not.toContain('424242');
    expect(update.stdout).toMatch(/ticket-\[REDACTED-CUSTOM-1\]/);
    rmSync(join(dir, 'severities.yaml'));
  });

  describe('the JSON Schema agrees with the checks', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'runbooks', 'ir.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const check = (text: string) => checkTeamConfig(YamlSource.parse('ir.yaml', text).source!).problems;
    it('accepts the minimal and the full example', () => {
      for (const text of [MINIMAL, FULL]) {
        expect(check(text)).toEqual([]);
        expect(validate(YamlSource.parse('ir.yaml', text).source!.data), JSON.stringify(validate.errors)).toBe(true);
      }
    });
    it('rejects unknown keys, wrong types and literal secret keys', () => {
      for (const name of ['unknown key', 'unknown top-level key', 'wrong type', 'section of the wrong type', 'literal secret key']) {
        const text = BAD[name].text;
        expect(check(text).length, name).toBeGreaterThan(0);
        expect(validate(YamlSource.parse('ir.yaml', text).source!.data), name).toBe(false);
      }
    });
  });
});
