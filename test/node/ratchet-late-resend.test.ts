// A resend that arrives after the conversation moved on (proto-spec/envelope.md §8.4, §8.5): Bob's
// message is stored by Alice, but Bob is killed before her receipt reaches him, and his first
// resends are lost on the way (a link replaced as both ends redial after the restart). Meanwhile
// both write, so Alice's ratchet steps past the receiving chain that message came on: no header
// key of hers opens it any more. It is the message she has stored all the same: she must
// receipt it again, or Bob resends it for ever and it never shows as delivered.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { decodeOutboxPayload } from '../../src/messaging/outbox-codec.js'
import { conversation, receipted, received, testnet } from './helpers.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('a resend of a stored message is receipted again after the receiver\'s ratchet moved past its chain', async t => {
  const net = await testnet(t, 3, 71, { prekeys: true })
  const [, alice] = net.nodes as [TestNode, TestNode, TestNode]
  let bob = net.nodes[2]!
  await net.befriend(alice, bob)
  const ping = async (from: TestNode, to: TestNode, text: string): Promise<void> => {
    const { id } = await net.drive(from.actions.send(to.fingerprint, text))
    await net.until(() => receipted(from, id), 120_000, `"${text}" delivered`)
  }
  await ping(alice, bob, 'hello')
  await ping(bob, alice, 'hi')

  const text = 'the one whose receipt is lost'
  const m = await net.drive(bob.actions.send(alice.fingerprint, text))
  await net.until(() => received(alice, text), 120_000, 'Alice stored it')
  const stored = decodeOutboxPayload((await net.drive(bob.store.getOutbox(m.id)))!.payload)
  const bytes = hex(stored!.sealed!.bytes)
  await net.crash(bob.index) // her receipt is on its way to a dead process

  // Bob's resends of exactly those bytes are lost until the conversation moved two ratchet steps on
  let held = true
  let dropped = 0
  const onFrame = alice.messaging.inbound.onFrame.bind(alice.messaging.inbound)
  alice.messaging.inbound.onFrame = (link, frame) => {
    if (held && hex(frame.subarray(1)) === bytes) { dropped++; return }
    onFrame(link, frame)
  }
  bob = await net.restart(bob.index)
  const moved = alice.messaging.sessions.book!
  await ping(alice, bob, 'x1')
  await ping(bob, alice, 'x2')
  await ping(alice, bob, 'x3')
  await ping(bob, alice, 'x4')
  t.ok(dropped >= 1, `Bob resent it (${dropped} lost) while the ratchet moved on`)
  t.ok(moved.sessionCount(bob.fingerprint) >= 1, 'Alice still holds the session')
  held = false

  let delivered = true
  await net.until(() => receipted(bob, m.id), 900_000, 'the resend receipted').catch(() => { delivered = false })
  t.ok(delivered, 'Bob gets a receipt for the message Alice stored (it shows as delivered)')
  const got = (await conversation(alice, bob)).filter(x => x.direction === 'in' && x.id === m.id)
  t.equal(got.length, 1, 'Alice stored it once')
  t.comment(JSON.stringify(alice.messaging.ctx.counters.rejected))
})
