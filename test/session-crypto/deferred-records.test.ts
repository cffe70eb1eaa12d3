// Session records handed to the store are snapshots encoded on first read
// (src/session-crypto/deferred-records.ts, proto-spec/envelope.md §8.4): a record describes the
// sessions as they were at its ratchet step however many steps came after, and the states it
// needs are wiped only once the store has taken a newer record of the peer.
import t from 'tap'
import { randomBytes, x25519 } from '../../src/crypto/primitives.js'
import { initAlice, ratchetEncrypt, type RatchetState } from '../../src/ratchet/index.js'
import { DeferredRecords, MAX_DEFERRED } from '../../src/session-crypto/deferred-records.js'
import { decodePeerSessions, type PeerSessions } from '../../src/session-crypto/record.js'

const PEER = 'p'.repeat(52)
const zero = (b: Uint8Array | null): boolean => b !== null && b.every(x => x === 0)

function start (): PeerSessions {
  const state = initAlice({ sk: randomBytes(32), ad: randomBytes(64), bobRatchetPublic: x25519.publicFromSecret(randomBytes(32)) }, randomBytes)
  return { list: [{ base: randomBytes(32), state, initial: null, ours: true, confirmed: false }] }
}

/** One ratchet step on the active session, as SessionBook.seal takes it: replace, retire, write. */
function step (records: DeferredRecords, p: PeerSessions): { old: RatchetState, write: ReturnType<DeferredRecords['write']> } {
  const s = p.list[0]!
  const old = s.state
  s.state = ratchetEncrypt(old, Uint8Array.of(1, 2, 3), randomBytes).state
  records.retire(PEER, old, s.state)
  return { old, write: records.write(PEER, p) }
}

const ns = (w: { value: Uint8Array }): number => decodePeerSessions(w.value)!.list[0]!.state.ns

t.test('a record read after later steps still holds the state of its own step', async t => {
  const records = new DeferredRecords()
  const p = start()
  const first = step(records, p)
  const second = step(records, p)
  const third = step(records, p)
  t.equal(ns(first.write), 1, 'the first record: one message sent')
  t.equal(ns(third.write), 3, 'the third: three')
  t.equal(ns(second.write), 2, 'the second, read last: two')
  t.same(decodePeerSessions(second.write.value)!.list[0]!.state.cks, third.old.cks, 'its sending chain key is the one its step left, intact')
  t.ok(third.write.version > second.write.version && second.write.version > first.write.version, 'versions follow the steps')
})

t.test('replaced states are wiped once the store took a newer record, not before', async t => {
  const records = new DeferredRecords()
  const p = start()
  const first = step(records, p)
  const second = step(records, p)
  t.notOk(zero(first.old.cks) || zero(second.old.cks), 'nothing wiped while no record was stored')
  first.write.stored?.()
  t.ok(zero(first.old.cks), 'the state replaced before the stored record was made is wiped')
  t.notOk(zero(second.old.cks), 'the one the second record holds is not')
  t.equal(ns(second.write), 2, 'and the second record still encodes')
  second.write.stored?.()
  t.ok(zero(second.old.cks), 'wiped once the second record was stored')
  t.notOk(zero(p.list[0]!.state.cks), 'the current state never is')
})

t.test('a peer whose records the store never takes holds at most MAX_DEFERRED replaced states', async t => {
  const records = new DeferredRecords()
  const p = start()
  const steps = Array.from({ length: MAX_DEFERRED + 1 }, () => step(records, p))
  t.ok(zero(steps[0]!.old.cks), 'past the bound the replaced states are wiped')
  t.equal(ns(steps[0]!.write), 1, 'after every record still waiting was encoded from them')
  t.equal(ns(steps[MAX_DEFERRED]!.write), MAX_DEFERRED + 1, 'the newest encodes too')
})

t.test('settle (a peer forgotten) encodes what is waiting, then wipes', async t => {
  const records = new DeferredRecords()
  const p = start()
  const first = step(records, p)
  records.settle(PEER)
  t.ok(zero(first.old.cks), 'wiped')
  t.equal(ns(first.write), 1, 'the record waiting was encoded before')
})
