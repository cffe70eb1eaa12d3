// The messages behind proto-spec/traversal.md §8 (test vectors): fixed keys, ids and the Noise
// ephemeral, so every byte is fixed. Shared by test/traversal/spec-vectors.test.ts and whoever
// regenerates the document (`npx tsx test/helpers/traversal-vector-inputs.ts` prints the block).
import { identityFromSecrets, IDENTITY_SECRET_NAMES, type Identity } from '../../src/crypto/identity.js'
import { x25519 } from '../../src/crypto/primitives.js'
import { encodeTraversal, type TraversalMessage } from '../../src/traversal/messages.js'
import { sealPunch, type PunchPayload } from '../../src/traversal/punch-seal.js'
import { TraversalType } from '../../src/traversal/constants.js'
import { counting } from './spec-vectors.js'
import { alice } from './dht-vector-inputs.js'

export { alice }

/** Bob: sign secret 40 41 .. 5f, DH secret 60 61 .. 7f. */
export function bob (): Identity {
  return identityFromSecrets({ [IDENTITY_SECRET_NAMES.sign]: counting(0x40, 32), [IDENTITY_SECRET_NAMES.dh]: counting(0x60, 32) })
}

export const TAG = counting(0xa0, 16)
export const HANDLE = counting(0xc0, 16)
export const PUNCH_ID = counting(0xb0, 16)
/** Alice's Noise ephemeral (vectors only): secret e0 e1 .. ff */
export function ephemeral (): { publicKey: Uint8Array, secretKey: Uint8Array } {
  const secretKey = counting(0xe0, 32)
  return { publicKey: x25519.publicFromSecret(secretKey), secretKey }
}

/** 2030-01-01T00:00:00Z */
export const SENT_AT = Date.UTC(2030, 0, 1)

export const OFFER: PunchPayload = {
  role: 'offer',
  punchId: PUNCH_ID,
  sentAt: SENT_AT,
  natKind: 'endpoint-independent',
  candidates: [
    { kind: 'lan', host: '192.168.1.20', port: 47474 },
    { kind: 'reflexive', host: '198.51.100.20', port: 40001 }
  ]
}

export function sealedOffer (): Uint8Array {
  return sealPunch(OFFER, alice(), bob().dhPublic, ephemeral())
}

/** The same offer with a relay block (traversal.md §5.2): relay 203.0.113.5:47400, allocation d0 .. d7, port 40001, pair secret 00 .. 1f. */
export const RELAY_OFFER: PunchPayload = {
  ...OFFER,
  relay: { relay: { host: '203.0.113.5', port: 47400 }, allocationId: counting(0xd0, 8), port: 40001, pairSecret: counting(0x00, 32) }
}

export function sealedRelayOffer (): Uint8Array {
  return sealPunch(RELAY_OFFER, alice(), bob().dhPublic, ephemeral())
}

export function traversalVectorMessages (): Record<string, TraversalMessage> {
  const sealed = sealedOffer()
  return {
    register: { type: TraversalType.REGISTER, txid: 0x01020304, tag: TAG },
    registered: { type: TraversalType.REGISTERED, txid: 0x01020304, status: 0, lifetimeS: 60, observed: '203.0.113.1:49152' },
    'punch-request': { type: TraversalType.PUNCH_REQUEST, tag: TAG, sealed },
    'punch-forward': { type: TraversalType.PUNCH_FORWARD, handle: HANDLE, sealed },
    'punch-unknown': { type: TraversalType.PUNCH_UNKNOWN, tag: TAG },
    probe: { type: TraversalType.PROBE, punchId: PUNCH_ID, round: 3, answerer: false },
    'probe-ack': { type: TraversalType.PROBE_ACK, punchId: PUNCH_ID, round: 3, answerer: true }
  }
}

if (process.argv[1]?.endsWith('traversal-vector-inputs.ts') === true) {
  for (const [name, m] of Object.entries(traversalVectorMessages())) console.log(`${name}: ${Buffer.from(encodeTraversal(m)).toString('hex')}`)
  console.log(`sealed-offer: ${Buffer.from(sealedOffer()).toString('hex')}`)
  console.log(`sealed-relay-offer: ${Buffer.from(sealedRelayOffer()).toString('hex')}`)
}

/** dht.md §12.1's record of Alice with traversal fields (§5.2): a reflexive candidate, NAT kind, one rendezvous. */
export const TRAVERSAL_RECORD = {
  addresses: [{ host: '192.168.1.20', port: 47474, kind: 'lan' as const }, { host: '198.51.100.20', port: 40001, kind: 'reflexive' as const }],
  natKind: 'endpoint-independent' as const,
  rendezvous: [{ host: '203.0.113.5', port: 47400, tag: TAG }]
}
