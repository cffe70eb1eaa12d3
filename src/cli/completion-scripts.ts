// The scripts `dmess completion bash|zsh|fish` prints. Each hands the words typed so far to
// `dmess __complete` (src/cli/complete-main.ts) and offers what it answers: one engine decides for
// every shell, so they cannot drift apart. The first line of the answer is `words` or `files`
// (a path: the shell's own file completion).

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = typeof SHELLS[number]

// Candidates are added one by one from `read` (never through `compgen -W`, which would expand
// `$(…)` in a contact's name) and quoted with %q so a name with spaces stays one word.
const BASH = `# dmess completion for bash. Load it with:  source <(dmess completion bash)
# or keep it:  dmess completion bash > ~/.local/share/bash-completion/completions/dmess
_dmess() {
  local cur=\${COMP_WORDS[COMP_CWORD]} kind line q
  local -a answer
  COMPREPLY=()
  mapfile -t answer < <(command dmess __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  kind=\${answer[0]}
  if [[ $kind == files ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
  fi
  for line in "\${answer[@]:1}"; do
    printf -v q '%q' "$line"
    COMPREPLY+=("$q")
  done
}
complete -F _dmess dmess
`

const ZSH = `#compdef dmess
# dmess completion for zsh. Load it (after compinit) with:  source <(dmess completion zsh)
# or keep it as _dmess in a directory on $fpath.
_dmess() {
  local -a answer
  answer=("\${(@f)$(command dmess __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ \${answer[1]} == files ]]; then
    _files
  else
    compadd -- "\${(@)answer[2,-1]}"
  fi
}
if (( $+functions[compdef] )); then compdef _dmess dmess; fi
`

const FISH = `# dmess completion for fish. Load it with:  dmess completion fish | source
# or keep it:  dmess completion fish > ~/.config/fish/completions/dmess.fish
function __dmess_complete
  set -l words (commandline -opc)
  set -e words[1]
  set -l answer (command dmess __complete $words (commandline -ct) 2>/dev/null)
  if test "$answer[1]" = files
    __fish_complete_path (commandline -ct)
  else
    printf '%s\\n' $answer[2..-1]
  end
end
complete -c dmess -f -a '(__dmess_complete)'
`

export function completionScript (shell: Shell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH
}
