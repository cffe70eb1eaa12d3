// Two dials crossing (proto-spec/session.md §3.1): Alice keeps redialling Bob while his node is
// down; when he is back, his own dial reaches her first. Her dial, still retrying its handshake,
// must not complete a second session afterwards: within the simultaneous-open window that second
// session can supersede the first, closing a link that is carrying traffic (the messaging
// bench's link closing mid-burst, docs/performance.md §11).
import t from 'tap'
import type { PeerLink } from '../../src/messaging/link.js'
import { receipted, talkingPair } from './helpers.js'

t.test('a session the peer dialled makes our own dial to it needless: the link is never replaced', async t => {
  let replaced = 0
  for (const seed of [71, 72, 73, 74, 75, 76]) {
    const { net, alice, bob } = await talkingPair(t, seed)
    await net.stop(2)
    // Alice's outbox wants Bob: she dials him with backoff, each dial resending its handshake
    const { id } = await net.drive(alice.actions.send(bob.fingerprint, 'while you were away'))
    await net.advance(5_000)
    const bob2 = await net.restart(2)
    void bob2.actions.send(alice.fingerprint, 'back').catch(() => {})
    await net.until(() => receipted(alice, id), 120_000, 'Alice\'s message delivered after Bob is back')
    const link = (): PeerLink | undefined => alice.messaging.network.links.get(bob2.fingerprint)
    const first = link()
    if (first === undefined) throw new Error(`seed ${seed}: Alice has no link to Bob`)
    const closes: string[] = []
    first.session.once('close', (r: string) => { closes.push(r) })
    await net.advance(15_000) // past the simultaneous-open window and every handshake retransmission
    if (link() !== first || closes.includes('replaced')) replaced++
    await net.destroy()
  }
  t.equal(replaced, 0, 'Alice\'s link to Bob was never replaced by a second session')
})
