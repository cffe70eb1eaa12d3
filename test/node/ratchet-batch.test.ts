// BATCH (proto-spec/envelope.md §3.7) between whole simulated nodes that keep prekeys: a burst to
// a contact whose PRESENCE says it opens BATCH goes out as a few ratchet messages of up to
// BATCH_MAX_MESSAGES texts, each text stored once, in order, with its own id and timestamp and
// receipted; to a contact that does not say so, one ratchet message per text as before.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { BATCH_MAX_MESSAGES, PayloadType } from '../../src/wire/constants.js'
import { conversation, receipted, talkingPair } from './helpers.js'

const counters = (n: TestNode): TestNode['messaging']['ctx']['counters'] => n.messaging.ctx.counters

t.test('a burst goes as BATCHes: each text stored once, in order, with its id and timestamp, and receipted', async t => {
  const { net, alice, bob } = await talkingPair(t, 61, { prekeys: true })
  const before = { out: counters(alice).ratchetOut, batches: counters(alice).batchesOut }
  const M = 300
  const texts = Array.from({ length: M }, (_, i) => `burst ${i} ${'y'.repeat(i % 50)}`)
  const sent = await net.drive(alice.actions.sendMany(bob.fingerprint, texts))
  const ids = sent.map(r => r.id)
  await net.until(() => ids.every(id => receipted(alice, id)), 300_000, 'the burst delivered')
  const got = (await conversation(bob, alice)).filter(m => m.direction === 'in').slice(1)
  t.same(got.map(m => m.id), ids, 'Bob has every text once, in the order sent, under its own id')
  t.same(got.map(m => m.text), texts, 'with its text')
  t.same(got.map(m => m.timestamp), sent.map(r => r.timestamp), 'and its timestamp')
  const batches = counters(alice).batchesOut - before.batches
  t.equal(batches, Math.ceil(M / BATCH_MAX_MESSAGES), `${M} texts went as ${Math.ceil(M / BATCH_MAX_MESSAGES)} BATCHes`)
  t.equal(counters(bob).batchesIn, batches, 'and Bob opened each')
  t.ok(counters(alice).ratchetOut - before.out < M / 10, `far fewer ratchet messages than texts (${counters(alice).ratchetOut - before.out})`)
  t.same(counters(bob).rejected, {}, 'Bob refused nothing')
  t.equal(bob.seen.filter(e => e.type === 'message' && ids.includes((e.message as { id: string }).id)).length, M, 'one message event per text')
  t.same((await alice.store.listOutbox({ limit: 10_000 })).length, 0, 'Alice\'s outbox is empty')
})

t.test('to a contact whose PRESENCE does not say it opens BATCH: one ratchet message per text', async t => {
  const { net, alice, bob } = await talkingPair(t, 62, { prekeys: true })
  // Bob as a node from before BATCH: its PRESENCE carries no caps
  alice.messaging.outbound.peerCaps(bob.fingerprint, 0)
  const M = 40
  const sent = await net.drive(alice.actions.sendMany(bob.fingerprint, Array.from({ length: M }, (_, i) => `one by one ${i}`)))
  await net.until(() => sent.every(r => receipted(alice, r.id)), 300_000, 'delivered')
  t.equal(counters(alice).batchesOut, 0, 'no BATCH was sealed')
  t.equal(counters(bob).batchesIn, 0, 'none arrived')
  t.same((await conversation(bob, alice)).filter(m => m.direction === 'in').slice(1).map(m => m.id), sent.map(r => r.id), 'every text once, in order')
})

t.test('a burst to a contact whose bundle we hold but with whom no session is up yet: the first text starts it, and the burst still goes as BATCHes', async t => {
  // as when Bob added Alice only after her first message went (v1: he gave no bundle to a
  // stranger) and his bundle came later: her next texts start the session. Here the session she
  // holds is dropped from memory (as a removed contact's is), the bundle kept.
  const { net, alice, bob } = await talkingPair(t, 64, { prekeys: true })
  t.ok(alice.messaging.prekeyExchange.cached(bob.fingerprint) !== undefined, "Alice holds Bob's bundle")
  alice.messaging.sessions.book!.forget(bob.fingerprint)
  t.equal(alice.messaging.sessions.activeBase(bob.fingerprint), null, 'and no session: the next text starts one')
  const before = { out: counters(alice).ratchetOut, batches: counters(alice).batchesOut }
  const M = 100
  const sent = await net.drive(alice.actions.sendMany(bob.fingerprint, Array.from({ length: M }, (_, i) => `burst ${i}`)))
  await net.until(() => sent.every(r => receipted(alice, r.id)), 300_000, 'the burst delivered')
  t.equal(counters(alice).batchesOut - before.batches, Math.ceil(M / BATCH_MAX_MESSAGES), 'as BATCHes')
  t.ok(counters(alice).ratchetOut - before.out < 10, `not one ratchet message per text (${counters(alice).ratchetOut - before.out})`)
  t.same(counters(bob).rejected, {}, 'Bob refused nothing')
})

/** Bob's texts from Alice after the first (talkingPair's), as stored: ids in arrival order. */
const inFrom = async (bob: TestNode, alice: TestNode): Promise<string[]> => (await conversation(bob, alice)).filter(m => m.direction === 'in').slice(1).map(m => m.id)
const delivered = (n: TestNode, ids: readonly string[]): boolean => ids.every(id => { const s = n.store.getMessageSync(id)?.status; return s === 'delivered' || s === 'read' })

t.test('separate sends in one turn go as one burst: BATCHes, in call order', async t => {
  // as the daemon gets them: one `messages.send` IPC request each, all read in one poll phase
  const { net, alice, bob } = await talkingPair(t, 65, { prekeys: true })
  const before = { out: counters(alice).ratchetOut, batches: counters(alice).batchesOut }
  const M = 100
  const texts = Array.from({ length: M }, (_, i) => `one call each ${i}`)
  const sent = await net.drive(Promise.all(texts.map(async text => await alice.actions.send(bob.fingerprint, text))))
  const ids = sent.map(r => r.id)
  await net.until(() => ids.every(id => receipted(alice, id)), 300_000, 'delivered')
  t.equal(counters(alice).batchesOut - before.batches, Math.ceil(M / BATCH_MAX_MESSAGES), `${M} sends went as ${Math.ceil(M / BATCH_MAX_MESSAGES)} BATCHes`)
  t.ok(counters(alice).ratchetOut - before.out < M / 10, `not one ratchet message per text (${counters(alice).ratchetOut - before.out})`)
  t.same(await inFrom(bob, alice), ids, 'Bob has each text once, in call order')
})

t.test('the writer killed while its BATCHes leave: after the restart every text is delivered once, in order', async t => {
  const { net, alice, bob } = await talkingPair(t, 63, { prekeys: true })
  const sent = await net.drive(alice.actions.sendMany(bob.fingerprint, Array.from({ length: 200 }, (_, i) => `cut ${i}`)))
  const ids = sent.map(r => r.id)
  await net.advance(2) // some BATCHes on the way, the rest not yet
  await net.crash(alice.index)
  await net.advance(50) // what was on the wire lands
  const before = (await inFrom(bob, alice)).length
  t.ok(bob.messaging.ctx.counters.batchesIn >= 1 && before < ids.length, `the kill cut the burst: Bob had ${before} of ${ids.length} texts, from ${bob.messaging.ctx.counters.batchesIn} BATCHes`)
  const alice2 = await net.restart(alice.index)
  await net.until(() => delivered(alice2, ids), 300_000, 'every text delivered')
  t.same(await inFrom(bob, alice2), ids, 'Bob has each text once, in the order sent')
  t.same(bob.messaging.ctx.counters.rejected, {}, 'and refused nothing')
  // a BATCH is never stored, and the outbox goes at link-up, before Bob's PRESENCE says what he opens
  t.equal(alice2.messaging.ctx.counters.batchesOut, 0, 'the restarted writer sealed each text alone')
})

t.test('a contact that cannot open the BATCH after all (its caps went stale): each text goes alone on its third attempt', async t => {
  const { net, alice, bob } = await talkingPair(t, 64, { prekeys: true })
  // Bob as a node that does not know 0x03 (envelope.md §3.7): the envelope fails as unknown-payload-type
  const open = bob.messaging.sessions.open.bind(bob.messaging.sessions)
  bob.messaging.sessions.open = (fp, bytes) => {
    const r = open(fp, bytes)
    return r.ok && r.type === PayloadType.BATCH ? { ok: false, reason: 'unknown-payload-type', id: r.id } : r
  }
  alice.messaging.outbound.peerCaps(bob.fingerprint, 1)
  const sent = await net.drive(alice.actions.sendMany(bob.fingerprint, Array.from({ length: 70 }, (_, i) => `stale ${i}`)))
  const ids = sent.map(r => r.id)
  await net.until(() => delivered(alice, ids), 300_000, 'every text delivered')
  t.equal(alice.messaging.ctx.counters.batchesOut, 4, 'Alice sealed two BATCHes (64 + 6 texts), and two afresh on the retry')
  t.equal(bob.messaging.ctx.counters.rejected['v2-unknown-payload-type'], 4, 'Bob refused all four')
  t.same(await inFrom(bob, alice), ids, 'and still has each text once, in the order sent')
})

t.test('the link lost mid-burst: what was not receipted goes again at the next link-up as fresh BATCHes', async t => {
  const { net, alice, bob } = await talkingPair(t, 65, { prekeys: true })
  const sent = await net.drive(alice.actions.sendMany(bob.fingerprint, Array.from({ length: 200 }, (_, i) => `drop ${i}`)))
  const ids = sent.map(r => r.id)
  const first = alice.messaging.ctx.counters.batchesOut
  await net.advance(2)
  alice.messaging.network.link(bob.fingerprint)?.close() // receipts and BATCHes still on the way are lost with it
  await net.until(() => delivered(alice, ids), 300_000, 'every text delivered')
  t.same(await inFrom(bob, alice), ids, 'Bob has each text once, in the order sent')
  t.same(bob.messaging.ctx.counters.rejected, {}, 'and refused nothing')
  t.ok(alice.messaging.ctx.counters.batchesOut > first, `the resend went as ${alice.messaging.ctx.counters.batchesOut - first} fresh BATCHes, not one ratchet message per text`)
})
