// Finds `{{name}}` values that reach a program which parses a string as shell code again — `sh -c`,
// `eval`, ssh's remote command, `su -c`, `watch`, … — also behind wrappers such as sudo, env,
// timeout, nohup, xargs, find -exec, `kubectl exec … --` and `docker exec`. ir's own quoting keeps
// a value one literal argument of the program it starts; it cannot protect a second parse inside
// that program, so such a runbook is refused at load time.
//
// The command is read the way a shell reads it (words, quotes, `;`, `|`, `&&`, `$(…)`), for both
// `shell: true` commands and plain ones, and every simple command is walked through a table of
// programs: wrappers are looked through to the command they run, re-parsers taint their script
// argument, and anything else is left alone.

import { basename } from 'node:path';

/** A piece of a word: literal text, or text that depends on a value (a `{{name}}`, or `$(…)` containing one). */
type Part = { kind: 'text'; text: string } | { kind: 'var'; name: string; offset: number };
type Word = Part[];

export interface NestedShell {
  /** 0-based offset of the `{{name}}` in the command text. */
  offset: number;
  error: string;
}

const REF = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/y;

/** Reads a command into simple commands (lists of words), recursing into `$(…)` and backticks. */
class Lexer {
  readonly commands: Word[][] = [];
  private words: Word[] = [];
  private word: Word | undefined;
  private skipTarget = false;

  constructor(
    private readonly text: string,
    private i: number,
    /** Stop at this character at top level (`)` for `$(…)`, "`" for backticks). */
    private readonly stop?: string,
  ) {}

  get position(): number {
    return this.i;
  }

  private add(part: Part): void {
    this.word ??= [];
    if (part.kind === 'text') {
      const last = this.word[this.word.length - 1];
      if (last?.kind === 'text') {
        last.text += part.text;
        return;
      }
    }
    this.word.push(part);
  }

  private endWord(): void {
    if (this.word) {
      if (this.skipTarget) this.skipTarget = false;
      else this.words.push(this.word);
    }
    this.word = undefined;
  }

  private endCommand(): void {
    this.endWord();
    if (this.words.length) this.commands.push(this.words);
    this.words = [];
  }

  /** A `{{name}}` at i: added as a value part. */
  private reference(): boolean {
    const t = this.text;
    if (t.startsWith('\\{{', this.i)) {
      this.add({ kind: 'text', text: '{{' });
      this.i += 3;
      return true;
    }
    if (!t.startsWith('{{', this.i)) return false;
    REF.lastIndex = this.i;
    const m = REF.exec(t);
    if (!m) return false;
    this.add({ kind: 'var', name: m[1], offset: this.i });
    this.i += m[0].length;
    return true;
  }

  /** `$(…)` or backticks at i: their commands are read too, and the word depends on any value inside. */
  private substitution(open: number, stop: string): void {
    const inner = new Lexer(this.text, open, stop);
    inner.run();
    this.commands.push(...inner.commands);
    const refs = inner.commands.flat(2).filter((p): p is Extract<Part, { kind: 'var' }> => p.kind === 'var');
    if (refs.length) this.add(refs[0]);
    else this.add({ kind: 'text', text: '\u0000' });
    this.i = inner.position;
  }

  run(): void {
    const t = this.text;
    while (this.i < t.length) {
      if (this.reference()) continue;
      const c = t[this.i];
      if (this.stop && c === this.stop) {
        this.i++;
        break;
      }
      if (c === ' ' || c === '\t') {
        this.endWord();
        this.i++;
      } else if (c === '\n' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
        this.endCommand();
        this.i++;
      } else if (c === '<' || c === '>') {
        // A redirect: its target is not an argument of the command.
        if (this.word && this.word.every((p) => p.kind === 'text' && /^[0-9]*$/.test(p.text))) this.word = undefined;
        this.endWord();
        this.i++;
        while ('<>&|-'.includes(t[this.i] ?? ' ') && this.i < t.length) this.i++;
        this.skipTarget = true;
        while (t[this.i] === ' ' || t[this.i] === '\t') this.i++;
      } else if (c === '#' && this.word === undefined) {
        while (this.i < t.length && t[this.i] !== '\n') this.i++;
      } else if (c === '\\') {
        if (t[this.i + 1] !== '\n' && this.i + 1 < t.length) this.add({ kind: 'text', text: t[this.i + 1] });
        this.i += 2;
      } else if (c === "'") {
        const end = t.indexOf("'", this.i + 1);
        const stop = end < 0 ? t.length : end;
        this.add({ kind: 'text', text: t.slice(this.i + 1, stop) });
        // A {{name}} inside '…' is still filled in by ir before any shell sees it.
        for (const ref of refsIn(t.slice(this.i + 1, stop), this.i + 1)) this.add(ref);
        this.i = stop + 1;
      } else if (c === '"') {
        this.word ??= [];
        this.i++;
        while (this.i < t.length && t[this.i] !== '"') {
          if (this.reference()) continue;
          const d = t[this.i];
          if (d === '\\') {
            const n = t[this.i + 1];
            if (n !== undefined && '"\\$`'.includes(n)) this.add({ kind: 'text', text: n });
            else if (n !== '\n') this.add({ kind: 'text', text: `\\${n ?? ''}` });
            this.i += 2;
          } else if (t.startsWith('$(', this.i) && !t.startsWith('$((', this.i)) {
            this.substitution(this.i + 2, ')');
          } else if (d === '`') {
            this.substitution(this.i + 1, '`');
          } else {
            this.add({ kind: 'text', text: d });
            this.i++;
          }
        }
        this.i++;
      } else if (t.startsWith('$(', this.i) && !t.startsWith('$((', this.i)) {
        this.substitution(this.i + 2, ')');
      } else if (c === '`') {
        this.substitution(this.i + 1, '`');
      } else {
        this.add({ kind: 'text', text: c });
        this.i++;
      }
    }
    this.endCommand();
  }
}

function refsIn(text: string, base: number): Part[] {
  const out: Part[] = [];
  const re = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
  for (let m = re.exec(text); m; m = re.exec(text)) if (text[m.index - 1] !== '\\') out.push({ kind: 'var', name: m[1], offset: base + m.index });
  return out;
}

/** The word as text when it holds no value, else undefined. */
function literal(word: Word | undefined): string | undefined {
  if (!word || word.some((p) => p.kind === 'var')) return undefined;
  return word.map((p) => (p.kind === 'text' ? p.text : '')).join('');
}

function refs(word: Word | undefined): Array<Extract<Part, { kind: 'var' }>> {
  return (word ?? []).filter((p): p is Extract<Part, { kind: 'var' }> => p.kind === 'var');
}

/** The literal text a word starts with, before its first value. */
function leadingText(word: Word): string {
  const first = word[0];
  return first?.kind === 'text' ? first.text : '';
}

interface Finding {
  offset: number;
  name: string;
  program: string;
  why: string;
  via: string[];
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ksh93', 'mksh', 'pdksh', 'ash', 'yash', 'posh', 'fish', 'csh', 'tcsh', 'rbash', 'pwsh', 'powershell']);
/** Shell keywords after which a command starts. */
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{']);
const NOT_A_COMMAND = new Set(['for', 'case', 'in', 'fi', 'done', 'esac', '}', 'function', 'select']);

/**
 * Options of wrappers that take a separate argument, so the word after them is not the command.
 * `=`-joined long options (`--user=x`) need no entry.
 */
const ARG_OPTIONS: Record<string, ReadonlySet<string>> = {
  sudo: new Set(['-u', '-g', '-p', '-r', '-t', '-U', '-C', '-D', '-T', '-R', '--user', '--group', '--prompt', '--role', '--type', '--other-user', '--close-from', '--chdir', '--command-timeout', '--chroot']),
  doas: new Set(['-u', '-C']),
  env: new Set(['-u', '--unset', '-C', '--chdir']),
  timeout: new Set(['-k', '--kill-after', '-s', '--signal']),
  nice: new Set(['-n', '--adjustment']),
  ionice: new Set(['-c', '--class', '-n', '--classdata']),
  stdbuf: new Set(['-i', '-o', '-e', '--input', '--output', '--error']),
  time: new Set(['-f', '--format', '-o', '--output']),
  xargs: new Set(['-a', '--arg-file', '-d', '--delimiter', '-E', '-e', '-I', '-L', '--max-lines', '-n', '--max-args', '-P', '--max-procs', '-s', '--max-chars', '--process-slot-var']),
  flock: new Set(['-w', '--wait', '--timeout', '-E', '--conflict-exit-code']),
  nsenter: new Set(['-t', '--target', '-S', '--setuid', '-G', '--setgid']),
  unshare: new Set(['--map-user', '--map-group', '--setuid', '--setgid', '-S', '-G', '-R', '--root', '-w', '--wd']),
  chroot: new Set([]),
  taskset: new Set([]),
  exec: new Set(['-a']),
  ssh: new Set(['-B', '-b', '-c', '-D', '-E', '-e', '-F', '-I', '-i', '-J', '-L', '-l', '-m', '-O', '-o', '-P', '-p', '-Q', '-R', '-S', '-W', '-w']),
  su: new Set(['-g', '--group', '-G', '--supp-group', '-s', '--shell', '-w', '--whitelist-environment']),
  watch: new Set(['-n', '--interval', '-d', '-q', '--equexit']),
  container: new Set([
    '-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir', '--detach-keys', '--name', '-v', '--volume', '-p', '--publish', '--network', '--net',
    '--entrypoint', '-l', '--label', '--label-file', '--mount', '-m', '--memory', '--cpus', '--cpu-shares', '-c', '--restart', '-h', '--hostname',
    '--add-host', '--platform', '--pull', '--log-driver', '--log-opt', '--device', '--cap-add', '--cap-drop', '--security-opt', '--ulimit', '--tmpfs',
    '--dns', '--link', '--pid', '--ipc', '--group-add', '--expose', '--shm-size', '--stop-signal', '--stop-timeout', '--volumes-from', '--gpus',
    '--runtime', '--cidfile', '--ip', '--ip6', '--index', '--pod', '--memory-swap', '--health-cmd', '--userns', '--uts', '--cgroupns', '-a', '--attach',
  ]),
};

/** Index of the first word after `from` that is not an option of `program` (or an option's argument). */
function skipOptions(words: Word[], from: number, program: string, opts: { stopAtDash?: boolean; assignments?: boolean } = {}): number {
  const withArg = ARG_OPTIONS[program] ?? new Set<string>();
  let i = from;
  while (i < words.length) {
    const w = literal(words[i]);
    if (w === undefined) return i;
    if (w === '--') return i + 1;
    if (opts.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) {
      i++;
      continue;
    }
    if (!w.startsWith('-') || w === '-') return i;
    i += withArg.has(w) ? 2 : 1;
  }
  return i;
}

const SSH_COMMAND_OPTION = /^-o\s*(ProxyCommand|LocalCommand|RemoteCommand|KnownHostsCommand)\b|^(ProxyCommand|LocalCommand|RemoteCommand|KnownHostsCommand)\b/i;

class Walker {
  readonly findings: Finding[] = [];

  private flag(words: Word[], from: number, to: number, program: string, why: string, via: string[]): void {
    for (let i = from; i < to && i < words.length; i++) for (const r of refs(words[i])) this.findings.push({ offset: r.offset, name: r.name, program, why, via });
  }

  /** Walks the simple command words[start…]. */
  command(words: Word[], start: number, via: string[], depth = 0): void {
    if (depth > 12 || start >= words.length) return;
    const name = literal(words[start]);
    if (name === undefined) return;
    const prog = basename(name);
    const at = start + 1;
    const next = (i: number, label = prog) => this.command(words, i, [...via, label], depth + 1);
    if (via.length === 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(name)) return this.command(words, at, via, depth);
    if (NOT_A_COMMAND.has(name)) return;
    if (RESERVED.has(name)) return this.command(words, at, via, depth);

    const script = 'parses it as shell code again, so a value such as $(reboot) or ;reboot would run as a command';
    if (SHELLS.has(prog)) return this.shell(words, at, prog, via);
    switch (prog) {
      case 'busybox':
        return this.command(words, at, via, depth + 1);
      case 'eval':
        return this.flag(words, at, words.length, 'eval', `joins its arguments and ${script}`, via);
      case 'trap':
        return this.flag(words, at, at + 1, 'trap', `keeps its first argument as code for later and ${script}`, via);
      case 'ssh':
      case 'autossh': {
        for (let i = at; i < words.length; i++) {
          const w = literal(words[i]);
          const optionArg = literal(words[i - 1]) === '-o';
          const text = (words[i] ?? []).map((p) => (p.kind === 'text' ? p.text : '')).join('');
          if ((optionArg || w?.startsWith('-o')) && SSH_COMMAND_OPTION.test(text) && refs(words[i]).length) {
            this.flag(words, i, i + 1, 'ssh -o …Command', `runs that option through a local shell, which ${script}`, via);
          }
        }
        const host = skipOptions(words, at, 'ssh');
        return this.flag(words, host + 1, words.length, `ssh`, `joins the remote command's words and the remote shell ${script}`, via);
      }
      case 'su':
      case 'runuser':
      case 'script':
      case 'flock': {
        for (let i = at; i < words.length; i++) {
          const w = literal(words[i]) ?? leadingText(words[i]);
          if (w === '-c' || w === '--command' || w === '--session-command' || /^-[A-Za-z]+c$/.test(w)) {
            this.flag(words, i + 1, i + 2, `${prog} -c`, `hands that string to a shell, which ${script}`, via);
            i++;
          } else if (/^(-c.|--command=|--session-command=)/.test(w)) {
            this.flag(words, i, i + 1, `${prog} -c`, `hands that string to a shell, which ${script}`, via);
          }
        }
        if (prog === 'flock') {
          // flock [options] FILE COMMAND…: the command after the lock file runs without a shell.
          const file = skipOptions(words, at, 'flock');
          const cmd = file + 1;
          if (cmd < words.length && literal(words[cmd]) !== '-c' && literal(words[cmd]) !== '--command') next(cmd);
        }
        return;
      }
      case 'sudo':
      case 'doas': {
        let shellMode = false;
        let i = at;
        while (i < words.length) {
          const w = literal(words[i]);
          if (w === undefined || !w.startsWith('-') || w === '-') break;
          if (w === '--') {
            i++;
            break;
          }
          if (/^-[a-zA-Z]*[si]/.test(w) && !w.startsWith('--') && !(ARG_OPTIONS[prog]?.has(w) ?? false)) shellMode = true;
          if (w === '--shell' || w === '--login') shellMode = true;
          i += ARG_OPTIONS[prog]?.has(w) ? 2 : 1;
        }
        if (shellMode) return this.flag(words, i, words.length, `${prog} -s/-i`, `passes the command to the target user's shell, which ${script}`, via);
        return next(i);
      }
      case 'env': {
        for (let i = at; i < words.length; i++) {
          const w = literal(words[i]) ?? leadingText(words[i]);
          if (w === '-S' || w === '--split-string') this.flag(words, i + 1, i + 2, 'env -S', 'splits that string into words and expands $VARIABLES in it, so a value becomes several arguments or options', via);
          else if (/^(-S.|--split-string=)/.test(w)) this.flag(words, i, i + 1, 'env -S', 'splits that string into words and expands $VARIABLES in it, so a value becomes several arguments or options', via);
          if (!w.startsWith('-')) break;
        }
        return next(skipOptions(words, at, 'env', { assignments: true }));
      }
      case 'timeout':
        return next(skipOptions(words, at, 'timeout') + 1);
      case 'nice':
      case 'ionice':
      case 'stdbuf':
      case 'time':
      case 'nohup':
      case 'setsid':
      case 'exec':
      case 'command':
      case 'builtin':
      case 'unshare':
      case 'nsenter':
      case 'xargs':
      case 'chpst':
        return next(skipOptions(words, at, prog));
      case 'chroot':
      case 'gosu':
      case 'su-exec':
      case 'taskset':
        return next(skipOptions(words, at, prog) + 1);
      case 'watch': {
        let exec = false;
        let i = at;
        while (i < words.length) {
          const w = literal(words[i]);
          if (w === undefined || !w.startsWith('-')) break;
          if (w === '--') {
            i++;
            break;
          }
          if (w === '-x' || w === '--exec' || (/^-[a-zA-Z]+$/.test(w) && w.includes('x'))) exec = true;
          i += ARG_OPTIONS.watch.has(w) ? 2 : 1;
        }
        if (exec) return next(i);
        return this.flag(words, i, words.length, 'watch', `joins its arguments and runs them with sh -c, which ${script}`, via);
      }
      case 'parallel':
        return this.flag(words, at, words.length, 'parallel', `runs its command line through a shell, which ${script}`, via);
      case 'find': {
        for (let i = at; i < words.length; i++) {
          const w = literal(words[i]);
          if (w === '-exec' || w === '-execdir' || w === '-ok' || w === '-okdir') {
            let end = i + 1;
            while (end < words.length && literal(words[end]) !== ';' && literal(words[end]) !== '+') end++;
            this.command(words.slice(0, end), i + 1, [...via, `find ${w}`], depth + 1);
            i = end;
          }
        }
        return;
      }
      case 'kubectl':
      case 'oc': {
        const dash = words.findIndex((w, i) => i > start && literal(w) === '--');
        const sub = words.slice(at, dash < 0 ? words.length : dash).map(literal).find((w) => w !== undefined && !w.startsWith('-'));
        if (dash > 0) return next(dash + 1, `${prog} ${sub ?? ''} --`.replace(/\s+--$/, ' --'));
        return;
      }
      case 'docker':
      case 'podman':
      case 'nerdctl': {
        let i = at;
        // docker [global options] [container|compose] exec|run [options] TARGET COMMAND…
        while (i < words.length) {
          const w = literal(words[i]);
          if (w === 'exec' || w === 'run') break;
          if (w === undefined) return;
          i++;
        }
        if (i >= words.length) return;
        const target = skipOptions(words, i + 1, 'container');
        return next(target + 1, `${prog} ${literal(words[i])}`);
      }
      case 'tmux': {
        const sub = words.findIndex((w, i) => i > start && ['new-session', 'new', 'new-window', 'neww', 'split-window', 'splitw', 'respawn-pane', 'respawnp', 'respawn-window', 'respawnw', 'run-shell', 'run', 'if-shell', 'if'].includes(literal(w) ?? ''));
        if (sub > 0) this.flag(words, sub + 1, words.length, 'tmux', `hands its shell-command to a shell, which ${script}`, via);
        return;
      }
      default:
        return;
    }
  }

  /** sh/bash/… [options] [-c SCRIPT [NAME ARGS…] | FILE ARGS…]. */
  private shell(words: Word[], at: number, prog: string, via: string[]): void {
    let command = false;
    let i = at;
    while (i < words.length) {
      const w = literal(words[i]);
      if (w === undefined) break;
      if (w === '--' || w === '-') {
        i++;
        break;
      }
      const lower = w.toLowerCase();
      if (lower === '-c' || lower === '-command' || lower === '--command' || lower === '-encodedcommand') {
        command = true;
        i++;
        continue;
      }
      if (/^[-+][a-zA-Z]+$/.test(w)) {
        if (w.slice(1).includes('c')) command = true;
        const takesArg = /[oO]$/.test(w);
        i += takesArg ? 2 : 1;
        continue;
      }
      if (w.startsWith('--')) {
        i += w === '--rcfile' || w === '--init-file' ? 2 : 1;
        continue;
      }
      break;
    }
    // With -c the first operand is the script; the rest become $0, $1, …, which is the safe way in.
    if (command) this.flag(words, i, i + 1, `${prog} -c`, 'parses its script argument as shell code again, so a value such as $(reboot) or ;reboot would run as a command', via);
  }
}

/**
 * Every `{{name}}` of a run command that a second program would parse as shell code. `shell` says
 * whether the command itself runs under /bin/sh -c (its own quoting of values does not reach the
 * inner parse).
 */
export function findNestedShell(text: string, shell: boolean): NestedShell[] {
  const lexer = new Lexer(text, 0);
  lexer.run();
  const walker = new Walker();
  for (const words of lexer.commands) walker.command(words, 0, []);
  const seen = new Set<number>();
  const out: NestedShell[] = [];
  for (const f of walker.findings.sort((a, b) => a.offset - b.offset)) {
    if (seen.has(f.offset)) continue;
    seen.add(f.offset);
    const through = f.via.length ? ` (through ${f.via.join(' → ')})` : '';
    const fix = f.program.startsWith('ssh')
      ? 'keep values out of the remote command (e.g. a script on the host that takes them as arguments), or print the command for a human instead of running it'
      : 'pass the value as an argument after the script (sh -c \'… "$1"\' _ {{' + f.name + '}}) or through env: and "$NAME", or run the program without a shell';
    const quoting = shell ? '; shell: true quotes the value only for the outer shell' : '';
    out.push({ offset: f.offset, error: `{{${f.name}}} reaches "${f.program}"${through}, which ${f.why}${quoting}: ${fix}` });
  }
  return out;
}
