// Shared path of the commands that add to an incident's timeline: pick the incident, append, report.

import type { Context } from '../../context.js';
import type { Incident, TimelineEvent } from '../../core/incident.js';
import type { Decide } from '../../store/types.js';
import { describeEvent } from '../../core/describe.js';

/**
 * Appends what `decide` returns to the current incident inside one write transaction, then prints
 * the incident and the new events (--json) or one line per event.
 */
export async function appendToIncident(
  ctx: Context,
  decide: Decide,
  explicitId?: string,
): Promise<{ incident: Incident; events: TimelineEvent[] }> {
  const target = await ctx.currentIncident(explicitId);
  const store = await ctx.store();
  const now = ctx.now();
  const result = await store.append(target.id, decide, now, ctx.actor());
  if (ctx.json) {
    // Only the --json document needs the SLA view and the renderers: `ir note TEXT` loads neither.
    const [{ slaView }, { eventJson, incidentJson }] = await Promise.all([import('../../core/sla.js'), import('./render.js')]);
    const config = await ctx.severities();
    ctx.printJson({ incident: incidentJson(result.incident, slaView(result.incident, config, now), now), events: result.events.map(eventJson) });
  } else {
    for (const e of result.events) ctx.out(`${result.incident.id}: ${describeEvent(e)}`);
  }
  return result;
}
