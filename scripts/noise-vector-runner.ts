// Runs Noise test vectors (either published format, noise-vector-formats.ts) against our engine.
// Test tooling, kept out of src/: scripts/noise-vectors.ts and test/crypto/noise-vectors.test.ts
// use it. Pure: the caller reads the file. Message i is sent by the initiator when i is even and by
// the responder when i is odd (always the initiator for one-way patterns, Noise §7.4), during the
// handshake and after it; after Split() the initiator sends with c1, the responder with c2.
import { HandshakeState, parseProtocolName, type NoiseProtocol } from '../src/crypto/noise/index.js'
import { DmessError } from '../src/errors.js'
import type { KeyPair } from '../src/crypto/primitives.js'
import type { NoiseVector, NoiseVectorMessage } from './noise-vector-formats.js'

export { parseVectorFile } from './noise-vector-formats.js'
export type { NoiseVector, NoiseVectorMessage, VectorFormat } from './noise-vector-formats.js'

export type VectorStatus = 'passed' | 'failed' | 'skipped'

export interface VectorOutcome {
  index: number
  protocol: string
  /** the vector's own name (noise-c's `name`), else its protocol */
  label: string
  status: VectorStatus
  reason?: string
}

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

/** Why we cannot run a vector, or null when we can. */
export function skipReason (v: NoiseVector): string | null {
  if (v.unsupported !== undefined) return v.unsupported
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
function exchange (sender: HandshakeState, receiver: HandshakeState, m: NoiseVectorMessage, i: number, mustFail: boolean): string | null {
  const payload = hex(m.payload)
  const inHandshake = !sender.complete
  const ct = inHandshake
    ? sender.writeMessage(payload)
    : (sender.cipherStates?.send.encryptWithAd(EMPTY, payload) as Uint8Array)
  const what = inHandshake ? 'handshake' : 'transport'
  if (toHex(ct) !== m.ciphertext) return `message ${i} (${what}): ciphertext ${toHex(ct)}, expected ${m.ciphertext}`
  const read = (): Uint8Array => inHandshake
    ? receiver.readMessage(ct)
    : (receiver.cipherStates?.receive.decryptWithAd(EMPTY, ct) as Uint8Array)
  if (mustFail) {
    try {
      read()
    } catch (err) {
      if (err instanceof DmessError) return null
      throw err
    }
    return `message ${i} (${what}): the receiver accepted it, the vector says it must fail`
  }
  const got = read()
  if (toHex(got) !== m.payload) return `message ${i} (${what}): receiver got payload ${toHex(got)}, expected ${m.payload}`
  return null
}

/**
 * Does our handshake hash match the vector's? noise-c's format compares as many leading bytes as
 * the vector gives; cacophony's gives the whole hash.
 */
function sameHash (ours: string, v: NoiseVector): boolean {
  const want = v.handshake_hash ?? ''
  return v.format === 'noise-c' ? want.length > 0 && ours.startsWith(want) : ours === want
}

/** Run one vector; returns a failure reason, or null when every check passed. */
export function checkVector (v: NoiseVector): string | null {
  const protocol = parseProtocolName(v.protocol_name)
  const init = party(v, protocol, true)
  const resp = party(v, protocol, false)
  const last = v.messages.length - 1
  for (const [i, m] of v.messages.entries()) {
    const initiatorSends = protocol.pattern.oneWay || i % 2 === 0
    const mustFail = v.fail === true && i === last
    const why = initiatorSends ? exchange(init, resp, m, i, mustFail) : exchange(resp, init, m, i, mustFail)
    if (why !== null) return why
  }
  if (v.fail === true) return null // the handshake was meant to break: there is no hash to compare
  if (!init.complete || !resp.complete) return `handshake incomplete after ${v.messages.length} messages`
  if (v.handshake_hash !== undefined) {
    for (const p of [init, resp]) {
      const h = toHex(p.getHandshakeHash())
      if (!sameHash(h, v)) return `${p.initiator ? 'initiator' : 'responder'} handshake hash ${h}, expected ${v.handshake_hash}`
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
      ? { index, protocol: v.protocol_name, label: v.label ?? v.protocol_name, status: 'skipped' as const, reason: skip }
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
    ? { index, protocol: v.protocol_name, label: v.label ?? v.protocol_name, status: 'passed' }
    : { index, protocol: v.protocol_name, label: v.label ?? v.protocol_name, status: 'failed', reason }
}
