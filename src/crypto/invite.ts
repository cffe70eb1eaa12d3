// Invites: a copy-paste string carrying a public identity and an optional display name, so a
// contact can be added before any network lookup (proto-spec/identity.md §7).
//   v1: "dmess:" base32( 0x01 || publicIdentity(128) || nameLength(1) || name || check(4) )
//   v2: the same, then before the check: addressCount(1) || addresses (§7.1) — a few current
//       addresses of the inviter's node and of public DHT nodes it knows, so that a new user with
//       no bootstrap list of ours can still reach the inviter and join the DHT.
// check = SHA-256("dmess-invite-v<N>\0" || everything before it)[0..4). The signature inside the
// public identity authenticates the keys; the name and the addresses are the sender's
// suggestions, covered only by the checksum against accidental damage. An invite with no
// addresses is written as v1, so older readers still read it; both versions are read.
import { type PublicIdentity, encodePublicIdentity, decodePublicIdentity, verifyPublicIdentity, PUBLIC_IDENTITY_BYTES } from './identity.js'
import { base32Encode, base32Decode, fingerprintOf, isFingerprint, BASE32_ALPHABET } from './fingerprint.js'
import { sha256, utf8 } from './primitives.js'
import { errors } from '../errors.js'
import { encodeInviteAddresses, decodeInviteAddresses, INVITE_ADDRESSES_MAX_BYTES, type InviteAddresses } from './invite-addresses.js'

export { INVITE_MAX_NODE_ADDRESSES, INVITE_MAX_DHT_NODES, type InviteAddresses } from './invite-addresses.js'
export const INVITE_PREFIX = 'dmess:'
/** The version written when an invite carries no addresses (readable by every dmess). */
export const INVITE_VERSION = 1
export const INVITE_VERSION_ADDRESSES = 2
export const INVITE_NAME_MAX_BYTES = 64
const INVITE_CHECK_BYTES = 4
const INVITE_DOMAINS: Record<number, Uint8Array> = { 1: utf8.encode('dmess-invite-v1\0'), 2: utf8.encode('dmess-invite-v2\0') }
const NAME_LENGTH_OFFSET = 1 + PUBLIC_IDENTITY_BYTES
const NAME_OFFSET = NAME_LENGTH_OFFSET + 1
const MIN_PAYLOAD_BYTES = NAME_OFFSET + INVITE_CHECK_BYTES
const MAX_V1_PAYLOAD_BYTES = MIN_PAYLOAD_BYTES + INVITE_NAME_MAX_BYTES
const MAX_PAYLOAD_BYTES = MAX_V1_PAYLOAD_BYTES + INVITE_ADDRESSES_MAX_BYTES
/** Longest input we look at, whitespace included (a pasted invite wrapped over many lines). */
const MAX_INPUT_CHARS = 4096

export interface DecodedInvite {
  identity: PublicIdentity
  /** canonical fingerprint of identity */
  fingerprint: string
  /** display name the invite's author suggested, when there is one */
  name?: string
  /** v2: where the inviter's node and some public DHT nodes answered when the invite was made */
  addresses?: InviteAddresses
}

// Control characters, line/paragraph separators and bidi overrides can rewrite a terminal line
// or disguise a name, so a name may not contain them (identity.md §7).
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

/** Why `name` cannot go in an invite, or null when it can. */
function nameProblem (name: string, bytes: Uint8Array): string | null {
  if (bytes.length > INVITE_NAME_MAX_BYTES) {
    return `name is ${bytes.length} UTF-8 bytes; at most ${INVITE_NAME_MAX_BYTES} fit in an invite`
  }
  if (FORBIDDEN_IN_NAME.test(name)) return 'name contains control or text-direction characters'
  return null
}

function inviteCheck (body: Uint8Array): Uint8Array {
  return sha256(INVITE_DOMAINS[body[0]!] ?? INVITE_DOMAINS[1]!, body).subarray(0, INVITE_CHECK_BYTES)
}

/**
 * An invite for `p`, optionally suggesting `name` (an empty name is the same as none), and with
 * `addresses` (v2, identity.md §7.1) when any are given; throws BAD_ARGUMENT for more than fit.
 */
export function encodeInvite (p: PublicIdentity, name?: string, addresses?: InviteAddresses): string {
  if (!verifyPublicIdentity(p)) throw errors.BAD_ARGUMENT('cannot invite with an identity whose key signature does not verify')
  const nameBytes = utf8.encode(name ?? '')
  const problem = nameProblem(name ?? '', nameBytes)
  if (problem !== null) throw errors.BAD_ARGUMENT(`invite ${problem}`)
  const any = addresses !== undefined && (addresses.node.length > 0 || addresses.dht.length > 0)
  const tail = any ? encodeInviteAddresses(addresses) : new Uint8Array(0)
  const body = new Uint8Array(NAME_OFFSET + nameBytes.length + tail.length)
  body[0] = any ? INVITE_VERSION_ADDRESSES : INVITE_VERSION
  body.set(encodePublicIdentity(p), 1)
  body[NAME_LENGTH_OFFSET] = nameBytes.length
  body.set(nameBytes, NAME_OFFSET)
  body.set(tail, NAME_OFFSET + nameBytes.length)
  const payload = new Uint8Array(body.length + INVITE_CHECK_BYTES)
  payload.set(body, 0)
  payload.set(inviteCheck(body), body.length)
  return INVITE_PREFIX + base32Encode(payload)
}

/** Whitespace-free lowercase payload text after the prefix; throws BAD_INVITE. */
function payloadText (s: string): string {
  if (typeof s !== 'string') throw errors.BAD_INVITE('an invite must be text')
  if (s.length > MAX_INPUT_CHARS) throw errors.BAD_INVITE(`an invite is at most a few hundred characters, got ${s.length}`)
  const compact = s.replace(/\s+/g, '').toLowerCase()
  if (!compact.startsWith(INVITE_PREFIX)) {
    if (isFingerprint(s)) throw errors.BAD_INVITE('that is a fingerprint, not an invite (an invite starts with dmess:)')
    throw errors.BAD_INVITE(`an invite starts with '${INVITE_PREFIX}'`)
  }
  const text = compact.slice(INVITE_PREFIX.length)
  const bad = [...text].findIndex(c => !BASE32_ALPHABET.includes(c))
  if (bad >= 0) {
    const c = [...text][bad] ?? ''
    throw errors.BAD_INVITE(`character ${JSON.stringify(c)} at position ${bad + 1} after '${INVITE_PREFIX}' cannot be in an invite`)
  }
  return text
}

/** Bytes of a payload whose length and checksum are right; throws BAD_INVITE. */
function checkedPayload (text: string): Uint8Array {
  const payload = base32Decode(text)
  if (payload === null || payload.length < MIN_PAYLOAD_BYTES) {
    throw errors.BAD_INVITE('invite is incomplete: copy all of it again')
  }
  if (payload.length > MAX_PAYLOAD_BYTES) throw errors.BAD_INVITE('invite is longer than any invite can be')
  const body = payload.subarray(0, payload.length - INVITE_CHECK_BYTES)
  const check = payload.subarray(payload.length - INVITE_CHECK_BYTES)
  if (!inviteCheck(body).every((b, i) => b === check[i])) {
    throw errors.BAD_INVITE('invite is damaged or incomplete (checksum mismatch): copy all of it again')
  }
  if (payload[0] !== INVITE_VERSION && payload[0] !== INVITE_VERSION_ADDRESSES) {
    throw errors.BAD_INVITE(`invite version ${payload[0] ?? '?'} is not supported by this dmess (it reads versions ${INVITE_VERSION} and ${INVITE_VERSION_ADDRESSES})`)
  }
  if (payload[0] === INVITE_VERSION && payload.length > MAX_V1_PAYLOAD_BYTES) throw errors.BAD_INVITE('invite is longer than any invite can be')
  const nameEnd = NAME_OFFSET + payload[NAME_LENGTH_OFFSET]!
  const fits = payload[0] === INVITE_VERSION ? nameEnd === body.length : nameEnd < body.length
  if (payload[NAME_LENGTH_OFFSET]! > INVITE_NAME_MAX_BYTES || !fits) {
    throw errors.BAD_INVITE('invite name length does not match the invite length')
  }
  return body
}

function decodeName (bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined
  let name: string
  try {
    name = utf8.decode(bytes)
  } catch {
    throw errors.BAD_INVITE('invite name is not valid UTF-8 text')
  }
  const problem = nameProblem(name, bytes)
  if (problem !== null) throw errors.BAD_INVITE(`invite ${problem}`)
  return name
}

/**
 * Parses an invite (surrounding whitespace, line breaks and upper case are fine) and verifies the
 * identity in it. Throws BAD_INVITE with a one-line reason for anything wrong.
 */
export function decodeInvite (s: string): DecodedInvite {
  const body = checkedPayload(payloadText(s))
  const identity = decodePublicIdentity(body.slice(1, NAME_LENGTH_OFFSET))
  if (identity === null) {
    throw errors.BAD_INVITE("invite's keys are not validly signed (or are weak keys): it was altered or forged")
  }
  const nameEnd = NAME_OFFSET + body[NAME_LENGTH_OFFSET]!
  const name = decodeName(body.slice(NAME_OFFSET, nameEnd))
  const fingerprint = fingerprintOf(identity)
  const out: DecodedInvite = name === undefined ? { identity, fingerprint } : { identity, fingerprint, name }
  if (body[0] === INVITE_VERSION_ADDRESSES) {
    const addresses = decodeInviteAddresses(body.subarray(nameEnd))
    if (addresses === null) throw errors.BAD_INVITE("invite's address list is malformed: it was altered or made by a faulty program")
    out.addresses = addresses
  }
  return out
}
