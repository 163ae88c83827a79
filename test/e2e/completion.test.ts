// Shell completion: the scripts load in bash, zsh and fish, and complete commands, flags and live
// values (runbook ids, incident ids, states, severities, --var names) through `ir __complete`.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';

describe('ir completion bash|zsh|fish', () => {
  let home: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  let incident: string;

  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    // The scripts call `ir` by name, as an installed ir would be called.
    const bin = join(home, 'bin');
    mkdirSync(bin);
    symlinkSync(BIN, join(bin, 'ir'));
    env = irEnv(home, { PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}` });
    const r = ir(home, ['declare', '-t', 'checkout errors', '-s', 'SEV-2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    incident = json<{ id: string }>(r).id;
  });
  afterAll(() => cleanup());

  const shell = (program: string, args: string[]) => {
    const r = spawnSync(program, args, { env, encoding: 'utf8', cwd: ROOT });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  /** Runs bash's completion function the way readline would, for the words of a command line. */
  const bashComplete = (...words: string[]) => {
    const assign = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`;
    const r = shell('bash', ['-c', `source <(ir completion bash) && ${assign} && _ir_complete && printf '%s\\n' "\${COMPREPLY[@]}"`]);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  };

  const fishComplete = (line: string) => {
    const r = shell('fish', ['-c', `ir completion fish | source; complete -C '${line}'`]);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
  };

  it('bash accepts the script and registers the completion function', () => {
    const r = shell('bash', ['-c', 'source <(ir completion bash) && complete -p ir']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('complete -F _ir_complete ir');
  });

  it('bash completes a runbook id, subcommands, flags, states, severities, incident ids and --var names', () => {
    expect(bashComplete('ir', 'runbook', 'red')).toEqual(['redis-failure']);
    expect(bashComplete('ir', 'runbook', 'redis-failure', '--var', 'ho')).toEqual(['host=']);
    expect(bashComplete('ir', 'runbook', 'redis-failure', '--var', 'host=x', '--var', 'ho')).toEqual([]);
    expect(bashComplete('ir', 'evi')).toEqual(['evidence']);
    expect(bashComplete('ir', 'evidence', '')).toEqual(['collect', 'list', 'verify', 'export']);
    expect(bashComplete('ir', 'declare', '--sev')).toEqual(['--severity']);
    expect(bashComplete('ir', 'declare', '--severity', '')).toEqual(['SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4']);
    expect(bashComplete('ir', 'status', 'mi')).toEqual(['mitigating']);
    expect(bashComplete('ir', 'show', '')).toEqual([incident]);
    expect(bashComplete('ir', '--incident', 'INC-')).toEqual([incident]);
    expect(bashComplete('ir', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('zsh: compinit loads the script from $fpath without errors, and the function completes a runbook id', () => {
    const dir = join(home, 'zfunc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '_ir'), ir(home, ['completion', 'zsh']).stdout);
    const loaded = shell('zsh', ['-f', '-c', `fpath=(${dir} $fpath); autoload -U compinit; compinit -u -d ${join(home, 'zcompdump')}; print -r -- \${_comps[ir]}`]);
    expect(loaded.stderr).toBe('');
    expect(loaded.code).toBe(0);
    expect(loaded.stdout.trim()).toBe('_ir');
    // Sourced after compinit, with zsh's own completion builtins replaced by printers: what _ir offers.
    const offered = shell('zsh', [
      '-f',
      '-c',
      `autoload -U compinit; compinit -u -d ${join(home, 'zcompdump2')}; source <(ir completion zsh); ` +
        `_describe() { print -rl -- "\${(@P)argv[-1]}" }; compadd() { print -rl -- "$@" }; words=(ir runbook red); CURRENT=3; _ir`,
    ]);
    expect(offered.stderr).toBe('');
    expect(offered.stdout.trim()).toBe('redis-failure:Cache / Redis failure');
  });

  it('fish completes a runbook id, an incident id and --var names', () => {
    expect(fishComplete('ir runbook red')).toEqual(['redis-failure']);
    expect(fishComplete('ir note --incident ')).toEqual([incident]);
    expect(fishComplete('ir runbook redis-failure --var ho')).toEqual(['host=']);
  });

  it('completing a command or a runbook id loads no store driver and no YAML parser; an incident id opens the store', () => {
    const HEAVY = ['better-sqlite3', 'pg', 'yaml', 'ajv', '@inquirer', '@kubernetes/client-node', 'execa', 'handlebars'];
    const loaded = (args: string[]) => {
      const trace = join(home, `trace-${args.join('-').replace(/\W/g, '')}.txt`);
      rmSync(trace, { force: true });
      const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test/helpers/trace-imports.mjs'), BIN, '__complete', ...args], {
        env: { ...env, IR_TRACE_FILE: trace },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
      return { out: r.stdout, heavy: HEAVY.filter((h) => urls.some((u) => u.includes(`/node_modules/${h}/`))) };
    };
    const runbook = loaded(['runbook', 'red']);
    expect(runbook.out).toContain('redis-failure');
    expect(runbook.heavy).toEqual([]);
    expect(loaded(['ev']).heavy).toEqual([]);
    const ids = loaded(['show', '']);
    expect(ids.out).toContain(incident);
    expect(ids.heavy).toContain('better-sqlite3');
  });

  it('--json prints the script in one document; an unknown shell is a usage error', () => {
    expect(json<{ shell: string; script: string }>(ir(home, ['completion', 'fish', '--json']))).toEqual({ shell: 'fish', script: expect.stringContaining('complete -c ir') });
    const r = ir(home, ['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown shell "tcsh": expected bash, zsh, fish/);
  });
});
