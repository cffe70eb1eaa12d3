// Reads the test vectors a proto-spec/ document carries, so the text and the code cannot drift
// apart. Two forms:
// - the vectors block: `<!-- vectors:begin -->`, a fenced block of `name: value` lines,
//   `<!-- vectors:end -->` (what identity.md §8 and reliable.md §13 use);
// - annotated dumps: `<!-- dump NAME -->` followed by a fenced block whose lines each start with
//   hex bytes (or `00*N` for N repeated bytes) and go on with what those bytes mean; an indented
//   line only continues the description. The dump's bytes, in order, must be the vector NAME's
//   value: the field-by-field reading is checked too.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SPEC_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../proto-spec')

export function specText (doc: string): string {
  return readFileSync(join(SPEC_DIR, doc), 'utf8')
}

/** The `name: value` lines of the document's vectors block, in order. */
export function specVectors (doc: string): Map<string, string> {
  const block = /<!-- vectors:begin -->\s*```\n([\s\S]*?)```\s*<!-- vectors:end -->/.exec(specText(doc))?.[1]
  if (block === undefined) throw new Error(`${doc} has no vectors block`)
  const out = new Map<string, string>()
  for (const line of block.trim().split('\n')) {
    const at = line.indexOf(': ')
    if (at < 0) throw new Error(`${doc}: vector line without "name: value": ${line}`)
    const name = line.slice(0, at)
    if (out.has(name)) throw new Error(`${doc}: vector ${name} given twice`)
    out.set(name, line.slice(at + 2))
  }
  return out
}

/** Every annotated dump in the document: name → the hex its lines spell, in order. */
export function specDumps (doc: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of specText(doc).matchAll(/<!-- dump ([\w.-]+) -->\s*```\n([\s\S]*?)```/g)) {
    const [, name, body] = m as unknown as [string, string, string]
    out.set(name, body.split('\n').filter(l => l.trim() !== '').map(dumpLineHex).join(''))
  }
  return out
}

function dumpLineHex (line: string): string {
  if (/^\s/.test(line)) return ''
  const token = line.trim().split(/\s+/)[0] ?? ''
  const repeat = /^([0-9a-f]{2})\*(\d+)$/.exec(token)
  if (repeat !== null) return (repeat[1] as string).repeat(Number(repeat[2]))
  if (!/^([0-9a-f]{2})+$/.test(token)) throw new Error(`dump line does not start with hex bytes: ${line}`)
  return token
}

export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** `start, start+1, …` (mod 256), n bytes: the fixed byte sequences the vectors use. */
export function counting (start: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff)
}
