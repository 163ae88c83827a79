// What this machine last saw of the team store: the incidents and the timelines it read or wrote, so
// that with the network down `ir status` and `ir timeline` still show something, marked as of when.
// Plain files (no database to open on every command); a cache, so a lost write only makes it older.

import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Incident, TimelineEvent } from '../../core/incident.js';

interface IncidentsFile {
  asOf: string;
  incidents: Record<string, Incident>;
}

const safe = (id: string) => id.replace(/[^A-Za-z0-9_.-]/g, '_');

export class LastSeen {
  constructor(private readonly dir: string) {}

  private write(file: string, text: string): void {
    mkdirSync(join(this.dir, 'events'), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
  }

  private read(): IncidentsFile | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'incidents.json'), 'utf8')) as IncidentsFile;
    } catch {
      return undefined;
    }
  }

  /** When the team store was last reached for incidents, or undefined when never from this home. */
  asOf(): string | undefined {
    return this.read()?.asOf;
  }

  incidents(): Incident[] {
    return Object.values(this.read()?.incidents ?? {});
  }

  incident(id: string): Incident | undefined {
    return this.read()?.incidents[id];
  }

  /** Records incidents as read now; `complete` means these are all there are (open ones dropped if absent). */
  putIncidents(list: Incident[], complete: 'all' | 'open' | 'some', at: Date): void {
    const known = this.read()?.incidents ?? {};
    const next: Record<string, Incident> = complete === 'all' ? {} : { ...known };
    if (complete === 'open') for (const [id, inc] of Object.entries(next)) if (inc.state !== 'resolved') delete next[id];
    for (const inc of list) next[inc.id] = inc;
    this.write(join(this.dir, 'incidents.json'), JSON.stringify({ asOf: at.toISOString(), incidents: next }));
  }

  /**
   * The cached timeline, as far as it links: from the declaration, each event's prev_hash naming the
   * one before. Processes of one home write this copy at once; a stretch one of them cut is left out.
   */
  events(id: string): TimelineEvent[] {
    let lines: string[];
    try {
      lines = readFileSync(join(this.dir, 'events', `${safe(id)}.ndjson`), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
    const out: TimelineEvent[] = [];
    for (const line of lines) {
      let e: TimelineEvent;
      try {
        e = JSON.parse(line) as TimelineEvent;
      } catch {
        break;
      }
      const linked = out.length ? e.prevHash === out[out.length - 1].hash : e.type === 'incident.declared';
      if (!linked) break;
      out.push(e);
    }
    return out;
  }

  /** The whole timeline as just read. */
  putEvents(id: string, events: TimelineEvent[]): void {
    const base = join(this.dir, 'events', safe(id));
    this.write(`${base}.ndjson`, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.write(`${base}.head`, events.length ? events[events.length - 1].hash : '');
  }

  /**
   * putEvents for a timeline read as a stream: each event is added as it passes, the copy replaces
   * the cached one only when the whole timeline went by (`commit`); `close` without it drops it.
   */
  eventWriter(id: string): { add(e: TimelineEvent): void; commit(): void; close(): void } {
    const base = join(this.dir, 'events', safe(id));
    const tmp = `${base}.ndjson.${process.pid}.tmp`;
    let lines: string[] = [];
    let size = 0;
    let last = '';
    let started = false;
    let done = false;
    const flush = () => {
      if (!started) {
        mkdirSync(join(this.dir, 'events'), { recursive: true, mode: 0o700 });
        writeFileSync(tmp, '', { mode: 0o600 });
        started = true;
      }
      if (lines.length) appendFileSync(tmp, lines.join(''));
      lines = [];
      size = 0;
    };
    return {
      add: (e) => {
        const line = `${JSON.stringify(e)}\n`;
        lines.push(line);
        size += line.length;
        last = e.hash;
        if (size >= 256 * 1024) flush();
      },
      commit: () => {
        flush();
        renameSync(tmp, `${base}.ndjson`);
        this.write(`${base}.head`, last);
        done = true;
      },
      close: () => {
        if (!done && started) rmSync(tmp, { force: true });
      },
    };
  }

  /** Events just written: appended when they continue what is cached, otherwise the cached copy is dropped. */
  addEvents(id: string, events: TimelineEvent[]): void {
    if (!events.length) return;
    const base = join(this.dir, 'events', safe(id));
    let head: string | undefined;
    try {
      head = readFileSync(`${base}.head`, 'utf8');
    } catch {
      head = undefined;
    }
    const first = events[0];
    if (head === undefined ? first.type !== 'incident.declared' : head !== first.prevHash) {
      rmSync(`${base}.ndjson`, { force: true });
      rmSync(`${base}.head`, { force: true });
      return;
    }
    mkdirSync(join(this.dir, 'events'), { recursive: true, mode: 0o700 });
    appendFileSync(`${base}.ndjson`, events.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
    this.write(`${base}.head`, events[events.length - 1].hash);
  }
}
