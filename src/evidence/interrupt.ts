// What ends a collection early: SIGINT, SIGTERM, SIGHUP, or the terminal or pipe ir writes to going
// away (EPIPE, EIO). Each becomes an abort with a reason instead of the default death, so the
// collectors' process groups are ended, their files kept and hashed, and the collection recorded.

import type { IO } from '../io/streams.js';

export interface Interruption {
  /** For the records: "interrupted by SIGTERM", "interrupted: output closed (EPIPE)". */
  reason: string;
  /** The shell's convention, 128 + the signal's number (SIGPIPE for a closed output). */
  exitCode: number;
  /** The stream that went away, if that was the cause: nothing more is written to it. */
  closed?: 'stdout' | 'stderr';
}

const SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
const EXIT_SIGPIPE = 141;

export interface InterruptWatch {
  readonly interruption: Interruption | undefined;
  /** Streams that errored (closed pipe, hung-up terminal) during the watch. */
  readonly closed: ReadonlySet<'stdout' | 'stderr'>;
  /** Stops watching; the process's signal handlers and stream error handlers are as before. */
  dispose(): void;
}

/**
 * Turns the signals and stream errors that would end ir into `onInterrupt`, once (later ones are
 * ignored while the record is finished). Stream errors are caught only on the process's own
 * streams: while watching, the usual "EPIPE means exit now" handler is set aside, since exiting
 * now would leave the collectors running and the collection unrecorded.
 */
export function watchInterruptions(io: IO, onInterrupt: (i: Interruption) => void): InterruptWatch {
  let interruption: Interruption | undefined;
  const closed = new Set<'stdout' | 'stderr'>();
  const fire = (i: Interruption) => {
    if (interruption) return;
    interruption = i;
    onInterrupt(i);
  };
  const handlers = (Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]).map((sig) => {
    const h = () => fire({ reason: `interrupted by ${sig}`, exitCode: SIGNALS[sig] });
    process.on(sig, h);
    return [sig, h] as const;
  });
  const guarded: { stream: NodeJS.WriteStream; name: 'stdout' | 'stderr'; saved: ((...a: unknown[]) => void)[]; h: (err: NodeJS.ErrnoException) => void }[] = [];
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    if ((io[name] as unknown) !== stream) continue;
    const saved = stream.listeners('error') as ((...a: unknown[]) => void)[];
    stream.removeAllListeners('error');
    const h = (err: NodeJS.ErrnoException) => {
      closed.add(name);
      fire({ reason: `interrupted: ${name} closed (${err.code ?? err.message})`, exitCode: EXIT_SIGPIPE, closed: name });
    };
    stream.on('error', h);
    guarded.push({ stream, name, saved, h });
  }
  return {
    get interruption() {
      return interruption;
    },
    closed,
    dispose() {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
      for (const g of guarded) {
        // A stream that already failed stays quietly failed: nothing more will be written to it.
        if (closed.has(g.name)) continue;
        g.stream.removeListener('error', g.h);
        for (const l of g.saved) g.stream.on('error', l);
      }
    },
  };
}
