// The keystore.md §4 decision table, exercised on in-memory file images (no disk).
import t from 'tap'
import { argon2id, sha256, xchacha, type Argon2idParams } from '../../src/crypto/primitives.js'
import { isDmessError } from '../../src/errors.js'
import { sealKeystore, unsealKeystore, passphraseBytes, type DeriveKey } from '../../src/keystore/seal.js'
import { parseKeystore, encodeHeader, assembleFile, HEADER_BYTES, CHECKSUM_BYTES } from '../../src/keystore/format.js'

const TINY: Argon2idParams = { t: 1, m: 64, p: 1 }
const SECRETS = { 'identity.ed25519': new Uint8Array(32).fill(7), 'store.key': new Uint8Array(32).fill(9) }

/** A KDF that counts calls and remembers every key it handed out, to check they are wiped. */
function spyDerive (): DeriveKey & { calls: number, keys: Uint8Array[], passwords: Uint8Array[] } {
  const f = Object.assign(async (pw: Uint8Array, salt: Uint8Array, p: Argon2idParams) => {
    f.calls++
    f.passwords.push(pw)
    const key = await argon2id(pw, salt, p)
    f.keys.push(key)
    return key
  }, { calls: 0, keys: [] as Uint8Array[], passwords: [] as Uint8Array[] })
  return f
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    const v = await p
    return `SUCCESS ${JSON.stringify(v)}`
  } catch (err) {
    return isDmessError(err) ? err.code : `CRASH ${String(err)}`
  }
}

/** Rewrites the header check and file checksum, as an attacker (or a newer writer) would. */
function reseal (file: Uint8Array): Uint8Array {
  const header = file.slice(0, HEADER_BYTES)
  header.set(sha256(header.subarray(0, 72)).subarray(0, 8), 72)
  return assembleFile(header, file.subarray(HEADER_BYTES, file.length - CHECKSUM_BYTES))
}

const file = await sealKeystore(SECRETS, 'correct horse', { kdf: TINY })

t.test('round trip, and a wrong passphrase is WRONG_PASSPHRASE', async t => {
  t.same(await unsealKeystore(file, 'correct horse'), SECRETS)
  t.equal(await codeOf(unsealKeystore(file, 'correct hors')), 'WRONG_PASSPHRASE')
  // msgpack: map(2), str(16) + bin8(32), str(9) + bin8(32) = 1 + 17 + 34 + 10 + 34 = 96 bytes
  t.equal(file.length, HEADER_BYTES + 96 + 16 + CHECKSUM_BYTES, 'layout: header, payload, tag, checksum')
})

t.test('truncation at every byte offset is KEYSTORE_TRUNCATED, before any KDF work', async t => {
  const derive = spyDerive()
  const wrong: string[] = []
  for (let n = 0; n < file.length; n++) {
    const code = await codeOf(unsealKeystore(file.slice(0, n), 'correct horse', derive))
    if (code !== 'KEYSTORE_TRUNCATED') wrong.push(`${n}: ${code}`)
  }
  t.same(wrong, [], `all ${file.length} prefixes`)
  t.equal(derive.calls, 0)
})

t.test('every single-bit flip anywhere is KEYSTORE_CORRUPT, never success', async t => {
  const derive = spyDerive()
  const wrong: string[] = []
  for (let i = 0; i < file.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = file.slice()
      bad[i]! ^= 1 << bit
      const code = await codeOf(unsealKeystore(bad, 'correct horse', derive))
      if (code !== 'KEYSTORE_CORRUPT') wrong.push(`${i}.${bit}: ${code}`)
    }
  }
  t.same(wrong, [], `all ${file.length * 8} flips`)
  t.equal(derive.calls, 0, 'the checksums catch every flip before the KDF runs')
})

t.test('a tampered ciphertext with fixed-up checksums is refused (AEAD), never garbage', async t => {
  for (const i of [HEADER_BYTES, HEADER_BYTES + 40, file.length - CHECKSUM_BYTES - 1]) {
    const bad = file.slice()
    bad[i]! ^= 0x01
    t.equal(await codeOf(unsealKeystore(reseal(bad), 'correct horse')), 'WRONG_PASSPHRASE', `byte ${i}`)
  }
  // lowering the KDF cost changes the derived key, so it cannot unlock either
  const cheaper = file.slice()
  new DataView(cheaper.buffer).setUint32(20, 32)
  t.equal(await codeOf(unsealKeystore(reseal(cheaper), 'correct horse')), 'WRONG_PASSPHRASE')
})

t.test('a newer format version is KEYSTORE_TOO_NEW only when its checksum holds', async t => {
  const newer = file.slice()
  new DataView(newer.buffer).setUint16(8, 2)
  t.equal(await codeOf(unsealKeystore(newer, 'x')), 'KEYSTORE_CORRUPT', 'flipped version, stale checksum')
  newer.set(sha256(newer.subarray(0, newer.length - 32)), newer.length - 32)
  t.equal(await codeOf(unsealKeystore(newer, 'x')), 'KEYSTORE_TOO_NEW')
  // a future layout we cannot parse at all, as long as it keeps the frozen prefix and trailer
  const future = new Uint8Array(60)
  future.set(file.subarray(0, 8))
  new DataView(future.buffer).setUint16(8, 7)
  future.set(sha256(future.subarray(0, 28)), 28)
  t.equal(await codeOf(unsealKeystore(future, 'x')), 'KEYSTORE_TOO_NEW')
  t.match((await unsealKeystore(future, 'x').catch(e => e)).message, /version 7 is newer/)
})

t.test('absurd or unknown header fields are KEYSTORE_CORRUPT without running the KDF', async t => {
  const cases: Array<[string, (v: DataView) => void]> = [
    ['m = 4 TiB', v => v.setUint32(20, 0xffffffff)],
    ['m = 1 GiB + 1', v => v.setUint32(20, 1024 * 1024 + 1)],
    ['t = 2^32-1', v => v.setUint32(16, 0xffffffff)],
    ['t = 0', v => v.setUint32(16, 0)],
    ['p = 0', v => v.setUint32(24, 0)],
    ['p = 255', v => v.setUint32(24, 255)],
    ['m < 8p', v => { v.setUint32(24, 16); v.setUint32(20, 64) }],
    ['t·m beyond the work cap', v => { v.setUint32(16, 32); v.setUint32(20, 1024 * 1024) }],
    ['ciphertext length 4 GiB', v => v.setUint32(68, 0xffffffff)],
    ['ciphertext length 0', v => v.setUint32(68, 0)],
    ['unknown KDF', v => v.setUint8(12, 2)],
    ['unknown AEAD', v => v.setUint8(13, 9)],
    ['reserved bits set', v => v.setUint16(14, 1)],
    ['header length 81', v => v.setUint16(10, 81)],
    ['version 0', v => v.setUint16(8, 0)]
  ]
  const derive = spyDerive()
  for (const [name, edit] of cases) {
    const bad = file.slice()
    edit(new DataView(bad.buffer))
    t.equal(await codeOf(unsealKeystore(reseal(bad), 'correct horse', derive)), 'KEYSTORE_CORRUPT', name)
  }
  t.equal(derive.calls, 0)
})

t.test('foreign files and trailing bytes are KEYSTORE_CORRUPT', async t => {
  t.equal(await codeOf(unsealKeystore(new TextEncoder().encode('{"keys": []}\n'), 'x')), 'KEYSTORE_CORRUPT')
  t.equal(await codeOf(unsealKeystore(Uint8Array.of(0x89, 0x44, 0x00), 'x')), 'KEYSTORE_CORRUPT')
  const longer = new Uint8Array(file.length + 1)
  longer.set(file)
  t.equal(await codeOf(unsealKeystore(longer, 'correct horse')), 'KEYSTORE_CORRUPT')
  t.equal(await codeOf(unsealKeystore(new Uint8Array(0), 'x')), 'KEYSTORE_TRUNCATED', 'empty file')
})

t.test('an authentic but malformed payload is KEYSTORE_CORRUPT', async t => {
  const key = new Uint8Array(32).fill(1)
  const derive: DeriveKey = async () => key.slice()
  const payloads = [
    Uint8Array.of(0xc1), // msgpack "never used" byte
    Uint8Array.of(0x93, 1, 2, 3), // an array, not a map
    Uint8Array.of(0x81, 0x01, 0xc4, 0x01, 0x00), // integer key
    Uint8Array.of(0x81, 0xa1, 0x61, 0x05), // value is not bytes
    Uint8Array.of(0x80, 0x80) // trailing data
  ]
  for (const pt of payloads) {
    const nonce = new Uint8Array(24)
    const header = encodeHeader(TINY, new Uint8Array(16), nonce, pt.length + 16)
    const f = assembleFile(header, xchacha.seal(key, nonce, pt, header))
    t.equal(await codeOf(unsealKeystore(f, 'any', derive)), 'KEYSTORE_CORRUPT', Buffer.from(pt).toString('hex'))
  }
})

t.test('derived keys and passphrase bytes are wiped after use', async t => {
  const derive = spyDerive()
  const f = await sealKeystore(SECRETS, 'pw', { kdf: TINY, derive })
  await unsealKeystore(f, 'pw', derive)
  await unsealKeystore(f, 'nope', derive).catch(() => {})
  t.equal(derive.calls, 3)
  for (const b of [...derive.keys, ...derive.passwords]) t.ok(b.every(x => x === 0), 'all zero')
})

t.test('passphrases are compared as NFC UTF-8', async t => {
  const composed = 'caf\u00e9 \u{1f511}'
  const decomposed = 'cafe\u0301 \u{1f511}'
  t.same(passphraseBytes(composed), passphraseBytes(decomposed))
  const f = await sealKeystore(SECRETS, composed, { kdf: TINY })
  t.same(await unsealKeystore(f, decomposed), SECRETS)
  t.equal(await codeOf(unsealKeystore(f, 'cafe \u{1f511}')), 'WRONG_PASSPHRASE')
  t.equal(await codeOf(sealKeystore(SECRETS, 'half \ud83d', { kdf: TINY })), 'BAD_ARGUMENT', 'lone surrogate')
})

t.test('sealing validates its inputs', async t => {
  t.equal(await codeOf(sealKeystore(SECRETS, '', { kdf: TINY })), 'NO_PASSPHRASE')
  t.equal(await codeOf(sealKeystore(SECRETS, 'pw', { kdf: { t: 1, m: 2 ** 31, p: 1 } })), 'BAD_ARGUMENT')
  t.equal(await codeOf(sealKeystore(SECRETS, 'pw', { kdf: { t: 1.5, m: 64, p: 1 } })), 'BAD_ARGUMENT')
  t.equal(await codeOf(sealKeystore({ a: 'text' as unknown as Uint8Array }, 'pw', { kdf: TINY })), 'BAD_ARGUMENT')
  t.equal(await codeOf(sealKeystore({ a: new Uint8Array(2 * 1024 * 1024) }, 'pw', { kdf: TINY })), 'BAD_ARGUMENT', 'too large')
})

t.test('odd secret names are data, not object structure', async t => {
  const secrets: Record<string, Uint8Array> = {}
  Object.defineProperty(secrets, '__proto__', { value: Uint8Array.of(1), enumerable: true })
  secrets[''] = new Uint8Array(0)
  secrets['ключ'] = Uint8Array.of(2)
  const out = await unsealKeystore(await sealKeystore(secrets, 'pw', { kdf: TINY }), 'pw')
  t.same(Object.keys(out).sort(), ['', '__proto__', 'ключ'])
  t.same(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, Uint8Array.of(1))
  t.equal(Object.getPrototypeOf(out), Object.prototype, 'prototype untouched')
  t.same(parseKeystore(await sealKeystore({}, 'pw', { kdf: TINY })).header.kdf, TINY, 'an empty map is fine')
})

t.test('the proto-spec/keystore.md §7 test vector', async t => {
  const vector = Buffer.from(
    '89444d4b530d0a1a000100500101000000000001000000400000000100010203' +
    '0405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223' +
    '24252627000000353589b47ff09bc5d34945e6a2f34b149bdd65cd5ee413fdb8' +
    '1a5988881f22557a642cbf65a25b20181264cb90376b05ff24ac2915af5fccf8' +
    '4b09e8cbca7be5370ae6703929250428c852ac7ba6c66f1ce071daecadb8a5f9' +
    'c9d21c0825', 'hex')
  const secrets = { k: new Uint8Array(32).fill(0x42) }
  const counting = (start: number) => (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => start + i)
  const draws = [counting(0x00), counting(0x10)] // salt, then nonce
  const random = (n: number): Uint8Array => draws.shift()!(n)
  const sealed = await sealKeystore(secrets, 'dmess test vector', { kdf: TINY, random })
  t.equal(Buffer.from(sealed).toString('hex'), vector.toString('hex'))
  t.same(await unsealKeystore(new Uint8Array(vector), 'dmess test vector'), secrets)
})
