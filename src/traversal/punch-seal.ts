// The end-to-end punch messages (proto-spec/traversal.md §5): an offer from the contact who wants
// to connect, an answer from the user it wants, each one Noise X message (Noise §7.4,
// Noise_X_25519_ChaChaPoly_SHA256) to the recipient's X25519 identity key. X gives what the
// rendezvous must not have: confidentiality (only the recipient's static key opens it) and sender
// authentication (`ss` binds the sender's static key, which the payload's identity certifies), so
// a rendezvous node can neither read the candidates nor forge a request. The payload is padded to
// one size (traversal.md §5.2): offers and answers look alike and the rendezvous can cap the answer
// at the offer's size. Replays are bounded by the wall-clock stamp and a cache of punch ids (the
// caller's, punch.ts). An offer or answer may carry a relay block (§5.2): where to bind on a relay
// and the pair secret (proto-spec/relay.md §4) — which is why it must travel sealed end to end.
import type { RelayOffer } from '../relay/client.js'
import { ALLOCATION_ID_BYTES, PAIR_SECRET_BYTES } from '../relay/constants.js'
import { HandshakeState } from '../crypto/noise/index.js'
import { fingerprintOf } from '../crypto/fingerprint.js'
import { constantTimeEqual, type KeyPair } from '../crypto/primitives.js'
import { verifyPublicIdentity, type Identity, type PublicIdentity } from '../crypto/identity.js'
import { parseAddress, formatIp, formatHostPort } from '../io/address.js'
import { readAddress, writeAddress } from '../dht/address-codec.js'
import { errors } from '../errors.js'
import { NOISE_PUNCH, PUNCH_PROLOGUE, PUNCH_PAYLOAD_BYTES, PUNCH_ID_BYTES, MAX_CANDIDATES, PUNCH_SEALED_BYTES } from './constants.js'
import { CANDIDATE_CODE, CANDIDATE_KIND, NAT_CODE, NAT_NAME, type Candidate, type NatKind } from './candidates.js'

/** offer: the first message; answer: its reply; relay: a relay offer for a punch already offered (§7.2) */
export type PunchRole = 'offer' | 'answer' | 'relay'
const ROLE_CODE: Record<PunchRole, number> = { offer: 1, answer: 2, relay: 3 }
const ROLE_NAME: Record<number, PunchRole> = { 1: 'offer', 2: 'answer', 3: 'relay' }

/** What one side tells the other (traversal.md §5.2). */
export interface PunchPayload {
  role: PunchRole
  punchId: Uint8Array
  /** the sender's wall clock, ms */
  sentAt: number
  natKind: NatKind
  candidates: Candidate[]
  /** where the recipient binds on a relay, with the pair secret (relay.md §2, §4); absent: none */
  relay?: RelayOffer
}

/** An opened punch message: its payload and who sealed it (proven by Noise X's `ss`). */
export interface OpenedPunch extends PunchPayload {
  sender: PublicIdentity
  fingerprint: string
}

/** Offsets in the payload (traversal.md §5.2). */
const ROLE = 0
const ID = 1
const TIME = ID + PUNCH_ID_BYTES
const NAT = TIME + 8
const SIGN_PUBLIC = NAT + 1
const DH_SIGNATURE = SIGN_PUBLIC + 32
const COUNT = DH_SIGNATURE + 64
const RELAY = COUNT + 1 + MAX_CANDIDATES * 20
const RELAY_ALLOCATION = RELAY + 1
const RELAY_PORT = RELAY_ALLOCATION + ALLOCATION_ID_BYTES
const RELAY_SECRET = RELAY_PORT + 2
const RELAY_ADDRESS = RELAY_SECRET + PAIR_SECRET_BYTES

function writeRelay (out: Uint8Array, view: DataView, r: RelayOffer): void {
  const a = parseAddress(`${r.relay.host.includes(':') ? `[${r.relay.host}]` : r.relay.host}:${r.relay.port}`)
  if (a === null) throw errors.BAD_ARGUMENT(`relay offer: expected an IP literal and port, got ${r.relay.host}:${r.relay.port}`)
  if (r.allocationId.length !== ALLOCATION_ID_BYTES || r.pairSecret.length !== PAIR_SECRET_BYTES || r.port < 1 || r.port > 0xffff) {
    throw errors.BAD_ARGUMENT('relay offer: expected an 8-byte allocation id, a 32-byte pair secret and a port 1..65535')
  }
  out[RELAY] = 1
  out.set(r.allocationId, RELAY_ALLOCATION)
  view.setUint16(RELAY_PORT, r.port)
  out.set(r.pairSecret, RELAY_SECRET)
  writeAddress(view, out, RELAY_ADDRESS, a)
}

/** The relay block, `undefined` when absent, null when malformed (a nonzero byte where zeros belong, port 0, a bad address). */
function readRelay (p: Uint8Array, view: DataView): RelayOffer | undefined | null {
  if (p[RELAY] === 0) return p.subarray(RELAY).every(b => b === 0) ? undefined : null
  if (p[RELAY] !== 1) return null
  const a = readAddress(view, p, RELAY_ADDRESS)
  const port = view.getUint16(RELAY_PORT)
  if (a === null || port === 0 || !p.subarray(a.off).every(b => b === 0)) return null
  const parsed = parseAddress(a.addr)!
  return {
    relay: { host: formatIp(parsed.ip), port: parsed.port },
    allocationId: p.slice(RELAY_ALLOCATION, RELAY_ALLOCATION + ALLOCATION_ID_BYTES),
    port,
    pairSecret: p.slice(RELAY_SECRET, RELAY_SECRET + PAIR_SECRET_BYTES)
  }
}

function encodePayload (p: PunchPayload, me: PublicIdentity): Uint8Array {
  if (p.punchId.length !== PUNCH_ID_BYTES) throw errors.BAD_ARGUMENT(`punch id: expected ${PUNCH_ID_BYTES} bytes`)
  const out = new Uint8Array(PUNCH_PAYLOAD_BYTES)
  const view = new DataView(out.buffer)
  out[ROLE] = ROLE_CODE[p.role]
  out.set(p.punchId, ID)
  view.setBigUint64(TIME, BigInt(Math.max(0, Math.floor(p.sentAt))))
  out[NAT] = NAT_CODE[p.natKind]
  out.set(me.signPublic, SIGN_PUBLIC)
  out.set(me.dhSignature, DH_SIGNATURE)
  const list = p.candidates.slice(0, MAX_CANDIDATES)
  out[COUNT] = list.length
  let off = COUNT + 1
  for (const c of list) {
    const a = parseAddress(formatHostPort(c))
    if (a === null) throw errors.BAD_ARGUMENT(`punch candidate: expected an IP literal and port, got ${c.host}:${c.port}`)
    out[off] = CANDIDATE_CODE[c.kind]
    off = writeAddress(view, out, off + 1, a)
  }
  if (p.relay !== undefined) writeRelay(out, view, p.relay)
  return out
}

function decodePayload (p: Uint8Array, dhPublic: Uint8Array): Omit<OpenedPunch, 'fingerprint'> | null {
  if (p.length !== PUNCH_PAYLOAD_BYTES) return null
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength)
  const role = ROLE_NAME[p[ROLE]!] ?? null
  const natKind = NAT_NAME[p[NAT]!]
  const count = p[COUNT]!
  if (role === null || natKind === undefined || count > MAX_CANDIDATES) return null
  const candidates: Candidate[] = []
  let off = COUNT + 1
  for (let i = 0; i < count; i++) {
    const kind = CANDIDATE_KIND[p[off]!]
    const a = kind === undefined ? null : readAddress(view, p, off + 1)
    if (kind === undefined || a === null) return null
    const parsed = parseAddress(a.addr)!
    candidates.push({ kind, host: formatIp(parsed.ip), port: parsed.port })
    off = a.off
  }
  if (!p.subarray(off, RELAY).every(b => b === 0)) return null
  const relay = readRelay(p, view)
  if (relay === null) return null
  const sender = { signPublic: p.slice(SIGN_PUBLIC, SIGN_PUBLIC + 32), dhPublic: dhPublic.slice(), dhSignature: p.slice(DH_SIGNATURE, DH_SIGNATURE + 64) }
  const sentAt = Number(view.getBigUint64(TIME))
  return { role, punchId: p.slice(ID, ID + PUNCH_ID_BYTES), sentAt, natKind, candidates, sender, ...(relay === undefined ? {} : { relay }) }
}

/**
 * Seal `p` to `recipientDh` (the recipient's X25519 identity key) as one Noise X message.
 * `fixedEphemeral` is for test vectors only (a reused ephemeral reveals who sent what, Noise §14).
 */
export function sealPunch (p: PunchPayload, me: Identity, recipientDh: Uint8Array, fixedEphemeral?: KeyPair): Uint8Array {
  const hs = new HandshakeState({
    protocolName: NOISE_PUNCH,
    initiator: true,
    prologue: PUNCH_PROLOGUE,
    s: { publicKey: me.dhPublic, secretKey: me.dhSecret },
    rs: recipientDh,
    ...(fixedEphemeral === undefined ? {} : { e: fixedEphemeral })
  })
  try {
    return hs.writeMessage(encodePayload(p, me))
  } finally {
    hs.destroy()
  }
}

/**
 * Open a punch message sealed to us: null if it does not decrypt (not for us, altered), is
 * malformed, or the identity inside does not certify the static key Noise authenticated.
 */
export function openPunch (sealed: Uint8Array, me: Identity): OpenedPunch | null {
  if (sealed.length !== PUNCH_SEALED_BYTES) return null
  const hs = new HandshakeState({
    protocolName: NOISE_PUNCH,
    initiator: false,
    prologue: PUNCH_PROLOGUE,
    s: { publicKey: me.dhPublic, secretKey: me.dhSecret }
  })
  try {
    const plain = hs.readMessage(sealed)
    const rs = hs.remoteStatic
    if (rs === null) return null
    const p = decodePayload(plain, rs)
    if (p === null || !verifyPublicIdentity(p.sender) || !constantTimeEqual(p.sender.dhPublic, rs)) return null
    return { ...p, fingerprint: fingerprintOf(p.sender) }
  } catch {
    return null // Noise refused it (NOISE_DECRYPT / NOISE_BAD_MESSAGE): not for us, or altered
  } finally {
    hs.destroy()
  }
}
