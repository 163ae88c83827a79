// What ends a collection early: SIGINT, SIGTERM, SIGHUP, or the terminal or pipe ir writes to going
// away (EPIPE, EIO). Each becomes an abort with a reason instead of the default death, so the
// collectors' process groups are ended, their files kept and hashed, and the collection recorded.

import { onOutputClosed, type IO } from '../io/streams.js';

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
 * ignored while the record is finished). While watching, a closed output no longer means "exit
 * now" (io/streams.ts), since exiting now would leave the collectors running and the collection
 * unrecorded.
 */
export function watchInterruptions(_io: IO, onInterrupt: (i: Interruption) => void): InterruptWatch {
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
  // A closed stdout/stderr (EPIPE, or EIO from a vanished terminal) is taken over from the default
  // "exit quietly" for as long as the collection runs.
  const release = onOutputClosed((name, code) => {
    closed.add(name);
    fire({ reason: `interrupted: ${name} closed (${code})`, exitCode: EXIT_SIGPIPE, closed: name });
  });
  return {
    get interruption() {
      return interruption;
    },
    closed,
    dispose() {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
      release();
    },
  };
}
