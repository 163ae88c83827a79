// A team's severity levels and escalation chain, and the SLA arithmetic built on them.

import type { Regime } from './regime.js';

export interface SeverityLevel {
  id: string;
  name: string;
  definition: string;
  /** Milliseconds from declaration by which someone must acknowledge. */
  respondWithin: number;
  /** Milliseconds from declaration by which the incident should be resolved. */
  resolveWithin: number;
  /** Status update cadence in milliseconds, when the level asks for regular updates. */
  updateEvery?: number;
  examples: string[];
}

export interface EscalationStep {
  /** Milliseconds after declaration at which this step is due. */
  after: number;
  notify: string;
  contact?: string;
}

export interface SeverityConfig {
  /** Where the definitions came from, for messages. */
  file: string;
  /** Most severe first. */
  levels: SeverityLevel[];
  escalation: EscalationStep[];
  /** How status messages read: `timezone` (IANA name) for the times in customer messages. */
  comms?: { timezone?: string };
  /**
   * Regulatory deadlines: the built-in defaults, overridden or extended by the file's `regimes:`.
   * The loader always sets it; a config built by hand without it means the defaults (regimesOf).
   */
  regimes?: Regime[];
}

/** Finds a level by id, forgiving case and a missing dash (sev1 finds SEV-1). */
export function findLevel(config: SeverityConfig, id: string): SeverityLevel | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  return config.levels.find((l) => l.id === id) ?? config.levels.find((l) => norm(l.id) === norm(id));
}

/** Position in the list: 0 is most severe. */
export function rank(config: SeverityConfig, id: string): number {
  return config.levels.findIndex((l) => l.id === id);
}

export type ClockState = 'met' | 'breached' | 'running' | 'overdue';

export interface SlaClock {
  name: 'respond' | 'resolve' | 'update';
  due: Date;
  state: ClockState;
  /** Positive: time left; negative: time past due. For met/breached, how early/late it stopped. */
  remainingMs: number;
}

/** How an SLA clock stands: stopped (met/breached) when `stoppedAt` is set, else running/overdue. */
export function clock(name: SlaClock['name'], start: Date, within: number, now: Date, stoppedAt?: Date): SlaClock {
  const due = new Date(start.getTime() + within);
  if (stoppedAt) {
    const margin = due.getTime() - stoppedAt.getTime();
    return { name, due, state: margin >= 0 ? 'met' : 'breached', remainingMs: margin };
  }
  const remainingMs = due.getTime() - now.getTime();
  return { name, due, state: remainingMs >= 0 ? 'running' : 'overdue', remainingMs };
}

/** Escalation steps that are due at `elapsedMs` after declaration. */
export function dueEscalations(config: SeverityConfig, elapsedMs: number): EscalationStep[] {
  return config.escalation.filter((s) => s.after <= elapsedMs);
}
