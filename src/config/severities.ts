// Loads severities.yaml: validates it against the format and reports every problem with its position.

import { DURATION_HINT, parseDuration } from '../util/duration.js';
import type { EscalationStep, SeverityConfig, SeverityLevel } from '../core/severity.js';
import { problemsError, YamlSource, type Problem, type YamlPath } from './yaml.js';
import { isTimeZone } from '../report/zone.js';
import { DEFAULT_REGIMES, type Regime } from '../core/regime.js';

const LEVEL_KEYS = new Set(['id', 'name', 'definition', 'respond_within', 'resolve_within', 'update_every', 'examples', 'description']);
const ESCALATION_KEYS = new Set(['after', 'notify', 'contact']);
const COMMS_KEYS = new Set(['timezone']);
const REGIME_KEYS = new Set(['id', 'name', 'notify', 'within', 'description']);
const REGIME_ID = /^[a-z][a-z0-9-]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function loadSeverities(file: string, displayName = file): SeverityConfig {
  return severitiesOf(YamlSource.load(file, displayName));
}

/** The definitions in `text` (read from displayName); throws a UserError listing every problem. */
export function severitiesFromText(text: string, displayName: string): SeverityConfig {
  const { source, problems } = YamlSource.parse(displayName, text);
  if (!source) throw problemsError(problems);
  return severitiesOf(source);
}

function severitiesOf(source: YamlSource): SeverityConfig {
  const { config, problems } = checkSeverities(source);
  if (problems.length) throw problemsError(problems);
  return config;
}

export function checkSeverities(source: YamlSource): { config: SeverityConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = (path: YamlPath, message: string, key = false) => problems.push(source.problem(path, message, key));
  const regimes = DEFAULT_REGIMES.map((r) => ({ ...r }));
  const config: SeverityConfig = { file: source.file, levels: [], escalation: [], regimes };
  const data = source.data;

  if (!isRecord(data)) {
    at([], 'expected a mapping with `levels:` (a list of severity levels, most severe first)');
    return { config, problems };
  }
  for (const key of Object.keys(data)) {
    if (key !== 'levels' && key !== 'escalation' && key !== 'comms' && key !== 'regimes') at([key], `unknown field "${key}": expected levels, escalation, comms or regimes`, true);
  }

  const str = (path: YamlPath, v: unknown, field: string, required: boolean): string | undefined => {
    if (v === undefined || v === null) {
      if (required) at(path.slice(0, -1), `missing "${field}"`);
      return undefined;
    }
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string' || v.trim() === '') {
      at(path, `"${field}" must be a non-empty string`);
      return undefined;
    }
    return v;
  };
  const dur = (path: YamlPath, v: unknown, field: string, required: boolean): number | undefined => {
    if (v === undefined || v === null) {
      if (required) at(path.slice(0, -1), `missing "${field}": expected ${DURATION_HINT}`);
      return undefined;
    }
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined) at(path, `"${field}" is ${JSON.stringify(v)}: expected ${DURATION_HINT}`);
    return ms;
  };

  if (!Array.isArray(data.levels) || data.levels.length === 0) {
    at(data.levels === undefined ? [] : ['levels'], '"levels" must be a non-empty list of severity levels, most severe first');
  } else {
    const seen = new Map<string, number>();
    data.levels.forEach((raw, i) => {
      const base: YamlPath = ['levels', i];
      if (!isRecord(raw)) {
        at(base, 'each level must be a mapping with id, name, definition, respond_within, resolve_within');
        return;
      }
      for (const key of Object.keys(raw)) {
        if (!LEVEL_KEYS.has(key)) at([...base, key], `unknown field "${key}" in a severity level`, true);
      }
      const id = str([...base, 'id'], raw.id, 'id', true);
      if (id !== undefined) {
        if (seen.has(id)) at([...base, 'id'], `duplicate severity id "${id}" (also level ${seen.get(id)! + 1})`);
        else seen.set(id, i);
      }
      const level: Partial<SeverityLevel> = {
        id,
        name: str([...base, 'name'], raw.name, 'name', false) ?? id,
        definition: str([...base, 'definition'], raw.definition ?? raw.description, 'definition', true),
        respondWithin: dur([...base, 'respond_within'], raw.respond_within, 'respond_within', true),
        resolveWithin: dur([...base, 'resolve_within'], raw.resolve_within, 'resolve_within', true),
        updateEvery: dur([...base, 'update_every'], raw.update_every, 'update_every', false),
        examples: [],
      };
      if (raw.examples !== undefined) {
        if (!Array.isArray(raw.examples) || raw.examples.some((e) => typeof e !== 'string')) {
          at([...base, 'examples'], '"examples" must be a list of strings');
        } else {
          level.examples = raw.examples as string[];
        }
      }
      if (level.id && level.definition && level.respondWithin !== undefined && level.resolveWithin !== undefined) {
        config.levels.push(level as SeverityLevel);
      }
    });
  }

  if (data.escalation !== undefined) {
    if (!Array.isArray(data.escalation)) {
      at(['escalation'], '"escalation" must be a list of {after, notify, contact}');
    } else {
      data.escalation.forEach((raw, i) => {
        const base: YamlPath = ['escalation', i];
        if (!isRecord(raw)) {
          at(base, 'each escalation step must be a mapping with after and notify');
          return;
        }
        for (const key of Object.keys(raw)) {
          if (!ESCALATION_KEYS.has(key)) at([...base, key], `unknown field "${key}" in an escalation step`, true);
        }
        const after = dur([...base, 'after'], raw.after, 'after', true);
        const notify = str([...base, 'notify'], raw.notify, 'notify', true);
        const contact = str([...base, 'contact'], raw.contact, 'contact', false);
        if (after !== undefined && notify !== undefined) {
          const step: EscalationStep = { after, notify };
          if (contact !== undefined) step.contact = contact;
          config.escalation.push(step);
        }
      });
      config.escalation.sort((a, b) => a.after - b.after);
    }
  }
  if (data.comms !== undefined && data.comms !== null) {
    if (!isRecord(data.comms)) {
      at(['comms'], '"comms" must be a mapping, e.g. `timezone: Europe/Berlin`');
    } else {
      for (const key of Object.keys(data.comms)) {
        if (!COMMS_KEYS.has(key)) at(['comms', key], `unknown field "${key}" in comms: expected timezone`, true);
      }
      const tz = str(['comms', 'timezone'], data.comms.timezone, 'timezone', false);
      if (tz !== undefined) {
        if (isTimeZone(tz)) config.comms = { timezone: tz };
        else at(['comms', 'timezone'], `"timezone" is ${JSON.stringify(tz)}: expected an IANA time zone such as Europe/Berlin, America/New_York or UTC`);
      }
    }
  }
  if (data.regimes !== undefined && data.regimes !== null) checkRegimes(data.regimes, regimes, at, str);
  return { config, problems };
}

/**
 * The `regimes:` list: each entry overrides the built-in regime of the same id or adds one. "Within"
 * may be 0 or `immediately`: the clock is then due at discovery.
 */
function checkRegimes(
  raw: unknown,
  regimes: Regime[],
  at: (path: YamlPath, message: string, key?: boolean) => void,
  str: (path: YamlPath, v: unknown, field: string, required: boolean) => string | undefined,
): void {
  if (!Array.isArray(raw)) {
    at(['regimes'], '"regimes" must be a list of {id, name, notify, within, description}');
    return;
  }
  const seen = new Map<string, number>();
  raw.forEach((entry, i) => {
    const base: YamlPath = ['regimes', i];
    if (!isRecord(entry)) {
      at(base, 'each regime must be a mapping with id, name, notify and within');
      return;
    }
    for (const key of Object.keys(entry)) {
      if (!REGIME_KEYS.has(key)) at([...base, key], `unknown field "${key}" in a regime: expected id, name, notify, within or description`, true);
    }
    const id = str([...base, 'id'], entry.id, 'id', true);
    if (id !== undefined && !REGIME_ID.test(id)) {
      at([...base, 'id'], `regime id "${id}" must be a lower-case word such as gdpr or pci (it is typed as \`--regime ${id.toLowerCase()}\`)`);
      return;
    }
    if (id !== undefined) {
      if (seen.has(id)) at([...base, 'id'], `duplicate regime id "${id}" (also regime ${seen.get(id)! + 1})`);
      else seen.set(id, i);
    }
    const name = str([...base, 'name'], entry.name, 'name', false);
    const notify = str([...base, 'notify'], entry.notify, 'notify', false);
    const description = str([...base, 'description'], entry.description, 'description', false);
    let withinMs: number | undefined;
    const w = entry.within;
    if (w === 0 || w === 'immediately' || w === '0') withinMs = 0;
    else if (typeof w === 'string') withinMs = parseDuration(w);
    if (w !== undefined && w !== null && withinMs === undefined) at([...base, 'within'], `"within" is ${JSON.stringify(w)}: expected ${DURATION_HINT}, or immediately`);
    if (id === undefined) return;
    const existing = regimes.find((r) => r.id === id);
    if (existing) {
      // Overriding a built-in: what the entry leaves out stays as the default says.
      if (name !== undefined) existing.name = name;
      if (notify !== undefined) existing.notify = notify;
      if (withinMs !== undefined) existing.withinMs = withinMs;
      if (description !== undefined) existing.description = description;
      return;
    }
    if (notify === undefined) at(base, `regime "${id}" is new: it needs "notify" (who must be told)`);
    if ((w === undefined || w === null) && withinMs === undefined) at(base, `regime "${id}" is new: it needs "within" (${DURATION_HINT}, or immediately)`);
    if (notify !== undefined && withinMs !== undefined) regimes.push({ id, name: name ?? id.toUpperCase(), notify, withinMs, ...(description !== undefined ? { description } : {}) });
  });
}
