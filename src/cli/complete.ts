// Shell completion, decided in one place for bash, zsh and fish: the shells' scripts
// (src/cli/completion-scripts.ts) hand the words typed so far to `dmess __complete` and print what
// it answers. Pure: the command tree comes from oclif.manifest.json, contact names from the
// running daemon (src/cli/complete-main.ts).

/** What completion needs of one command (the manifest has more). */
export interface CompletionCommand {
  /** oclif id, topics joined by ':' (`contacts:list`) */
  id: string
  hidden?: boolean
  /** positional arguments in order: name and the values it allows */
  args: Array<{ name: string, options?: readonly string[] }>
  /** flag name (without --) -> whether it takes a value, and the values it allows */
  flags: Record<string, { takesValue: boolean, options?: readonly string[] }>
}

export interface CompletionTree { commands: CompletionCommand[], topics: string[] }

/** `words`: the candidates for the word under the cursor. `files`: let the shell complete a path. */
export type Completion = { kind: 'words', words: string[] } | { kind: 'files' }

/** Arguments and flags that name a contact: completed with the names and fingerprints the daemon knows. */
const CONTACT_ARGS = new Set(['contact'])
const CONTACT_FLAGS = new Set(['contact'])
/** Flags whose value is a path. */
const PATH_FLAGS = new Set(['home', 'message-file', 'passphrase-file', 'new-passphrase-file'])

/**
 * `words`: everything after `dmess` up to the cursor, the last one the (possibly empty) word
 * being completed. `contacts` is called only when a contact is wanted there.
 */
export async function complete (tree: CompletionTree, words: readonly string[], contacts: () => Promise<string[]>): Promise<Completion> {
  if (words[0] === 'help' && words.length > 1) {
    // `dmess help <command>`: the command's words, nothing after them
    const r = await complete(tree, words.slice(1), async () => [])
    return { kind: 'words', words: r.kind === 'words' ? r.words.filter(w => !w.startsWith('-')) : [] }
  }
  const visible = tree.commands.filter(c => c.hidden !== true)
  const cur = words.at(-1) ?? ''
  const before = words.slice(0, -1)
  // the command: the longest run of leading words that names a topic or a command
  const path: string[] = []
  let i = 0
  while (i < before.length) {
    const w = before[i] as string
    if (w.startsWith('-')) break
    const id = [...path, w].join(':')
    if (!visible.some(c => c.id === id || c.id.startsWith(id + ':'))) break
    path.push(w)
    i++
    if (visible.some(c => c.id === id) && !visible.some(c => c.id.startsWith(id + ':'))) break
  }
  const id = path.join(':')
  const cmd = visible.find(c => c.id === id)
  const match = (list: Iterable<string>): Completion => ({ kind: 'words', words: [...new Set(list)].filter(w => w.startsWith(cur)).sort() })

  const children = (): string[] => visible.map(c => c.id.split(':'))
    .filter(p => p.length > path.length && p.slice(0, path.length).join(':') === id).map(p => p[path.length] as string)
  if (cmd === undefined && i < before.length) return { kind: 'words', words: [] } // an unknown command: nothing follows it
  // at the top or in a topic: the next word (subtopics and commands)
  if (cmd === undefined) return cur.startsWith('-') ? match(['--help', '-h']) : match(children())
  const rest = before.slice(i)
  // a command that is also a topic (`requests`, `requests accept`)
  if (rest.length === 0 && !cur.startsWith('-') && cmd.args.length === 0 && hasChildren(visible, id)) return match(children())

  const prev = rest.at(-1)
  if (prev !== undefined && prev.startsWith('--') && !prev.includes('=')) {
    const flag = cmd.flags[prev.slice(2)]
    if (flag?.takesValue === true) return await flagValue(prev.slice(2), flag.options, match, contacts)
  }
  if (cur.startsWith('--') && cur.includes('=')) {
    const [name, value] = [cur.slice(2, cur.indexOf('=')), cur.slice(cur.indexOf('=') + 1)]
    const flag = cmd.flags[name]
    if (flag?.takesValue !== true) return { kind: 'words', words: [] }
    return await flagValue(name, flag.options, list => ({ kind: 'words', words: [...new Set(list)].filter(w => w.startsWith(value)).sort().map(w => `--${name}=${w}`) }), contacts)
  }
  if (cur.startsWith('-')) {
    const used = new Set(rest.filter(w => w.startsWith('--')).map(w => w.slice(2).split('=')[0]))
    return match([...Object.keys(cmd.flags).filter(f => !used.has(f)).map(f => `--${f}`), '--help'])
  }
  const arg = cmd.args[positionals(cmd, rest).length]
  if (arg === undefined) return { kind: 'words', words: [] }
  if (CONTACT_ARGS.has(arg.name)) return match(await contacts())
  if (arg.options !== undefined) return match(arg.options)
  return { kind: 'words', words: [] }
}

function hasChildren (cmds: readonly CompletionCommand[], id: string): boolean {
  return cmds.some(c => c.id.startsWith(id + ':'))
}

async function flagValue (name: string, options: readonly string[] | undefined, match: (l: Iterable<string>) => Completion, contacts: () => Promise<string[]>): Promise<Completion> {
  if (options !== undefined) return match(options)
  if (CONTACT_FLAGS.has(name)) return match(await contacts())
  if (PATH_FLAGS.has(name)) return { kind: 'files' }
  return { kind: 'words', words: [] }
}

/** The positional words after the command (flags and their values left out). */
function positionals (cmd: CompletionCommand, rest: readonly string[]): string[] {
  const out: string[] = []
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j] as string
    if (w === '--') { out.push(...rest.slice(j + 1)); break }
    if (w.startsWith('-') && w !== '-') {
      if (w.startsWith('--') && !w.includes('=') && cmd.flags[w.slice(2)]?.takesValue === true) j++
      continue
    }
    out.push(w)
  }
  return out
}

/** The tree from oclif.manifest.json's commands and package.json's topics. */
export function treeFromManifest (manifest: { commands: Record<string, ManifestCommand> }, topics: readonly string[]): CompletionTree {
  const commands = Object.values(manifest.commands).map(c => ({
    id: c.id,
    hidden: c.hidden,
    args: Object.entries(c.args ?? {}).map(([name, a]) => ({ name, ...(a.options === undefined ? {} : { options: a.options }) })),
    flags: Object.fromEntries(Object.entries(c.flags ?? {}).map(([name, f]) => [name, { takesValue: f.type === 'option', ...(f.options === undefined ? {} : { options: f.options }) }]))
  }))
  return { commands, topics: [...topics] }
}

export interface ManifestCommand {
  id: string
  hidden?: boolean
  args?: Record<string, { options?: string[] }>
  flags?: Record<string, { type: string, options?: string[] }>
}
