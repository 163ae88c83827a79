// Loads severities.yaml: validates it against the format and reports every problem with its position.

import { DURATION_HINT, parseDuration } from '../util/duration.js';
import type { EscalationStep, SeverityConfig, SeverityLevel } from '../core/severity.js';
import { problemsError, YamlSource, type Problem, type YamlPath } from './yaml.js';
import { isTimeZone } from '../report/zone.js';

const LEVEL_KEYS = new Set(['id', 'name', 'definition', 'respond_within', 'resolve_within', 'update_every', 'examples', 'description']);
const ESCALATION_KEYS = new Set(['after', 'notify', 'contact']);
const COMMS_KEYS = new Set(['timezone']);

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
  const config: SeverityConfig = { file: source.file, levels: [], escalation: [] };
  const data = source.data;

  if (!isRecord(data)) {
    at([], 'expected a mapping with `levels:` (a list of severity levels, most severe first)');
    return { config, problems };
  }
  for (const key of Object.keys(data)) {
    if (key !== 'levels' && key !== 'escalation' && key !== 'comms') at([key], `unknown field "${key}": expected levels, escalation or comms`, true);
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
  return { config, problems };
}
