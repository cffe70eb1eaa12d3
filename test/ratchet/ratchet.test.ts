// Behaviour of the Double Ratchet core (src/ratchet/, proto-spec/ratchet.md): what a user would
// notice — messages arrive in any order, once; a stolen state stops working; bad input changes nothing.
import t from 'tap'
import { x25519, throwsCode } from './support.js'
import {
  initAlice, initBob, ratchetEncrypt, ratchetDecrypt, encodeState, decodeState, disposeState,
  ratchetConstants as C, type RatchetState, type RandomBytes
} from '../../src/ratchet/index.js'
import { drbg, toHex, utf8 } from './helpers.js'
import { encryptHeader } from '../../src/ratchet/kdf.js'
import { encodeHeader } from '../../src/ratchet/header.js'

const SK = new Uint8Array(32).fill(0x5a)
const AD = utf8('alice-fingerprint|bob-fingerprint')
const NOW = 1_700_000_000_000
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

function pair (seed = 'pair'): { a: RatchetState, b: RatchetState, ra: RandomBytes, rb: RandomBytes } {
  const ra = drbg(utf8(`${seed}/a`))
  const rb = drbg(utf8(`${seed}/b`))
  const spkSecret = rb(32)
  const spk = { secretKey: spkSecret, publicKey: x25519.publicFromSecret(spkSecret) }
  return { a: initAlice({ sk: SK, ad: AD, bobRatchetPublic: spk.publicKey }, ra), b: initBob({ sk: SK, ad: AD, ratchetKeyPair: spk }), ra, rb }
}

/** Send from one state; the caller keeps the returned state (what a real caller commits first). */
function send (s: RatchetState, body: string, r: RandomBytes): { s: RatchetState, m: Uint8Array } {
  const { state, message } = ratchetEncrypt(s, utf8(body), r)
  return { s: state, m: message }
}

function recv (s: RatchetState, m: Uint8Array, r: RandomBytes, now = NOW): { s: RatchetState, body: string } {
  const res = ratchetDecrypt(s, m, { now, random: r })
  if (!res.ok) throw new Error(`decrypt failed: ${res.reason}`)
  return { s: res.state, body: text(res.plaintext) }
}

t.test('messages flow both ways, through DH steps, out of order and across a save/load of the state', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const a1 = send(a, 'one', ra); a = a1.s
  const a2 = send(a, 'two', ra); a = a2.s
  const a3 = send(a, 'three', ra); a = a3.s
  let r = recv(b, a3.m, rb); b = r.s; t.equal(r.body, 'three', 'a later message first')
  r = recv(b, a1.m, rb); b = r.s; t.equal(r.body, 'one', 'an earlier one from the skipped keys')
  b = decodeState(encodeState(b))!
  const b1 = send(b, 'reply', rb); b = b1.s
  r = recv(a, b1.m, ra); a = r.s; t.equal(r.body, 'reply')
  r = recv(b, a2.m, rb); b = r.s; t.equal(r.body, 'two', 'a message of an older chain after a DH step')
  a = decodeState(encodeState(a))!
  for (let i = 0; i < 5; i++) {
    const x = send(a, `ping ${i}`, ra); a = x.s
    r = recv(b, x.m, rb); b = r.s
    const y = send(b, `pong ${i}`, rb); b = y.s
    r = recv(a, y.m, ra); a = r.s
    t.equal(r.body, `pong ${i}`)
  }
  t.equal(b.skipped.length, 0, 'no skipped key is left once every message arrived')
})

t.test('every message has the same size whatever its chain (no header length tells the first chain apart)', async t => {
  const p0 = pair(); const { ra, rb } = p0; const { a } = p0; let { b } = p0
  const first = send(a, 'x', ra)
  b = recv(b, first.m, rb).s
  const reply = send(b, 'x', rb)
  t.equal(first.m.length, reply.m.length)
  t.equal(first.m.length, C.ENC_HEADER_BYTES + 1 + 16)
})

t.test('a message decrypts once: a duplicate fails and changes nothing', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const m = send(a, 'once', ra); a = m.s
  b = recv(b, m.m, rb).s
  const before = toHex(encodeState(b))
  const again = ratchetDecrypt(b, m.m, { now: NOW, random: rb })
  t.same(again, { ok: false, reason: 'old-message' })
  t.equal(toHex(encodeState(b)), before, 'state untouched')
  // also for a message that was read from the skipped keys
  const m1 = send(a, 'first', ra); a = m1.s
  const m2 = send(a, 'second', ra)
  b = recv(b, m2.m, rb).s
  b = recv(b, m1.m, rb).s
  t.same(ratchetDecrypt(b, m1.m, { now: NOW, random: rb }), { ok: false, reason: 'old-message' })
})

t.test('a failed decryption leaves the state as it was (§3.5 discard changes), whatever was damaged', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const m1 = send(a, 'hello', ra); a = m1.s
  b = recv(b, m1.m, rb).s
  const reply = send(b, 'step', rb); b = reply.s
  const m2 = send(a, 'same chain', ra); a = m2.s
  const stepMsg = reply.m
  const aBefore = toHex(encodeState(a))
  const bBefore = toHex(encodeState(b))
  const reasons = new Set<string>()
  const spots = [0, 30, 100, C.ENC_HEADER_BYTES - 1, C.ENC_HEADER_BYTES, stepMsg.length - 1]
  for (const [who, msg] of [['a', stepMsg], ['b', m2.m]] as const) {
    for (const i of spots) {
      const bad = msg.slice()
      bad[Math.min(i, bad.length - 1)]! ^= 0x40
      const res = ratchetDecrypt(who === 'a' ? a : b, bad, { now: NOW, random: who === 'a' ? ra : rb })
      t.notOk(res.ok, `${who}: byte ${i} damaged is refused`)
      if (!res.ok) reasons.add(res.reason)
    }
    const short = ratchetDecrypt(a, msg.subarray(0, C.ENC_HEADER_BYTES + 15), { now: NOW, random: ra })
    t.same(short, { ok: false, reason: 'malformed' })
  }
  t.same([...reasons].sort(), ['decrypt-failed', 'no-header-key'])
  t.equal(toHex(encodeState(a)), aBefore, 'initiator state unchanged')
  t.equal(toHex(encodeState(b)), bBefore, 'responder state unchanged')
  t.equal(recv(a, stepMsg, ra).body, 'step', 'the genuine message still decrypts afterwards')
  t.equal(recv(b, m2.m, rb).body, 'same chain')
})

t.test('encrypting never changes the state it was given: commit the new state, then send', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const before = toHex(encodeState(a))
  const m1 = send(a, 'm1', ra)
  t.equal(toHex(encodeState(a)), before, 'the old state is untouched')
  // the caller commits the new state (stored bytes), then "crashes" before m1 leaves: m1 is lost
  a = decodeState(encodeState(m1.s))!
  const m2 = send(a, 'm2', ra)
  t.not(toHex(m2.m.subarray(C.ENC_HEADER_BYTES)), toHex(m1.m.subarray(C.ENC_HEADER_BYTES)), 'the next message uses the next key')
  const r = recv(b, m2.m, rb); b = r.s
  t.equal(r.body, 'm2', 'the peer reads the next message; the lost one is only a skipped key')
  t.equal(b.skipped.length, 1)
})

t.test('session and per-message associated data are bound', async t => {
  const { a, ra } = pair()
  const spk = x25519.generateKeyPair()
  const b2 = initBob({ sk: SK, ad: utf8('alice|mallory'), ratchetKeyPair: spk })
  const a2 = initAlice({ sk: SK, ad: AD, bobRatchetPublic: spk.publicKey }, ra)
  const m = ratchetEncrypt(a2, utf8('x'), ra).message
  t.same(ratchetDecrypt(b2, m, { now: NOW, random: ra }), { ok: false, reason: 'no-header-key' }, 'another session AD opens no header')
  const { b, rb } = pair()
  const bound = ratchetEncrypt(a, utf8('x'), ra, utf8('envelope header 1')).message
  t.same(ratchetDecrypt(b, bound, { now: NOW, random: rb, associated: utf8('envelope header 2') }), { ok: false, reason: 'decrypt-failed' })
  const ok = ratchetDecrypt(b, bound, { now: NOW, random: rb, associated: utf8('envelope header 1') })
  t.ok(ok.ok, 'the same associated data opens it')
})

t.test('local misuse throws CRYPTO: the responder sending first, bad SK or AD, a short random source', async t => {
  const { b, rb } = pair()
  t.ok(throwsCode(() => ratchetEncrypt(b, utf8('x'), rb), 'CRYPTO'))
  t.ok(throwsCode(() => ratchetEncrypt(pair().a, utf8('x'), () => new Uint8Array(3)), 'CRYPTO'), 'a short random source')
  const spk = x25519.generateKeyPair()
  t.ok(throwsCode(() => initBob({ sk: new Uint8Array(31), ad: AD, ratchetKeyPair: spk }), 'CRYPTO'), 'an SK that is not 32 bytes')
  t.ok(throwsCode(() => initAlice({ sk: SK, ad: new Uint8Array(C.MAX_AD_BYTES + 1), bobRatchetPublic: spk.publicKey }, rb), 'CRYPTO'), 'an AD too large to store')
  t.ok(throwsCode(() => ratchetEncrypt({ ...pair().a, ns: C.MAX_COUNTER }, utf8('x'), rb), 'CRYPTO'), 'an exhausted sending chain')
})

t.test('KEM and DH rules of a DH step (ratchet.md §5): a peer breaking them is refused', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const m = send(a, 'hi', ra); a = m.s
  b = recv(b, m.m, rb).s
  // a responder whose header leaves out the ciphertext the initiator expects
  const noCt = ratchetEncrypt({ ...b, kemCt: null }, utf8('x'), rb).message
  t.same(ratchetDecrypt(a, noCt, { now: NOW, random: ra }), { ok: false, reason: 'bad-kem' })
  // an encapsulation key that fails the FIPS 203 §7.2 modulus check
  const badDk = b.kemDk!.slice()
  badDk.fill(0xff, 1152, 1152 + 1184)
  const badEk = ratchetEncrypt({ ...b, kemDk: badDk }, utf8('x'), rb).message
  t.same(ratchetDecrypt(a, badEk, { now: NOW, random: ra }), { ok: false, reason: 'bad-kem' })
  // a low-order ratchet key (all-zero X25519 output)
  const lowOrder = ratchetEncrypt({ ...b, dhs: { ...b.dhs, publicKey: new Uint8Array(32) } }, utf8('x'), rb).message
  t.same(ratchetDecrypt(a, lowOrder, { now: NOW, random: ra }), { ok: false, reason: 'bad-dh' })
  // an initiator's first chain carrying a ciphertext the responder never asked for
  const p = pair('ct')
  const withCt = ratchetEncrypt({ ...p.a, kemCt: new Uint8Array(C.KEM_CT_BYTES).fill(1) }, utf8('x'), p.ra).message
  t.same(ratchetDecrypt(p.b, withCt, { now: NOW, random: p.rb }), { ok: false, reason: 'bad-kem' })
  const good = send(b, 'fine', rb)
  t.equal(recv(a, good.m, ra).body, 'fine', 'the honest message still goes through')
})

t.test('post-compromise: a stolen state stops decrypting after one round trip', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const m0 = send(a, 'hello', ra); a = m0.s
  b = recv(b, m0.m, rb).s
  const r0 = send(b, 'hi', rb); b = r0.s
  // Bob's state is stolen now; the thief follows every message with randomness of his own
  const thief = drbg(utf8('thief'))
  let stolen = decodeState(encodeState(b))!
  a = recv(a, r0.m, ra).s
  const m1 = send(a, 'still readable', ra); a = m1.s
  const early = ratchetDecrypt(stolen, m1.m, { now: NOW, random: thief })
  t.ok(early.ok && text(early.plaintext) === 'still readable', 'the thief reads what Alice sends to the key he stole (the test can fail)')
  if (early.ok) stolen = early.state
  // one round trip on Bob's side: he receives, answers with a fresh ratchet key, Alice answers that
  b = recv(b, m1.m, rb).s
  const r1 = send(b, 'reply', rb); b = r1.s
  a = recv(a, r1.m, ra).s
  const m2 = send(a, 'after healing', ra)
  t.equal(recv(b, m2.m, rb).body, 'after healing')
  const late = ratchetDecrypt(stolen, m2.m, { now: NOW, random: thief })
  t.notOk(late.ok, `the stolen state cannot decrypt the new message (${late.ok ? 'ok' : late.reason})`)
  const fresh = ratchetDecrypt(decodeState(encodeState(stolen))!, m2.m, { now: NOW, random: drbg(utf8('thief 2')) })
  t.notOk(fresh.ok, 'nor with other randomness')
})

t.test('post-quantum healing: knowing every new X25519 secret is not enough, the ML-KEM secret heals', async t => {
  const p0 = pair(); const { ra } = p0; let { a, b } = p0
  // Bob's randomness, recorded: per DH step the draws are [32 encapsulation, 32 DH secret, 64 KEM seed]
  const bobStream = drbg(utf8('bob-steps'))
  const draws: Uint8Array[] = []
  const rb: RandomBytes = n => { const x = bobStream(n); draws.push(x); return x }
  const m0 = send(a, 'hello', ra); a = m0.s
  const stolen = decodeState(encodeState(b))!
  b = recv(b, m0.m, rb).s
  // the attacker replays Bob's DH secret (X25519 broken) but cannot know his KEM randomness
  let i = 0
  const attacker: RandomBytes = n => { const d = draws[i++]!; return i === 2 ? d.slice() : new Uint8Array(n).fill(0xee) }
  const followed = ratchetDecrypt(stolen, m0.m, { now: NOW, random: attacker })
  t.ok(followed.ok, 'the attacker reads the message that was in flight')
  if (!followed.ok) return
  t.equal(toHex(followed.state.dhs.publicKey), toHex(b.dhs.publicKey), 'and holds Bob\'s new DH key pair')
  t.equal(toHex(followed.state.ckr!), toHex(b.ckr!), 'and his receiving chain')
  t.not(toHex(followed.state.cks!), toHex(b.cks!), 'but not his sending chain: its root mixes an ML-KEM secret encapsulated to Alice')
  const r1 = send(b, 'reply', rb)
  a = recv(a, r1.m, ra).s
  const m2 = send(a, 'after healing', ra)
  const late = ratchetDecrypt(followed.state, m2.m, { now: NOW, random: attacker })
  t.notOk(late.ok, `the attacker cannot read Alice's next chain (${late.ok ? 'ok' : late.reason})`)
  // control: with all of Bob's randomness (nothing fresh to heal with) the attacker would follow
  let j = 0
  const everything = ratchetDecrypt(stolen, m0.m, { now: NOW, random: () => draws[j++]!.slice() })
  t.ok(everything.ok && toHex(encodeState(everything.state)) === toHex(encodeState(recvState(stolen, m0.m, draws))), 'same randomness, same state')
})

function recvState (s: RatchetState, m: Uint8Array, draws: Uint8Array[]): RatchetState {
  let k = 0
  const res = ratchetDecrypt(s, m, { now: NOW, random: () => draws[k++]!.slice() })
  if (!res.ok) throw new Error(res.reason)
  return res.state
}

t.test('state bytes: versioned, exact, and refused when damaged', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const m1 = send(a, '1', ra); a = m1.s
  const m2 = send(a, '2', ra)
  b = recv(b, m2.m, rb).s
  const bytes = encodeState(b)
  t.equal(bytes[0], C.STATE_VERSION)
  t.equal(toHex(encodeState(decodeState(bytes)!)), toHex(bytes), 'round trip is byte-exact')
  t.equal(decodeState(Uint8Array.from([2, ...bytes.subarray(1)])), null, 'an unknown version')
  t.equal(decodeState(bytes.subarray(0, bytes.length - 1)), null, 'truncated')
  t.equal(decodeState(Uint8Array.from([...bytes, 0])), null, 'trailing byte')
  t.equal(decodeState(new Uint8Array(10)), null, 'too short')
  const badFlags = bytes.slice(); badFlags[1] = 0xff
  t.equal(decodeState(badFlags), null, 'unknown flag bits')
  t.equal(recv(decodeState(bytes)!, m1.m, rb).body, '1', 'the loaded state still holds the skipped key')
})

t.test('disposeState wipes what the new state no longer holds, and nothing it still uses', async t => {
  const p0 = pair(); const { ra, rb } = p0; let { a, b } = p0
  const m1 = send(a, '1', ra); a = m1.s
  const old = b
  const r = recv(b, m1.m, rb); b = r.s
  disposeState(old, b)
  t.ok(old.rk.every(x => x === 0), 'the old root key is zeroed')
  t.ok(old.dhs.secretKey.every(x => x === 0), 'the old DH secret is zeroed')
  const m2 = send(a, '2', ra)
  t.equal(recv(b, m2.m, rb).body, '2', 'the new state still works')
})

t.test('a header that authenticates but is not canonical (§4) is malformed; a peer\'s pn too far ahead is refused', async t => {
  const p0 = pair('canonical'); const { ra, rb } = p0; let { a, b } = p0
  const m0 = send(a, 'zero', ra); a = m0.s
  const m1 = send(a, 'one', ra); a = m1.s
  const m2 = send(a, 'two', ra); a = m2.s
  b = recv(b, m2.m, rb).s // m0 and m1 are skipped keys now
  /** a message sealed with a header key the receiver holds, its header bytes chosen here */
  const forge = (hk: Uint8Array, mutate: (h: Uint8Array) => void): Uint8Array => {
    const h = encodeHeader({ dh: a.dhs.publicKey, pn: 0, n: 5, ek: new Uint8Array(C.KEM_EK_BYTES), ct: null })
    mutate(h)
    return Uint8Array.from([...encryptHeader(hk, ra(24), h, AD), ...new Uint8Array(20)])
  }
  const flagged = (h: Uint8Array): void => { h[40] = 0x02 }
  const stray = (h: Uint8Array): void => { h[h.length - 1] = 1 }
  for (const [what, hk] of [['current', b.hkr!], ['next', b.nhkr]] as const) {
    t.same(ratchetDecrypt(b, forge(hk, flagged), { now: NOW, random: rb }), { ok: false, reason: 'malformed' }, `${what} chain: unknown flag`)
    t.same(ratchetDecrypt(b, forge(hk, stray), { now: NOW, random: rb }), { ok: false, reason: 'malformed' }, `${what} chain: ct bytes without the flag`)
  }
  // move Bob on to a new receiving chain, so the skipped keys belong to an older one
  const r1 = send(b, 'reply', rb); b = r1.s
  const oldChainKey = b.skipped[0]!.hk
  a = recv(a, r1.m, ra).s
  const m3 = send(a, 'three', ra); a = m3.s
  b = recv(b, m3.m, rb).s
  t.same(ratchetDecrypt(b, forge(oldChainKey, flagged), { now: NOW, random: rb }), { ok: false, reason: 'malformed' }, 'skipped chain: unknown flag')
  const damaged = m0.m.slice(); damaged[damaged.length - 1]! ^= 1
  t.same(ratchetDecrypt(b, damaged, { now: NOW, random: rb }), { ok: false, reason: 'decrypt-failed' }, 'a skipped message whose body was damaged')
  t.equal(recv(b, m0.m, rb).body, 'zero', 'the genuine one still opens from the skipped keys')
  // a peer whose header claims a previous chain far longer than MAX_SKIP
  const r2 = send(b, 'again', rb); b = r2.s
  a = recv(a, r2.m, ra).s
  const far = ratchetEncrypt({ ...a, pn: C.MAX_SKIP + 10 }, utf8('x'), ra).message
  t.same(ratchetDecrypt(b, far, { now: NOW, random: rb }), { ok: false, reason: 'too-many-skipped' })
})

t.test('damaged counters in stored state bytes are refused', async t => {
  const p0 = pair('bytes'); const { ra, rb } = p0; let { a, b } = p0
  const m0 = send(a, '0', ra); a = m0.s
  const m1 = send(a, '1', ra)
  b = recv(b, m1.m, rb).s
  const bytes = encodeState(b)
  const entries = b.skipped.length * 84
  const countAt = bytes.length - entries - 4
  const adLenAt = countAt - AD.length - 4
  const receivedAt = adLenAt - 8
  const at = (offset: number, value: number[]): Uint8Array => { const x = bytes.slice(); x.set(value, offset); return x }
  t.ok(decodeState(bytes), 'the undamaged bytes load')
  t.equal(decodeState(at(receivedAt, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), null, 'a message count beyond 2^53')
  t.equal(decodeState(at(adLenAt, [0xff, 0xff, 0xff, 0xff])), null, 'an AD length beyond the limit')
  t.equal(decodeState(at(countAt, [0, 0, 0x7f, 0xff])), null, 'more skipped keys than allowed')
  t.equal(decodeState(at(countAt + 4 + 68, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), null, 'a skipped key with an impossible age mark')
  disposeState(b)
  t.ok(b.rk.every(x => x === 0) && b.skipped.every(k => k.mk.every(x => x === 0)), 'disposeState without a successor wipes everything')
})
