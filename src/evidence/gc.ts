// Keeps a long stream's memory flat. Every chunk of a pod log arrives in a fresh Buffer whose
// memory lives outside the JavaScript heap; V8 only collects their small wrappers when its young
// generation fills, which a fast stream outruns, so tens of MiB of dead chunks pile up. A cheap
// young-generation collection every few MiB written releases them (ms per call, ~0.5% of the time).
// The count is kept for the whole process, not per file: several logs streaming at once pile up
// their dead chunks together, so a per-file count would let them grow with the number of streams.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFn = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;
let gc: GcFn | undefined | null = null;

/** Bytes written, by every file of the process together, between young-generation collections. */
const GC_EVERY = 8 * 1024 * 1024;
let sinceGc = 0;

export function collectYoung(): void {
  if (gc === null) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as GcFn;
    } catch {
      gc = undefined;
    }
  }
  sinceGc = 0;
  gc?.({ type: 'minor' });
}

/** Counts bytes that went through a stream's short-lived buffers; collects when enough have. */
export function streamed(bytes: number): void {
  sinceGc += bytes;
  if (sinceGc >= GC_EVERY) collectYoung();
}

/**
 * A full collection, once, after the one-off allocations of start-up (the kubeconfig code, the
 * store): returns that garbage before a long stream begins.
 */
export function collectAll(): void {
  collectYoung();
  gc?.({ type: 'major' });
}
