// An independent implementation checks ours: test/pqxdh/fixtures/pqxdh_reference.py, written from
// proto-spec/pqxdh.md and Signal's PQXDH with pyca/cryptography, recomputes the public keys, the
// signed prekey messages and their Ed25519 signatures, DH1–DH3, SK and AD, and parses the bundle and
// initial message by the spec's layouts — first for the vectors of pqxdh.md §10, then for a seeded
// random run of our code. The ML-KEM shared secret is taken from the transcript (no ML-KEM in
// Python here; the ACVP vectors cover it). Skips without python3 + cryptography, except under CI=true.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { identityFromSecrets, IDENTITY_SECRET_NAMES } from '../../src/crypto/identity.js'
import { createPrekeySet, bundleOf, initiate, respond, mlkem768 } from '../../src/pqxdh/index.js'
import { specVectors, toHex } from '../helpers/spec-vectors.js'
import { testRng } from '../helpers/seed.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const SCRIPT = join(HERE, 'fixtures/pqxdh_reference.py')
const SPEC = join(HERE, '../../proto-spec/pqxdh.md')
const PYTHON = 'python3'

function unavailable (): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import cryptography.hazmat.primitives.asymmetric.x25519, cryptography.hazmat.primitives.kdf.hkdf'], { encoding: 'utf8' })
  if (r.error !== undefined) return `${PYTHON} is not installed (${r.error.message})`
  if (r.status !== 0) return `python3-cryptography is missing: ${r.stderr.trim().split('\n').pop() ?? ''}`
  return null
}

function reference (doc: string): Record<string, unknown> & { checks: Record<string, boolean> } {
  const r = spawnSync(PYTHON, [SCRIPT, doc], { encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0) throw new Error(`pqxdh_reference.py failed (${String(r.status)}): ${r.stderr}`)
  return JSON.parse(r.stdout) as Record<string, unknown> & { checks: Record<string, boolean> }
}

const why = unavailable()
if (why !== null) {
  if (process.env.CI === 'true') t.fail(`CI must run the Python cross-check: ${why}`)
  else t.plan(0, `skipped: ${why}`)
} else {
  t.test('the vectors of pqxdh.md §10, recomputed in Python', async t => {
    const v = specVectors('pqxdh.md')
    const py = reference(SPEC)
    for (const [k, ok] of Object.entries(py.checks)) t.ok(ok, `python: ${k}`)
    for (const k of ['spkPublic', 'ekPublic', 'pqspkPublicSha256', 'spkSignedMessage', 'pqspkSignedMessageSha256', 'dh1', 'dh2', 'dh3', 'kemCiphertextSha256', 'sk', 'ad']) {
      t.equal(py[k], v.get(k), k)
    }
    t.equal(py.bobSk, v.get('sk'), "Bob's side, from his secrets and the parsed initial message")
  })

  t.test('a seeded random run of our code, recomputed in Python', async t => {
    const rng = testRng(t, 0x70c4e5, 'identities, prekeys, EK_A, ML-KEM randomness')
    const secrets = {
      'alice.signSecret': rng.bytes(32), 'alice.dhSecret': rng.bytes(32), 'bob.signSecret': rng.bytes(32), 'bob.dhSecret': rng.bytes(32),
      spkSecret: rng.bytes(32), kemSeed: rng.bytes(64), ekSecret: rng.bytes(32), kemRandom: rng.bytes(32)
    }
    const id = (who: string) => identityFromSecrets({
      [IDENTITY_SECRET_NAMES.sign]: secrets[`${who}.signSecret` as keyof typeof secrets],
      [IDENTITY_SECRET_NAMES.dh]: secrets[`${who}.dhSecret` as keyof typeof secrets]
    })
    const alice = id('alice')
    const bob = id('bob')
    const prekeyId = 1 + rng.int(0xfffffff)
    const createdS = 1_900_000_000 + rng.int(10_000_000)
    const queue = [secrets.spkSecret, secrets.kemSeed]
    const set = createPrekeySet(bob, prekeyId, createdS, () => queue.shift()!.slice())
    const ring = { nextId: prekeyId + 1, sets: [set] }
    const bundle = bundleOf(ring, bob)
    const draws = [secrets.ekSecret, secrets.kemRandom]
    const i = initiate(alice, bundle, bob.fingerprint, createdS * 1000, () => draws.shift()!.slice()) // copies: initiate wipes what it draws
    if (!i.ok) throw i.error
    const r = respond(bob, ring, i.value.initialMessage)
    if (!r.ok) throw r.error
    const ss = mlkem768.encapsulate(set.pqspk.publicKey, secrets.kemRandom).sharedSecret
    const lines = [
      ...Object.entries(secrets).map(([k, b]) => `${k}: ${toHex(b)}`),
      `prekeyId: ${prekeyId}`, `createdS: ${createdS}`, `ss: ${toHex(ss)}`,
      `spkSignature: ${toHex(set.spkSignature)}`, `pqspkSignature: ${toHex(set.pqspkSignature)}`,
      `bundle: ${toHex(bundle)}`, `initialMessage: ${toHex(i.value.initialMessage)}`
    ]
    const dir = mkdtempSync(join(tmpdir(), 'dmess-pqxdh-py-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const doc = join(dir, 'run.md')
    writeFileSync(doc, `<!-- vectors:begin -->\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n<!-- vectors:end -->\n`)
    const py = reference(doc)
    for (const [k, ok] of Object.entries(py.checks)) t.ok(ok, `python: ${k}`)
    t.equal(py.sk, toHex(i.value.sk), "Alice's SK")
    t.equal(py.bobSk, toHex(r.value.sk), "Bob's SK")
    t.equal(py.ad, toHex(i.value.ad), 'AD')
    t.equal(py.spkPublic, toHex(set.spk.publicKey))
  })
}
