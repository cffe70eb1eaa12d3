// The native ChaCha20-Poly1305 (native/chacha20poly1305.c, crypto-policy.md §3.1) against
// node:crypto: the same bytes for the RFC 8439 vector and thousands of random inputs, rejection
// of every tampered byte with nothing of the plaintext left behind, arguments checked in C (a
// wrong call throws; it never reads or writes out of bounds), the loader's reasons for falling
// back, and a session between a process on each implementation. In CI the addon must be built.
import t from 'tap'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createHmac } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  chachaPolyImplementation, chacha20poly1305, chacha20poly1305With, hmacSha256, nativeChaChaPoly, nodeCryptoChaChaPoly,
  type ChaChaPolyImplementation
} from '../../src/crypto/primitives.js'
import { checkedAddon, loadNativeChaChaPoly, nativeAddonPath, type NativeChaChaPoly } from '../../src/crypto/native-aead.js'
import { Endpoint } from '../../src/transport/index.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { spawnReliablePeer } from '../../scripts/bench/peers/reliable-child.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0xaead).bytes

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

const load = loadNativeChaChaPoly({})
if (!load.ok) {
  if (process.env.CI === 'true') {
    t.fail(`CI must build the native AEAD (npm ci runs scripts/build-native.mjs): ${load.reason}`)
  } else {
    t.comment(`skipping the native AEAD tests: ${load.reason}`)
  }
  t.end()
} else {
  run(load.addon)
}

function run (addon: NativeChaChaPoly): void {
  const native = nativeChaChaPoly(addon)
  const both: ChaChaPolyImplementation[] = [native, nodeCryptoChaChaPoly]

  t.test('this process uses the addon unless DMESS_NATIVE=off', async t => {
    const expect = process.env.DMESS_NATIVE === 'off' ? 'node:crypto' : 'openssl-addon'
    t.equal(chachaPolyImplementation().name, expect)
  })

  t.test('RFC 8439 §2.8.2: both implementations give the published ciphertext and tag', async t => {
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
    const nonce = hex('070000004041424344454647')
    const aad = hex('50515253c0c1c2c3c4c5c6c7')
    const pt = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
    const ct = hex(`d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116`)
    const tag = hex('1ae10b594f09e26a7e902ecbd0600691')
    for (const impl of both) {
      const aead = chacha20poly1305With(impl)
      t.equal(toHex(aead.seal(key, nonce, pt, aad)), toHex(ct) + toHex(tag), `${impl.name} seals to the vector`)
      t.same(aead.open(key, nonce, new Uint8Array([...ct, ...tag]), aad), pt, `${impl.name} opens the vector`)
    }
  })

  t.test('3,000 random inputs: identical output, and each opens what the other sealed', async t => {
    const rng = testRng(t, 8439, '3,000 random AEAD inputs')
    const [a, b] = both.map(chacha20poly1305With) as [ReturnType<typeof chacha20poly1305With>, ReturnType<typeof chacha20poly1305With>]
    const wrong: string[] = []
    for (let i = 0; i < 3000 && wrong.length < 5; i++) {
      const key = rng.bytes(32)
      const nonce = rng.bytes(12)
      const aad = rng.int(4) === 0 ? undefined : rng.bytes(rng.int(80))
      const pt = rng.bytes(i % 7 === 0 ? rng.int(70_000) : rng.int(1500))
      const x = a.seal(key, nonce, pt, aad)
      const y = b.seal(key, nonce, pt, aad)
      if (toHex(x) !== toHex(y)) wrong.push(`case ${i}: ${pt.length} bytes sealed differently`)
      const ax = a.open(key, nonce, y, aad)
      const by = b.open(key, nonce, x, aad)
      if (ax === null || by === null || toHex(ax) !== toHex(pt) || toHex(by) !== toHex(pt)) wrong.push(`case ${i}: ${pt.length} bytes did not open across`)
    }
    t.same(wrong, [])
  })

  t.test('every tampered byte, a wrong key, nonce or AAD is refused, and the output is zeroed', async t => {
    const key = randomBytes(32)
    const nonce = randomBytes(12)
    const aad = randomBytes(13)
    const pt = randomBytes(300)
    const sealed = new Uint8Array(pt.length + 16)
    addon.seal(key, nonce, aad, pt, sealed)
    const out = new Uint8Array(pt.length)
    let accepted = 0
    let leftovers = 0
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice()
      bad[i] = bad[i]! ^ (1 << (i % 8))
      out.fill(0xaa)
      if (addon.open(key, nonce, aad, bad, out)) accepted++
      if (out.some(v => v !== 0)) leftovers++
    }
    t.equal(accepted, 0, `none of ${sealed.length} one-bit changes opens`)
    t.equal(leftovers, 0, 'a failed open leaves no plaintext (or anything else) in the output')
    const other = (b: Uint8Array): Uint8Array => { const c = b.slice(); c[0] = c[0]! ^ 1; return c }
    t.notOk(addon.open(other(key), nonce, aad, sealed, out), 'wrong key')
    t.notOk(addon.open(key, other(nonce), aad, sealed, out), 'wrong nonce')
    t.notOk(addon.open(key, nonce, other(aad), sealed, out), 'wrong AAD')
    t.notOk(addon.open(key, nonce, new Uint8Array(0), sealed, out), 'AAD left out')
    t.ok(addon.open(key, nonce, aad, sealed, out), 'the untouched packet still opens')
    t.same(out, pt)
  })

  t.test('views at an offset, in-place sealing and opening, empty plaintext and AAD', async t => {
    const big = randomBytes(200)
    const key = big.subarray(3, 35)
    const nonce = big.subarray(41, 53)
    const pt = randomBytes(64)
    const ref = chacha20poly1305With(nodeCryptoChaChaPoly).seal(key.slice(), nonce.slice(), pt)
    const buf = new Uint8Array(80)
    buf.set(pt)
    addon.seal(key, nonce, new Uint8Array(0), buf.subarray(0, 64), buf)
    t.same(buf, ref, 'sealed in place over its own plaintext, key and nonce read through offsets')
    t.ok(addon.open(key, nonce, new Uint8Array(0), buf, buf.subarray(0, 64)), 'opened in place')
    t.same(buf.subarray(0, 64), pt)
    const empty = new Uint8Array(16)
    addon.seal(key, nonce, new Uint8Array(0), new Uint8Array(0), empty)
    t.equal(toHex(empty), toHex(chacha20poly1305With(nodeCryptoChaChaPoly).seal(key, nonce, new Uint8Array(0))), 'empty message: the tag alone')
    t.ok(addon.open(key, nonce, new Uint8Array(0), empty, new Uint8Array(0)))
  })

  t.test('a wrong call throws a TypeError or RangeError and touches nothing', async t => {
    const k = randomBytes(32)
    const n = randomBytes(12)
    const pt = randomBytes(10)
    const E = new Uint8Array(0)
    const call = (fn: () => unknown): string => {
      try { fn(); return 'returned' } catch (err) { return (err as Error).constructor.name + ':' + String((err as { code?: string }).code) }
    }
    const seal = addon.seal as (...a: unknown[]) => void
    const open = addon.open as (...a: unknown[]) => boolean
    const cases: Array<[string, () => unknown, string]> = [
      ['an undefined AAD (the TypeScript wrapper passes an empty one)', () => seal(k, n, undefined, pt, new Uint8Array(26)), 'TypeError'],
      ['31-byte key', () => seal(k.subarray(1), n, E, pt, new Uint8Array(26)), 'RangeError'],
      ['13-byte nonce', () => seal(k, randomBytes(13), E, pt, new Uint8Array(26)), 'RangeError'],
      ['output one byte short', () => seal(k, n, E, pt, new Uint8Array(25)), 'RangeError'],
      ['output one byte long', () => seal(k, n, E, pt, new Uint8Array(27)), 'RangeError'],
      ['open of fewer than 16 bytes', () => open(k, n, E, new Uint8Array(15), new Uint8Array(0)), 'RangeError'],
      ['open output of the wrong size', () => open(k, n, E, new Uint8Array(20), new Uint8Array(5)), 'RangeError'],
      ['a string key', () => seal('k'.repeat(32), n, E, pt, new Uint8Array(26)), 'TypeError'],
      ['a Uint16Array plaintext', () => seal(k, n, E, new Uint16Array(5), new Uint8Array(26)), 'TypeError'],
      ['a DataView output', () => seal(k, n, E, pt, new DataView(new ArrayBuffer(26))), 'TypeError'],
      ['an AAD that is a number', () => seal(k, n, 7, pt, new Uint8Array(26)), 'TypeError'],
      ['four arguments', () => seal(k, n, E, pt), 'TypeError'],
      ['no arguments', () => open(), 'TypeError']
    ]
    for (const [what, fn, want] of cases) t.equal(call(fn).split(':')[0], want, what)
    t.equal(call(cases[0]![1]), 'TypeError:ERR_DMESS_AEAD_ARGS', 'errors carry a code')
    t.equal(call(cases[1]![1]), 'RangeError:ERR_DMESS_AEAD_ARGS', 'errors carry a code')
    const buf = randomBytes(60)
    t.equal(call(() => { addon.seal(k, n, E, buf.subarray(0, 20), buf.subarray(10, 46)) }).split(':')[0], 'RangeError', 'output overlapping the plaintext at an offset')
  })

  t.test('worker threads each get their own contexts; the main thread keeps working after they exit', async t => {
    // N-API instance data: one pair of cipher contexts per JavaScript environment (the C file's
    // NAPI_MODULE_INIT), freed when that environment ends
    const key = randomBytes(32)
    const nonce = randomBytes(12)
    const pt = randomBytes(1000)
    const expected = toHex(chacha20poly1305With(nodeCryptoChaChaPoly).seal(key, nonce, pt))
    const code = `
      const { parentPort, workerData: w } = require('node:worker_threads')
      const holder = { exports: {} }
      process.dlopen(holder, w.path)
      const out = new Uint8Array(w.pt.length + 16)
      let same = 0
      for (let i = 0; i < 2000; i++) {
        holder.exports.seal(w.key, w.nonce, new Uint8Array(0), w.pt, out)
        const back = new Uint8Array(w.pt.length)
        if (holder.exports.open(w.key, w.nonce, new Uint8Array(0), out, back)) same++
      }
      parentPort.postMessage({ sealed: Buffer.from(out).toString('hex'), same })`
    // resolves once the worker has exited, so its environment (and its contexts) are gone
    const run = async (): Promise<unknown> => await new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { path: nativeAddonPath(), key, nonce, pt } })
      let said: unknown
      w.once('message', m => { said = m })
      w.once('error', reject)
      w.once('exit', code => {
        if (code === 0) resolve(said)
        else reject(new Error(`worker exited ${code}`))
      })
    })
    const results = await Promise.all([run(), run(), run()])
    for (const r of results) t.same(r, { sealed: expected, same: 2000 }, 'a worker seals the same bytes and opens all 2,000')
    t.equal(toHex(chacha20poly1305.seal(key, nonce, pt)), expected, 'this thread still seals correctly')
  })

  t.test('HMAC-SHA-256: RFC 4231 vectors, and the same bytes as createHmac for keys of 0 to 200 bytes', async t => {
    const mac = (key: Uint8Array, data: Uint8Array): string => { const out = new Uint8Array(32); addon.hmacSha256(key, data, out); return toHex(out) }
    // RFC 4231 §4.2 (test case 1) and §4.7 (test case 6: a 131-byte key, hashed first)
    t.equal(mac(new Uint8Array(20).fill(0x0b), new TextEncoder().encode('Hi There')), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7')
    t.equal(mac(new Uint8Array(131).fill(0xaa), new TextEncoder().encode('Test Using Larger Than Block-Size Key - Hash Key First')), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54')
    const differ: string[] = []
    for (let i = 0; i < 500; i++) {
      const key = randomBytes(i % 201)
      const data = randomBytes((i * 13) % 700)
      if (mac(key, data) !== createHmac('sha256', key).update(data).digest('hex')) differ.push(`key ${key.length} bytes, data ${data.length}`)
    }
    t.same(differ, [], '500 random keys and inputs: the same bytes as createHmac')
    const at = randomBytes(100)
    t.equal(mac(at.subarray(7, 39), at.subarray(50, 90)), createHmac('sha256', at.subarray(7, 39)).update(at.subarray(50, 90)).digest('hex'), 'views at an offset')
    t.equal(toHex(hmacSha256(at, at)), createHmac('sha256', at).update(at).digest('hex'), 'hmacSha256 in this process')
    t.throws(() => { addon.hmacSha256(at, at, new Uint8Array(31)) }, RangeError, 'a short output is refused')
    t.throws(() => { (addon.hmacSha256 as (...a: unknown[]) => void)('key', at, new Uint8Array(32)) }, TypeError, 'a string key is refused')
  })

  t.test('the loader says why it falls back to node:crypto', async t => {
    t.match(loadNativeChaChaPoly({ DMESS_NATIVE: 'off' }), { ok: false, reason: /DMESS_NATIVE=off/ })
    t.match(loadNativeChaChaPoly({}, () => undefined), { ok: false, reason: /not built/ })
    const dir = mkdtempSync(join(tmpdir(), 'dmess-native-'))
    t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
    const junk = join(dir, 'junk.node')
    writeFileSync(junk, 'not an ELF file')
    t.match(loadNativeChaChaPoly({}, () => junk), { ok: false, reason: /does not load/ })
    t.match(checkedAddon({ ...addon, abi: 2 }, 'old.node'), { ok: false, reason: /old.node is a stale build \(ABI 2, want 4\)/ })
    t.match(checkedAddon({ abi: 4, seal: addon.seal, open: addon.open, hmacSha256: addon.hmacSha256 }, 'half.node'), { ok: false, reason: /stale build/ })
    t.match(checkedAddon(addon, 'x.node'), { ok: true })
    t.ok(nativeAddonPath()?.endsWith('dmess_chacha20poly1305.node'), 'found beside the package')
    t.equal(nativeAddonPath(tmpdir()), undefined, 'not found elsewhere')
  })

  t.test('a session between a process on the addon and one on node:crypto', async t => {
    const peer = await spawnReliablePeer(['--mode', 'echo'], { ...process.env, DMESS_NATIVE: 'off' })
    t.teardown(peer.stop)
    t.equal(peer.info.aead, 'node:crypto', 'the peer runs on node:crypto')
    const ep = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
    t.teardown(async () => { await ep.close() })
    const s = await ep.connect({ host: '127.0.0.1', port: peer.info.port }, { expectFingerprint: peer.info.fingerprint })
    const r = new ReliableSession(s)
    t.teardown(() => { r.close() })
    const rng = testRng(t, 5, 'message sizes')
    const sent = [0, 1, 1000, 1370, 70_000].map(n => rng.bytes(n))
    const it = r.messages()
    for (const m of sent) await r.send(m)
    for (const m of sent) t.same((await it.next()).value, m, `${m.length} bytes came back through both implementations`)
  })
}
