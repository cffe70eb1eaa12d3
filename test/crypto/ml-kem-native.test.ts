// ML-KEM-768 in C (native/ml-kem768.c, crypto-policy.md §7) against the TypeScript
// implementation (src/crypto/ml-kem.ts) on seeded random inputs: the same keys, ciphertexts and
// shared secrets byte for byte, implicit rejection of modified and random ciphertexts, the §7.2
// modulus check and the §7.3 hash check failing alike with the same errors, decapsulation keys
// whose parts are out of range, the C's own argument checks, and outputs that overlap inputs.
// NIST's ACVP vectors run through both in test/pqxdh/ml-kem-acvp.test.ts. In CI the addon must
// be built.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mlKem768, mlKemImplementation, nativeMlKem768, typescriptMlKem768, MLKEM768, type MlKem768 } from '../../src/crypto/ml-kem.js'
import { loadNativeChaChaPoly, type NativeMlKem768 } from '../../src/crypto/native-aead.js'
import { testRng } from '../helpers/seed.js'

const Q = 3329
const T_HAT_BYTES = 1152 // ByteEncode12(t̂) in ek, and ByteEncode12(ŝ) at the start of dk
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

// loaded whatever DMESS_NATIVE says, so the comparison also runs beside a process kept on TypeScript
const load = loadNativeChaChaPoly({})
if (!load.ok) {
  if (process.env.CI === 'true') t.fail(`CI must build the native ML-KEM (npm ci runs scripts/build-native.mjs): ${load.reason}`)
  else t.comment(`skipping the native ML-KEM tests: ${load.reason}`)
  t.end()
} else {
  run(load.addon)
}

/** Sets the 12-bit coefficient `i` of a ByteEncode12 string to `v` (little-endian bits, FIPS 203 Algorithm 5). */
function setCoefficient (b: Uint8Array, i: number, v: number): void {
  const at = (i >> 1) * 3
  if (i % 2 === 0) {
    b[at] = v & 0xff
    b[at + 1] = (b[at + 1]! & 0xf0) | (v >> 8)
  } else {
    b[at + 1] = (b[at + 1]! & 0x0f) | ((v & 0x0f) << 4)
    b[at + 2] = v >> 4
  }
}

/** The error message `f` throws, or 'no error'. */
function thrown (f: () => unknown): string {
  try {
    f()
    return 'no error'
  } catch (err) {
    return (err as Error).message
  }
}

function run (addon: NativeMlKem768): void {
  const c = nativeMlKem768(addon)
  const ts = typescriptMlKem768
  const rng = testRng(t, 0x0203)

  t.test('this process uses the addon unless DMESS_NATIVE=off', async t => {
    const expect = process.env.DMESS_NATIVE === 'off' ? 'typescript' : 'native-addon'
    t.equal(mlKemImplementation().name, expect)
    t.equal(mlKem768.name, expect)
  })

  t.test('300 random seeds and messages: the same keys, ciphertexts and secrets; the same implicit rejection', async t => {
    const wrong: string[] = []
    const same = (what: string, a: Uint8Array, b: Uint8Array): void => { if (hex(a) !== hex(b)) wrong.push(what) }
    for (let i = 0; i < 300 && wrong.length < 5; i++) {
      const seed = rng.bytes(64)
      const m = rng.bytes(32)
      const kc = c.keygen(seed)
      const kt = ts.keygen(seed)
      same(`case ${i}: ek`, kc.publicKey, kt.publicKey)
      same(`case ${i}: dk`, kc.secretKey, kt.secretKey)
      const ec = c.encapsulate(kc.publicKey, m)
      const et = ts.encapsulate(kt.publicKey, m)
      same(`case ${i}: c`, ec.cipherText, et.cipherText)
      same(`case ${i}: K`, ec.sharedSecret, et.sharedSecret)
      same(`case ${i}: Decaps(dk, c) = K`, c.decapsulate(ec.cipherText, kc.secretKey), ec.sharedSecret)
      // one flipped bit, or a whole random ciphertext: J(z ‖ c), the same from both, never K
      const bad = i % 5 === 0 ? rng.bytes(MLKEM768.cipherText) : ec.cipherText.slice()
      if (i % 5 !== 0) bad[rng.int(bad.length)]! ^= 1 << rng.int(8)
      const rc = c.decapsulate(bad, kc.secretKey)
      same(`case ${i}: implicit rejection`, rc, ts.decapsulate(bad, kt.secretKey))
      if (hex(rc) === hex(ec.sharedSecret)) wrong.push(`case ${i}: a modified c gave K`)
    }
    t.same(wrong, [])
  })

  t.test('§7.2: an ek with one coefficient of t̂ at q or above is refused by both, with the same error; q − 1 passes', async t => {
    const { publicKey } = c.keygen(rng.bytes(64))
    const m = rng.bytes(32)
    for (let n = 0; n < 40; n++) {
      const ek = publicKey.slice()
      const i = n === 0 ? 0 : n === 1 ? 767 : rng.int(768) // the first and the last coefficient too
      setCoefficient(ek, i, n % 3 === 0 ? Q : Q + rng.int(4096 - Q))
      const said = thrown(() => c.encapsulate(ek, m))
      t.match(said, /fails the modulus check/, `coefficient ${i}`)
      t.equal(said, thrown(() => ts.encapsulate(ek, m)), `coefficient ${i}: the same error`)
    }
    const edge = publicKey.slice()
    setCoefficient(edge, rng.int(768), Q - 1)
    t.same(c.encapsulate(edge, m), ts.encapsulate(edge, m), 'q − 1 is in range: both encapsulate, alike')
    const out = { ct: new Uint8Array(MLKEM768.cipherText), ss: new Uint8Array(32) }
    const high = publicKey.slice()
    setCoefficient(high, 5, 4095)
    t.equal(addon.mlkem768Encapsulate(high, m, out.ct, out.ss), false, 'the addon says false')
    t.ok(out.ct.every(b => b === 0) && out.ss.every(b => b === 0), 'and writes nothing')
  })

  t.test('§7.3: a dk whose ek or H(ek) was changed is refused by both, with the same error; dk_PKE and z are not covered', async t => {
    const { publicKey, secretKey } = c.keygen(rng.bytes(64))
    const ct = c.encapsulate(publicKey, rng.bytes(32)).cipherText
    for (let n = 0; n < 30; n++) {
      const dk = secretKey.slice()
      const at = T_HAT_BYTES + rng.int(MLKEM768.publicKey + 32) // inside ek ‖ H(ek)
      dk[at]! ^= 1 << rng.int(8)
      const said = thrown(() => c.decapsulate(ct, dk))
      t.match(said, /fails its hash check/, `byte ${at}`)
      t.equal(said, thrown(() => ts.decapsulate(ct, dk)), `byte ${at}: the same error`)
      const ss = new Uint8Array(32)
      t.equal(addon.mlkem768Decapsulate(ct, dk, ss), false, `byte ${at}: the addon says false`)
      t.ok(ss.every(b => b === 0), `byte ${at}: and writes nothing`)
    }
    for (const at of [0, 700, T_HAT_BYTES - 1, MLKEM768.secretKey - 32, MLKEM768.secretKey - 1]) {
      const dk = secretKey.slice()
      dk[at]! ^= 0x5a
      t.equal(hex(c.decapsulate(ct, dk)), hex(ts.decapsulate(ct, dk)), `byte ${at} (outside the hash): both decapsulate, alike`)
    }
  })

  t.test('out-of-range values inside a dk are taken mod q alike (ByteDecode12)', async t => {
    const { publicKey, secretKey } = c.keygen(rng.bytes(64))
    const ct = c.encapsulate(publicKey, rng.bytes(32)).cipherText
    for (let n = 0; n < 10; n++) {
      // ŝ with coefficients ≥ q: not covered by the hash check, so decapsulation runs on them
      const dk = secretKey.slice()
      for (let k = 0; k < 20; k++) setCoefficient(dk, rng.int(768), Q + rng.int(4096 - Q))
      t.equal(hex(c.decapsulate(ct, dk)), hex(ts.decapsulate(ct, dk)), `case ${n}: ŝ out of range`)
      // the copy of ek with a coefficient ≥ q and H(ek) made to match: the re-encryption decodes it mod q
      const ek = publicKey.slice()
      setCoefficient(ek, rng.int(768), Q + rng.int(4096 - Q))
      const withEk = secretKey.slice()
      withEk.set(ek, T_HAT_BYTES)
      withEk.set(createHash('sha3-256').update(ek).digest(), T_HAT_BYTES + MLKEM768.publicKey)
      t.equal(hex(c.decapsulate(ct, withEk)), hex(ts.decapsulate(ct, withEk)), `case ${n}: ek in dk out of range`)
    }
  })

  t.test('wrong sizes throw the same errors from both', async t => {
    const { publicKey, secretKey } = c.keygen(rng.bytes(64))
    const ct = c.encapsulate(publicKey, rng.bytes(32)).cipherText
    const calls: Array<[string, (k: MlKem768) => unknown]> = [
      ['seed of 63', k => k.keygen(rng.bytes(63))],
      ['seed of 65', k => k.keygen(rng.bytes(65))],
      ['ek of 1183', k => k.encapsulate(publicKey.subarray(1), rng.bytes(32))],
      ['m of 31', k => k.encapsulate(publicKey, rng.bytes(31))],
      ['c of 1087', k => k.decapsulate(ct.subarray(1), secretKey)],
      ['dk of 2399', k => k.decapsulate(ct, secretKey.subarray(1))]
    ]
    for (const [what, call] of calls) {
      const said = thrown(() => call(c))
      t.match(said, /expected \d+ bytes/, what)
      t.equal(said, thrown(() => call(ts)), `${what}: the same error`)
    }
  })

  t.test('the C checks every argument itself: a wrong type or size throws before a byte is read or written', async t => {
    const seed = rng.bytes(64)
    const ek = new Uint8Array(MLKEM768.publicKey)
    const dk = new Uint8Array(MLKEM768.secretKey)
    const call = addon as unknown as Record<string, (...a: unknown[]) => unknown>
    t.throws(() => call.mlkem768Keygen!(seed, ek), TypeError, 'a missing argument')
    t.throws(() => call.mlkem768Keygen!('seed', ek, dk), TypeError, 'a string')
    t.throws(() => call.mlkem768Keygen!(new Uint16Array(32), ek, dk), TypeError, 'another typed array')
    t.throws(() => call.mlkem768Keygen!(seed, ek, dk, dk), TypeError, 'an extra argument')
    t.throws(() => call.mlkem768Keygen!(seed, ek.subarray(1), dk), RangeError, 'a short output')
    t.ok(ek.every(b => b === 0) && dk.every(b => b === 0), 'nothing was written')
    addon.mlkem768Keygen(seed, ek, dk)
    t.throws(() => call.mlkem768Encapsulate!(ek, rng.bytes(32), new Uint8Array(1088), new Uint8Array(33)), RangeError, 'a long ss')
    t.throws(() => call.mlkem768Encapsulate!(ek, rng.bytes(32), new Uint8Array(1088)), TypeError, 'no ss')
    t.throws(() => call.mlkem768Decapsulate!(new Uint8Array(1088), dk.subarray(0, 2399), new Uint8Array(32)), RangeError, 'a short dk')
    t.throws(() => call.mlkem768Decapsulate!(new Uint8Array(1088), dk, null), TypeError, 'null for ss')
  })

  t.test('outputs that overlap the inputs give what separate outputs give', async t => {
    const seed = rng.bytes(64)
    const m = rng.bytes(32)
    const ref = c.keygen(seed)
    const enc = c.encapsulate(ref.publicKey, m)
    // keygen: ek written over the seed
    const buf = new Uint8Array(MLKEM768.publicKey)
    buf.set(seed)
    const dk = new Uint8Array(MLKEM768.secretKey)
    addon.mlkem768Keygen(buf.subarray(0, 64), buf, dk)
    t.equal(hex(buf), hex(ref.publicKey), 'keygen: ek over the seed')
    t.equal(hex(dk), hex(ref.secretKey), 'keygen: dk')
    // encapsulate: the ciphertext over ek's first bytes, the secret over m
    const ek = ref.publicKey.slice()
    const mm = m.slice()
    const ct = ek.subarray(0, MLKEM768.cipherText)
    t.equal(addon.mlkem768Encapsulate(ek, mm, ct, mm), true)
    t.equal(hex(ct), hex(enc.cipherText), 'encapsulate: c over ek')
    t.equal(hex(mm), hex(enc.sharedSecret), 'encapsulate: K over m')
    // decapsulate: the secret over the ciphertext's first bytes
    const c2 = enc.cipherText.slice()
    addon.mlkem768Decapsulate(c2, ref.secretKey, c2.subarray(0, 32))
    t.equal(hex(c2.subarray(0, 32)), hex(enc.sharedSecret), 'decapsulate: K over c')
  })
}
