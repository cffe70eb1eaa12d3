// Project Wycheproof vectors (C2SP/wycheproof testvectors_v1, Apache-2.0, see test/vectors/wycheproof/SOURCE.md)
// run through our primitives.ts wrappers. "valid" must succeed, "invalid" must fail, and "acceptable"
// cases must do exactly what proto-spec/crypto-policy.md says, decided per flag in the tables below.
import t, { type Test } from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  x25519, ed25519, chacha20poly1305, xchacha, hkdfSha256, CHACHA_NONCE_BYTES, XCHACHA_NONCE_BYTES,
  chacha20poly1305With, chachaPolyImplementation, nodeCryptoChaChaPoly
} from '../../src/crypto/primitives.js'
import { isDmessError } from '../../src/errors.js'

const here = dirname(fileURLToPath(import.meta.url))
const VECTORS = join(here, '../vectors/wycheproof')
const FILES = ['x25519_test.json', 'ed25519_test.json', 'chacha20_poly1305_test.json',
  'xchacha20_poly1305_test.json', 'hkdf_sha256_test.json']

type Result = 'valid' | 'invalid' | 'acceptable'
type Outcome = 'accept' | 'reject'
interface Case { tcId: number, comment: string, flags: string[], result: Result, [field: string]: unknown }
interface Group { tests: Case[], [field: string]: unknown }
interface VectorFile { algorithm: string, numberOfTests: number, testGroups: Group[] }

/**
 * What we do with an "acceptable" case, per flag (crypto-policy.md). A case is rejected when any of
 * its flags says reject; a flag missing from the table fails the test, so new vectors force a decision.
 */
type AcceptablePolicy = Record<string, Outcome>

// crypto-policy.md §1.1: compute every X25519 product RFC 7748 §5 defines (twist points,
// non-canonical u), but refuse an all-zero shared secret (RFC 7748 §6.1).
const X25519_POLICY: AcceptablePolicy = {
  ZeroSharedSecret: 'reject',
  LowOrderPublic: 'reject',
  SmallPublicKey: 'accept',
  SpecialPublicKey: 'accept',
  NonCanonicalPublic: 'accept',
  Twist: 'accept',
  EdgeCaseMultiplication: 'accept',
  EdgeCaseShared: 'accept',
  Ktv: 'accept'
}
// crypto-policy.md §2–§4: these files have no "acceptable" cases; any that appear must be decided first.
const NO_ACCEPTABLE: AcceptablePolicy = {}

const hex = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function load (file: string): VectorFile {
  return JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as VectorFile
}

function expected (tc: Case, policy: AcceptablePolicy): Outcome | string {
  if (tc.result === 'valid') return 'accept'
  if (tc.result === 'invalid') return 'reject'
  const unknown = tc.flags.filter(f => policy[f] === undefined)
  if (unknown.length > 0) return `no policy for acceptable flag(s) ${unknown.join(',')}`
  return tc.flags.some(f => policy[f] === 'reject') ? 'reject' : 'accept'
}

/** Throws → 'reject'; a result we can check → compare; anything else is a mismatch message. */
function attempt (fn: () => Outcome | string): Outcome | string {
  try {
    return fn()
  } catch (err) {
    return isDmessError(err) && err.code === 'CRYPTO' ? 'reject' : `threw untyped ${String(err)}`
  }
}

interface Tally { valid: number, invalid: number, acceptable: number, accepted: number, rejected: number }

function runFile (t: Test, file: string, policy: AcceptablePolicy,
  run: (tc: Case, g: Group) => Outcome | string): void {
  const v = load(file)
  const tally: Tally = { valid: 0, invalid: 0, acceptable: 0, accepted: 0, rejected: 0 }
  const mismatches: string[] = []
  let total = 0
  for (const g of v.testGroups) {
    for (const tc of g.tests) {
      total++
      tally[tc.result]++
      const want = expected(tc, policy)
      const got = run(tc, g)
      if (got === 'accept') tally.accepted++
      if (got === 'reject') tally.rejected++
      if (got !== want) mismatches.push(`tc ${tc.tcId} [${tc.flags.join(',')}] ${tc.result}: want ${want}, got ${got}`)
    }
  }
  t.equal(total, v.numberOfTests, `${file}: ran all ${v.numberOfTests} cases`)
  t.same(mismatches, [], `${file}: every case behaves as crypto-policy.md says`)
  t.comment(`${file}: ${total} cases (${tally.valid} valid, ${tally.invalid} invalid, ` +
    `${tally.acceptable} acceptable) -> ${tally.accepted} accepted, ${tally.rejected} rejected`)
}

t.test('every vector file and its SOURCE.md are in the repository', async t => {
  for (const f of [...FILES, 'SOURCE.md']) t.ok(existsSync(join(VECTORS, f)), `test/vectors/wycheproof/${f}`)
})

t.test('x25519 (RFC 7748) through x25519.dh', async t => {
  runFile(t, 'x25519_test.json', X25519_POLICY, tc => attempt(() => {
    const shared = x25519.dh(hex(tc.private), hex(tc.public))
    if (/^0+$/.test(String(tc.shared))) throw new Error('returned an all-zero shared secret')
    return toHex(shared) === tc.shared ? 'accept' : `wrong shared secret ${toHex(shared)}`
  }))
})

t.test('x25519.isValidPublicKey refuses exactly the low-order and non-canonical keys', async t => {
  // crypto-policy.md §1.2: identity keys are held to a stricter rule than dh() inputs.
  const wrong: string[] = []
  let refused = 0
  for (const g of load('x25519_test.json').testGroups) {
    for (const tc of g.tests) {
      const weak = tc.flags.includes('LowOrderPublic') || tc.flags.includes('NonCanonicalPublic')
      const ok = x25519.isValidPublicKey(hex(tc.public))
      if (!ok) refused++
      if (ok === weak) wrong.push(`tc ${tc.tcId} [${tc.flags.join(',')}] ${String(tc.public)}: ${ok}`)
    }
  }
  t.same(wrong, [], 'accepted iff neither LowOrderPublic nor NonCanonicalPublic')
  t.comment(`x25519_test.json: isValidPublicKey refused ${refused} public keys`)
})

t.test('ed25519 (RFC 8032) through ed25519.verify', async t => {
  runFile(t, 'ed25519_test.json', NO_ACCEPTABLE, (tc, g) => {
    const pk = hex((g.publicKey as { pk: string }).pk)
    return ed25519.verify(hex(tc.sig), hex(tc.msg), pk) ? 'accept' : 'reject'
  })
  const keys = new Set(load('ed25519_test.json').testGroups.map(g => (g.publicKey as { pk: string }).pk))
  const weak = [...keys].filter(pk => !ed25519.isValidPublicKey(hex(pk)))
  t.same(weak, [], `all ${keys.size} Wycheproof public keys pass ed25519.isValidPublicKey`)
})

type Aead = Pick<typeof chacha20poly1305, 'seal' | 'open'> & Partial<Pick<typeof chacha20poly1305, 'sealInto'>>
function aeadCase (aead: Aead, nonceBytes: number, tc: Case): Outcome | string {
  const [key, iv, aad, msg] = [hex(tc.key), hex(tc.iv), hex(tc.aad), hex(tc.msg)]
  const sealed = new Uint8Array([...hex(tc.ct), ...hex(tc.tag)])
  if (iv.length !== nonceBytes) {
    // crypto-policy.md §3: a nonce of any other size is local misuse; both directions refuse it.
    const seal = attempt(() => { aead.seal(key, iv, msg, aad); return 'accept' })
    const open = attempt(() => { aead.open(key, iv, sealed, aad); return 'accept' })
    return seal === 'reject' && open === 'reject' ? 'reject' : `nonce of ${iv.length} bytes: seal ${seal}, open ${open}`
  }
  const opened = aead.open(key, iv, sealed, aad)
  if (opened === null) return 'reject'
  if (toHex(opened) !== toHex(msg)) return 'opened to the wrong plaintext'
  const resealed = aead.seal(key, iv, msg, aad)
  if (aead.sealInto !== undefined) {
    const into = new Uint8Array(sealed.length)
    aead.sealInto(key, iv, msg, aad, into)
    if (toHex(into) !== toHex(sealed)) return 'sealInto produced a different ciphertext'
  }
  return toHex(resealed) === toHex(sealed) ? 'accept' : 'seal produced a different ciphertext'
}

t.test(`chacha20-poly1305 (RFC 8439) through chacha20poly1305.seal/open (${chachaPolyImplementation().name})`, async t => {
  runFile(t, 'chacha20_poly1305_test.json', NO_ACCEPTABLE, tc => aeadCase(chacha20poly1305, CHACHA_NONCE_BYTES, tc))
})

t.test('chacha20-poly1305 through node:crypto, the fallback when the native addon is not built', async t => {
  const viaNode = chacha20poly1305With(nodeCryptoChaChaPoly)
  runFile(t, 'chacha20_poly1305_test.json', NO_ACCEPTABLE, tc => aeadCase(viaNode, CHACHA_NONCE_BYTES, tc))
})

t.test('xchacha20-poly1305 through xchacha.seal/open', async t => {
  runFile(t, 'xchacha20_poly1305_test.json', NO_ACCEPTABLE, tc => aeadCase(xchacha, XCHACHA_NONCE_BYTES, tc))
})

t.test('hkdf-sha256 (RFC 5869) through hkdfSha256', async t => {
  runFile(t, 'hkdf_sha256_test.json', NO_ACCEPTABLE, tc => attempt(() => {
    const okm = hkdfSha256(hex(tc.ikm), hex(tc.salt), hex(tc.info), Number(tc.size))
    return toHex(okm) === tc.okm ? 'accept' : 'wrong output keying material'
  }))
})
