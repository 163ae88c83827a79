// Chooses the store backend for a location: a postgres:// URL is the team store (its driver loaded
// only then); anything else is a SQLite file path.

import type { Store } from './types.js';

export async function openStore(location: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    const { PostgresStore } = await import('./postgres/store.js');
    return PostgresStore.open(location);
  }
  const { SqliteStore } = await import('./sqlite/store.js');
  return SqliteStore.open(location);
}
