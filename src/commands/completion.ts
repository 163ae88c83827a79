// `ir completion bash|zsh|fish`: a shell completion script. The scripts stay small and ask
// `ir __complete WORDS…` for candidates, so they always match this version's commands and data.

import type { Command } from 'commander';
import type { Register } from '../cli/program.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

// Protocol (src/cli/complete.ts): one candidate a line, "value<TAB>description", then ":N" where
// N has bit 1 for "complete file names" and bit 2 for "no space after".
const BASH = `# bash completion for ir. Load with: source <(ir completion bash)
_ir_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out line directive=0
  local -a candidates=()
  out=$(ir __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  while IFS= read -r line; do
    case "$line" in
      :[0-9]*) directive="\${line#:}" ;;
      '') ;;
      *) candidates+=("\${line%%$'\\t'*}") ;;
    esac
  done <<< "$out"
  COMPREPLY=()
  if (( directive & 1 )); then
    compopt -o default 2>/dev/null
    return 0
  fi
  (( directive & 2 )) && compopt -o nospace 2>/dev/null
  for line in "\${candidates[@]}"; do
    [[ "$line" == "$cur"* ]] && COMPREPLY+=("$line")
  done
  return 0
}
complete -F _ir_complete ir
`;

const ZSH = `#compdef ir
# zsh completion for ir. Put this output in a file named _ir on $fpath, or: source <(ir completion zsh)
_ir() {
  local out line directive=0
  local -a described plain
  out=$(ir __complete "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  for line in "\${(@f)out}"; do
    if [[ "$line" == :<-> ]]; then
      directive=\${line#:}
    elif [[ -n "$line" ]]; then
      plain+=("\${line%%$'\\t'*}")
      described+=("\${\${line%%$'\\t'*}//:/\\\\:}\${\${(M)line#*$'\\t'}:+:\${line#*$'\\t'}}")
    fi
  done
  if (( directive & 1 )); then
    _files
  elif (( directive & 2 )); then
    compadd -S '' -- "\${plain[@]}"
  else
    _describe -t values 'ir' described
  fi
}
if [[ "\${funcstack[1]}" == "_ir" ]]; then
  _ir "$@"
else
  compdef _ir ir
fi
`;

const FISH = `# fish completion for ir. Load with: ir completion fish | source
function __ir_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    set -l directive 0
    for line in (ir __complete $words 2>/dev/null)
        if string match -qr '^:[0-9]+$' -- $line
            set directive (string sub -s 2 -- $line)
        else if test -n "$line"
            echo $line
        end
    end
    if test (math "$directive % 2") -eq 1
        __fish_complete_path (commandline -ct)
    end
end
complete -c ir -f -a '(__ir_complete)'
`;

const SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };

export const register: Register = (program, ctx, bind) => {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', SHELLS.join(' | '))
    .addHelpText(
      'after',
      '\nExamples:\n  source <(ir completion bash)                 # in ~/.bashrc\n  ir completion zsh > "${fpath[1]}/_ir"        # then restart zsh\n  ir completion fish > ~/.config/fish/completions/ir.fish',
    )
    .action(bind((cmd: Command) => run(cmd.args[0], ctx)));
};

export async function run(shell: string, ctx: Context): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`unknown shell "${shell}": expected ${SHELLS.join(', ')}`);
  const script = SCRIPTS[shell as Shell];
  if (ctx.json) ctx.printJson({ shell, script });
  else ctx.io.stdout.write(script);
  return 0;
}
