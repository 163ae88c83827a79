// One incident read out of any store whole (events, runbook runs, evidence collections with their
// file records), in the shape the team store's import takes.

import type { ImportSource } from './postgres/store.js';
import type { Store } from './types.js';

export async function readIncident(store: Store, origin: string, incidentId: string): Promise<ImportSource> {
  const src: ImportSource = { origin, incidentId, events: await store.events(incidentId), runs: await store.runs.forIncident(incidentId), collections: [] };
  for (const record of await store.evidence.forIncident(incidentId)) {
    src.collections.push({ record, files: await store.evidence.files(record.id), opened: await store.evidence.opened(record.id) });
  }
  return src;
}
