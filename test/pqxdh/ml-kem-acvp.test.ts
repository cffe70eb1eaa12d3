// ML-KEM-768 (src/pqxdh/kem.ts over src/crypto/ml-kem.ts) against NIST ACVP vectors for FIPS 203:
// key generation from (d, z), encapsulation from (ek, m), decapsulation including implicit
// rejection of a modified ciphertext, and the §7.2 encapsulation key check, which our own
// isValidKemPublicKey implements. The vectors are a subset of ACVP-Server's internalProjection
// files (test/vectors/ml-kem/SOURCE.md). Every vector also runs through each implementation of
// src/crypto/ml-kem.ts directly: the TypeScript one and, when the addon is built, the C one
// (native/ml-kem768.c).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mlkem768, isValidKemPublicKey } from '../../src/pqxdh/kem.js'
import { mlKemImplementation, nativeMlKem768, typescriptMlKem768, type MlKem768 } from '../../src/crypto/ml-kem.js'
import { loadNativeChaChaPoly } from '../../src/crypto/native-aead.js'

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../vectors/ml-kem')

interface AcvpTest { tcId: number, [field: string]: unknown }
interface AcvpGroup { tgId: number, parameterSet: string, function?: string, tests: AcvpTest[] }

function groups (file: string): AcvpGroup[] {
  const doc = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { algorithm: string, revision: string, testGroups: AcvpGroup[] }
  if (doc.algorithm !== 'ML-KEM' || doc.revision !== 'FIPS203') throw new Error(`${file}: not ML-KEM FIPS203 vectors`)
  for (const g of doc.testGroups) if (g.parameterSet !== 'ML-KEM-768') throw new Error(`${file}: group ${g.tgId} is ${g.parameterSet}`)
  return doc.testGroups
}

const hex = (v: unknown): Uint8Array => {
  if (typeof v !== 'string' || !/^([0-9A-Fa-f]{2})*$/.test(v)) throw new Error('vector field is not hex')
  return new Uint8Array(Buffer.from(v, 'hex'))
}
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase()

const keyGen = groups('keyGen-ML-KEM-768.json')
const encapDecap = groups('encapDecap-ML-KEM-768.json')
const byFunction = (f: string): AcvpTest[] => encapDecap.filter(g => g.function === f).flatMap(g => g.tests)

t.test('keyGen: (d, z) gives the expected ek and dk', async t => {
  const tests = keyGen.flatMap(g => g.tests)
  t.ok(tests.length >= 3, `${tests.length} cases`)
  for (const v of tests) {
    const seed = new Uint8Array([...hex(v.d), ...hex(v.z)])
    const { publicKey, secretKey } = mlkem768.keygen(seed)
    t.equal(toHex(publicKey), v.ek, `tcId ${v.tcId}: ek`)
    t.equal(toHex(secretKey), v.dk, `tcId ${v.tcId}: dk`)
    t.ok(isValidKemPublicKey(publicKey), `tcId ${v.tcId}: a generated ek passes the §7.2 check`)
  }
})

t.test('encapsulation: (ek, m) gives the expected c and K, and dk recovers K', async t => {
  const tests = byFunction('encapsulation')
  t.ok(tests.length >= 3, `${tests.length} cases`)
  for (const v of tests) {
    const { cipherText, sharedSecret } = mlkem768.encapsulate(hex(v.ek), hex(v.m))
    t.equal(toHex(cipherText), v.c, `tcId ${v.tcId}: c`)
    t.equal(toHex(sharedSecret), v.k, `tcId ${v.tcId}: K`)
    t.equal(toHex(mlkem768.decapsulate(cipherText, hex(v.dk))), v.k, `tcId ${v.tcId}: Decaps(dk, c) = K`)
  }
})

t.test('decapsulation: valid ciphertexts give K, modified ones the implicit-rejection key', async t => {
  const tests = byFunction('decapsulation')
  const reasons = new Set(tests.map(v => v.reason))
  t.ok(reasons.has('valid decapsulation') && reasons.has('modified ciphertext'), 'both kinds are covered')
  for (const v of tests) {
    t.equal(toHex(mlkem768.decapsulate(hex(v.c), hex(v.dk))), v.k, `tcId ${v.tcId}: ${String(v.reason)}`)
  }
})

t.test('encapsulation key check (FIPS 203 §7.2): ours agrees with ACVP, and encapsulate refuses a bad ek', async t => {
  const tests = byFunction('encapsulationKeyCheck')
  t.ok(tests.some(v => v.testPassed === true) && tests.some(v => v.testPassed === false), 'valid and invalid keys are covered')
  for (const v of tests) {
    t.equal(isValidKemPublicKey(hex(v.ek)), v.testPassed, `tcId ${v.tcId}: ${String(v.reason)}`)
    if (v.testPassed === false) {
      t.throws(() => mlkem768.encapsulate(hex(v.ek), new Uint8Array(32)), { code: 'CRYPTO' }, `tcId ${v.tcId}: encapsulate refuses it`)
    }
  }
  t.notOk(isValidKemPublicKey(new Uint8Array(1183)), 'a short key')
})

t.test('wrong input sizes are local misuse (CRYPTO), not a crash inside noble', async t => {
  const isCrypto = { name: 'DmessError', code: 'CRYPTO' }
  t.throws(() => mlkem768.keygen(new Uint8Array(63)), isCrypto)
  const { publicKey, secretKey } = mlkem768.keygen(new Uint8Array(64))
  t.throws(() => mlkem768.encapsulate(publicKey, new Uint8Array(31)), isCrypto)
  t.throws(() => mlkem768.decapsulate(new Uint8Array(1087), secretKey), isCrypto)
  t.throws(() => mlkem768.decapsulate(new Uint8Array(1088), secretKey.subarray(1)), isCrypto)
})

const native = loadNativeChaChaPoly({}) // whatever DMESS_NATIVE says
const implementations: MlKem768[] = [typescriptMlKem768, ...(native.ok ? [nativeMlKem768(native.addon)] : [])]
if (!native.ok) {
  if (process.env.CI === 'true') t.fail(`CI must build the native ML-KEM: ${native.reason}`)
  else t.comment(`the native ML-KEM is not tested here: ${native.reason}`)
}

t.test('the module above ran on this process\'s implementation', async t => {
  t.equal(mlKemImplementation().name, process.env.DMESS_NATIVE === 'off' || !native.ok ? 'typescript' : 'native-addon')
})

for (const kem of implementations) {
  t.test(`${kem.name}: every keyGen, encapsulation and decapsulation vector, and the §7.2 refusals`, async t => {
    for (const v of keyGen.flatMap(g => g.tests)) {
      const { publicKey, secretKey } = kem.keygen(new Uint8Array([...hex(v.d), ...hex(v.z)]))
      t.equal(toHex(publicKey), v.ek, `keyGen tcId ${v.tcId}: ek`)
      t.equal(toHex(secretKey), v.dk, `keyGen tcId ${v.tcId}: dk`)
    }
    for (const v of byFunction('encapsulation')) {
      const { cipherText, sharedSecret } = kem.encapsulate(hex(v.ek), hex(v.m))
      t.equal(toHex(cipherText), v.c, `encapsulation tcId ${v.tcId}: c`)
      t.equal(toHex(sharedSecret), v.k, `encapsulation tcId ${v.tcId}: K`)
      t.equal(toHex(kem.decapsulate(cipherText, hex(v.dk))), v.k, `encapsulation tcId ${v.tcId}: Decaps(dk, c) = K`)
    }
    for (const v of byFunction('decapsulation')) {
      t.equal(toHex(kem.decapsulate(hex(v.c), hex(v.dk))), v.k, `decapsulation tcId ${v.tcId}: ${String(v.reason)}`)
    }
    for (const v of byFunction('encapsulationKeyCheck').filter(v => v.testPassed === false)) {
      // these keys are also of the wrong size (1,600 bytes): test/crypto/ml-kem-native.test.ts
      // sends well-sized keys with a coefficient ≥ q through both implementations
      t.throws(() => kem.encapsulate(hex(v.ek), new Uint8Array(32)), /ML-KEM-768 encapsulation key: expected 1184 bytes/, `encapsulationKeyCheck tcId ${v.tcId}: refused`)
    }
  })
}
