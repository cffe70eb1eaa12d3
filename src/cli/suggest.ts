// "Did you mean": the command or topic nearest to what was typed, by edit distance with
// transpositions (the optimal string alignment distance, Damerau 1964 / Levenshtein 1966), so
// `sned` finds `send` and `contcts lst` finds `contacts list`. Pure: the oclif hook
// (src/cli/not-found-hook.ts) and `dmess help` (commands/help.ts) hand it the names.

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance (a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array<number>(rows * cols).fill(0)
  const at = (i: number, j: number): number => d[i * cols + j] as number
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1)
      d[i * cols + j] = v
    }
  }
  return at(rows - 1, cols - 1)
}

/**
 * The name (words separated by spaces: `contacts list`) closest to the first words typed, or
 * undefined when none is close: at most one edit in four characters, and at least one.
 * Each name is compared with as many typed words as it has, so arguments after a command do not count.
 */
export function nearest (typed: readonly string[], names: readonly string[]): string | undefined {
  let best: { name: string, d: number } | undefined
  for (const name of names) {
    const words = name.split(' ')
    if (typed.length < words.length) continue
    const t = typed.slice(0, words.length).join(' ').toLowerCase()
    const d = editDistance(t, name)
    if (d === 0) continue // typed exactly: not a typo of it
    if (d > Math.max(1, Math.floor(name.length / 4))) continue
    // closer wins; on a tie, the longer name says more (`contacts list` over `contacts`)
    if (best === undefined || d < best.d || (d === best.d && name.length > best.name.length)) best = { name, d }
  }
  return best?.name
}

/**
 * The one line for a command that does not exist: `"contcts list" is not a dmess command; did you
 * mean "contacts list"?`. It quotes as many words as the guess has, or without a guess the known
 * topic typed and the word after it (`"contacts nonsense"`): never the arguments that follow.
 */
export function notFoundLine (bin: string, typed: readonly string[], names: readonly string[]): string {
  const words = typed.filter(w => !w.startsWith('-'))
  const guess = nearest(words, names)
  let known = 0
  while (known < words.length && names.some(n => n.startsWith(words.slice(0, known + 1).join(' ') + ' '))) known++
  const shown = words.slice(0, guess === undefined ? known + 1 : guess.split(' ').length).join(' ')
  return guess === undefined
    ? `"${shown}" is not a ${bin} command; \`${bin} help\` lists them`
    : `"${shown}" is not a ${bin} command; did you mean "${guess}"?`
}
