// A real pseudo-terminal for interactive tests: ir runs inside a detached tmux session; the test
// types with send-keys and reads the screen with capture-pane.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { BIN, irEnv, tempHome } from './cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function haveTmux(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

export class TmuxSession {
  private readonly socket: string;
  private readonly name = 'ir';
  readonly exitFile: string;

  /** Starts `ir args` in a 160×50 terminal (or `size`); its exit code lands in exitFile. */
  constructor(home: string, args: string[], env: Record<string, string | undefined> = {}, cwd?: string, size = { width: 160, height: 50 }) {
    this.socket = `ir-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.exitFile = join(home, `exit-${this.socket}`);
    const vars = irEnv(home, { CI: undefined, TERM: 'xterm-256color', ...env });
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const exports = Object.entries(vars)
      .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `export ${k}=${quote(v!)};`)
      .join(' ');
    const unsets = ['CI', 'GITHUB_ACTIONS'].map((k) => (vars[k] === undefined ? `unset ${k};` : '')).join(' ');
    const command = `${exports} ${unsets} ${cwd ? `cd ${quote(cwd)};` : ''} ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}; echo $? > ${quote(this.exitFile)}; sleep 600`;
    execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', String(size.width), '-y', String(size.height), 'sh', '-c', command]);
  }

  screen(): string {
    return execFileSync('tmux', ['-L', this.socket, 'capture-pane', '-p', '-t', this.name, '-S', '-200'], { encoding: 'utf8' });
  }

  /** Sends keys: literal text, or tmux key names such as Enter, Down, C-c. */
  keys(...keys: string[]): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', '-t', this.name, ...keys]);
  }

  type(text: string): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', '-t', this.name, '-l', '--', text]);
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      if (pattern.test(last)) return last;
      await sleep(100);
    }
    throw new Error(`screen never showed ${pattern}; it shows:\n${last}`);
  }

  async exitCode(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(this.exitFile)) {
        const text = readFileSync(this.exitFile, 'utf8').trim();
        if (text) return Number(text);
      }
      await sleep(100);
    }
    throw new Error(`ir did not exit; screen:\n${this.screen()}`);
  }

  /** Resizes the terminal (ir receives SIGWINCH), e.g. to check a layout at 80 columns. */
  resize(columns: number, rows: number): void {
    execFileSync('tmux', ['-L', this.socket, 'resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows)]);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

/**
 * A suite's temporary home and its terminal: `open()` starts ir in a fresh tmux session (ending
 * the previous one); the suite's hooks end the last session after each test and remove the home.
 */
export function terminalSuite(): { readonly home: string; open(args: string[], env?: Record<string, string | undefined>): TmuxSession } {
  let home = '';
  let cleanup = () => {};
  let current: TmuxSession | undefined;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterEach(() => current?.kill());
  afterAll(() => cleanup());
  return {
    get home() {
      return home;
    },
    open(args, env = {}) {
      current?.kill();
      current = new TmuxSession(home, args, env);
      return current;
    },
  };
}
