// A small, strict XML reader for the two documents a UPnP IGD client reads (proto-spec/portmap.md
// §5): the device description and a SOAP response. Not a general parser: it builds a tree of
// elements (local names, namespace prefixes dropped; attributes skipped; text kept), and refuses
// what such documents never need and an attacker would use — a DOCTYPE (so no DTD and no
// entity definitions: no "billion laughs", no external entities), references to entities other
// than XML's five predefined ones (XML 1.0 §4.6) and character references, and anything over its
// bounds (size, depth, element count). Bytes in, a tree or a one-line error out; it never throws.

export interface XmlElement {
  /** local name: `s:Envelope` → `Envelope` */
  name: string
  children: XmlElement[]
  /** the element's own character data, concatenated (child elements' text not included) */
  text: string
}

export interface XmlLimits {
  /** characters of input */
  maxChars: number
  maxDepth: number
  maxElements: number
}

export const XML_DEFAULT_LIMITS: Readonly<XmlLimits> = { maxChars: 65_536, maxDepth: 32, maxElements: 4096 }

export type XmlResult = { ok: true, root: XmlElement } | { ok: false, error: string }

const NAME = /^[A-Za-z_][\w.:-]*$/
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Parses `text` (already decoded from UTF-8) into its root element. */
export function parseXml (text: string, limits: XmlLimits = XML_DEFAULT_LIMITS): XmlResult {
  if (text.length > limits.maxChars) return { ok: false, error: `document too large (${text.length} characters, limit ${limits.maxChars})` }
  const stack: XmlElement[] = []
  let root: XmlElement | null = null
  let elements = 0
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const fail = (error: string): XmlResult => ({ ok: false, error })
  while (i < text.length) {
    const lt = text.indexOf('<', i)
    const chunk = text.slice(i, lt < 0 ? text.length : lt)
    if (chunk.length > 0) {
      const decoded = decodeText(chunk)
      if (decoded === null) return fail('an entity reference other than the five predefined ones (entities are refused)')
      if (stack.length > 0) stack[stack.length - 1]!.text += decoded
      else if (decoded.trim() !== '') return fail('text outside the root element')
    }
    if (lt < 0) break
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2)
      if (end < 0) return fail('unterminated processing instruction')
      i = end + 2
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4)
      if (end < 0) return fail('unterminated comment')
      i = end + 3
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9)
      if (end < 0) return fail('unterminated CDATA section')
      if (stack.length === 0) return fail('CDATA outside the root element')
      stack[stack.length - 1]!.text += text.slice(lt + 9, end)
      i = end + 3
    } else if (text.startsWith('<!', lt)) {
      return fail('a DOCTYPE or other declaration (DTDs and entity definitions are refused)')
    } else if (text.startsWith('</', lt)) {
      const end = text.indexOf('>', lt + 2)
      if (end < 0) return fail('unterminated end tag')
      const name = text.slice(lt + 2, end).trim()
      const open = stack.pop()
      if (open === undefined || localName(name) !== open.name) return fail(`mismatched end tag ${JSON.stringify(`</${name.slice(0, 40)}>`)}`)
      i = end + 1
      if (stack.length === 0) {
        // only whitespace, comments and processing instructions may follow the root
        if (!trailerOk(text.slice(i))) return fail('content after the root element')
        return { ok: true, root: root! }
      }
    } else {
      const end = tagEnd(text, lt + 1)
      if (end < 0) return fail('unterminated start tag')
      const selfClosing = text[end - 1] === '/'
      const inner = text.slice(lt + 1, selfClosing ? end - 1 : end)
      const name = inner.split(/[\s]/, 1)[0]!
      if (!NAME.test(name)) return fail(`bad element name ${JSON.stringify(name.slice(0, 40))}`)
      if (root !== null && stack.length === 0) return fail('a second root element')
      if (++elements > limits.maxElements) return fail(`too many elements (limit ${limits.maxElements})`)
      if (stack.length + 1 > limits.maxDepth) return fail(`nested too deep (limit ${limits.maxDepth})`)
      const el: XmlElement = { name: localName(name), children: [], text: '' }
      if (stack.length > 0) stack[stack.length - 1]!.children.push(el)
      else root = el
      i = end + 1
      if (!selfClosing) stack.push(el)
      else if (stack.length === 0) return trailerOk(text.slice(i)) ? { ok: true, root: el } : fail('content after the root element')
    }
  }
  return fail(root === null ? 'no root element' : 'the document ends inside an element')
}

/** The first child named `name` (local name), or undefined. */
export function child (el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find(c => c.name === name)
}

/** Every element named `name` at any depth under `el` (itself excluded), document order, bounded by the tree's size. */
export function descendants (el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = []
  const walk = (e: XmlElement): void => { for (const c of e.children) { if (c.name === name) out.push(c); walk(c) } }
  walk(el)
  return out
}

/** `el`'s child `name`'s text, trimmed; undefined when absent. */
export function childText (el: XmlElement, name: string): string | undefined {
  return child(el, name)?.text.trim()
}

/** Escapes text for an element's content (the SOAP arguments we send). */
export function escapeXml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

function localName (qname: string): string {
  const colon = qname.indexOf(':')
  return colon < 0 ? qname : qname.slice(colon + 1)
}

/** The index of the `>` closing a start tag that begins at `from`, skipping quoted attribute values; -1 if none. */
function tagEnd (text: string, from: number): number {
  let quote = ''
  for (let j = from; j < text.length; j++) {
    const c = text[j]!
    if (quote !== '') { if (c === quote) quote = ''; continue }
    if (c === '"' || c === "'") quote = c
    else if (c === '<') return -1
    else if (c === '>') return j
  }
  return -1
}

/**
 * Character data with references resolved; null on a reference to an entity other than the five
 * predefined ones, or a character reference to no character. A bare `&` that starts no reference
 * (some routers write one in a friendly name) is kept as it is.
 */
function decodeText (s: string): string | null {
  if (!s.includes('&')) return s
  let bad = false
  const out = s.replace(/&(#x[0-9A-Fa-f]{1,8}|#[0-9]{1,10}|[A-Za-z_][\w.-]{0,40});/g, (_all, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
      if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) { bad = true; return '' }
      return String.fromCodePoint(code)
    }
    const v = PREDEFINED[ref]
    if (v === undefined) { bad = true; return '' }
    return v
  })
  return bad ? null : out
}

function trailerOk (rest: string): boolean {
  return rest.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '').trim() === ''
}
