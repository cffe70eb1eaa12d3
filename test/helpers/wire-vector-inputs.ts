// The packets behind proto-spec/wire.md §8 (test vectors), as the decoder must read them. Shared
// by test/wire/spec-vectors.test.ts and whoever regenerates the document's dumps. Byte strings are
// fixed sequences (test/helpers/spec-vectors.ts `counting`); the ephemeral key, the cookie and the
// two AEAD outputs are computed from fixed inputs, which the document lists too.
import { computeCookie } from '../../src/wire/cookie.js'
import { mac1Key, sealMac1 } from '../../src/wire/mac1.js'
import { encodeHandshakeInitiation, encodeTransportDataHeader, type HandshakeInitiation, type Packet } from '../../src/wire/packet.js'
import { HandshakePattern, PacketType } from '../../src/wire/constants.js'
import { x25519, chacha20poly1305, utf8 } from '../../src/crypto/primitives.js'
import { chachaNonce } from '../../src/crypto/noise/index.js'
import { counting } from './spec-vectors.js'

export const INITIATOR_INDEX = 0x1a2b3c4d
export const RESPONDER_INDEX = 0x5e6f7081

/** The initiator's ephemeral secret; its public key is XX message 1 (session.md §11 uses it too). */
export const EPHEMERAL_SECRET = counting(0x80, 32)
export const COOKIE_SECRET = counting(0xe0, 32)
export const COOKIE_SOURCE = { address: '192.0.2.1', port: 47474 }
/** The responder the initiations are MACed for (wire.md §4.1.1): Bob of session.md §11. */
export const MAC1_FINGERPRINT = 'p49jt2uyx42uh8z5n8x9yta5h0g07a9sj8yqrjyf43vn76l'
/** The transport key of §8's TRANSPORT_DATA and SESSION_CLOSE (any 32 bytes would do). */
export const TRANSPORT_KEY = counting(0x00, 32)
export const TRANSPORT_PLAINTEXT = utf8.encode('dmess')
export const DATA_COUNTER = 7n
export const CLOSE_COUNTER = 0x0102030405060708n
/** A DHT PING (dht.md §12's `ping` vector) after its two framing bytes. */
export const DHT_PING_BODY = '0102030400' + 'dde3bccec7f3a66a1115f45d720f4dc135c3ae7c4e22dca38fdb1efd6a495ff8'

/** ENCRYPT(k, n, ad = the 14-byte header, plaintext) as wire.md §4.6 / §4.8 define it. */
export function sealed (receiverIndex: number, counter: bigint, type: typeof PacketType.TRANSPORT_DATA | typeof PacketType.SESSION_CLOSE, plaintext: Uint8Array): Uint8Array {
  const header = encodeTransportDataHeader(receiverIndex, counter, type)
  return chacha20poly1305.seal(TRANSPORT_KEY, chachaNonce(counter), plaintext, header)
}

/** An initiation with the mac1 §4.1.1 computes for MAC1_FINGERPRINT. */
function initiation (p: Omit<HandshakeInitiation, 'kind' | 'mac1'>): HandshakeInitiation {
  const bytes = sealMac1(encodeHandshakeInitiation(p), mac1Key(MAC1_FINGERPRINT))
  return { kind: 'handshake-initiation', ...p, mac1: bytes.slice(bytes.length - 16) }
}

export function wireVectorPackets (): Record<string, Packet> {
  const msg1 = x25519.publicFromSecret(EPHEMERAL_SECRET)
  const cookie = computeCookie(COOKIE_SECRET, COOKIE_SOURCE.address, COOKIE_SOURCE.port, INITIATOR_INDEX)
  return {
    'handshake-initiation': initiation({ senderIndex: INITIATOR_INDEX, pattern: HandshakePattern.XX, cookie: null, message: msg1 }),
    'handshake-initiation-cookie': initiation({ senderIndex: INITIATOR_INDEX, pattern: HandshakePattern.XX, cookie, message: msg1 }),
    'handshake-response': { kind: 'handshake-response', senderIndex: RESPONDER_INDEX, receiverIndex: INITIATOR_INDEX, message: counting(0xa0, 48) },
    'handshake-final': { kind: 'handshake-final', receiverIndex: RESPONDER_INDEX, message: counting(0x40, 64) },
    'cookie-reply': { kind: 'cookie-reply', receiverIndex: INITIATOR_INDEX, cookie },
    'version-negotiation': { kind: 'version-negotiation', receiverIndex: INITIATOR_INDEX, versions: [1] },
    'transport-data': {
      kind: 'transport-data',
      receiverIndex: RESPONDER_INDEX,
      counter: DATA_COUNTER,
      ciphertext: sealed(RESPONDER_INDEX, DATA_COUNTER, PacketType.TRANSPORT_DATA, TRANSPORT_PLAINTEXT)
    },
    'session-close': {
      kind: 'session-close',
      receiverIndex: INITIATOR_INDEX,
      counter: CLOSE_COUNTER,
      ciphertext: sealed(INITIATOR_INDEX, CLOSE_COUNTER, PacketType.SESSION_CLOSE, new Uint8Array(0))
    },
    dht: { kind: 'dht', type: 0x20, body: new Uint8Array(Buffer.from(DHT_PING_BODY, 'hex')) }
  }
}
