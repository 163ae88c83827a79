// Commands found in playbooks: cutting a shell block into commands (continuations, multi-line
// quotes, here-documents and loops kept whole), and guessing what each command does, per tool, so
// that the importer can decide between `run` (only reads), `run` + `destructive` (changes things)
// and `print` (cannot tell, never ends, needs a terminal, or has a placeholder to fill in).
// Every guess is cautious: what is not known to only read is never run without a confirmation.

import { splitCommand } from '../words.js';

export interface ShellWord {
  /** The word with quotes removed. */
  text: string;
  /** Offsets of the word in the command text. */
  start: number;
  end: number;
  /** Some part of it was quoted. */
  quoted: boolean;
}

export interface Lexed {
  /** Simple commands, split at | || && ; & and line breaks; redirections removed. */
  segments: ShellWord[][];
  /** What only a shell does here: pipes, redirects, expansions, here-documents... */
  shellFeatures: string[];
  /** Files written by `>` (not `>>`). */
  overwrites: string[];
  /** Files appended to by `>>`. */
  appends: string[];
  /** The text inside each `$(…)` and backticks, whose commands run unseen inside this one. */
  substitutions: string[];
  /** Text after an unquoted `#` at the start of a word. */
  comment?: string;
  /** Offset where that comment starts. */
  commentAt?: number;
  /** Quotes left open at the end. */
  open: boolean;
  /** Here-document terminators still expected. */
  heredocs: string[];
}

/** A quote-aware look at a shell command: enough to classify it, not to run it. */
export function lex(text: string): Lexed {
  const segments: ShellWord[][] = [[]];
  const features = new Set<string>();
  const overwrites: string[] = [];
  const appends: string[] = [];
  const substitutions: string[] = [];
  const heredocs: string[] = [];
  // $(…) and `…`: remembered whole, so what they run is classified too.
  const closingBackticks = new Set<number>();
  const substitution = (at: number): void => {
    if (text[at] === '`') {
      if (closingBackticks.has(at)) return;
      const end = text.indexOf('`', at + 1);
      substitutions.push(text.slice(at + 1, end < 0 ? text.length : end));
      closingBackticks.add(end);
      return;
    }
    let depth = 0;
    for (let j = at + 1; j < text.length; j++) {
      if (text[j] === '(') depth++;
      else if (text[j] === ')' && --depth === 0) {
        substitutions.push(text.slice(at + 2, j));
        return;
      }
    }
    substitutions.push(text.slice(at + 2));
  };
  let word: ShellWord | undefined;
  let redirect: '>' | '>>' | '<' | '<<' | undefined;
  let quote: string | undefined;
  let comment: string | undefined;
  let commentAt: number | undefined;
  const endWord = () => {
    if (!word) return;
    if (redirect) {
      const harmless = word.text === '/dev/null' || word.text.startsWith('/dev/std') || /^&\d$/.test(word.text);
      if (redirect === '>' && !harmless) overwrites.push(word.text);
      if (redirect === '>>' && !harmless) appends.push(word.text);
      if (redirect === '<<') heredocs.push(word.text.replace(/^-/, ''));
      redirect = undefined;
    } else segments[segments.length - 1].push(word);
    word = undefined;
  };
  const add = (c: string, at: number, quoted = false) => {
    word ??= { text: '', start: at, end: at, quoted: false };
    word.text += c;
    word.end = at + 1;
    if (quoted) word.quoted = true;
  };
  const split = () => {
    endWord();
    if (segments[segments.length - 1].length) segments.push([]);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else add(c, i, true);
      if (word) word.end = i + 1;
      continue;
    }
    if (quote === '"') {
      if (c === '"') {
        quote = undefined;
        if (word) word.end = i + 1;
      } else if (c === '\\' && i + 1 < text.length) {
        add(text[++i], i, true);
      } else {
        if (c === '$' && /[A-Za-z_{(]/.test(text[i + 1] ?? '')) features.add(text[i + 1] === '(' ? '$(...)' : '$VAR');
        if (c === '$' && text[i + 1] === '(' && text[i + 2] !== '(') substitution(i);
        if (c === '`') {
          features.add('backticks');
          substitution(i);
        }
        add(c, i, true);
      }
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      add('', i, true);
      continue;
    }
    if (c === '\\') {
      if (text[i + 1] === '\n') i++;
      else if (i + 1 < text.length) add(text[++i], i, true);
      continue;
    }
    if (c === ' ' || c === '\t') {
      endWord();
      continue;
    }
    if (c === '\n') {
      split();
      continue;
    }
    if (c === '#' && !word) {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? text.length : nl;
      comment = (comment ? `${comment} ` : '') + text.slice(i + 1, end).trim();
      commentAt ??= i;
      i = end - 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      features.add(two);
      split();
      i++;
      continue;
    }
    if (c === '|' || c === ';' || (c === '&' && text[i - 1] !== '>' && text[i + 1] !== '>')) {
      features.add(c === '|' ? 'pipe' : c === ';' ? ';' : 'background &');
      split();
      continue;
    }
    if (c === '>' || c === '<') {
      endWord();
      if (text.slice(i, i + 3) === '<<<') {
        features.add('here-string');
        i += 2;
        redirect = '<';
      } else if (two === '<<') {
        features.add('here-document');
        i++;
        redirect = '<<';
        if (text[i + 1] === '-') i++;
      } else if (two === '>>') {
        features.add('redirect');
        i++;
        redirect = '>>';
      } else {
        features.add('redirect');
        redirect = c === '>' ? '>' : '<';
        if (text[i + 1] === '&') {
          i++;
          redirect = undefined;
          while (/\d|-/.test(text[i + 1] ?? '')) i++;
        }
      }
      // `2>` and `&>`: the descriptor is not a word.
      const seg = segments[segments.length - 1];
      const last = seg[seg.length - 1];
      if (last && last.end === i - (two === '>>' || two === '<<' ? 1 : 0) && /^\d$/.test(last.text)) seg.pop();
      continue;
    }
    if (c === '$' && /[A-Za-z_{(0-9@*#?]/.test(text[i + 1] ?? '')) features.add(text[i + 1] === '(' ? '$(...)' : '$VAR');
    if (c === '$' && text[i + 1] === '(' && text[i + 2] !== '(') substitution(i);
    if (c === '`') {
      features.add('backticks');
      substitution(i);
    }
    if ((c === '*' || c === '?' || c === '[') && !word?.text.includes('=')) features.add('glob');
    if (c === '~' && !word) features.add('~');
    add(c, i);
  }
  endWord();
  if (!segments[segments.length - 1].length) segments.pop();
  const out: Lexed = { segments, shellFeatures: [...features], overwrites, appends, substitutions, open: quote !== undefined, heredocs };
  if (comment !== undefined) {
    out.comment = comment;
    out.commentAt = commentAt;
  }
  return out;
}

/** One command cut out of a code block. */
export interface CodeCommand {
  /** As it will be written in the runbook (continuations joined, trailing comment removed). */
  text: string;
  /** 1-based line in the playbook. */
  line: number;
  /** Comment lines directly above it (without `#`), and a trailing `# comment`. */
  comments: string[];
  trailing?: string;
  /** if/for/while/case or a function: kept whole. */
  compound: boolean;
  /** The block set shell variables that this command uses ($NAME assigned above it). */
  usesAssigned: string[];
  /** Comment lines right below it that are not followed by a command ("# Should return PONG"). */
  after: string[];
  /** The command that opened the session this one is typed in (`oc debug node/x`, `ssh host`). */
  session?: string;
}

/** A comment group that is not attached to a command: becomes a note. */
export interface CodeNote {
  text: string[];
  line: number;
}

export type CodeItem = { kind: 'command'; command: CodeCommand } | { kind: 'note'; note: CodeNote } | { kind: 'assignment'; name: string; line: number; text: string };

/**
 * Prompts of database consoles, Python and PowerShell (`redis 127.0.0.1:6379> `, `>>> `,
 * `PS C:\> `): a line behind one is typed into that program, whatever it looks like.
 */
export const SESSION_PROMPT = /^\s*(?:redis [\w.:-]+>|>>>|PS(?: [A-Za-z]:[^>]*)?>)\s+(\S.*)$/;

const COMPOUND_OPEN = /^(if|for|while|until|case|select)\b|^[A-Za-z_][A-Za-z0-9_-]*\s*\(\)\s*\{?\s*$|^function\s/;
const COMPOUND_CLOSE: Record<string, RegExp> = { if: /^fi\b/, for: /^done\b/, while: /^done\b/, until: /^done\b/, select: /^done\b/, case: /^esac\b/ };

/** A numbered comment (`# 2. Check the disk`, `# Step 3: ...`) starts a new group of lines. */
function numbered(comment: string): boolean {
  return /^(step\s*)?\d+[.):]\s/i.test(comment);
}

/** Strips a numbering prefix from a comment used as a title. */
export function stripNumber(text: string): string {
  return text.replace(/^(step\s*)?\d+[.):]\s*/i, '').replace(/^[-*]\s+/, '').trim();
}

/** A short title made from a command: its first words that are not flags (`kubectl logs mongodb-0`). */
export function commandTitle(command: string): string {
  const words = command.split('\n')[0].split(/\s+/);
  const out: string[] = [];
  for (let i = 0; i < words.length && out.length < 4; i++) {
    const w = words[i];
    if (w.startsWith('-')) {
      if (/^-[a-zA-Z]$/.test(w) && out.length > 1) i++;
      continue;
    }
    if (/[|;&<>]/.test(w)) break;
    out.push(w);
  }
  return out.join(' ') || command.slice(0, 40);
}

/**
 * Cuts a shell block into commands and notes. A block with prompts (`$ `, or another shell's such as
 * `sh-4.4#`) takes only the prompted lines as commands, the rest being output; a block without
 * them takes every line that could be a command. Lines after a session opener (`oc debug node/x`,
 * `kubectl exec -it … sh`, bare `psql`) carry that session.
 */
export function splitScript(lines: string[], firstLine: number, _info = ''): CodeItem[] {
  // With `$ ` prompts, only prompted lines are commands and the rest is their output; without
  // them, every line is a command unless it plainly is not one (a table header, a status line).
  const prompted = lines.some((l) => /^\s*[$%] \S/.test(l) || /^\s*[\w.@:~-]+(?:[$#%>]|=>|=#) \S/.test(l) || SESSION_PROMPT.test(l));
  let session: string | undefined;
  const items: CodeItem[] = [];
  const assigned = new Set<string>();
  let pending: { text: string[]; line: number; follows: boolean } | undefined;
  // A comment right below a command, with no command after it, explains that command.
  let attachable = false;
  const flushNote = () => {
    const prev = items[items.length - 1];
    if (pending && pending.follows && prev?.kind === 'command' && !numbered(pending.text[0])) prev.command.after.push(...pending.text);
    else if (pending) items.push({ kind: 'note', note: { text: pending.text, line: pending.line } });
    pending = undefined;
  };
  let i = 0;
  while (i < lines.length) {
    let raw = lines[i];
    const lineNo = firstLine + i;
    const trimmed = raw.trim();
    if (!trimmed) {
      flushNote();
      attachable = false;
      i++;
      continue;
    }
    if (prompted) {
      // `# cmd` after a root prompt is a command too, when what follows is one.
      const root = /^\s*#\s+(.*)$/.exec(raw);
      // `sh-4.4# cmd`, `user@host:~$ cmd`, `mydb=> select…`: the prompt of a session opened above.
      const inner = /^\s*[\w.@:~/()[\]-]+(?:[$#%>]|=>|=#)\s+(\S.*)$/.exec(raw) ?? SESSION_PROMPT.exec(raw);
      const m = /^\s*[$%]\s+(.*)$/.exec(raw) ?? (root && looksLikeCommand(root[1]) ? root : null) ?? (inner ? inner : null);
      // A prompt of another shell (`sh-4.4#`) means the line is typed in a session opened elsewhere.
      if (m === inner && inner && !session) session = `a shell whose prompt is ${raw.trim().slice(0, raw.trim().length - inner[1].length).trim()}`;
      if (!m) {
        i++;
        continue;
      }
      raw = m[1];
    } else if (/^\$ \S/.test(trimmed)) raw = trimmed.slice(2);
    else if (!session && !trimmed.startsWith('#') && !commandish(trimmed) && !COMPOUND_OPEN.test(trimmed)) {
      i++;
      continue;
    }
    const t = raw.trim();
    if (t.startsWith('#!') || /^set -[euxo]+( pipefail)?$/.test(t)) {
      i++;
      continue;
    }
    if (t.startsWith('#')) {
      const c = t.replace(/^#+\s?/, '').trimEnd();
      if (pending && !numbered(c)) pending.text.push(c);
      else {
        const follows = attachable && !pending;
        flushNote();
        pending = { text: [c], line: lineNo, follows };
      }
      attachable = false;
      i++;
      continue;
    }
    // Gather one command: continuations, open quotes, trailing operators, here-documents, compounds.
    // Backslash continuations are joined into one line; multi-line quotes and bodies stay as written.
    let text = raw.trimEnd();
    i++;
    const compoundKind = COMPOUND_OPEN.exec(t)?.[1] ?? (COMPOUND_OPEN.test(t) ? 'function' : undefined);
    for (;;) {
      const lx = lex(text);
      const code = lx.comment !== undefined ? text.slice(0, lx.commentAt) : text;
      const backslash = /\\$/.test(text);
      const operator = /(\||&&|\|\|)\s*$/.test(code.trimEnd());
      if ((lx.open || backslash || operator) && i < lines.length) {
        if (lx.open) text = `${text}\n${lines[i]}`;
        else if (backslash) text = `${text.replace(/\s*\\$/, '')} ${lines[i].trim()}`;
        else text = `${text} ${lines[i].trim()}`;
        i++;
        continue;
      }
      for (const term of lx.heredocs) {
        while (i < lines.length && lines[i].trim() !== term) text = `${text}\n${lines[i++]}`;
        if (i < lines.length) text = `${text}\n${lines[i++]}`;
      }
      break;
    }
    if (compoundKind) {
      const close = COMPOUND_CLOSE[compoundKind] ?? /^\}/;
      let depth = 1;
      const opener = COMPOUND_CLOSE[compoundKind] ? new RegExp(`^${compoundKind}\\b`) : COMPOUND_OPEN;
      // One-line compounds (`for x in a b; do echo $x; done`) are already complete.
      if (close.test(t.split(/;\s*/).pop() ?? '')) depth = 0;
      while (depth > 0 && i < lines.length) {
        const l = lines[i].trim();
        if (opener.test(l)) depth++;
        if (close.test(l)) depth--;
        text = `${text}\n${lines[i]}`;
        i++;
      }
    }
    text = text.trim();
    const lx = lex(text);
    let trailing: string | undefined;
    if (lx.comment !== undefined && lx.commentAt !== undefined && !lx.heredocs.length && !compoundKind && !text.slice(lx.commentAt).includes('\n')) {
      trailing = lx.comment;
      text = text.slice(0, lx.commentAt).trimEnd();
    }
    const assignment = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(text);
    if (assignment && !/\s/.test(assignment[2].replace(/(["']).*?\1/g, '').trim())) {
      flushNote();
      attachable = false;
      assigned.add(assignment[1]);
      items.push({ kind: 'assignment', name: assignment[1], line: lineNo, text });
      continue;
    }
    const uses = [...assigned].filter((n) => new RegExp(`\\$\\{?${n}\\b`).test(text));
    const comments = pending ? pending.text : [];
    pending = undefined;
    const command: CodeCommand = { text, line: lineNo, comments, compound: compoundKind !== undefined, usesAssigned: uses, after: [] };
    if (trailing !== undefined) command.trailing = trailing;
    // Lines after `oc debug node/x`, `kubectl exec -it … bash`, `ssh host`, bare `psql`… are typed
    // inside that session, not on the responder's machine.
    if (session) {
      command.session = session;
      if (/^(exit|logout|quit|\\q)\b/.test(text)) session = undefined;
    } else if (opensSession(text)) session = text;
    items.push({ kind: 'command', command });
    attachable = true;
  }
  flushNote();
  return items;
}

export type Verdict = 'read' | 'change' | 'unknown' | 'interactive';

export interface Classification {
  verdict: Verdict;
  /** Why, in a few words: `kubectl delete`, `-f follows the log and never ends`. */
  reason: string;
}

export interface CommandPlan {
  action: 'run' | 'print';
  destructive: boolean;
  shell: boolean;
  /** Why this action, for the review summary and YAML comments. */
  reason: string;
  /** Things a human should check, beyond the action itself. */
  guesses: string[];
  verdict: Verdict;
}

const READ = (reason: string): Classification => ({ verdict: 'read', reason });
const CHANGE = (reason: string): Classification => ({ verdict: 'change', reason });
const UNKNOWN = (reason: string): Classification => ({ verdict: 'unknown', reason });
const INTERACTIVE = (reason: string): Classification => ({ verdict: 'interactive', reason });

const RANK: Record<Verdict, number> = { read: 0, change: 1, unknown: 2, interactive: 3 };

/** Tools that only read whatever their arguments (within reason). */
const READ_TOOLS = new Set([
  'cat', 'head', 'grep', 'egrep', 'fgrep', 'zgrep', 'rg', 'ls', 'stat', 'wc', 'awk', 'jq', 'yq', 'sort', 'uniq', 'cut', 'tr', 'echo', 'printf',
  'date', 'hostname', 'whoami', 'id', 'uname', 'printenv', 'which', 'file', 'md5sum', 'sha256sum', 'sha1sum', 'diff', 'tree', 'pwd',
  'getent', 'nproc', 'lscpu', 'lsblk', 'free', 'df', 'du', 'uptime', 'ps', 'pgrep', 'ss', 'netstat', 'lsof', 'dig', 'host', 'nslookup',
  'traceroute', 'tracepath', 'whois', 'nc', 'ncat', 'base64', 'column', 'xxd', 'true', 'sleep', 'test', 'basename', 'dirname', 'realpath',
  'mongodump', 'pg_dump', 'pg_dumpall', 'pg_isready', 'mysqldump', 'wget', 'sed', 'env', 'mkdir', 'touch', 'zcat', 'gzip', 'tar', 'openssl',
  'curl', 'ping', 'tail', 'top', 'vmstat', 'iostat', 'mpstat', 'sar', 'dmesg', 'journalctl', 'tee', 'find', 'timeout', 'time', 'sudo', 'nohup',
  'nice', 'xargs',
]);

/** Tools that change things whatever their arguments. */
const CHANGE_TOOLS = new Set([
  'rm', 'rmdir', 'mv', 'cp', 'chmod', 'chown', 'chgrp', 'kill', 'pkill', 'killall', 'reboot', 'shutdown', 'halt', 'poweroff', 'mkfs',
  'dd', 'truncate', 'ln', 'scp', 'rsync', 'mongorestore', 'pg_restore', 'useradd', 'userdel', 'usermod', 'passwd', 'mount', 'umount',
  'swapoff', 'swapon', 'sysctl', 'apt', 'apt-get', 'yum', 'dnf', 'pip', 'logrotate', 'fallocate', 'shred', 'wipefs', 'fsck', 'resize2fs',
  'growpart', 'xfs_growfs', 'lvextend', 'modprobe', 'hostnamectl', 'timedatectl', 'update-ca-certificates',
]);

/** Tools that need a person at a terminal or never end on their own. */
const INTERACTIVE_TOOLS = new Set(['vi', 'vim', 'nvim', 'nano', 'emacs', 'less', 'more', 'htop', 'btop', 'atop', 'iotop', 'iftop', 'nload', 'watch', 'man', 'tmux', 'screen', 'ssh', 'telnet', 'strace', 'ltrace', 'gdb', 'k9s', 'mtr', 'tcpdump', 'bash', 'sh', 'zsh']);

/** Tools the classifier knows; a plain-text line starting with one of these is a command. */
export const KNOWN_TOOLS = new Set([
  ...READ_TOOLS, ...CHANGE_TOOLS, ...INTERACTIVE_TOOLS,
  'kubectl', 'oc', 'docker', 'podman', 'nerdctl', 'docker-compose', 'systemctl', 'service', 'redis-cli', 'psql', 'mysql', 'mongo', 'mongosh',
  'aws', 'gcloud', 'az', 'helm', 'git', 'iptables', 'ip6tables', 'nft', 'ufw', 'ip', 'nginx', 'apachectl', 'certbot', 'terraform', 'crontab',
  'vault', 'etcdctl', 'patronictl', 'pg_ctl', 'rabbitmqctl', 'nodetool', 'consul', 'ssh', 'curl', 'kubens', 'kubectx', 'stern', 'sed',
  'crictl', 'ceph', 'rbd', 'smartctl', 'gsutil', 'chronyc', 'readlink', 'restic', 'orchestrator-client', 'cqlsh', 'sqlite3', 'nsenter', 'virsh', 'kafka-topics.sh', 'kafka-consumer-groups.sh', 'kafka-configs.sh', 'kafka-console-consumer.sh',
]);

function isFlag(w: string): boolean {
  return w.startsWith('-') && w.length > 1;
}

/** The words after flags (and the values of the flags named in `withValue`). */
function positional(words: string[], withValue: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      out.push(...words.slice(i + 1));
      break;
    }
    if (isFlag(w)) {
      if (!w.includes('=') && withValue.has(w)) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

function hasFlag(words: string[], ...flags: string[]): boolean {
  return words.some((w) => flags.includes(w) || flags.some((f) => f.startsWith('--') && w.startsWith(`${f}=`)) || flags.some((f) => /^-[a-z]$/i.test(f) && /^-[a-z]+$/i.test(w) && !w.startsWith('--') && w.includes(f[1]) && w.length <= 4));
}

function flagValue(words: string[], ...flags: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    for (const f of flags) {
      if (words[i] === f) return words[i + 1];
      if (f.startsWith('--') && words[i].startsWith(`${f}=`)) return words[i].slice(f.length + 1);
      if (!f.startsWith('--') && words[i].startsWith(f) && words[i].length > f.length) return words[i].slice(f.length);
    }
  }
  return undefined;
}

/**
 * The file an output option names (`-o FILE`, `-oFILE`, `--output=FILE`, or a short cluster ending
 * in the option, `-sSo FILE`), or undefined when the option is absent.
 */
function outputFile(words: string[], short: string, long: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (long.includes(w) || w === short) return words[i + 1] ?? '';
    const eq = long.find((l) => w.startsWith(`${l}=`));
    if (eq) return w.slice(eq.length + 1);
    if (w.startsWith('--')) continue;
    // -o FILE, -oFILE, -sSo FILE, -qO- (flags without values may come first in a cluster).
    const m = new RegExp(`^-[A-Za-z]*?${short[1]}(.*)$`).exec(w);
    if (m) return m[1] || (words[i + 1] ?? '');
  }
  return undefined;
}

/** `-` and /dev/null are not files anyone keeps. */
function toScreen(file: string | undefined): boolean {
  return file === '-' || file === '/dev/null' || file === '/dev/stdout';
}

const KUBECTL_VALUE_FLAGS = new Set(['-n', '--namespace', '--context', '--cluster', '--kubeconfig', '-s', '--server', '--user', '--as', '-l', '--selector', '-o', '--output', '-c', '--container', '--sort-by', '--since', '--tail', '--field-selector', '-f', '--filename', '--replicas', '--timeout', '--for', '--image', '-p', '--patch', '--type', '--to-revision', '--grace-period']);
const KUBECTL_READ = new Set(['get', 'describe', 'logs', 'top', 'explain', 'api-resources', 'api-versions', 'version', 'cluster-info', 'events', 'diff', 'wait', 'auth']);
const KUBECTL_CHANGE = new Set(['delete', 'scale', 'apply', 'create', 'replace', 'patch', 'set', 'label', 'annotate', 'taint', 'cordon', 'uncordon', 'drain', 'expose', 'run', 'autoscale', 'cp', 'certificate', 'rollout']);

function kubectl(args: string[]): Classification {
  const pos = positional(args, KUBECTL_VALUE_FLAGS);
  const verb = pos[0];
  if (!verb) return UNKNOWN('kubectl without a subcommand');
  if (verb === 'exec') {
    if (hasFlag(args.slice(0, args.indexOf('--') < 0 ? args.length : args.indexOf('--')), '-i', '-t', '--stdin', '--tty')) return INTERACTIVE('kubectl exec -it needs a terminal');
    const dd = args.indexOf('--');
    if (dd < 0) return UNKNOWN('kubectl exec without "--" before the command');
    const inner = classifyWords(args.slice(dd + 1));
    return { verdict: inner.verdict, reason: `kubectl exec … ${inner.reason}` };
  }
  if (verb === 'logs' && hasFlag(args, '-f', '--follow')) return INTERACTIVE('kubectl logs -f follows the log and never ends');
  if (verb === 'run' && hasFlag(args.slice(0, args.indexOf('--') < 0 ? args.length : args.indexOf('--')), '-i', '-t', '--stdin', '--tty')) return INTERACTIVE('kubectl run -i attaches to the pod it creates');
  if (verb === 'get' && hasFlag(args, '-w', '--watch')) return INTERACTIVE('kubectl get --watch never ends');
  if (['edit', 'attach', 'port-forward', 'proxy', 'debug'].includes(verb)) return INTERACTIVE(`kubectl ${verb} needs a terminal or never ends`);
  if (verb === 'rollout') {
    const sub = pos[1];
    if (sub === 'status' || sub === 'history') return READ(`kubectl rollout ${sub}`);
    return CHANGE(`kubectl rollout ${sub ?? ''}`.trim());
  }
  if (verb === 'adm') {
    // `oc adm`: node and cluster administration.
    const sub = pos[1];
    if (/^(top|node-logs|inspect)$/.test(sub ?? '') && sub !== 'inspect') return READ(`oc adm ${sub}`);
    if (/^(drain|cordon|uncordon|taint|certificate|upgrade|prune|policy|groups|must-gather|inspect|reboot-machine-config-pool|new-project|pod-network|release|restart-kubelet|copy-to-node|wait-for-stable-cluster)$/.test(sub ?? '')) return CHANGE(`oc adm ${sub}`);
    return UNKNOWN(`oc adm ${sub ?? ''} is not a subcommand ir knows`.replace('  ', ' '));
  }
  if (verb === 'config') return ['view', 'get-contexts', 'current-context', 'get-clusters'].includes(pos[1]) ? READ(`kubectl config ${pos[1]}`) : CHANGE(`kubectl config ${pos[1] ?? ''}`.trim());
  if (KUBECTL_READ.has(verb)) return READ(`kubectl ${verb}`);
  if (KUBECTL_CHANGE.has(verb)) return CHANGE(`kubectl ${verb}`);
  return UNKNOWN(`kubectl ${verb} is not a subcommand ir knows`);
}

const DOCKER_VALUE_FLAGS = new Set(['-f', '--file', '-p', '--project-name', '--env-file', '--profile', '--format', '--filter', '-e', '--env', '-u', '--user', '-w', '--workdir', '--tail', '--since', '--until', '-n', '--name', '-H', '--host', '--context', '-t', '--time', '-s', '--signal']);
const DOCKER_READ = new Set(['ps', 'logs', 'inspect', 'images', 'top', 'info', 'version', 'history', 'port', 'diff', 'ls', 'config', 'df', 'search']);
const DOCKER_CHANGE = new Set(['rm', 'rmi', 'stop', 'kill', 'restart', 'start', 'pause', 'unpause', 'run', 'create', 'update', 'prune', 'up', 'down', 'pull', 'push', 'cp', 'commit', 'tag', 'rename', 'build', 'load', 'import', 'save', 'scale']);

function docker(tool: string, args: string[]): Classification {
  let a = args;
  let name = tool;
  if (tool === 'docker-compose' || a[0] === 'compose') {
    if (a[0] === 'compose') a = a.slice(1);
    name = 'docker compose';
  }
  const pos = positional(a, DOCKER_VALUE_FLAGS);
  let verb = pos[0];
  // `docker container ls`, `docker system prune`, `docker network inspect`.
  if (['container', 'image', 'network', 'volume', 'system', 'builder', 'node', 'service', 'stack'].includes(verb ?? '') && pos[1]) verb = pos[1];
  if (!verb) return UNKNOWN(`${name} without a subcommand`);
  if (verb === 'exec' || (verb === 'run' && hasFlag(a.slice(0, a.indexOf(pos[1]) < 0 ? a.length : a.indexOf(pos[1])), '-i', '-t'))) {
    const before = a.slice(0, Math.max(0, a.indexOf(pos[1])));
    if (hasFlag(before, '-i', '-t', '--interactive', '--tty')) return INTERACTIVE(`${name} ${verb} -it needs a terminal`);
    if (verb === 'run') return CHANGE(`${name} run`);
    // docker exec [flags] CONTAINER COMMAND...: the words after the container.
    const at = a.indexOf(pos[1]);
    const inner = at < 0 ? [] : a.slice(at + 1);
    if (!inner.length) return UNKNOWN(`${name} exec without a command`);
    const c = classifyWords(inner);
    return { verdict: c.verdict, reason: `${name} exec … ${c.reason}` };
  }
  if ((verb === 'logs' || verb === 'events') && (verb === 'events' || hasFlag(a, '-f', '--follow'))) return INTERACTIVE(`${name} ${verb}${verb === 'logs' ? ' -f' : ''} never ends`);
  if (verb === 'stats' && !a.includes('--no-stream')) return INTERACTIVE(`${name} stats never ends without --no-stream`);
  if (verb === 'stats') return READ(`${name} stats`);
  if (verb === 'attach') return INTERACTIVE(`${name} attach needs a terminal`);
  if (DOCKER_READ.has(verb)) return READ(`${name} ${verb}`);
  if (DOCKER_CHANGE.has(verb)) return CHANGE(`${name} ${verb}`);
  return UNKNOWN(`${name} ${verb} is not a subcommand ir knows`);
}

const REDIS_VALUE_FLAGS = new Set(['-h', '-p', '-a', '-n', '-u', '--user', '--pass', '-s', '--cacert', '--cert', '--key', '-r', '-i', '--sni']);
const REDIS_READ = new Set(['PING', 'INFO', 'GET', 'MGET', 'EXISTS', 'TTL', 'PTTL', 'TYPE', 'KEYS', 'SCAN', 'DBSIZE', 'SLOWLOG', 'MEMORY', 'LATENCY', 'HGET', 'HGETALL', 'HMGET', 'HLEN', 'HKEYS', 'LLEN', 'LRANGE', 'LINDEX', 'SCARD', 'SMEMBERS', 'SISMEMBER', 'ZRANGE', 'ZCARD', 'ZSCORE', 'ZREVRANGE', 'STRLEN', 'ROLE', 'LASTSAVE', 'TIME', 'XINFO', 'XLEN', 'XRANGE', 'PUBSUB', 'ECHO', 'OBJECT', 'COMMAND', 'HSCAN', 'SSCAN', 'ZSCAN', 'RANDOMKEY', 'BITCOUNT', 'GETRANGE']);
const REDIS_READ_SUB: Record<string, string[]> = { CONFIG: ['GET'], CLIENT: ['LIST', 'INFO', 'GETNAME', 'ID'], CLUSTER: ['INFO', 'NODES', 'SLOTS', 'SHARDS', 'MYID', 'KEYSLOT', 'COUNTKEYSINSLOT'], SENTINEL: ['MASTERS', 'MASTER', 'REPLICAS', 'SLAVES', 'SENTINELS', 'GET-MASTER-ADDR-BY-NAME', 'CKQUORUM'], SCRIPT: ['EXISTS'], ACL: ['LIST', 'WHOAMI', 'USERS', 'GETUSER', 'LOG', 'CAT'] };

function redisCli(args: string[]): Classification {
  const flags = new Set(['--stat', '--latency', '--latency-history', '--latency-dist', '--monitor']);
  if (args.some((a) => flags.has(a))) return INTERACTIVE('redis-cli --stat/--latency never ends');
  if (args.includes('--bigkeys') || args.includes('--memkeys') || args.includes('--scan')) return READ('redis-cli scan');
  const pos = positional(args, REDIS_VALUE_FLAGS);
  if (!pos.length) return INTERACTIVE('redis-cli without a command opens a prompt');
  const cmd = pos[0].toUpperCase();
  const sub = (pos[1] ?? '').toUpperCase();
  if (cmd === 'MONITOR' || cmd === 'SUBSCRIBE' || cmd === 'PSUBSCRIBE') return INTERACTIVE(`redis-cli ${cmd} never ends`);
  if (REDIS_READ_SUB[cmd]) return REDIS_READ_SUB[cmd].includes(sub) ? READ(`redis-cli ${cmd} ${sub}`) : CHANGE(`redis-cli ${cmd} ${sub}`.trim());
  if (REDIS_READ.has(cmd)) return READ(`redis-cli ${cmd}`);
  return CHANGE(`redis-cli ${cmd}`);
}

/** SQL: only SELECT/SHOW/EXPLAIN/WITH...SELECT read, and not when they call admin functions. */
export function classifySql(sql: string): Classification {
  const text = sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
  const statements = text.split(';').map((s) => s.trim()).filter(Boolean);
  if (!statements.length) return UNKNOWN('empty SQL');
  let worst: Classification = READ('SQL SELECT');
  for (const s of statements) {
    const first = (/^[\\A-Za-z]+/.exec(s)?.[0] ?? '').toUpperCase();
    let c: Classification;
    if (/\bpg_(terminate|cancel)_backend\b/i.test(s)) c = CHANGE(`SQL ${/pg_terminate_backend/i.test(s) ? 'pg_terminate_backend' : 'pg_cancel_backend'}`);
    else if (/\b(pg_reload_conf|pg_promote|pg_switch_wal|set_config|setval|nextval|pg_rotate_logfile|pg_drop_replication_slot|pg_create_\w+)\s*\(/i.test(s)) c = CHANGE('SQL admin function');
    else if (['SELECT', 'SHOW', 'WITH', 'TABLE', 'VALUES', 'DESCRIBE', 'DESC'].includes(first)) c = /\b(INSERT|UPDATE|DELETE)\b/i.test(s) && first === 'WITH' ? CHANGE('SQL WITH … data change') : /\bINTO\b/i.test(s) && first === 'SELECT' ? CHANGE('SQL SELECT INTO') : READ(`SQL ${first}`);
    else if (first === 'EXPLAIN') c = /\bANALY[SZ]E\b/i.test(s) && /\b(INSERT|UPDATE|DELETE)\b/i.test(s) ? CHANGE('SQL EXPLAIN ANALYZE of a change') : READ('SQL EXPLAIN');
    else if (first.startsWith('\\')) c = READ(`psql ${first}`);
    else if (['BEGIN', 'COMMIT', 'ROLLBACK', 'START', 'END'].includes(first)) continue;
    else if (['INSERT', 'UPDATE', 'DELETE', 'DROP', 'TRUNCATE', 'ALTER', 'CREATE', 'GRANT', 'REVOKE', 'VACUUM', 'REINDEX', 'CLUSTER', 'KILL', 'COPY', 'LOCK', 'CALL', 'DO', 'REFRESH', 'MERGE', 'REPLACE', 'RENAME', 'ANALYZE', 'SET', 'RESET', 'FLUSH', 'OPTIMIZE', 'PURGE', 'CHECKPOINT'].includes(first)) c = CHANGE(`SQL ${first}`);
    else c = UNKNOWN(`SQL ${first || 'statement'} is not one ir knows`);
    if (RANK[c.verdict] > RANK[worst.verdict] || (worst.verdict === 'read' && c.verdict !== 'read')) worst = c;
  }
  return worst;
}

function psql(tool: string, args: string[]): Classification {
  const sql = flagValue(args, '-c', '--command', '-e', '--execute');
  if (sql !== undefined) return classifySql(sql);
  if (hasFlag(args, '-f', '--file')) return UNKNOWN(`${tool} -f runs a file ir cannot see`);
  if (hasFlag(args, '-l', '--list')) return READ(`${tool} --list`);
  return INTERACTIVE(`${tool} without -c opens a prompt`);
}

const MONGO_CHANGE = /\.(drop|dropDatabase|remove|delete(One|Many)|update(One|Many)?|insert(One|Many)?|replaceOne|findAndModify|findOneAnd\w+|createIndex(es)?|dropIndex(es)?|renameCollection|bulkWrite|save|createCollection|createUser|dropUser|grantRolesToUser|shutdownServer|fsyncLock|fsyncUnlock|killOp|setProfilingLevel)\s*\(|rs\.(stepDown|reconfig|add|remove|freeze|initiate|syncFrom|addArb)\s*\(|\$(out|merge)\b|\b(shutdown|setParameter|compact|repairDatabase|replSetStepDown|replSetReconfig|killOp|fsync)\b/;
const MONGO_READ = /rs\.(status|conf|config|printReplicationInfo|printSecondaryReplicationInfo|printSlaveReplicationInfo|isMaster|hello)\s*\(|\.(find|findOne|count|countDocuments|estimatedDocumentCount|aggregate|stats|getIndexes|explain|distinct|dataSize|totalSize|storageSize)\s*\(|db\.(serverStatus|stats|currentOp|version|getCollectionNames|getName|hello|isMaster|hostInfo|getReplicationInfo|printReplicationInfo|serverBuildInfo|getProfilingStatus)\s*\(|\b(ping|serverStatus|replSetGetStatus|currentOp|hello|isMaster|listDatabases|dbStats|collStats|buildInfo|getLog|hostInfo|connectionStatus|getCmdLineOpts)\b|show\s+(dbs|databases|collections)/;

export function classifyMongo(js: string): Classification {
  if (MONGO_CHANGE.test(js)) return CHANGE(`mongo ${MONGO_CHANGE.exec(js)![0].replace(/[.(\s]/g, '')}`);
  if (MONGO_READ.test(js)) return READ(`mongo ${MONGO_READ.exec(js)![0].replace(/[.(\s]/g, '')}`);
  return UNKNOWN('a MongoDB script ir cannot classify');
}

function mongo(tool: string, args: string[]): Classification {
  const js = flagValue(args, '--eval');
  if (js !== undefined) return classifyMongo(js);
  if (hasFlag(args, '--file', '-f') || args.some((a) => a.endsWith('.js'))) return UNKNOWN(`${tool} runs a script ir cannot see`);
  return INTERACTIVE(`${tool} without --eval opens a prompt`);
}

function curl(args: string[]): Classification {
  const method = (flagValue(args, '-X', '--request') ?? '').toUpperCase();
  if (method && !['GET', 'HEAD', 'OPTIONS'].includes(method)) return CHANGE(`curl -X ${method}`);
  if (hasFlag(args, '-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '-F', '--form', '-T', '--upload-file', '--json')) return CHANGE('curl sending data (POST)');
  const out = outputFile(args, '-o', ['--output']);
  if (out !== undefined && !toScreen(out)) return CHANGE(`curl -o writes the response to ${out || 'a file'}`);
  if (hasFlag(args, '-O', '--remote-name', '--remote-name-all')) return CHANGE('curl -O writes the response to a file');
  for (const [short, long, what] of [['-D', ['--dump-header'], 'the headers'], ['-c', ['--cookie-jar'], 'cookies']] as const) {
    const file = outputFile(args, short, [...long]);
    if (file !== undefined && !toScreen(file)) return CHANGE(`curl ${short} writes ${what} to ${file || 'a file'}`);
  }
  return READ(method === 'HEAD' || hasFlag(args, '-I', '--head') ? 'curl -I' : 'curl GET');
}

function byVerb(tool: string, verb: string | undefined, read: RegExp, change: RegExp): Classification {
  if (!verb) return UNKNOWN(`${tool} without a subcommand`);
  if (read.test(verb)) return READ(`${tool} ${verb}`);
  if (change.test(verb)) return CHANGE(`${tool} ${verb}`);
  return UNKNOWN(`${tool} ${verb} is not a subcommand ir knows`);
}

/** Classifies one simple command given as words (quotes already removed). */
export function classifyWords(input: string[]): Classification {
  let words = input;
  // Wrappers that do not change what the command does.
  for (;;) {
    const w = words[0];
    if (w === undefined) return UNKNOWN('empty command');
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) words = words.slice(1);
    else if (w === 'sudo' || w === 'nohup' || w === 'time' || w === 'nice' || w === 'command' || w === 'exec') {
      words = words.slice(1);
      while (words[0] && isFlag(words[0])) words = words.slice(['-u', '-g', '-n'].includes(words[0]) ? 2 : 1);
    } else if (w === 'env') {
      words = words.slice(1);
      while (words[0] && (isFlag(words[0]) || words[0].includes('='))) words = words.slice(1);
    } else if (w === 'timeout') {
      words = words.slice(1);
      while (words[0] && isFlag(words[0])) words = words.slice(['-s', '-k', '--signal', '--kill-after'].includes(words[0]) ? 2 : 1);
      words = words.slice(1); // the duration
    }
    else break;
  }
  const [rawTool, ...args] = words;
  const tool = rawTool.replace(/^.*\//, '');
  const pos = positional(args, new Set());
  // Whatever the program, these options mean it waits for more and never returns.
  const endless = args.find((a) => /^--(follow|watch)(=|$)/.test(a));
  if (endless) return INTERACTIVE(`${tool} ${endless} never ends`);
  // PowerShell (`Get-ADUser`, `Stop-Service -Force`) runs on a Windows machine, not in this shell.
  if (/^[A-Z][a-z]+-[A-Z][A-Za-z]+$/.test(rawTool)) return INTERACTIVE(`${rawTool} is a PowerShell cmdlet, typed in PowerShell on another machine`);
  switch (tool) {
    case 'kubectl':
    case 'oc':
      return kubectl(args);
    case 'docker':
    case 'podman':
    case 'nerdctl':
    case 'docker-compose':
      return docker(tool, args);
    case 'systemctl':
      return byVerb('systemctl', pos[0], /^(status|is-active|is-enabled|is-failed|list-\w+|show|cat)$/, /^(start|stop|restart|reload|enable|disable|mask|unmask|kill|daemon-reload|isolate|try-restart|reload-or-restart|reset-failed)$/);
    case 'service':
      return byVerb('service', pos[1], /^status$/, /^(start|stop|restart|reload|force-reload)$/);
    case 'journalctl':
      if (hasFlag(args, '-f', '--follow')) return INTERACTIVE('journalctl -f never ends');
      return hasFlag(args, '--vacuum-size', '--vacuum-time', '--vacuum-files', '--rotate', '--flush', '--relinquish-var', '--setup-keys') ? CHANGE('journalctl --vacuum/--rotate removes or moves journal files') : READ('journalctl');
    case 'redis-cli':
      return redisCli(args);
    case 'psql':
    case 'mysql':
      return psql(tool, args);
    case 'mongo':
    case 'mongosh':
      return mongo(tool, args);
    case 'curl':
      return curl(args);
    case 'ping':
      return hasFlag(args, '-c', '-w') || args.some((a) => /^-c\d+$/.test(a)) ? READ('ping -c') : INTERACTIVE('ping without -c never ends');
    case 'tail':
      return hasFlag(args, '-f', '-F', '--follow') ? INTERACTIVE('tail -f never ends') : READ('tail');
    case 'top':
      return hasFlag(args, '-b') ? READ('top -b') : INTERACTIVE('top is a full-screen program (top -b -n 1 reads once)');
    case 'vmstat':
    case 'iostat':
    case 'mpstat':
    case 'sar':
      return pos.length === 1 ? INTERACTIVE(`${tool} with an interval and no count never ends`) : READ(tool);
    case 'dmesg':
      if (hasFlag(args, '-c', '-C', '--clear', '--read-clear')) return CHANGE('dmesg -c clears the kernel log');
      return hasFlag(args, '-w', '--follow') ? INTERACTIVE('dmesg -w never ends') : READ('dmesg');
    case 'openssl': {
      const sub = pos[0];
      if (sub === 's_client') return INTERACTIVE('openssl s_client waits for input (add </dev/null to run it)');
      if (hasFlag(args, '-out')) return CHANGE(`openssl ${sub ?? ''} -out writes a file`);
      if (['x509', 'verify', 'version', 'crl', 'asn1parse', 'dgst', 'ciphers'].includes(sub ?? '')) return READ(`openssl ${sub}`);
      if (sub === 'req' && hasFlag(args, '-noout') && !hasFlag(args, '-new')) return READ('openssl req -noout');
      return CHANGE(`openssl ${sub ?? ''} may create keys or files`.trim());
    }
    case 'sed':
      return hasFlag(args, '-i', '--in-place') || args.some((a) => a.startsWith('-i')) ? CHANGE('sed -i edits a file in place') : READ('sed');
    case 'find':
      return args.some((a) => ['-delete', '-exec', '-execdir', '-ok', '-okdir', '-fprint', '-fprint0', '-fprintf', '-fls'].includes(a)) ? CHANGE('find -delete/-exec/-fprint') : READ('find');
    case 'tee':
      return pos.every((p) => toScreen(p)) ? READ('tee to the screen only') : CHANGE(`tee writes to ${pos.filter((p) => !toScreen(p)).join(', ')}`);
    case 'wget': {
      if (hasFlag(args, '--spider')) return READ('wget --spider');
      const out = outputFile(args, '-O', ['--output-document']);
      return toScreen(out) ? READ('wget -O -') : CHANGE(`wget writes the download to ${out || 'a file'}`);
    }
    case 'tar': {
      const first = args[0] ?? '';
      const modes = (first.startsWith('-') ? args.filter((a) => /^-[A-Za-z]+$/.test(a)).join('') : first) + args.filter((a) => a.startsWith('--')).join(' ');
      if (/--(create|extract|get|append|update|delete|concatenate)|[cxruA]/.test(modes)) return CHANGE('tar creates or extracts files');
      return /--list|t/.test(modes) ? READ('tar t lists an archive') : UNKNOWN('tar without a mode');
    }
    case 'gzip':
    case 'gunzip':
    case 'bzip2':
    case 'bunzip2':
    case 'xz':
    case 'unxz':
    case 'zstd':
      return hasFlag(args, '-c', '--stdout', '-l', '--list', '-t', '--test') ? READ(`${tool} -c`) : CHANGE(`${tool} replaces the file it compresses`);
    case 'sort':
      return outputFile(args, '-o', ['--output']) !== undefined ? CHANGE('sort -o writes a file') : READ('sort');
    case 'pg_dump':
    case 'pg_dumpall':
    case 'mysqldump': {
      const file = outputFile(args, tool === 'mysqldump' ? '-r' : '-f', tool === 'mysqldump' ? ['--result-file'] : ['--file']);
      return file !== undefined && !toScreen(file) ? CHANGE(`${tool} writes ${file || 'a file'}`) : READ(`${tool} to the screen`);
    }
    case 'mongodump':
      return args.includes('--archive') || toScreen(outputFile(args, '-o', ['--out'])) ? READ('mongodump to the screen') : CHANGE('mongodump writes a dump directory');
    case 'hostname':
      return pos.length ? CHANGE('hostname NAME renames the host') : READ('hostname');
    case 'date':
      return hasFlag(args, '-s', '--set') ? CHANGE('date -s sets the clock') : READ('date');
    case 'xargs':
      return pos.length ? classifyWords(args.filter((a, i) => i >= args.indexOf(pos[0]))) : READ('xargs');
    case 'crontab':
      return hasFlag(args, '-l') ? READ('crontab -l') : hasFlag(args, '-e') ? INTERACTIVE('crontab -e opens an editor') : CHANGE('crontab');
    case 'nslookup':
      return pos.length ? READ('nslookup') : INTERACTIVE('nslookup without a name opens a prompt');
    case 'nc':
    case 'ncat':
      return hasFlag(args, '-z') ? READ(`${tool} -z`) : INTERACTIVE(`${tool} without -z keeps the connection open`);
    case 'mtr':
      return hasFlag(args, '-r', '--report', '-c') ? READ('mtr --report') : INTERACTIVE('mtr is a full-screen program');
    case 'tcpdump':
      return hasFlag(args, '-c') ? READ('tcpdump -c') : INTERACTIVE('tcpdump without -c never ends');
    case 'ssh': {
      if (hasFlag(args, '-t', '-tt')) return INTERACTIVE('ssh -t opens a terminal on another host');
      const at = args.findIndex((a, i) => !a.startsWith('-') && !['-i', '-p', '-l', '-o', '-J', '-F'].includes(args[i - 1] ?? ''));
      if (at < 0 || at === args.length - 1) return INTERACTIVE('ssh opens a remote shell');
      // The remote command is what decides: `ssh host 'systemctl status x'` only reads.
      const remote = args.slice(at + 1).join(' ');
      const inner = planCommand(remote);
      return { verdict: inner.verdict, reason: `ssh … ${inner.reason}` };
    }
    case 'git':
      return byVerb('git', pos[0], /^(status|log|diff|show|branch|remote|rev-parse|describe|blame|fetch|ls-files|shortlog|tag|reflog|grep|config)$/, /^(revert|reset|push|checkout|switch|commit|merge|rebase|cherry-pick|pull|restore|clean|rm|mv|stash|am|apply)$/);
    case 'helm':
      return byVerb('helm', pos[0], /^(list|ls|status|history|get|show|template|search|lint|version|diff|env|dependency)$/, /^(upgrade|install|rollback|uninstall|delete|repo|plugin|push|package|test)$/);
    case 'aws': {
      const op = pos[1];
      if (pos[0] === 'ssm' && op === 'start-session') return INTERACTIVE('aws ssm start-session opens a shell on the instance');
      if (pos[0] === 'ecs' && op === 'execute-command') return INTERACTIVE('aws ecs execute-command opens a shell in the container');
      if (pos[0] === 's3') return byVerb('aws s3', op, /^(ls|presign)$/, /^(cp|mv|rm|sync|mb|rb)$/);
      return byVerb(`aws ${pos[0] ?? ''}`.trim(), op, /^(describe|list|get|head|lookup|search|filter|batch-get|wait|tail)-?|^(ls|wait)$/, /^(create|delete|update|put|modify|start|stop|reboot|terminate|run|invoke|attach|detach|associate|disassociate|set|reset|restore|promote|failover|revoke|authorize|register|deregister|enable|disable|remove|add|tag|untag|import|send|publish|cancel|execute|replace|scale|rotate|change|copy|purge)-?/);
    }
    case 'gcloud':
    case 'az': {
      const remote = tool === 'gcloud' ? flagValue(args, '--command') : undefined;
      if (tool === 'gcloud' && pos[0] === 'compute' && pos[1] === 'ssh' && remote) {
        // The remote command decides, as with `ssh host 'cmd'`.
        const inner = planCommand(remote);
        return { verdict: inner.verdict, reason: `gcloud compute ssh --command … ${inner.reason}` };
      }
      if ((tool === 'gcloud' && pos[0] === 'compute' && pos[1] === 'ssh') || (tool === 'az' && (pos[0] === 'ssh' || pos[0] === 'serial-console'))) return INTERACTIVE(`${tool} ${pos.slice(0, tool === 'gcloud' ? 2 : 1).join(' ')} opens a shell on another machine`);
      // `az webapp log tail`, `gcloud … logs tail`: streams until interrupted.
      if (pos.includes('tail') && pos.some((p) => p === 'log' || p === 'logs' || p === 'logging')) return INTERACTIVE(`${tool} … tail streams logs and never ends`);
      const verb = [...pos].reverse().find((w) => /^[a-z][a-z-]*$/.test(w) && /^(list|describe|show|get|get-[a-z-]+|read|logs|tail|create|delete|update|set|deploy|resize|reset|stop|start|restart|rollback|failover|promote|patch|add-[a-z-]+|remove-[a-z-]+|import|export|restore|scale)$/.test(w));
      return byVerb(tool, verb, /^(list|describe|show|get|get-[a-z-]+|read|logs|tail)$/, /./);
    }
    case 'terraform':
      return byVerb('terraform', pos[0], /^(plan|show|validate|output|version|providers|graph|fmt)$/, /^(apply|destroy|import|taint|untaint|state|refresh|init|force-unlock)$/);
    case 'iptables':
    case 'ip6tables':
      return hasFlag(args, '-L', '--list', '-S', '--list-rules', '-C', '--check') ? READ(`${tool} -L`) : CHANGE(`${tool} rule change`);
    case 'nft':
      return pos[0] === 'list' ? READ('nft list') : CHANGE('nft');
    case 'ufw':
      return pos[0] === 'status' || pos[0] === 'show' ? READ(`ufw ${pos[0]}`) : CHANGE(`ufw ${pos[0] ?? ''}`.trim());
    case 'ip':
      return pos.some((p) => /^(add|del|delete|set|flush|change|replace|append)$/.test(p)) ? CHANGE(`ip ${pos.join(' ')}`) : READ('ip show');
    case 'nginx':
      return hasFlag(args, '-t', '-T', '-v', '-V') ? READ('nginx -t') : hasFlag(args, '-s') ? CHANGE(`nginx -s ${flagValue(args, '-s') ?? ''}`.trim()) : CHANGE('nginx starts the server');
    case 'apachectl':
    case 'apache2ctl':
      return /^(configtest|-t|status|-S)$/.test(pos[0] ?? args[0] ?? '') ? READ(`${tool} configtest`) : CHANGE(tool);
    case 'certbot':
      return byVerb('certbot', pos[0], /^(certificates|--version|plugins)$/, /^(renew|certonly|delete|revoke|run|install|register|update_account|reconfigure)$/);
    case 'vault':
      return byVerb('vault', pos[0] === 'kv' ? pos[1] : pos[0], /^(read|get|list|status|version|print|metadata)$/, /^(write|put|delete|destroy|patch|rollback|undelete|seal|unseal|enable|disable|login|operator)$/);
    case 'etcdctl':
      return byVerb('etcdctl', pos[0], /^(get|member|endpoint|version|check|alarm|watch)$/, /^(put|del|compaction|defrag|snapshot|move-leader|lease)$/);
    case 'patronictl':
      return byVerb('patronictl', positional(args, new Set(['-c', '--config-file', '-k', '--dcs-url', '--dcs']))[0], /^(list|history|show-config|topology|version|dsn|query)$/, /^(failover|switchover|restart|reinit|edit-config|reload|pause|resume|remove|flush)$/);
    case 'pg_ctl':
    case 'pg_ctlcluster':
      return byVerb(tool, pos[0] === undefined ? undefined : (pos.find((p) => /^(status|start|stop|restart|reload|promote)$/.test(p)) ?? pos[0]), /^status$/, /./);
    case 'rabbitmqctl':
      return byVerb('rabbitmqctl', pos[0], /^(list_\w+|status|cluster_status|environment|report|node_health_check|ping)$/, /./);
    case 'nodetool':
      return byVerb('nodetool', pos[0], /^(status|info|tpstats|cfstats|tablestats|describecluster|ring|netstats|compactionstats|gossipinfo|version|proxyhistograms|tablehistograms|cfhistograms|listsnapshots|statusgossip|statusbinary|describering)$/, /./);
    case 'kubens':
    case 'kubectx':
      return pos.length ? CHANGE(`${tool} switches the current context`) : READ(tool);
    case 'stern':
      return INTERACTIVE('stern follows logs and never ends');
    case 'chronyc':
      return byVerb('chronyc', pos[0], /^(tracking|sources|sourcestats|activity|ntpdata|serverstats)$/, /./);
    case 'readlink':
      return READ('readlink');
    case 'restic':
      return byVerb('restic', pos[0], /^(snapshots|check|ls|stats|diff|cat|find|version)$/, /./);
    case 'orchestrator-client':
      return byVerb('orchestrator-client -c', flagValue(args, '-c', '--command'), /^(topology|topology-tabulated|which-cluster-master|which-master|which-replicas|clusters|clusters-alias|instance|all-instances|replication-analysis|which-cluster|which-cluster-instances)$/, /./);
    case 'cqlsh': {
      const cql = flagValue(args, '-e', '--execute');
      if (cql !== undefined) return classifySql(cql);
      return hasFlag(args, '-f', '--file') ? UNKNOWN('cqlsh -f runs a file ir cannot see') : INTERACTIVE('cqlsh without -e opens a prompt');
    }
    case 'sqlite3':
      return pos.length >= 2 && !pos[1].startsWith('.') ? classifySql(pos.slice(1).join(' ')) : INTERACTIVE('sqlite3 without SQL opens a prompt');
    case 'nsenter':
      return INTERACTIVE('nsenter enters another process\'s namespaces');
    case 'virsh':
      return /^(list|dominfo|domstate|domblklist|domiflist|nodeinfo|version|dumpxml)$/.test(pos[0] ?? '') ? READ(`virsh ${pos[0]}`) : INTERACTIVE(`virsh ${pos[0] ?? ''} opens a console or changes a machine`);
    case 'kafka-topics.sh':
    case 'kafka-topics':
    case 'kafka-consumer-groups.sh':
    case 'kafka-consumer-groups':
    case 'kafka-configs.sh':
    case 'kafka-configs':
    case 'kafka-acls.sh':
    case 'kafka-acls': {
      if (hasFlag(args, '--alter', '--create', '--delete', '--add', '--remove', '--delete-offsets') || (hasFlag(args, '--reset-offsets') && hasFlag(args, '--execute'))) return CHANGE(`${tool} --alter/--create/--delete`);
      if (hasFlag(args, '--reset-offsets')) return hasFlag(args, '--dry-run') ? READ(`${tool} --reset-offsets --dry-run`) : UNKNOWN(`${tool} --reset-offsets: one --execute away from moving the group's offsets`);
      return hasFlag(args, '--describe', '--list') ? READ(`${tool} --describe/--list`) : UNKNOWN(`${tool} without --describe or --list`);
    }
    case 'kafka-console-consumer.sh':
    case 'kafka-console-consumer':
      return hasFlag(args, '--max-messages', '--timeout-ms') ? READ(tool) : INTERACTIVE(`${tool} never ends without --max-messages`);
    case 'kafka-leader-election.sh':
    case 'kafka-reassign-partitions.sh':
    case 'kafka-delete-records.sh':
      return CHANGE(tool);
    case 'crictl':
      return byVerb('crictl', pos[0], /^(ps|pods|images|img|inspect|inspecti|inspectp|logs|stats|info|version|imagefsinfo)$/, /^(rm|rmi|rmp|stop|stopp|start|create|run|runp|exec|pull|update)$/);
    case 'ceph':
      if (['status', 'health', 'df', '-s', '-w', 'versions', 'version'].includes(pos[0] ?? args[0] ?? '')) return (pos[0] ?? args[0]) === '-w' ? INTERACTIVE('ceph -w never ends') : READ(`ceph ${pos[0] ?? args[0]}`);
      // `ceph osd tree down`: the verb is the second word, what follows it filters.
      if (/^(tree|ls|dump|stat|df|status|get|detail|health|query|list|perf|pool|find|metadata|versions|utilization|ok-to-stop|safe-to-destroy)$/.test(pos[1] ?? '') && !(pos[1] === 'pool' && !/^(ls|get|stats)$/.test(pos[2] ?? ''))) return READ(`ceph ${pos.slice(0, 2).join(' ')}`);
      return pos.some((p) => /^(tree|ls|dump|stat|df|status|get|detail|health|query|list|perf|pool-ls|getcrushmap|map|find|metadata|versions|utilization|ok-to-stop|safe-to-destroy)$/.test(p)) && !pos.some((p) => /^(set|rm|out|in|down|up|reweight|reweight-by-utilization|purge|destroy|create|delete|unset|pause|unpause|repair|scrub|deep-scrub|set-full-ratio|set-nearfull-ratio|set-backfillfull-ratio|crush|lost|blocklist|blacklist|enable|disable)$/.test(p)) ? READ(`ceph ${pos.join(' ')}`) : CHANGE(`ceph ${pos.slice(0, 3).join(' ')}`);
    case 'rbd':
      return byVerb('rbd', pos[0], /^(status|ls|list|info|du|showmapped|snap)$/.test(pos[0] ?? '') && !(pos[0] === 'snap' && pos[1] !== 'ls') ? /./ : /^$/, /./);
    case 'smartctl':
      return hasFlag(args, '-t', '--test', '-s', '--smart', '-o', '--offlineauto', '-S', '--saveauto', '-X', '--abort') ? CHANGE('smartctl starts a test or changes a setting') : READ('smartctl');
    case 'gsutil':
      return byVerb('gsutil', pos[0], /^(ls|cat|stat|du|hash|version|acl|iam)$/.test(pos[0] ?? '') && !(['acl', 'iam'].includes(pos[0] ?? '') && pos[1] !== 'get') ? /./ : /^$/, /./);
    default:
      break;
  }
  if (INTERACTIVE_TOOLS.has(tool)) return INTERACTIVE(`${tool} needs a terminal or never ends`);
  if (CHANGE_TOOLS.has(tool)) return CHANGE(tool);
  if (READ_TOOLS.has(tool)) return READ(tool);
  return UNKNOWN(`${rawTool} is not a command ir knows`);
}

/** Placeholders a person must fill in: `<pod-name>`, `YOUR_HOST`, `{service}`, `[NAMESPACE]`, `xxx`. */
export function placeholders(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/<([A-Za-z][\w .:/-]*)>/g)) if (!/^<</.test(m[0])) found.add(m[0]);
  for (const m of text.matchAll(/\b(YOUR[_-][A-Z0-9_-]+|[A-Z0-9_]+_HERE|REPLACE[_-]ME|CHANGEME|XXX+)\b/g)) found.add(m[0]);
  // `{service}` is a placeholder; `{end}` inside a quoted jsonpath or Go template is not.
  const unquoted = text.replace(/'[^']*'/g, (q) => ' '.repeat(q.length));
  for (const m of unquoted.matchAll(/(?<![{$])\{([A-Za-z][\w -]*)\}(?!\})/g)) found.add(m[0]);
  return [...found];
}

/** Does this command open an interactive session that the lines after it are typed into? */
export function opensSession(command: string): boolean {
  const t = command.trim().replace(/^sudo\s+(-\S+\s+)*/, '');
  if (/^(oc|kubectl)\s+(.*\s)?(debug|rsh)\b/.test(t) && !/\s--\s+\S/.test(t)) return true;
  if (/^(kubectl|oc|docker|podman|nerdctl)\s+(.*\s)?exec\s.*-(it|ti|i|t)\b/.test(t) && /(--\s+|\s)(ba|z|a|k)?sh\s*$|(--\s+|\s)(psql|mysql|mongosh|mongo|redis-cli)(\s+-[hpUdn]\s*\S+)*\s*$/.test(t)) return true;
  if (/^ssh\s+(-\S+\s+(\S+\s+)?)*[^\s-]\S*\s*$/.test(t) || /^ssh\s+(.*\s)?-\w*t/.test(t)) return true;
  if (/^chroot\s+\S+\s*$/.test(t) || /^(su|sudo)\s*(-|-i|-s)?\s*\S*\s*$/.test(command.trim()) && /^(su\b|sudo\s+-[is])/.test(command.trim())) return true;
  if (/^(psql|mysql|mongosh|mongo|cqlsh)\b/.test(t) && !/\s(-c|--command|-e|--execute|--eval|-f|--file|-l|--list)\b/.test(t)) return true;
  // Shells on other machines and in other namespaces: what follows is typed there.
  if (/^aws\s+(.*\s)?ssm\s+start-session\b/.test(t) || /^aws\s+(.*\s)?ecs\s+execute-command\b/.test(t)) return true;
  if ((/^gcloud\s+(.*\s)?compute\s+ssh\b/.test(t) || /^az\s+ssh\b/.test(t)) && !/\s(--command|--)(\s|=)/.test(t)) return true;
  if (/^sqlite3(\s+-\S+)*(\s+[^\s-]\S*)?\s*$/.test(t) || /^virsh\s+console\b/.test(t) || /^telnet\s/.test(t)) return true;
  if (/^nsenter\b/.test(t) && lex(t).segments[0]?.every((w, k) => k === 0 || w.text.startsWith('-') || /^-[tS]$|^--target$/.test(lex(t).segments[0][k - 1]?.text ?? ''))) return true;
  // `kubectl exec -it db-0 -- mysql -uroot -p`: a database console in the container, unless given its statement.
  if (/^(kubectl|oc|docker|podman|nerdctl)\s+(.*\s)?exec\s.*-(it|ti|i|t)\b/.test(t) && /(--\s+|\s)(psql|mysql|mariadb|mongosh|mongo|redis-cli|cqlsh|sqlite3|python3?|rails console|bin\/rails c)(\s.*)?$/.test(t) && !/\s(-e|-c|--eval|--execute|--command)[\s=]/.test(t)) return true;
  if (/^redis-cli\b/.test(t) && redisCli(lex(t).segments[0]?.slice(1).map((w) => w.text) ?? []).reason.includes('opens a prompt')) return true;
  return false;
}

/**
 * Could this line of a code block be a command, as opposed to output or configuration? A word that
 * names a program (lowercase, or a path to a script) and then arguments, not a sentence.
 */
export function commandish(line: string): boolean {
  const t = line.trim().replace(/^sudo\s+/, '');
  if (looksLikeCommand(t)) return true;
  // A PowerShell cmdlet (`Get-ADUser jdoe -Properties *`).
  if (/^[A-Z][a-z]+-[A-Z][A-Za-z]+(\s+\S|$)/.test(t)) return true;
  if (!/^([a-z][a-z0-9_.+-]*|\.{0,2}\/[\w./+-]+|~\/[\w./+-]+|[A-Za-z_][A-Za-z0-9_]*=\S*)(\s|$)/.test(t)) return false;
  const words = t.split(/\s+/);
  // "active", "running" alone are a status line; a plain sentence is prose.
  if (words.length === 1 && !/[/._-]/.test(t) && !KNOWN_TOOLS.has(t)) return false;
  if (words.length > 3 && /[.!?]$/.test(t) && !/\s-\S|\//.test(t)) return false;
  return true;
}

/** Is this line of plain text a command (it starts with a tool ir knows, followed by arguments)? */
export function looksLikeCommand(line: string): boolean {
  const t = line.trim().replace(/^\$\s+/, '').replace(/^sudo\s+/, '');
  const m = /^([A-Za-z][\w.-]*)(\s+|$)(.*)$/.exec(t);
  if (!m || !KNOWN_TOOLS.has(m[1])) return false;
  if (/[.!?]$/.test(t) && !/\s-\S|\//.test(t)) return false;
  const rest = m[3];
  // "find the owner of the key", "top offenders": prose, not a command.
  if (!rest) return ['df', 'free', 'uptime', 'ps', 'top', 'htop', 'whoami', 'hostname', 'date', 'dmesg'].includes(m[1]);
  const words = rest.split(/\s+/);
  if (words.length > 3 && words.filter((w) => /^[a-z]+$/.test(w)).length === words.length && !['kubectl', 'docker', 'git', 'helm', 'systemctl'].includes(m[1])) return false;
  return /^[-a-z0-9"'./$~@{<_:]/.test(rest);
}

/**
 * How to write a command in a runbook: run / run + destructive / print, and whether it needs a
 * shell. `text` is the command as it will be written (with `{{` already escaped).
 */
export function planCommand(text: string, opts: { compound?: boolean; usesAssigned?: string[] } = {}): CommandPlan {
  const lx = lex(text);
  const guesses: string[] = [];
  let worst: Classification | undefined;
  for (const seg of lx.segments) {
    const words = seg.map((w) => w.text);
    if (!words.length) continue;
    // Words of a compound statement (`while`, `do`...) are not commands.
    if (/^(if|then|else|elif|fi|for|while|until|do|done|case|esac|in|function|\{|\}|!)$/.test(words[0])) {
      const rest = words.slice(1).filter((w) => !/^(then|do|else)$/.test(w));
      if (!rest.length || /^(for|case|select)$/.test(words[0])) continue;
      const c = classifyWords(rest);
      if (!worst || RANK[c.verdict] > RANK[worst.verdict]) worst = c;
      continue;
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]) && words.length === 1) continue;
    // `echo | openssl s_client …` and `openssl s_client … </dev/null` get their input and end.
    if (words[0] === 'openssl' && words[1] === 's_client' && (seg !== lx.segments[0] || /<\s*\/dev\/null/.test(text))) {
      worst ??= READ('openssl s_client with its input given');
      continue;
    }
    const c = classifyWords(words);
    if (!worst || RANK[c.verdict] > RANK[worst.verdict]) worst = c;
  }
  worst ??= UNKNOWN('no command found');
  // Effects that hide behind the first command: never a plain run step, at least a confirmation.
  const atLeast = (c: Classification) => {
    if (RANK[c.verdict] > RANK[worst!.verdict]) worst = c;
  };
  if (lx.overwrites.length) atLeast(CHANGE(`"> ${lx.overwrites[0]}" overwrites a file`));
  if (lx.appends.length) atLeast(CHANGE(`">> ${lx.appends[0]}" appends to a file`));
  for (const inner of lx.substitutions) {
    // `$(date -u -d '-1 hour' +%FT%T)` only prints a time: the one substitution known to be harmless.
    if (/^\s*date(\s+(-[uR]|--utc|-d|--date(=\S+)?|'[^']*'|"[^"]*"|\+\S+|[^\s;|&<>`$()]+))*\s*$/.test(inner) && !/\s(-s|--set)\b/.test(inner)) continue;
    const c = planCommand(inner);
    atLeast({ verdict: c.verdict, reason: `${inner.includes('`') ? '`…`' : '$(…)'}: ${c.reason}` });
    atLeast(CHANGE(`$(${inner.trim()}) runs a command hidden inside this one`));
  }
  const sequence = lx.shellFeatures.filter((f) => f === ';' || f === '&&' || f === '||');
  if (sequence.length) atLeast(CHANGE(`runs several commands one after another (${sequence.join(' ')})`));

  const shell = lx.shellFeatures.length > 0 || lx.open || opts.compound === true || 'error' in splitCommand(text);
  const holes = placeholders(text);
  let action: CommandPlan['action'] = worst.verdict === 'read' || worst.verdict === 'change' ? 'run' : 'print';
  let reason = worst.reason;
  if (action === 'run' && holes.length) {
    action = 'print';
    reason = `has a placeholder to fill in: ${holes.join(', ')}`;
  } else if (action === 'run' && opts.usesAssigned?.length) {
    action = 'print';
    reason = `uses ${opts.usesAssigned.map((n) => `$${n}`).join(', ')}, set by an earlier line of the script`;
  } else if (action === 'run' && opts.compound) {
    action = 'print';
    reason = 'a loop or condition: review it before running it by hand';
  } else if (action === 'run' && lx.shellFeatures.includes('background &')) {
    action = 'print';
    reason = 'runs in the background (&)';
  } else if (action === 'print' && holes.length) {
    guesses.push(`placeholder to fill in: ${holes.join(', ')}`);
  }
  const envVars = [...new Set([...text.matchAll(/\$\{?([A-Z][A-Z0-9_]*)\}?/g)].map((m) => m[1]))].filter((n) => !opts.usesAssigned?.includes(n));
  if (action === 'run' && envVars.length) guesses.push(`reads ${envVars.map((n) => `$${n}`).join(', ')} from the responder's environment`);
  return { action, destructive: action === 'run' && worst.verdict === 'change', shell: action === 'run' && shell, reason, guesses, verdict: worst.verdict };
}
