// What every text that leaves the machine (postmortem, status message) shares: secrets replaced
// by placeholders unless a human said --no-redact, and the chain head it was rendered at, which a
// team can later check with `ir timeline --verify --head SEQ:HASH`.

import type { Incident, TimelineEvent } from '../core/incident.js';
import type { Redactor } from '../redact/redactor.js';

/** The incident's chain head as `SEQ:HASH`: its last event when the text was rendered. */
export function chainHead(events: TimelineEvent[]): string | undefined {
  const last = events.at(-1);
  return last ? `${last.seq}:${last.hash}` : undefined;
}

/**
 * A redactor for one outgoing text, or none with --no-redact. Loads the scanner on first use.
 * `patterns` are the team's own (ir.yaml `redaction`), on top of the built-in rules.
 */
export async function outgoingRedactor(redact: boolean | undefined, patterns: string[] = []): Promise<Redactor | undefined> {
  if (redact === false) return undefined;
  const { Redactor } = await import('../redact/redactor.js');
  return new Redactor(patterns);
}

/**
 * The incident and its events with every string redacted, before a template sees them: a value
 * is found in its own field, before a table cell folds its lines or escapes its pipes. Seq and
 * hashes are untouched (they are not secrets, and the chain head must stay checkable).
 */
export async function redactRecord(redactor: Redactor | undefined, incident: Incident, events: TimelineEvent[]): Promise<{ incident: Incident; events: TimelineEvent[] }> {
  if (!redactor) return { incident, events };
  const [safeIncident, datas] = await redactor.redactDeep([incident, events.map((e) => e.data)] as const);
  return { incident: safeIncident, events: events.map((e, i) => ({ ...e, data: datas[i] })) };
}

/** The stderr line that says what redaction did (or that it was off). */
export function redactionNote(redactor: Redactor | undefined, what: string): string {
  if (!redactor) return `Redaction is OFF (--no-redact): ${what} carries every value exactly as recorded.`;
  return redactor.total ? `Redacted ${redactor.summary()} in ${what}.` : '';
}
