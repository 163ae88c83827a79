// Loads ir.yaml, the team's integrations file (paging, chat, escalation targets, time zone, extra
// redaction, team store): checks it by hand like severities.yaml, every problem with file:line:col.
// The checks mirror runbooks/ir.schema.json (which editors use for completion); keeping them in this
// one module lets the validator be swapped for a compiled schema without touching its callers.

import { hostname } from 'node:os';
import { problemsError, YamlSource, type Problem, type YamlPath } from './yaml.js';
import { isTimeZone } from '../report/zone.js';

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
export type OpsgeniePriority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';

export interface PagerDutyConfig {
  routingKeyEnv: string;
  eventsUrl: string;
  source: string;
  /** Severity id → PagerDuty severity; levels not named fall back to defaultPagerDutySeverity. */
  severity: Record<string, PagerDutySeverity>;
  component?: string;
  group?: string;
  class?: string;
}

export interface OpsgenieConfig {
  apiKeyEnv: string;
  apiUrl: string;
  source: string;
  priority: Record<string, OpsgeniePriority>;
}

export interface SlackConfig {
  /** A bot token: chat.postMessage, threads. */
  tokenEnv?: string;
  channel?: string;
  apiUrl: string;
  /** An incoming webhook: one message per post, no threads. */
  webhookUrlEnv?: string;
}

/** Who one level of severities.yaml's escalation chain pages, named by that step's `notify`. */
export interface EscalationTarget {
  notify: string;
  routingKeyEnv?: string;
  opsgenieEscalation?: string;
}

export interface TeamConfig {
  /** As shown to the user; undefined when the team has no ir.yaml. */
  file?: string;
  pagerduty?: PagerDutyConfig;
  opsgenie?: OpsgenieConfig;
  slack?: SlackConfig;
  escalation: EscalationTarget[];
  timezone?: string;
  redaction: string[];
  store?: string;
}

export const EMPTY_TEAM_CONFIG: TeamConfig = { escalation: [], redaction: [] };

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const OPSGENIE_API_URL = 'https://api.opsgenie.com';
export const SLACK_API_URL = 'https://slack.com/api';

const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
const OG_PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;

/** SEV-0/1 critical, SEV-2 error, SEV-3 warning, anything else info: for teams that map nothing. */
export function defaultPagerDutySeverity(level: string): PagerDutySeverity {
  const n = /^SEV-?(\d+)$/i.exec(level)?.[1];
  if (n === '0' || n === '1') return 'critical';
  if (n === '2') return 'error';
  if (n === '3') return 'warning';
  return 'info';
}

/** SEV-0 P1 … SEV-3 P4, anything else P5. */
export function defaultOpsgeniePriority(level: string): OpsgeniePriority {
  const n = Number(/^SEV-?(\d+)$/i.exec(level)?.[1] ?? NaN);
  return Number.isInteger(n) && n >= 0 && n <= 3 ? (`P${n + 1}` as OpsgeniePriority) : 'P5';
}

const TOP_KEYS = ['pagerduty', 'opsgenie', 'slack', 'escalation', 'timezone', 'redaction', 'store'];
const SECTION_KEYS: Record<string, string[]> = {
  pagerduty: ['routing_key_env', 'events_url', 'source', 'severity', 'component', 'group', 'class'],
  opsgenie: ['api_key_env', 'api_url', 'source', 'priority'],
  slack: ['token_env', 'channel', 'api_url', 'webhook_url_env'],
  escalation: ['notify', 'routing_key_env', 'opsgenie_escalation'],
};
/** Keys people write when they paste the secret itself; each names the *_env key to use instead. */
const LITERAL_KEYS: Record<string, string> = {
  routing_key: 'routing_key_env',
  integration_key: 'routing_key_env',
  token: 'token_env',
  api_key: 'api_key_env',
  webhook_url: 'webhook_url_env',
  password: 'an environment variable (PGPASSWORD or ~/.pgpass)',
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Values that are credentials by their shape, wherever they appear in the file. */
const SECRET_SHAPES: [RegExp, string][] = [
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}/, 'a Slack token'],
  [/hooks\.slack\.com\/services\//i, 'a Slack webhook URL (its path is the secret)'],
  [/^[0-9a-f]{32}$/i, 'a PagerDuty integration key'],
  [/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'an Opsgenie API key'],
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function loadTeamConfig(file: string, displayName = file): TeamConfig {
  const source = YamlSource.load(file, displayName);
  const { config, problems } = checkTeamConfig(source);
  if (problems.length) throw problemsError(problems);
  return config;
}

export function checkTeamConfig(source: YamlSource, host = hostname()): { config: TeamConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = (path: YamlPath, message: string, key = false) => problems.push(source.problem(path, message, key));
  const config: TeamConfig = { file: source.file, escalation: [], redaction: [] };
  const data = source.data;
  if (data === null || data === undefined) return { config, problems };
  if (!isRecord(data)) {
    at([], `expected a mapping with any of ${TOP_KEYS.join(', ')}`);
    return { config, problems };
  }

  // A secret pasted anywhere is refused first, so the message points at the value itself.
  const scan = (v: unknown, path: YamlPath) => {
    if (typeof v === 'string') {
      const shape = SECRET_SHAPES.find(([re]) => re.test(v.trim()));
      if (shape) at(path, `this looks like ${shape[1]}: ir.yaml names the environment variable that holds a secret, never the secret itself`);
    } else if (Array.isArray(v)) v.forEach((x, i) => scan(x, [...path, i]));
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) scan(x, [...path, k]);
  };
  scan(data, []);
  const flagged = new Set(problems.map((p) => `${p.location.line}:${p.location.col}`));
  const fresh = (path: YamlPath) => !flagged.has(`${source.at(path).line}:${source.at(path).col}`);

  const keys = (v: Record<string, unknown>, base: YamlPath, allowed: string[], where: string) => {
    for (const key of Object.keys(v)) {
      if (LITERAL_KEYS[key]) at([...base, key], `"${key}" would put a secret in the file: use ${LITERAL_KEYS[key]} to name the environment variable that holds it`, true);
      else if (!allowed.includes(key)) at([...base, key], `unknown field "${key}"${where}: expected ${allowed.join(', ')}`, true);
    }
  };
  const str = (v: unknown, path: YamlPath, field: string, required = false): string | undefined => {
    if (v === undefined || v === null) {
      if (required) at(path.slice(0, -1), `missing "${field}"`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      at(path, `"${field}" must be a non-empty string, not ${JSON.stringify(v)}`);
      return undefined;
    }
    return v.trim();
  };
  const envName = (v: unknown, path: YamlPath, field: string, required = false): string | undefined => {
    const s = str(v, path, field, required);
    if (s === undefined || !fresh(path)) return undefined;
    if (!ENV_NAME.test(s)) {
      at(path, `"${field}" names an environment variable (such as PD_ROUTING_KEY); ${JSON.stringify(s.length > 12 ? `${s.slice(0, 4)}…` : s)} is not a variable name${s.length >= 16 ? ' and may be a literal secret' : ''}`);
      return undefined;
    }
    return s;
  };
  const url = (v: unknown, path: YamlPath, field: string, fallback: string): string => {
    const s = str(v, path, field);
    if (s === undefined || !fresh(path)) return fallback;
    try {
      const u = new URL(s);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
      if (u.password) {
        at(path, `"${field}" carries a password: remove it (secrets come from environment variables)`);
        return fallback;
      }
      return s.replace(/\/+$/, '');
    } catch {
      at(path, `"${field}" must be an http(s) URL, not ${JSON.stringify(s)}`);
      return fallback;
    }
  };
  const section = (name: string): Record<string, unknown> | undefined => {
    const v = data[name];
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) {
      at([name], `"${name}" must be a mapping (${SECTION_KEYS[name].join(', ')})`);
      return undefined;
    }
    keys(v, [name], SECTION_KEYS[name], ` in ${name}`);
    return v;
  };
  const levelMap = <T extends string>(v: unknown, path: YamlPath, field: string, allowed: readonly T[]): Record<string, T> => {
    const out: Record<string, T> = {};
    if (v === undefined || v === null) return out;
    if (!isRecord(v)) {
      at(path, `"${field}" maps severity ids to ${allowed.join(' | ')}, e.g. {SEV-1: ${allowed[0]}}`);
      return out;
    }
    for (const [level, value] of Object.entries(v)) {
      if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) out[level] = value as T;
      else at([...path, level], `"${field}.${level}" is ${JSON.stringify(value)}: expected ${allowed.join(', ')}`);
    }
    return out;
  };

  for (const key of Object.keys(data)) {
    if (LITERAL_KEYS[key]) at([key], `"${key}" would put a secret in the file: use ${LITERAL_KEYS[key]}`, true);
    else if (!TOP_KEYS.includes(key)) at([key], `unknown field "${key}": expected ${TOP_KEYS.join(', ')}`, true);
  }

  const pd = section('pagerduty');
  if (pd) {
    const routingKeyEnv = envName(pd.routing_key_env, ['pagerduty', 'routing_key_env'], 'routing_key_env', true);
    const eventsUrl = url(pd.events_url, ['pagerduty', 'events_url'], 'events_url', PAGERDUTY_EVENTS_URL);
    const severity = levelMap(pd.severity, ['pagerduty', 'severity'], 'severity', PD_SEVERITIES);
    const extra = Object.fromEntries((['component', 'group', 'class'] as const).map((k) => [k, str(pd[k], ['pagerduty', k], k)]).filter(([, v]) => v !== undefined));
    if (routingKeyEnv) config.pagerduty = { routingKeyEnv, eventsUrl, source: str(pd.source, ['pagerduty', 'source'], 'source') ?? (host || 'ir'), severity, ...extra };
  }
  const og = section('opsgenie');
  if (og) {
    const apiKeyEnv = envName(og.api_key_env, ['opsgenie', 'api_key_env'], 'api_key_env', true);
    const apiUrl = url(og.api_url, ['opsgenie', 'api_url'], 'api_url', OPSGENIE_API_URL);
    const priority = levelMap(og.priority, ['opsgenie', 'priority'], 'priority', OG_PRIORITIES);
    if (apiKeyEnv) config.opsgenie = { apiKeyEnv, apiUrl, source: str(og.source, ['opsgenie', 'source'], 'source') ?? (host || 'ir'), priority };
  }
  const sl = section('slack');
  if (sl) {
    const tokenEnv = envName(sl.token_env, ['slack', 'token_env'], 'token_env');
    const webhookUrlEnv = envName(sl.webhook_url_env, ['slack', 'webhook_url_env'], 'webhook_url_env');
    const channel = str(sl.channel, ['slack', 'channel'], 'channel');
    const apiUrl = url(sl.api_url, ['slack', 'api_url'], 'api_url', SLACK_API_URL);
    if (sl.token_env !== undefined && sl.channel === undefined) at(['slack'], 'missing "channel": a bot posts to a channel id such as C0123ABC');
    if (sl.token_env === undefined && sl.webhook_url_env === undefined) at(['slack'], 'slack needs token_env (a bot token: threads) or webhook_url_env (an incoming webhook)');
    if (tokenEnv || webhookUrlEnv) config.slack = { tokenEnv: tokenEnv && channel ? tokenEnv : undefined, channel, apiUrl, webhookUrlEnv };
  }
  if (data.escalation !== undefined && data.escalation !== null) {
    if (!Array.isArray(data.escalation)) {
      at(['escalation'], '"escalation" must be a list of {notify, routing_key_env, opsgenie_escalation}');
    } else {
      data.escalation.forEach((raw, i) => {
        const base: YamlPath = ['escalation', i];
        if (!isRecord(raw)) {
          at(base, 'each escalation entry must be a mapping: notify (a step of severities.yaml), routing_key_env, opsgenie_escalation');
          return;
        }
        keys(raw, base, SECTION_KEYS.escalation, ' in an escalation entry');
        const notify = str(raw.notify, [...base, 'notify'], 'notify', true);
        const routingKeyEnv = envName(raw.routing_key_env, [...base, 'routing_key_env'], 'routing_key_env');
        const opsgenieEscalation = str(raw.opsgenie_escalation, [...base, 'opsgenie_escalation'], 'opsgenie_escalation');
        if (notify && !routingKeyEnv && !opsgenieEscalation) at(base, `escalation to "${notify}" pages nobody: give routing_key_env and/or opsgenie_escalation`);
        if (notify) config.escalation.push({ notify, ...(routingKeyEnv ? { routingKeyEnv } : {}), ...(opsgenieEscalation ? { opsgenieEscalation } : {}) });
      });
    }
  }
  const tz = str(data.timezone, ['timezone'], 'timezone');
  if (tz !== undefined) {
    if (isTimeZone(tz)) config.timezone = tz;
    else at(['timezone'], `"timezone" is ${JSON.stringify(tz)}: expected an IANA time zone such as Europe/Berlin, America/New_York or UTC`);
  }
  if (data.redaction !== undefined && data.redaction !== null) {
    if (!Array.isArray(data.redaction)) at(['redaction'], '"redaction" must be a list of regular expressions, e.g. ["session=(\\\\w+)"]');
    else
      data.redaction.forEach((p, i) => {
        if (typeof p !== 'string' || !p) return at(['redaction', i], 'each redaction pattern must be a non-empty string');
        try {
          const re = new RegExp(p, 'g');
          if (re.test('')) return at(['redaction', i], `pattern ${JSON.stringify(p)} matches the empty string`);
        } catch (err) {
          return at(['redaction', i], `pattern ${JSON.stringify(p)} is not a valid regular expression: ${(err as Error).message}`);
        }
        config.redaction.push(p);
      });
  }
  const store = str(data.store, ['store'], 'store');
  if (store !== undefined && fresh(['store'])) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(store);
    } catch {
      // handled below
    }
    if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol)) at(['store'], `"store" must be a team store URL such as postgres://ir@db.internal:5432/ir, not ${JSON.stringify(store)}`);
    else if (parsed.password) at(['store'], '"store" carries a password: remove it from the URL; give it in PGPASSWORD or ~/.pgpass');
    else config.store = store;
  }
  return { config, problems };
}
