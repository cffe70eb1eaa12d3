// The messages and the presence record behind proto-spec/dht.md §12 (test vectors). Shared by
// test/dht/spec-vectors.test.ts and whoever regenerates the document's dumps. Every key is a fixed
// byte sequence, the record's nonce too, and Ed25519 signatures are deterministic (RFC 8032 §5.1.6),
// so every byte is fixed.
import { ed25519 } from '../../src/crypto/primitives.js'
import { identityFromSecrets, IDENTITY_SECRET_NAMES, type Identity } from '../../src/crypto/identity.js'
import { nodeIdAt } from '../../src/dht/ids.js'
import { WriteTokens } from '../../src/dht/tokens.js'
import { DhtType, ValueStatus, StoreStatus } from '../../src/dht/constants.js'
import type { PresenceRecord } from '../../src/dht/records.js'
import { sealPresenceRecord } from '../../src/dht/presence-seal.js'
import { presenceKey, periodSigningKey } from '../../src/dht/presence-keys.js'
import type { DhtMessage, NodeInfo } from '../../src/dht/messages.js'
import { counting } from './spec-vectors.js'

/** identity.md §8's Alice: the record is hers. */
export function alice (): Identity {
  return identityFromSecrets({ [IDENTITY_SECRET_NAMES.sign]: counting(0x00, 32), [IDENTITY_SECRET_NAMES.dh]: counting(0x20, 32) })
}

/** DHT key pairs (dht.md §1; not identity keys): A asks, B answers, C and D are known to B. */
export const DHT_SEEDS = { A: counting(0xc0, 32), B: counting(0xe0, 32), C: counting(0x10, 32), D: counting(0x30, 32) }
export const dhtPublic = (who: keyof typeof DHT_SEEDS): Uint8Array => ed25519.publicFromSecret(DHT_SEEDS[who])

export const ASKER_ADDRESS = '192.0.2.1:47474'
/** Where each node is (dht.md §12.1): its id is placed by this address (§1.1). */
export const NODE_ADDRESSES = { A: ASKER_ADDRESS, B: '198.51.100.7:47400', C: '203.0.113.5:47400', D: '[2001:db8::5]:47400' }
export const TOKEN_SECRET = counting(0x60, 32)

/** Period 21915 is 2030-01-01 (UTC); seq 7: sealed 7 s after 2029-12-31T21:00Z, 3 h before the period (dht.md §5.5). */
export const RECORD: Omit<PresenceRecord, 'publicIdentity'> = {
  addresses: [{ host: '192.168.1.20', port: 47474, kind: 'lan' }, { host: '2001:db8::20', port: 47474, kind: 'public' }],
  period: 21915,
  seq: 7,
  expiresAt: Date.UTC(2030, 0, 1, 1) // 1893459600000
}
export const RECORD_NONCE = counting(0x80, 24)

export function presenceRecordBytes (): Uint8Array {
  const id = alice()
  return sealPresenceRecord({ ...RECORD, publicIdentity: id }, id, RECORD_NONCE).bytes
}

export function alicePresenceKey (): Uint8Array {
  return presenceKey(alice().fingerprint, RECORD.period)
}

/** Alice's period signing public key for RECORD.period (dht.md §5.1). */
export function alicePeriodPublic (): Uint8Array {
  return periodSigningKey(alice().signSecret, RECORD.period).publicKey
}

/** The write token B gives A's address for Alice's key (dht.md §4) with a fixed secret. */
export function token (): Uint8Array {
  return new WriteTokens({ random: () => TOKEN_SECRET.slice() }, 0).issue(ASKER_ADDRESS, alicePresenceKey(), 0)
}

export function contacts (): NodeInfo[] {
  return [
    { id: nodeIdAt(dhtPublic('C'), NODE_ADDRESSES.C), addr: NODE_ADDRESSES.C },
    { id: nodeIdAt(dhtPublic('D'), NODE_ADDRESSES.D), addr: NODE_ADDRESSES.D }
  ]
}

export function dhtVectorMessages (): Record<string, DhtMessage> {
  const A = { readOnly: false, senderKey: dhtPublic('A') }
  const B = { readOnly: false, senderKey: dhtPublic('B') }
  const key = alicePresenceKey()
  const record = presenceRecordBytes()
  const [c, d] = contacts() as [NodeInfo, NodeInfo]
  return {
    ping: { ...A, txid: 0x01020304, type: DhtType.PING },
    pong: { ...B, txid: 0x01020304, type: DhtType.PONG, observed: ASKER_ADDRESS },
    'find-node': { ...A, readOnly: true, txid: 0x01020305, type: DhtType.FIND_NODE, target: key },
    nodes: { ...B, txid: 0x01020305, type: DhtType.NODES, nodes: [c, d] },
    'find-value': { ...A, txid: 0x01020306, type: DhtType.FIND_VALUE, key, haveSeq: null },
    'value-records': { ...B, txid: 0x01020306, type: DhtType.VALUE, token: token(), status: ValueStatus.RECORDS, total: 1, start: 0, records: [record] },
    'find-value-seq': { ...A, txid: 0x01020307, type: DhtType.FIND_VALUE, key, haveSeq: 7, periodKey: alicePeriodPublic() },
    'value-not-newer': { ...B, txid: 0x01020307, type: DhtType.VALUE, token: token(), status: ValueStatus.NOT_NEWER, seq: 7, nodes: [c] },
    'value-none': { ...B, txid: 0x01020308, type: DhtType.VALUE, token: token(), status: ValueStatus.NONE, nodes: [] },
    'find-value-start': { ...A, txid: 0x0102030a, type: DhtType.FIND_VALUE, key, haveSeq: null, start: 2 },
    store: { ...A, txid: 0x01020309, type: DhtType.STORE, key, token: token(), record },
    stored: { ...B, txid: 0x01020309, type: DhtType.STORED, status: StoreStatus.OK }
  }
}
