// Terminal cells: what a peer's text looks like on screen, and how it wraps. Text from the
// network is made safe first (src/platform/terminal-text.ts, the one sanitiser the CLI uses too):
// a control character (ESC above all) could otherwise move the cursor, retitle the window or
// forge lines, and bidi overrides could disguise what is shown.

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

// Ranges of code points a terminal draws two cells wide (East Asian Wide/Fullwidth, emoji
// presentation blocks). An approximation of UAX #11, enough to keep lines inside the screen.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3],
  [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1],
  [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea],
  [0x26f2, 0x26f3], [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b],
  [0x2728, 0x2728], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55],
  [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f],
  [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6],
  [0x16fe0, 0x18cff], [0x1b000, 0x1b2ff], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a], [0x1f200, 0x1f2ff], [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x3fffd]
]

function isWide (cp: number): boolean {
  if (cp < 0x1100) return false
  for (const [lo, hi] of WIDE) if (cp >= lo && cp <= hi) return true
  return false
}

/** Cells one grapheme takes: 2 if its first code point is wide or it asks for emoji presentation. */
function graphemeWidth (g: string): number {
  const cp = g.codePointAt(0) ?? 0
  if (isWide(cp) || g.includes('\ufe0f')) return 2
  // a lone combining mark or zero-width character
  if ([...g].every(c => isZeroWidth(c.codePointAt(0) ?? 0))) return 0
  return 1
}

const ZERO: ReadonlyArray<readonly [number, number]> = [[0x0300, 0x036f], [0x200b, 0x200f], [0x2060, 0x2064], [0x20d0, 0x20ff], [0xfe00, 0xfe0f]]

function isZeroWidth (cp: number): boolean {
  return ZERO.some(([lo, hi]) => cp >= lo && cp <= hi)
}

export function cellWidth (text: string): number {
  let w = 0
  for (const s of graphemes.segment(text)) w += graphemeWidth(s.segment)
  return w
}

/**
 * Splits text into rows of at most `width` cells: at spaces where it can, inside a word that is
 * longer than a row. Explicit newlines start a new row. Always at least one row.
 */
export function wrap (text: string, width: number): string[] {
  const w = Math.max(1, width)
  const rows: string[] = []
  for (const para of text.split('\n')) rows.push(...wrapParagraph(para, w))
  return rows
}

function wrapParagraph (para: string, width: number): string[] {
  const rows: string[] = []
  let row = ''
  let rowWidth = 0
  for (const word of para.split(/(?<= )/)) {
    const ww = cellWidth(word)
    const trimmed = cellWidth(word.trimEnd())
    if (rowWidth + trimmed <= width) {
      row += word
      rowWidth += ww
      continue
    }
    if (row.length > 0) { rows.push(row.trimEnd()); row = ''; rowWidth = 0 }
    if (trimmed <= width) { row = word; rowWidth = ww; continue }
    // a word wider than a row: cut it by graphemes
    for (const piece of sliceCells(word, width)) {
      if (rowWidth > 0) rows.push(row)
      row = piece
      rowWidth = cellWidth(piece)
    }
  }
  rows.push(row.trimEnd())
  return rows
}

/** Cuts text into pieces of at most `width` cells, never inside a grapheme. */
export function sliceCells (text: string, width: number): string[] {
  const out: string[] = []
  let cur = ''
  let cw = 0
  for (const { segment } of graphemes.segment(text)) {
    const gw = graphemeWidth(segment)
    if (cw + gw > width && cur.length > 0) { out.push(cur); cur = ''; cw = 0 }
    cur += segment
    cw += gw
  }
  if (cur.length > 0 || out.length === 0) out.push(cur)
  return out
}

/** The first `width` cells of text (what fits on the rest of a row). */
export function truncateCells (text: string, width: number): string {
  if (width <= 0) return ''
  return sliceCells(text, width)[0] ?? ''
}
