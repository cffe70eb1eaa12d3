import t from 'tap'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { x25519, ed25519, chacha20poly1305, xchacha, constantTimeEqual, copySecretKey, wipe, X25519SecretHandle } from '../../src/crypto/primitives.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0x9e1d).bytes

t.test('x25519 agreement is symmetric', async t => {
  const a = x25519.generateKeyPair()
  const b = x25519.generateKeyPair()
  t.same(x25519.dh(a.secretKey, b.publicKey), x25519.dh(b.secretKey, a.publicKey))
  t.same(x25519.publicFromSecret(a.secretKey), a.publicKey)
})

t.test('x25519 ephemeralDh: the peer computes the same secret from the ephemeral public key', async t => {
  const peer = x25519.generateKeyPair()
  const e = x25519.ephemeralDh(peer.publicKey)
  t.same(x25519.dh(peer.secretKey, e.publicKey), e.shared)
  t.notSame(x25519.ephemeralDh(peer.publicKey).publicKey, e.publicKey, 'a fresh key pair each time')
  t.throws(() => x25519.ephemeralDh(new Uint8Array(32)), { code: 'CRYPTO' }, 'a low-order peer key is refused, as by dh()')
})

t.test('x25519 generateEphemeral: its secret stays in OpenSSL, agrees like a byte secret, and is gone once wiped', async t => {
  const peer = x25519.generateKeyPair()
  const e = x25519.generateEphemeral()
  t.ok(e.secretKey instanceof X25519SecretHandle, 'the secret is a handle, not bytes')
  t.notOk(Object.values(e.secretKey).some(v => v instanceof Uint8Array), 'no secret bytes on it')
  const shared = x25519.dh(e.secretKey, peer.publicKey)
  t.same(x25519.dh(peer.secretKey, e.publicKey), shared, 'the peer computes the same secret')
  t.same(x25519.dh(e.secretKey, peer.publicKey), shared, 'usable for several DHs (Noise XX uses an ephemeral twice)')
  t.throws(() => x25519.dh(e.secretKey, new Uint8Array(32)), { code: 'CRYPTO' }, 'a low-order peer key is refused, as with byte secrets')
  t.notSame(x25519.generateEphemeral().publicKey, e.publicKey, 'a fresh key pair each time')
  wipe(e.secretKey)
  t.ok(e.secretKey.wiped)
  t.throws(() => x25519.dh(e.secretKey, peer.publicKey), { code: 'CRYPTO' }, 'a wiped handle refuses: it never falls back to some other key')
})

t.test('ed25519 sign/verify and tamper', async t => {
  const k = ed25519.generateKeyPair()
  const msg = randomBytes(100)
  const sig = ed25519.sign(msg, k.secretKey)
  t.ok(ed25519.verify(sig, msg, k.publicKey))
  msg[0] = (msg[0] ?? 0) ^ 1
  t.notOk(ed25519.verify(sig, msg, k.publicKey))
  t.notOk(ed25519.verify(sig.subarray(1), msg, k.publicKey))
})

t.test('ed25519.verify is right for every key when more keys are seen than its key cache holds', async t => {
  // primitives.ts keeps the 256 most recently used Ed25519 public keys imported
  const msg = randomBytes(64)
  const keys = Array.from({ length: 300 }, () => ed25519.generateKeyPair())
  const sigs = keys.map(k => ed25519.sign(msg, k.secretKey))
  let wrong = 0
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < keys.length; i++) {
      if (!ed25519.verify(sigs[i]!, msg, keys[i]!.publicKey)) wrong++
      if (ed25519.verify(sigs[i]!, msg, keys[(i + 1) % keys.length]!.publicKey)) wrong++
    }
  }
  t.equal(wrong, 0, '1,200 verifications, each with the right answer')
  const k = keys[0]!.publicKey
  const copy = k.slice()
  k[0] = k[0]! ^ 1 // the caller's array changes: the cache is keyed by content, not by array
  t.notOk(ed25519.verify(sigs[0]!, msg, k), 'a changed key no longer verifies')
  t.ok(ed25519.verify(sigs[0]!, msg, copy))
})

t.test('aeads round trip and reject tampering', async t => {
  const key = randomBytes(32)
  for (const [aead, nlen] of [[chacha20poly1305, 12], [xchacha, 24]] as const) {
    const nonce = randomBytes(nlen)
    const ct = aead.seal(key, nonce, new Uint8Array([1, 2, 3]), new Uint8Array([9]))
    t.same(aead.open(key, nonce, ct, new Uint8Array([9])), new Uint8Array([1, 2, 3]))
    t.equal(aead.open(key, nonce, ct, new Uint8Array([8])), null)
    ct[0] = (ct[0] ?? 0) ^ 1
    t.equal(aead.open(key, nonce, ct, new Uint8Array([9])), null)
  }
})

t.test('constantTimeEqual', async t => {
  t.ok(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])))
  t.notOk(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])))
  t.notOk(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1])))
})

t.test('wipe() drops the cached key object: a wiped key no longer computes the old secret', async t => {
  const a = x25519.generateKeyPair()
  const b = x25519.generateKeyPair()
  const before = x25519.dh(a.secretKey, b.publicKey)
  t.same(x25519.dh(a.secretKey, b.publicKey), before, 'cached key gives the same result')
  const { wipe } = await import('../../src/crypto/primitives.js')
  wipe(a.secretKey)
  t.same(a.secretKey, new Uint8Array(32))
  t.notSame(x25519.dh(a.secretKey, b.publicKey), before)
  const s = ed25519.generateKeyPair()
  const sig = ed25519.sign(new Uint8Array([1]), s.secretKey)
  wipe(s.secretKey)
  t.notSame(ed25519.sign(new Uint8Array([1]), s.secretKey), sig)
})

t.test('generated key pairs: each half matches the other, secrets have buffers of their own', async t => {
  for (const curve of [x25519, ed25519]) {
    const k = curve.generateKeyPair()
    t.same(curve.publicFromSecret(k.secretKey), k.publicKey, 'public key derived again from the secret')
    t.equal(k.secretKey.byteLength, 32)
    t.equal(k.secretKey.buffer.byteLength, 32, 'not a view into a shared pool')
  }
})

// Node 20 encodes a JWK while holding the key's lock; a GC in between that finalizes the key's
// generation job, which takes the same lock, hung the process within a few thousand pairs when
// generated keys were exported as JWK (primitives.ts). A child process, because tap's coverage
// instrumentation changes when V8 collects garbage enough to hide it.
t.test('key generation never hangs', async t => {
  // A hang is a loop that stops making progress: the child prints a line every 1,000 steps, and is
  // killed when 60 s pass without one (a loaded machine slows the steps, it does not stop them).
  const fixture = fileURLToPath(new URL('fixtures/keygen-loop.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, '20000'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let last = ''
  let hung = false
  let watchdog = setTimeout(() => {}, 0)
  const arm = (): void => { clearTimeout(watchdog); watchdog = setTimeout(() => { hung = true; child.kill('SIGKILL') }, 60_000) }
  arm()
  createInterface({ input: child.stdout }).on('line', line => { last = line; arm() })
  await new Promise(resolve => child.on('close', resolve))
  clearTimeout(watchdog)
  t.equal(hung ? 'hung: no progress for 60 s' : last.trim(), '20000', '20,000 X25519 pairs, 20,000 ephemeral agreements, 10,000 opaque ephemerals and 2,000 Ed25519 pairs')
})

t.test('copySecretKey: a separate array with the same key, each wiped on its own', async t => {
  const a = x25519.generateKeyPair()
  const b = x25519.generateKeyPair()
  const shared = x25519.dh(a.secretKey, b.publicKey)
  const copy = copySecretKey(a.secretKey)
  t.not(copy, a.secretKey, 'a new array')
  t.same(copy, a.secretKey, 'with the same bytes')
  t.same(x25519.dh(copy, b.publicKey), shared, 'the same DH')
  const second = copySecretKey(copy)
  wipe(copy)
  t.same(copy, new Uint8Array(32), 'a wiped copy is zeroed')
  t.same(x25519.dh(a.secretKey, b.publicKey), shared, 'the original still agrees')
  t.same(x25519.dh(second, b.publicKey), shared, 'as does a copy of the copy')
  wipe(a.secretKey)
  t.same(x25519.dh(second, b.publicKey), shared, 'the last copy outlives the original')
  const fresh = copySecretKey(new Uint8Array(32).fill(7))
  t.same(x25519.publicFromSecret(fresh), x25519.publicFromSecret(new Uint8Array(32).fill(7)), 'a copy of a key never imported is imported when used')
})
