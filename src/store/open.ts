// Chooses the store backend for a location. Today every location is a SQLite file path; a team
// store URL (postgres://…) will be recognised here, and its driver loaded only then.

import type { Store } from './types.js';

export async function openStore(location: string): Promise<Store> {
  const { SqliteStore } = await import('./sqlite/store.js');
  return SqliteStore.open(location);
}
