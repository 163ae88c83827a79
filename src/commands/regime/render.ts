// How a regulatory clock reads on the board, in `ir regime list`, after `ir declare` and in --json.

import type { ChalkInstance } from 'chalk';
import { hoursText, type RegimeView } from '../../core/regime.js';

/**
 * The state of one clock in a phrase: "due 11-24 21:00 (in 49h)", "OVERDUE by 1h (due 11-24 20:00)",
 * "due immediately (at discovery): OVERDUE by 3h", "notified 23h after discovery (ref DPA-1): met".
 * `time` formats an instant (the board uses the responder's zone, lists use UTC).
 */
export function regimeStateText(v: RegimeView, time: (at: Date) => string, style: ChalkInstance): string {
  const c = v.clock;
  const immediately = c.withinMs === 0;
  switch (v.state) {
    case 'running':
      return `due ${time(new Date(c.dueAt))} (in ${hoursText(v.remainingMs)})`;
    case 'overdue':
      // "Immediately" has no due time worth reading: it was due when the breach was discovered.
      return immediately
        ? style.red.bold(`due immediately (discovered ${time(new Date(c.discoveredAt))}): OVERDUE by ${hoursText(v.remainingMs)}`)
        : style.red.bold(`OVERDUE by ${hoursText(v.remainingMs)} (due ${time(new Date(c.dueAt))})`);
    case 'met':
    case 'missed': {
      const after = new Date(c.notifiedAt!).getTime() - new Date(c.discoveredAt).getTime();
      const told = `notified ${after <= 0 ? 'at discovery' : `${hoursText(after)} after discovery`}${c.ref ? ` (ref ${c.ref})` : ''}`;
      return v.state === 'met' ? `${told}: ${style.green('met')}` : `${told}: ${style.red(`MISSED by ${hoursText(v.remainingMs)}`)}`;
    }
    case 'removed':
      return style.dim(`withdrawn: ${c.removedReason ?? ''}`);
  }
}

/** "GDPR  supervisory authority via the DPO  due …": one line per clock, names padded to line up. */
export function regimeLines(views: RegimeView[], time: (at: Date) => string, style: ChalkInstance, indent = '  '): string[] {
  const nameWidth = Math.max(...views.map((v) => v.clock.name.length));
  const notifyWidth = Math.max(...views.map((v) => v.clock.notify.length));
  return views.map((v) => `${indent}${v.clock.name.padEnd(nameWidth)}  ${v.clock.notify.padEnd(notifyWidth)}  ${regimeStateText(v, time, style)}`);
}

export function regimeJson(v: RegimeView) {
  const c = v.clock;
  return {
    regime: c.id,
    name: c.name,
    notify: c.notify,
    within_seconds: c.withinMs / 1000,
    discovered_at: c.discoveredAt,
    due_at: c.dueAt,
    state: v.state,
    remaining_seconds: v.state === 'running' || v.state === 'overdue' ? Math.round(v.remainingMs / 1000) : null,
    notified_at: c.notifiedAt ?? null,
    notified_by: c.notifiedBy ?? null,
    ref: c.ref ?? null,
    started_at: c.startedAt,
    started_by: c.startedBy,
    removed_at: c.removedAt ?? null,
    removed_reason: c.removedReason ?? null,
  };
}
