// Key pairs made ahead for DH steps (src/session-crypto/keys-ahead.ts, proto-spec/ratchet.md §7,
// "Key pairs made ahead"): a set is handed out once and is then the step's alone; between turns the
// book makes sets, and an open that steps on one makes none itself (the seed draw it skips is the
// ML-KEM keygen that was on the path).
import t from 'tap'
import { generateIdentity, type Identity } from '../../src/crypto/identity.js'
import { randomBytes } from '../../src/crypto/primitives.js'
import { bundleOf, createPrekeySet, respond, type PrekeyRing } from '../../src/pqxdh/index.js'
import { ratchetConstants as C, type RandomBytes } from '../../src/ratchet/index.js'
import { SessionBook } from '../../src/session-crypto/index.js'
import { KeysAhead, KEYS_AHEAD } from '../../src/session-crypto/keys-ahead.js'
import { PayloadType } from '../../src/wire/constants.js'

const zero = (b: Uint8Array): boolean => b.every(x => x === 0)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('a set is handed out once, and the sets never taken are wiped when cleared', async t => {
  const secrets: Uint8Array[] = [] // the X25519 secrets made: generateKeyPairs keeps the drawn array
  const pool = new KeysAhead(n => { const b = randomBytes(n); if (n === C.X25519_BYTES) secrets.push(b); return b })
  t.equal(pool.size, KEYS_AHEAD)
  for (let i = 0; i < KEYS_AHEAD; i++) t.ok(pool.fillOne(), 'made one')
  t.notOk(pool.fillOne(), 'full: makes none')
  const a = pool.take()
  const b = pool.take()
  t.ok(a !== undefined && b !== undefined && a !== b, 'two different sets')
  t.not(hex(a!.dh.secretKey), hex(b!.dh.secretKey))
  t.equal(pool.take(), undefined, 'none left to hand out again')
  t.ok(pool.wanted)
  pool.fillOne()
  pool.fillOne()
  t.equal(pool.ready, 2)
  pool.clear()
  t.equal(pool.ready, 0)
  t.equal(secrets.length, 4)
  t.ok(zero(secrets[2]!) && zero(secrets[3]!), 'the two never taken are wiped')
  t.notOk(zero(a!.dh.secretKey) || zero(a!.kemDk) || zero(b!.dh.secretKey), 'those taken are their takers\': clear does not touch them')
})

interface Party { id: Identity, book: SessionBook, seeds: () => number }

/** A book whose random source counts its ML-KEM seed draws (64 bytes: one per key pair set made). */
function party (id: Identity, respondWith?: PrekeyRing): Party {
  let seeds = 0
  const random: RandomBytes = n => { if (n === C.KEM_SEED_BYTES) seeds++; return randomBytes(n) }
  const book = new SessionBook({ identity: id, random, ...(respondWith === undefined ? {} : { respond: im => respond(id, respondWith, im) }) })
  return { id, book, seeds: () => seeds }
}

function pair (): { alice: Party, bob: Party } {
  const a = generateIdentity()
  const b = generateIdentity()
  const ring: PrekeyRing = { nextId: 2, sets: [createPrekeySet(b, 1, Math.floor(Date.now() / 1000))] }
  const alice = party(a)
  const bob = party(b, ring)
  const now = Date.now()
  if (!alice.book.start(b.fingerprint, bundleOf(ring, b), now).ok) throw new Error('start')
  return { alice, bob }
}

const text = (s: string) => ({ type: PayloadType.TEXT, payload: { text: s } }) as const

/** `from` seals a text to `to`; `to` opens it. */
function turn (from: Party, to: Party, body: string, tamper = false): ReturnType<SessionBook['open']> {
  const sealed = from.book.seal(to.id.fingerprint, text(body), randomBytes(16), Date.now())
  if (sealed === null) throw new Error('no session to send on')
  const bytes = sealed.bytes.slice()
  if (tamper) bytes[bytes.length - 1]! ^= 1
  return to.book.open(from.id.fingerprint, bytes, Date.now())
}

t.test('in a ping-pong every step takes a set made between turns, and no set is used twice', async t => {
  const { alice, bob } = pair()
  const a = alice.id.fingerprint
  const b = bob.id.fingerprint
  t.ok(alice.book.keysWanted, 'a session to answer on: sets are wanted')
  t.notOk(bob.book.keysWanted, 'no session yet: none')
  t.ok(turn(alice, bob, 'start').ok, 'the start opens (its step drew its own: nothing was made yet)')
  const publics = new Set<string>([hex(alice.book.sendingKeys(b)[0]!.dh), hex(bob.book.sendingKeys(a)[0]!.dh)])
  let steps = 0
  for (let i = 0; i < 8; i++) {
    for (const [from, to, peer] of [[bob, alice, b], [alice, bob, a]] as const) {
      while (to.book.keysWanted) to.book.prepareKeys() // idle time between turns
      const ready = to.book.keysReady
      const seeds = to.seeds()
      const r = turn(from, to, `turn ${i}`)
      t.ok(r.ok, 'opens')
      if (to.seeds() !== seeds) t.fail('the step made its own key pair')
      if (to.book.keysReady !== ready - 1) t.fail('the step did not take exactly one set')
      const dh = hex(to.book.sendingKeys(peer)[0]!.dh)
      if (publics.has(dh)) t.fail('a ratchet key pair used by two steps')
      publics.add(dh)
      steps++
    }
  }
  t.equal(publics.size, steps + 2, `${steps} steps, each on a ratchet key pair of its own`)
})

t.test('an open that fails after its step took a set does not give it back; the next one takes another', async t => {
  const { alice, bob } = pair()
  t.ok(turn(alice, bob, 'start').ok)
  t.ok(turn(bob, alice, 'answer').ok, 'the session is confirmed')
  t.ok(turn(alice, bob, 'again').ok)
  while (alice.book.keysWanted) alice.book.prepareKeys()
  t.equal(alice.book.keysReady, KEYS_AHEAD)
  const bad = turn(bob, alice, 'tampered', true)
  t.same(bad.ok ? 'opened' : bad.reason, 'decrypt-failed', 'the body does not authenticate')
  t.equal(alice.book.keysReady, KEYS_AHEAD - 1, 'the failed step took a set, and it is gone')
  const seeds = alice.seeds()
  t.ok(turn(bob, alice, 'the real one').ok, 'a good message opens after it')
  t.equal(alice.book.keysReady, KEYS_AHEAD - 2, 'on the next set')
  t.equal(alice.seeds(), seeds, 'without making one on the path')
})

t.test('a book with no session makes no sets, and forgetting the last peer wipes those ready', async t => {
  const { alice, bob } = pair()
  while (alice.book.keysWanted) alice.book.prepareKeys()
  t.equal(alice.book.keysReady, KEYS_AHEAD)
  alice.book.forget(bob.id.fingerprint)
  t.equal(alice.book.keysReady, 0, 'dropped with the last session')
  t.notOk(alice.book.keysWanted, 'and none wanted')
  const seeds = alice.seeds()
  alice.book.prepareKeys()
  t.equal(alice.seeds(), seeds, 'prepareKeys makes nothing then')
  const { alice: other } = pair()
  while (other.book.keysWanted) other.book.prepareKeys()
  other.book.clearKeys()
  t.equal(other.book.keysReady, 0, 'clearKeys drops the sets ready (the service stops)')
  const off = new SessionBook({ identity: alice.id, random: randomBytes, keysAhead: 0 })
  t.notOk(off.keysWanted, 'keysAhead 0: never wanted')
})
