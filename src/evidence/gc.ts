// Keeps a long stream's memory flat. Every chunk of a pod log arrives in a fresh Buffer whose
// memory lives outside the JavaScript heap; V8 only collects their small wrappers when its young
// generation fills, which a fast stream outruns, so tens of MiB of dead chunks pile up. A cheap
// young-generation collection every few MiB written releases them (ms per call, ~0.5% of the time).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFn = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;
let gc: GcFn | undefined | null = null;

export function collectYoung(): void {
  if (gc === null) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as GcFn;
    } catch {
      gc = undefined;
    }
  }
  gc?.({ type: 'minor' });
}

/**
 * A full collection, once, after the big one-off allocations of start-up (client-node's
 * generated API models): returns that garbage before a long stream begins.
 */
export function collectAll(): void {
  collectYoung();
  gc?.({ type: 'major' });
}
