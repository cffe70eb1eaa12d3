// Handshake patterns (Noise §7), written in the spec's own notation and parsed once at load.
// One-way patterns: §7.4; fundamental interactive patterns: §7.5; deferred patterns: §7.6.
// psk and fallback modifiers (§9, §10.2) are not supported.
import { errors } from '../../errors.js'

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss'
export type DhToken = Exclude<Token, 'e' | 's'>

export interface HandshakePattern {
  readonly name: string
  /** Pre-message public keys of the initiator (`-> s` before `...`). */
  readonly initiatorPre: readonly Token[]
  /** Pre-message public keys of the responder (`<- s` before `...`). */
  readonly responderPre: readonly Token[]
  /** Message i is sent by the initiator when i is even, by the responder when i is odd. */
  readonly messages: ReadonlyArray<readonly Token[]>
  /** §7.4: only the initiator sends, also after the handshake. */
  readonly oneWay: boolean
}

const TOKENS = new Set<string>(['e', 's', 'ee', 'es', 'se', 'ss'])

const SOURCES: Record<string, string> = {
  // §7.4 one-way
  N: '<- s | ... | -> e, es',
  K: '-> s | <- s | ... | -> e, es, ss',
  X: '<- s | ... | -> e, es, s, ss',
  // §7.5 fundamental interactive
  NN: '-> e | <- e, ee',
  NK: '<- s | ... | -> e, es | <- e, ee',
  NX: '-> e | <- e, ee, s, es',
  KN: '-> s | ... | -> e | <- e, ee, se',
  KK: '-> s | <- s | ... | -> e, es, ss | <- e, ee, se',
  KX: '-> s | ... | -> e | <- e, ee, se, s, es',
  XN: '-> e | <- e, ee | -> s, se',
  XK: '<- s | ... | -> e, es | <- e, ee | -> s, se',
  XX: '-> e | <- e, ee, s, es | -> s, se',
  IN: '-> e, s | <- e, ee, se',
  IK: '<- s | ... | -> e, es, s, ss | <- e, ee, se',
  IX: '-> e, s | <- e, ee, se, s, es',
  // §7.6 deferred
  NK1: '<- s | ... | -> e | <- e, ee, es',
  NX1: '-> e | <- e, ee, s | -> es',
  X1N: '-> e | <- e, ee | -> s | <- se',
  X1K: '<- s | ... | -> e, es | <- e, ee | -> s | <- se',
  XK1: '<- s | ... | -> e | <- e, ee, es | -> s, se',
  X1K1: '<- s | ... | -> e | <- e, ee, es | -> s | <- se',
  X1X: '-> e | <- e, ee, s, es | -> s | <- se',
  XX1: '-> e | <- e, ee, s | -> es, s, se',
  X1X1: '-> e | <- e, ee, s | -> es, s | <- se',
  K1N: '-> s | ... | -> e | <- e, ee | -> se',
  K1K: '-> s | <- s | ... | -> e, es | <- e, ee | -> se',
  KK1: '-> s | <- s | ... | -> e | <- e, ee, se, es',
  K1K1: '-> s | <- s | ... | -> e | <- e, ee, es | -> se',
  K1X: '-> s | ... | -> e | <- e, ee, s, es | -> se',
  KX1: '-> s | ... | -> e | <- e, ee, se, s | -> es',
  K1X1: '-> s | ... | -> e | <- e, ee, s | -> se, es',
  I1N: '-> e, s | <- e, ee | -> se',
  I1K: '<- s | ... | -> e, es, s | <- e, ee | -> se',
  IK1: '<- s | ... | -> e, s | <- e, ee, se, es',
  I1K1: '<- s | ... | -> e, s | <- e, ee, es | -> se',
  I1X: '-> e, s | <- e, ee, s, es | -> se',
  IX1: '-> e, s | <- e, ee, se, s | -> es',
  I1X1: '-> e, s | <- e, ee, s | -> se, es'
}

const ONE_WAY = new Set(['N', 'K', 'X'])

function parseLine (line: string, name: string): { initiator: boolean, tokens: Token[] } {
  const arrow = line.slice(0, 2)
  if (arrow !== '->' && arrow !== '<-') throw new Error(`pattern ${name}: bad line "${line}"`)
  const tokens = line.slice(2).split(',').map(t => t.trim())
  for (const t of tokens) if (!TOKENS.has(t)) throw new Error(`pattern ${name}: bad token "${t}"`)
  return { initiator: arrow === '->', tokens: tokens as Token[] }
}

/** Parse spec notation (lines separated by `|`, pre-messages before `...`). */
export function parsePattern (name: string, source: string): HandshakePattern {
  const lines = source.split('|').map(l => l.trim())
  const dots = lines.indexOf('...')
  const pre = dots < 0 ? [] : lines.slice(0, dots).map(l => parseLine(l, name))
  const msgs = lines.slice(dots + 1).map(l => parseLine(l, name))
  // §7.1: handshake messages alternate, starting with the initiator
  msgs.forEach((m, i) => {
    if (m.initiator !== (i % 2 === 0)) throw new Error(`pattern ${name}: message ${i} goes the wrong way`)
  })
  return {
    name,
    initiatorPre: pre.filter(p => p.initiator).flatMap(p => p.tokens),
    responderPre: pre.filter(p => !p.initiator).flatMap(p => p.tokens),
    messages: msgs.map(m => m.tokens),
    oneWay: ONE_WAY.has(name)
  }
}

const PATTERNS = new Map(Object.entries(SOURCES).map(([n, src]) => [n, parsePattern(n, src)]))

export const PATTERN_NAMES: readonly string[] = [...PATTERNS.keys()]

/** Look a pattern up by name; modifiers (psk, fallback) and unknown names are refused. */
export function getPattern (name: string, context = name): HandshakePattern {
  const p = PATTERNS.get(name)
  if (p !== undefined) return p
  const why = /psk|fallback|hfs|\+/.test(name) ? 'pattern modifiers (psk, fallback, hfs) are not supported' : 'unknown handshake pattern'
  throw errors.NOISE_UNSUPPORTED(`${context}: ${why} ("${name}")`)
}

/** Which keys a party must be given before the handshake starts (Noise §7.3, pre-messages). */
export function requiredKeys (pattern: HandshakePattern, initiator: boolean): { s: boolean, rs: boolean } {
  const ownPre = initiator ? pattern.initiatorPre : pattern.responderPre
  const peerPre = initiator ? pattern.responderPre : pattern.initiatorPre
  const sendsS = pattern.messages.some((m, i) => (i % 2 === 0) === initiator && m.includes('s'))
  return { s: sendsS || ownPre.includes('s'), rs: peerPre.includes('s') }
}
