// CipherState (Noise §5.1), the Noise nonce encoding (§12.3), Rekey (§11.3), HMAC/HKDF (§4.3)
// and the transport phase after Split().
import t from 'tap'
import { createHash, hkdfSync } from 'node:crypto'
import {
  CipherState, HandshakeState, SymmetricState, hkdf, parseSuite, chachaNonce, MAX_NONCE, MAX_MESSAGE_BYTES, NOISE_IK
} from '../../src/crypto/noise/index.js'
import { chacha20poly1305, hmac, x25519, utf8 } from '../../src/crypto/primitives.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0xc1f0).bytes

const suite = parseSuite('25519_ChaChaPoly_BLAKE2b')
const EMPTY = new Uint8Array(0)
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))

function pairOfStates (): [CipherState, CipherState] {
  const k = randomBytes(32)
  return [new CipherState(suite.cipher, k.slice()), new CipherState(suite.cipher, k)]
}

t.test('nonce is 32 zero bits then the 64-bit little-endian counter (§12.3)', async t => {
  t.same(chachaNonce(1n), hex('000000000100000000000000'))
  t.same(chachaNonce(0x0102030405060708n), hex('000000000807060504030201'))
  const k = randomBytes(32)
  const cs = new CipherState(suite.cipher, k.slice())
  const ad = utf8.encode('ad')
  const pt = utf8.encode('plaintext')
  t.same(cs.encryptWithAd(ad, pt), chacha20poly1305.seal(k, hex('000000000000000000000000'), pt, ad), 'n = 0')
  t.same(cs.encryptWithAd(ad, pt), chacha20poly1305.seal(k, hex('000000000100000000000000'), pt, ad), 'n = 1')
  t.equal(cs.nonce, 2n)
})

t.test('without a key, EncryptWithAd/DecryptWithAd pass data through (§5.1)', async t => {
  const cs = new CipherState(suite.cipher)
  t.notOk(cs.hasKey())
  t.same(cs.encryptWithAd(EMPTY, utf8.encode('x')), utf8.encode('x'))
  t.same(cs.decryptWithAd(EMPTY, utf8.encode('y')), utf8.encode('y'))
  t.equal(cs.nonce, 0n)
  t.throws(() => cs.rekey(), { code: 'NOISE_STATE' })
})

t.test('failed decryption does not advance the nonce; replays and reordering fail', async t => {
  const [a, b] = pairOfStates()
  const c0 = a.encryptWithAd(EMPTY, utf8.encode('zero'))
  const c1 = a.encryptWithAd(EMPTY, utf8.encode('one'))
  t.throws(() => b.decryptWithAd(EMPTY, c1), { code: 'NOISE_DECRYPT' }, 'out of order')
  t.equal(b.nonce, 0n)
  t.equal(utf8.decode(b.decryptWithAd(EMPTY, c0)), 'zero')
  t.throws(() => b.decryptWithAd(EMPTY, c0), { code: 'NOISE_DECRYPT' }, 'replay')
  t.equal(b.tryDecryptWithAd(EMPTY, c0), null, 'non-throwing form returns null')
  t.throws(() => b.decryptWithAd(EMPTY, c1.subarray(0, 10)), { code: 'NOISE_DECRYPT' }, 'truncated')
  t.throws(() => b.decryptWithAd(utf8.encode('other ad'), c1), { code: 'NOISE_DECRYPT' }, 'wrong ad')
  t.equal(utf8.decode(b.decryptWithAd(EMPTY, c1)), 'one', 'state survives bad input')
  b.setNonce(0n)
  t.equal(utf8.decode(b.decryptWithAd(EMPTY, c0)), 'zero', 'SetNonce for explicit-nonce transports (§11.4)')
  t.throws(() => b.setNonce(-1n), { code: 'NOISE_STATE' })
  t.throws(() => b.setNonce(MAX_NONCE + 1n), { code: 'NOISE_STATE' })
})

t.test('nonce 2^64-1 is reserved: the counter runs out one short of it (§5.1)', async t => {
  const [a, b] = pairOfStates()
  a.setNonce(MAX_NONCE - 1n)
  b.setNonce(MAX_NONCE - 1n)
  const last = a.encryptWithAd(EMPTY, utf8.encode('last'))
  t.equal(a.nonce, MAX_NONCE)
  t.throws(() => a.encryptWithAd(EMPTY, utf8.encode('one more')), { code: 'NOISE_NONCE_EXHAUSTED' })
  t.equal(utf8.decode(b.decryptWithAd(EMPTY, last)), 'last')
  t.throws(() => b.decryptWithAd(EMPTY, last), { code: 'NOISE_NONCE_EXHAUSTED' })
})

t.test('rekey: REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros) (§4.2, §11.3)', async t => {
  const k = randomBytes(32)
  const expected = chacha20poly1305.seal(k, hex('00000000ffffffffffffffff'), new Uint8Array(32), EMPTY).subarray(0, 32)
  const cs = new CipherState(suite.cipher, k.slice())
  cs.setNonce(7n)
  cs.rekey()
  t.equal(cs.nonce, 7n, 'rekey leaves n alone')
  const probe = new CipherState(suite.cipher, expected.slice())
  probe.setNonce(7n)
  t.same(cs.encryptWithAd(EMPTY, utf8.encode('after')), probe.encryptWithAd(EMPTY, utf8.encode('after')))
})

t.test('messages are at most 65535 bytes (§3)', async t => {
  const [a, b] = pairOfStates()
  t.throws(() => a.encryptWithAd(EMPTY, new Uint8Array(MAX_MESSAGE_BYTES - 15)), { code: 'NOISE_TOO_LARGE' })
  t.equal(a.nonce, 0n)
  const ct = a.encryptWithAd(EMPTY, new Uint8Array(MAX_MESSAGE_BYTES - 16))
  t.equal(ct.length, MAX_MESSAGE_BYTES)
  t.equal(b.decryptWithAd(EMPTY, ct).length, MAX_MESSAGE_BYTES - 16)
  t.throws(() => b.decryptWithAd(EMPTY, new Uint8Array(MAX_MESSAGE_BYTES + 1)), { code: 'NOISE_BAD_MESSAGE' })
  t.throws(() => new CipherState(suite.cipher).encryptWithAd(EMPTY, new Uint8Array(MAX_MESSAGE_BYTES + 1)), { code: 'NOISE_TOO_LARGE' })
})

t.test('transport after an IK handshake: both directions, rekey, wipe', async t => {
  const rS = x25519.generateKeyPair()
  const i = new HandshakeState({ protocolName: NOISE_IK, initiator: true, s: x25519.generateKeyPair(), rs: rS.publicKey })
  const r = new HandshakeState({ protocolName: NOISE_IK, initiator: false, s: rS })
  r.readMessage(i.writeMessage())
  i.readMessage(r.writeMessage())
  const iCs = i.cipherStates
  const rCs = r.cipherStates
  if (iCs === null || rCs === null) throw new Error('handshake not complete')
  t.equal(iCs.send.nonce, 0n, 'transport nonces start at 0')
  const msg = (text: string): Uint8Array => utf8.encode(text)
  const ct = iCs.send.encryptWithAd(EMPTY, msg('a'))
  t.throws(() => iCs.receive.decryptWithAd(EMPTY, ct), { code: 'NOISE_DECRYPT' }, 'directions use different keys')
  t.equal(utf8.decode(rCs.receive.decryptWithAd(EMPTY, ct)), 'a')
  iCs.send.rekey()
  const afterOneSided = iCs.send.encryptWithAd(EMPTY, msg('b'))
  t.equal(rCs.receive.tryDecryptWithAd(EMPTY, afterOneSided), null, 'a rekey on one side only breaks the channel')
  rCs.receive.rekey()
  t.equal(utf8.decode(rCs.receive.decryptWithAd(EMPTY, afterOneSided)), 'b', 'both sides rekeyed: works again')
  t.equal(utf8.decode(iCs.receive.decryptWithAd(EMPTY, rCs.send.encryptWithAd(EMPTY, msg('c')))), 'c', 'other direction unaffected')
  iCs.send.wipe()
  t.notOk(iCs.send.hasKey())
})

t.test('hmac wrapper: RFC 4231 case 2 and RFC 2104 over BLAKE2b with its 128-byte block', async t => {
  const key = utf8.encode('Jefe')
  const data = utf8.encode('what do ya want for nothing?')
  t.same(hmac('sha256', key, data), hex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'))
  t.same(hmac('sha512', key, data), hex('164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737'))
  const manual = (k: Uint8Array, m: Uint8Array): Uint8Array => {
    const block = new Uint8Array(128)
    block.set(k.length > 128 ? createHash('blake2b512').update(k).digest() : k)
    const pad = (x: number): Buffer => Buffer.from(block.map(b => b ^ x))
    const inner = createHash('blake2b512').update(pad(0x36)).update(m).digest()
    return new Uint8Array(createHash('blake2b512').update(pad(0x5c)).update(inner).digest())
  }
  for (const klen of [0, 4, 64, 128, 200]) {
    const k = randomBytes(klen)
    t.same(hmac('blake2b512', k, data), manual(k, data), `key of ${klen} bytes`)
  }
  t.same(hmac('sha256', key, data.subarray(0, 4), data.subarray(4)), hmac('sha256', key, data), 'parts are concatenated')
})

t.test('Noise HKDF equals RFC 5869 with salt = ck and empty info (SHA256)', async t => {
  const sha = parseSuite('25519_ChaChaPoly_SHA256').hash
  const ck = randomBytes(32)
  const ikm = randomBytes(32)
  const [o1, o2, o3] = hkdf(sha, ck, ikm, 3)
  t.same(Buffer.concat([o1 as Uint8Array, o2 as Uint8Array, o3 as Uint8Array]), Buffer.from(hkdfSync('sha256', ikm, ck, EMPTY, 96)))
  t.equal(hkdf(suite.hash, randomBytes(64), ikm, 2).length, 2)
})

t.test('SymmetricState: long names are hashed, short ones zero-padded (§5.2)', async t => {
  const sha = parseSuite('25519_ChaChaPoly_SHA256')
  const short = new SymmetricState(sha, 'Noise_NN_25519_ChaChaPoly_SHA256')
  const padded = new Uint8Array(32)
  padded.set(utf8.encode('Noise_NN_25519_ChaChaPoly_SHA256'))
  t.same(short.getHandshakeHash(), padded, 'exactly HASHLEN bytes: used as is')
  const longName = 'Noise_X1X1_25519_ChaChaPoly_SHA256'
  const long = new SymmetricState(sha, longName)
  t.same(long.getHandshakeHash(), new Uint8Array(createHash('sha256').update(longName).digest()), 'longer: HASH(name)')
  const ss = new SymmetricState(suite, 'Noise_NN_25519_ChaChaPoly_BLAKE2b')
  t.notOk(ss.hasKey())
  t.same(ss.encryptAndHash(utf8.encode('clear')), utf8.encode('clear'), 'no key yet: plaintext')
  ss.mixKey(randomBytes(32))
  t.ok(ss.hasKey())
  t.equal(ss.encryptAndHash(utf8.encode('sealed')).length, 6 + 16)
  const [c1, c2] = ss.split()
  t.ok(c1.hasKey() && c2.hasKey())
  t.notOk(ss.hasKey(), 'split wipes the handshake key')
})
