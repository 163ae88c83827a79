// Wake-ups for live views (`timeline --follow`, `status --watch`): a store says "look again", never
// what changed, so wakes that arrive before the reader looks are one, and a lost one costs nothing
// as long as the reader re-reads everything after the last seq it saw.

/** A stream of wake-ups that ends when its signal aborts. */
export class Wakeups implements AsyncIterable<void> {
  private pending = false;
  private ended: boolean;
  private waiter: (() => void) | undefined;

  constructor(signal: AbortSignal) {
    this.ended = signal.aborted;
    signal.addEventListener('abort', () => this.end(), { once: true });
  }

  wake(): void {
    if (this.ended) return;
    this.pending = true;
    this.waiter?.();
  }

  end(): void {
    this.ended = true;
    this.waiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<void> {
    for (;;) {
      if (!this.pending && !this.ended) await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
      if (this.ended) return;
      this.pending = false;
      yield;
    }
  }
}

/** Resolves after ms, or at once when the signal aborts (never rejects: stopping is not an error). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
