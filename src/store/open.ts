// Chooses the store backend for a location: a postgres:// URL is the team store (its driver loaded
// only then); anything else is a SQLite file path.

import type { Store, StoreOptions } from './types.js';

// With the opener, so the Context fetches one module for both (the origin goes into every event).
export { originOf } from '../config/origin.js';

export function isTeamUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openStore(location: string, opts: StoreOptions = {}): Promise<Store> {
  if (isTeamUrl(location)) {
    const { PostgresStore } = await import('./postgres/store.js');
    return PostgresStore.open(location, opts);
  }
  const { SqliteStore } = await import('./sqlite/store.js');
  return SqliteStore.open(location, opts);
}
