// Receipts are self-clocked (proto-spec/messaging.md §4.4): while a receipt envelope to a peer is
// not yet acknowledged by its channel, the ids of the next wait for that ACK, and the inbound
// queue sends what it gathered when it drains. An ACK that lands while the queue finishes its
// last round (between its last flush and its going idle) found the queue busy and left the
// flush to it, which had already flushed: the receipt waited for the next envelope to arrive,
// and the sender, waiting for it, resent the message RECEIPT_WAIT_MS later (docs/performance.md
// §10.6, §10.8, §11.3, §11.4: the 10 s chat p99 during a file transfer).
import t from 'tap'
import { RECEIPT_WAIT_MS } from '../../src/messaging/constants.js'
import { receipted, talkingPair } from './helpers.js'

t.test('a receipt waiting for the one before it goes out when that one is acknowledged as the inbound queue goes idle', async t => {
  const { net, alice, bob } = await talkingPair(t, 91, { prekeys: true }, 'hello', 'the first message delivered')
  const link = bob.messaging.network.link(alice.fingerprint)
  if (link === undefined) throw new Error('no link from bob to alice')
  // as during a file transfer, Bob's channel always holds bytes Alice has not acknowledged yet
  // (his REQUESTs), so a text that comes while his last receipt is in flight is not receipted
  // ahead (Outbound.receiptAhead): its id waits for that receipt's ACK
  Object.defineProperty(link, 'acknowledged', { get: () => false })
  // Bob's frames reach Alice as usual, but the link says they were acknowledged only when the
  // test lets it: when his inbound queue has drained and flushed, in the turn before it goes idle
  const held: Array<() => void> = []
  const send = link.send.bind(link)
  link.send = async frame => { await send(frame); await new Promise<void>(resolve => { held.push(resolve) }) }
  const out = bob.messaging.outbound
  const flush = out.flushReceipts.bind(out)
  let released = 0
  out.flushReceipts = () => {
    flush()
    if (!bob.messaging.inbound.busy || held.length === 0) return
    const acks = held.splice(0)
    released += acks.length
    setImmediate(() => { for (const ack of acks) ack() })
  }

  const first = await net.drive(alice.actions.send(bob.fingerprint, 'its receipt stays in flight'))
  await net.until(() => receipted(alice, first.id), 60_000, 'the first text delivered')
  const start = net.sim!.now
  const second = await net.drive(alice.actions.send(bob.fingerprint, 'receipted once the first receipt is acknowledged'))
  await net.until(() => receipted(alice, second.id), 60_000, 'the second text delivered')
  const ms = net.sim!.now - start
  t.ok(released >= 1, `the first receipt was acknowledged as Bob's queue went idle (${released} frames)`)
  t.ok(ms < RECEIPT_WAIT_MS / 2, `delivered in ${ms} ms, not after Alice's resend (${RECEIPT_WAIT_MS} ms)`)
  t.equal(bob.messaging.ctx.counters.duplicates, 0, 'Alice did not send it again')
  for (const ack of held.splice(0)) ack()
})
