// What the benchmarks measure of a spawned process besides time: its peak RSS (VmHWM), sampled
// from /proc while it runs, since Node reports a child's maxRSS only for synchronous spawns.
import { readFileSync } from 'node:fs';

/** Samples the process's VmHWM every `everyMs` until stop(), which returns the peak in KiB. */
export function samplePeak(pid, everyMs) {
  let peakKiB = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch {
      /* exited */
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peakKiB;
    },
  };
}
