// Who a step's process is, from /proc: enough to find it again after ir itself was killed, and to
// tell it apart from an unrelated process that was later given the same pid.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot. With the boot id it names one process for good. */
  startTicks: number;
  bootId: string;
  /** Wall-clock start (boot time + start ticks), for people to read. */
  startedAt: string;
  host: string;
}

interface Stat {
  state: string;
  pgrp: number;
  startTicks: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], pgrp: Number(rest[2]), startTicks: Number(rest[19]) };
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim()) || 100;
    } catch {
      // USER_HZ is 100 on every architecture Linux runs ir on.
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function bootTimeMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('btime '));
    return line ? Number(line.slice(6)) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The identity of a live process, or undefined when there is no /proc entry for it. */
export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  if (!stat || !Number.isFinite(stat.startTicks)) return undefined;
  const boot = bootTimeMs();
  const startedAt = boot !== undefined ? new Date(boot + (stat.startTicks * 1000) / clockTicks()).toISOString() : new Date().toISOString();
  return { pid, startTicks: stat.startTicks, bootId: bootId(), startedAt, host: hostname() };
}

const ended = (state: string) => state === 'Z' || state === 'X';

/**
 * Whether the process (or anything left in its process group) still runs. `elsewhere` when it was
 * started on another host or before a reboot, where this machine cannot see it.
 */
export function processState(id: Pick<ProcessIdentity, 'pid' | 'startTicks' | 'bootId' | 'host'>): 'running' | 'gone' | 'elsewhere' {
  if (id.host !== hostname()) return 'elsewhere';
  if (id.bootId && bootId() && id.bootId !== bootId()) return 'gone';
  const leader = readStat(id.pid);
  if (leader) {
    // Same pid, another start time: ours ended and the number was handed to someone else.
    if (leader.startTicks !== id.startTicks) return 'gone';
    if (!ended(leader.state)) return 'running';
  }
  // The leader is gone but its group may not be (a pipeline's other half, a backgrounded child).
  // The kernel does not reuse a pid while a group still carries it, so members are ours.
  return groupMembers(id.pid).length ? 'running' : 'gone';
}

/** Live processes whose process group is pgid. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.pgrp === pgid && !ended(stat.state)) out.push(Number(name));
  }
  return out;
}

/** The command line of a live process, for a message; undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ') || undefined;
  } catch {
    return undefined;
  }
}

/** Resolves once the process and its group have ended; rejects with the signal's reason if aborted first. */
export function waitUntilGone(id: Pick<ProcessIdentity, 'pid' | 'startTicks' | 'bootId' | 'host'>, signal?: AbortSignal, pollMs = 250): Promise<void> {
  return new Promise((resolve, reject) => {
    // It is not our child, so there is no exit event to wait on: look again until it is gone.
    const check = () => {
      if (signal?.aborted) return finish(() => reject(signal.reason));
      if (processState(id) !== 'running') return finish(resolve);
    };
    const timer = setInterval(check, pollMs);
    const onAbort = () => check();
    const finish = (fn: () => void) => {
      clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    signal?.addEventListener('abort', onAbort);
    check();
  });
}

/** A process with this pid exists (ours to signal or not); says nothing about which process it is. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
