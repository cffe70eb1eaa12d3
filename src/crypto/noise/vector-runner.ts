// Runs Noise test vectors in the cacophony JSON format (see test/vectors/noise/SOURCE.md) against
// our engine. Pure: the caller reads the file. Message i is sent by the initiator when i is even
// and by the responder when i is odd (always the initiator for one-way patterns, §7.4), during the
// handshake and after it; after Split() the initiator sends with c1, the responder with c2.
import { HandshakeState } from './handshake-state.js'
import { parseProtocolName, type NoiseProtocol } from './suites.js'
import { DmessError, errors } from '../../errors.js'
import type { KeyPair } from '../primitives.js'

export interface NoiseVectorMessage { payload: string, ciphertext: string }

export interface NoiseVector {
  protocol_name: string
  init_prologue: string
  init_ephemeral: string
  init_static?: string
  init_remote_static?: string
  init_psks?: string[]
  resp_prologue: string
  resp_ephemeral?: string
  resp_static?: string
  resp_remote_static?: string
  resp_psks?: string[]
  handshake_hash?: string
  messages: NoiseVectorMessage[]
}

export type VectorStatus = 'passed' | 'failed' | 'skipped'

export interface VectorOutcome { index: number, protocol: string, status: VectorStatus, reason?: string }

export interface VectorReport {
  passed: number
  failed: number
  skipped: number
  outcomes: VectorOutcome[]
  /** Passed/failed counts per protocol name (skipped names are absent). */
  byProtocol: Map<string, { passed: number, failed: number }>
}

const EMPTY = new Uint8Array(0)
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Parse a vector file's text ({"vectors": [...]}); throws BAD_ARGUMENT when it is not one. */
export function parseVectorFile (text: string): NoiseVector[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw errors.BAD_ARGUMENT(`noise vectors: not JSON (${(err as Error).message})`)
  }
  const vectors = (doc as { vectors?: unknown })?.vectors
  if (!Array.isArray(vectors)) throw errors.BAD_ARGUMENT('noise vectors: expected {"vectors": [...]}')
  vectors.forEach((v, i) => {
    const ok = typeof v?.protocol_name === 'string' && Array.isArray(v?.messages)
    if (!ok) throw errors.BAD_ARGUMENT(`noise vectors: entry ${i} lacks protocol_name or messages`)
  })
  return vectors as NoiseVector[]
}

/** Why we cannot run a vector, or null when we can. */
export function skipReason (v: NoiseVector): string | null {
  if ((v.init_psks?.length ?? 0) > 0 || (v.resp_psks?.length ?? 0) > 0) return 'psk modes are not supported'
  try {
    parseProtocolName(v.protocol_name)
    return null
  } catch (err) {
    if (err instanceof DmessError && err.code === 'NOISE_UNSUPPORTED') return err.message
    throw err
  }
}

function party (v: NoiseVector, protocol: NoiseProtocol, initiator: boolean): HandshakeState {
  const side = initiator ? 'init' : 'resp'
  const kp = (secret: string | undefined): KeyPair | undefined =>
    secret === undefined ? undefined : protocol.suite.dh.keyPairFromSecret(hex(secret))
  return new HandshakeState({
    protocolName: v.protocol_name,
    initiator,
    prologue: hex(v[`${side}_prologue`]),
    e: kp(v[`${side}_ephemeral`]),
    s: kp(v[`${side}_static`]),
    rs: v[`${side}_remote_static`] === undefined ? undefined : hex(v[`${side}_remote_static`] as string)
  })
}

/** One message through sender and receiver; returns a failure reason or null. */
function exchange (sender: HandshakeState, receiver: HandshakeState, m: NoiseVectorMessage, i: number): string | null {
  const payload = hex(m.payload)
  const inHandshake = !sender.complete
  const ct = inHandshake
    ? sender.writeMessage(payload)
    : (sender.cipherStates?.send.encryptWithAd(EMPTY, payload) as Uint8Array)
  const what = inHandshake ? 'handshake' : 'transport'
  if (toHex(ct) !== m.ciphertext) return `message ${i} (${what}): ciphertext ${toHex(ct)}, expected ${m.ciphertext}`
  const got = inHandshake
    ? receiver.readMessage(ct)
    : (receiver.cipherStates?.receive.decryptWithAd(EMPTY, ct) as Uint8Array)
  if (toHex(got) !== m.payload) return `message ${i} (${what}): receiver got payload ${toHex(got)}, expected ${m.payload}`
  return null
}

/** Run one vector; returns a failure reason, or null when every check passed. */
export function checkVector (v: NoiseVector): string | null {
  const protocol = parseProtocolName(v.protocol_name)
  const init = party(v, protocol, true)
  const resp = party(v, protocol, false)
  for (const [i, m] of v.messages.entries()) {
    const initiatorSends = protocol.pattern.oneWay || i % 2 === 0
    const why = initiatorSends ? exchange(init, resp, m, i) : exchange(resp, init, m, i)
    if (why !== null) return why
  }
  if (!init.complete || !resp.complete) return `handshake incomplete after ${v.messages.length} messages`
  if (v.handshake_hash !== undefined) {
    for (const p of [init, resp]) {
      const h = toHex(p.getHandshakeHash())
      if (h !== v.handshake_hash) return `${p.initiator ? 'initiator' : 'responder'} handshake hash ${h}, expected ${v.handshake_hash}`
    }
  }
  return null
}

/** Run every vector we support; unsupported ones are counted as skipped. */
export function runVectors (vectors: NoiseVector[]): VectorReport {
  const report: VectorReport = { passed: 0, failed: 0, skipped: 0, outcomes: [], byProtocol: new Map() }
  vectors.forEach((v, index) => {
    const skip = skipReason(v)
    const outcome = skip !== null
      ? { index, protocol: v.protocol_name, status: 'skipped' as const, reason: skip }
      : runOne(v, index)
    report[outcome.status]++
    report.outcomes.push(outcome)
    if (outcome.status === 'skipped') return
    const counts = report.byProtocol.get(v.protocol_name) ?? { passed: 0, failed: 0 }
    counts[outcome.status]++
    report.byProtocol.set(v.protocol_name, counts)
  })
  return report
}

function runOne (v: NoiseVector, index: number): VectorOutcome {
  let reason: string | null
  try {
    reason = checkVector(v)
  } catch (err) {
    reason = `threw ${err instanceof DmessError ? err.code : 'error'}: ${(err as Error).message}`
  }
  return reason === null
    ? { index, protocol: v.protocol_name, status: 'passed' }
    : { index, protocol: v.protocol_name, status: 'failed', reason }
}
