// Key pairs made ahead for a DH step (proto-spec/ratchet.md §7, "Key pairs made ahead"; §5): a
// step given a set uses it in place of the 32 + 64 bytes it would draw, and is then the same step;
// a set is asked for only by a step that goes ahead, and a step whose message does not open wipes
// the set it took. Without a set the draws are those §8's transcript fixes (vectors.test.ts).
import t from 'tap'
import { x25519 } from './support.js'
import {
  initAlice, initBob, ratchetEncrypt, ratchetDecrypt, encodeState, generateKeyPairs,
  ratchetConstants as C, type NextKeyPairs, type RatchetState, type RandomBytes
} from '../../src/ratchet/index.js'
import { drbg, utf8 } from './helpers.js'

const SK = new Uint8Array(32).fill(0x5a)
const AD = utf8('alice-fingerprint|bob-fingerprint')
const NOW = 1_700_000_000_000
const zero = (b: Uint8Array): boolean => b.every(x => x === 0)

/** Alice has sent Bob one message and Bob has answered: Alice's next open of Bob's reply is a DH step. */
function turned (seed: string): { a: RatchetState, reply: Uint8Array } {
  const ra = drbg(utf8(`${seed}/a`))
  const rb = drbg(utf8(`${seed}/b`))
  const spkSecret = rb(32)
  const spk = { secretKey: spkSecret, publicKey: x25519.publicFromSecret(spkSecret) }
  const a0 = initAlice({ sk: SK, ad: AD, bobRatchetPublic: spk.publicKey }, ra)
  const first = ratchetEncrypt(a0, utf8('hello'), ra)
  const opened = ratchetDecrypt(initBob({ sk: SK, ad: AD, ratchetKeyPair: spk }), first.message, { now: NOW, random: rb })
  if (!opened.ok) throw new Error(opened.reason)
  return { a: first.state, reply: ratchetEncrypt(opened.state, utf8('hi back'), rb).message }
}

/** A set handed out once, counting how often it was asked for. */
function oneSet (set: NextKeyPairs): { take: () => NextKeyPairs | undefined, asked: () => number } {
  let asked = 0
  let left: NextKeyPairs | undefined = set
  return { take: () => { asked++; const s = left; left = undefined; return s }, asked: () => asked }
}

t.test('a step given a set made ahead from the bytes it would have drawn is the same step', async t => {
  const { a, reply } = turned('same')
  // drawing itself: 32 (encapsulation message), 32 (X25519 secret), 64 (ML-KEM seed), in that order
  const drawn = ratchetDecrypt(a, reply, { now: NOW, random: drbg(utf8('step')) })
  // made ahead: the same stream's bytes 32..127 make the set; the step draws only the first 32
  const ahead = drbg(utf8('step'))
  ahead(32)
  const set = generateKeyPairs(ahead)
  const draws: number[] = []
  const stream = drbg(utf8('step'))
  const counted: RandomBytes = n => { draws.push(n); return stream(n) }
  const given = ratchetDecrypt(a, reply, { now: NOW, random: counted, takeKeyPairs: oneSet(set).take })
  t.ok(drawn.ok && given.ok, 'both open')
  if (!drawn.ok || !given.ok) return
  t.same(draws, [C.KEM_MSG_BYTES], 'with a set, the step draws only the encapsulation message')
  t.equal(Buffer.from(encodeState(given.state)).toString('hex'), Buffer.from(encodeState(drawn.state)).toString('hex'), 'the same state, byte for byte')
  t.equal(given.state.dhs, set.dh, 'the new ratchet key pair is the set\'s')
  t.equal(given.state.kemDk, set.kemDk, 'and so is the new ML-KEM decapsulation key')
})

t.test('a set is asked for only by a step that goes ahead; one whose message does not open wipes it', async t => {
  const { a, reply } = turned('once')
  // no step: a message on a chain Alice already receives on takes no set
  const next = turned('once')
  const opened = ratchetDecrypt(next.a, next.reply, { now: NOW, random: drbg(utf8('r1')) })
  if (!opened.ok) throw new Error(opened.reason)
  const noStep = oneSet(generateKeyPairs(drbg(utf8('unused'))))
  const again = ratchetDecrypt(opened.state, next.reply, { now: NOW, random: drbg(utf8('r2')), takeKeyPairs: noStep.take })
  t.notOk(again.ok, 'a replay is refused')
  t.equal(noStep.asked(), 0, 'and took no set')

  // a body that does not authenticate, after its header passed: the step ran, took a set, and failed
  const tampered = reply.slice()
  tampered[tampered.length - 1]! ^= 1
  const set = generateKeyPairs(drbg(utf8('s1')))
  const first = oneSet(set)
  const failed = ratchetDecrypt(a, tampered, { now: NOW, random: drbg(utf8('r3')), takeKeyPairs: first.take })
  t.same(failed, { ok: false, reason: 'decrypt-failed' })
  t.equal(first.asked(), 1, 'the step asked for one set')
  t.ok(zero(set.dh.secretKey) && zero(set.kemDk), 'the set it took is wiped with the dropped draft')
  t.notOk(zero(a.dhs.secretKey) || zero(a.rk) || zero(a.kemDk!), 'the state it was given keeps its keys')

  // the real message then opens on the unchanged state, with another set
  const set2 = generateKeyPairs(drbg(utf8('s2')))
  const second = oneSet(set2)
  const ok = ratchetDecrypt(a, reply, { now: NOW, random: drbg(utf8('r4')), takeKeyPairs: second.take })
  t.ok(ok.ok, 'the untampered message opens')
  if (ok.ok) t.equal(ok.state.dhs, set2.dh, 'on the second set')
  t.equal(first.asked(), 1, 'the first was not asked again')
})

t.test('a step with no set ready draws its own, as §5 lists', async t => {
  const { a, reply } = turned('none')
  const draws: number[] = []
  const stream = drbg(utf8('own'))
  const r = ratchetDecrypt(a, reply, { now: NOW, random: n => { draws.push(n); return stream(n) }, takeKeyPairs: () => undefined })
  t.ok(r.ok)
  t.same(draws, [C.KEM_MSG_BYTES, C.X25519_BYTES, C.KEM_SEED_BYTES], 'encapsulation message, X25519 secret, ML-KEM seed')
})

t.test('the initiator\'s start takes a set made ahead in place of its two draws', async t => {
  const spk = x25519.generateKeyPair()
  const set = generateKeyPairs(drbg(utf8('init')))
  const draws: number[] = []
  const s = initAlice({ sk: SK, ad: AD, bobRatchetPublic: spk.publicKey }, n => { draws.push(n); return new Uint8Array(n) }, oneSet(set).take)
  t.same(draws, [], 'nothing drawn')
  t.equal(s.dhs, set.dh)
  t.equal(s.kemDk, set.kemDk)
  const own = initAlice({ sk: SK, ad: AD, bobRatchetPublic: spk.publicKey }, drbg(utf8('init')))
  t.equal(Buffer.from(encodeState(own)).toString('hex'), Buffer.from(encodeState(s)).toString('hex'), 'the same start as drawing those bytes')
})
