// Collection progress on stderr: on a terminal, one live line per collector (state and bytes),
// redrawn in place at most ten times a second; otherwise one plain line per state change, which
// reads well in CI logs and `script` transcripts.

import type { OutStream } from '../io/streams.js';
import type { CollectorState, SchedulerEvents } from './scheduler.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

interface Line {
  name: string;
  state: CollectorState;
  bytes: number;
  reason?: string;
  started?: number;
}

export class Progress implements SchedulerEvents {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private readonly width: number;

  constructor(
    private readonly out: OutStream,
    private readonly live: boolean,
    private readonly quiet = false,
  ) {
    this.width = Math.max(40, (out.columns ?? 100) - 1);
  }

  onState(name: string, state: CollectorState, bytes: number, reason?: string): void {
    const line = this.lines.get(name) ?? { name, state, bytes };
    line.state = state;
    line.bytes = bytes;
    line.reason = reason;
    if (state === 'running') line.started = Date.now();
    this.lines.set(name, line);
    if (this.quiet) return;
    if (this.live) return this.schedule();
    if (state === 'queued') return;
    this.out.write(`${this.text(line)}\n`);
  }

  onBytes(name: string, bytes: number): void {
    const line = this.lines.get(name);
    if (!line) return;
    line.bytes = bytes;
    if (this.live && !this.quiet) this.schedule();
  }

  private text(l: Line): string {
    const secs = l.started && l.state === 'running' ? ` ${Math.floor((Date.now() - l.started) / 1000)}s` : '';
    const t = `${l.name.padEnd(22)} ${l.state.padEnd(8)} ${formatBytes(l.bytes).padStart(9)}${secs}${l.reason ? `  ${l.reason}` : ''}`;
    return t.length > this.width ? `${t.slice(0, this.width - 1)}…` : t;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
    this.timer.unref();
  }

  private draw(): void {
    let s = this.drawn ? `\u001b[${this.drawn}A` : '';
    for (const l of this.lines.values()) s += `\u001b[2K${this.text(l)}\n`;
    this.drawn = this.lines.size;
    this.out.write(s);
  }

  /** Final redraw, so the terminal shows every collector's last state. */
  end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.live && !this.quiet) this.draw();
  }
}
