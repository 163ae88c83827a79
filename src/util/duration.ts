// Durations as runbook and severity authors write them: 90s, 5m, 1h, 1h30m, 2d.

const DURATION_RE = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const m = DURATION_RE.exec(trimmed);
  if (!m) return undefined;
  const [, d, h, min, s] = m;
  return (((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60 + Number(s ?? 0)) * 1000;
}

export const DURATION_HINT = 'a duration such as 90s, 5m, 1h or 1h30m';

/** Compact human form: 0s, 45s, 4m12s, 2h05m, 3d4h. Negative values keep their sign. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${sign}${d}d${h > 0 ? `${h}h` : ''}`;
  if (h > 0) return `${sign}${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${sign}${m}m${s > 0 ? `${String(s).padStart(2, '0')}s` : ''}`;
  return `${sign}${s}s`;
}

/** The canonical spelling of a duration, as written in a runbook: 5m, 1h30m, 90s. */
export function durationToString(ms: number): string {
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(s / size);
    if (n > 0) parts.push(`${n}${unit}`);
    s -= n * size;
  }
  return parts.length ? parts.join('') : '0s';
}
