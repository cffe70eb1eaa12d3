// Real mDNS on 127.0.0.1 (multicast loopback): a contact added while discovery runs is recognised
// at once, from the records already heard, not at the node's next announcement (which, after the
// first three, comes only with the next token window, 15 minutes); a contact removed stops being a
// peer (discovery.md §2.4). Without contactsChanged() the cached token stays a stranger's: our
// browse queries list the node's PTR as a known answer, so it does not send its TXT again.
import t from 'tap'
import { MdnsDiscovery, type LostPeer } from '../../src/discovery/index.js'
import { discovery, LOOPBACK, newFingerprint, until, waitForEvent } from './fixtures/helpers.js'

t.test('a contact added while running is a peer at once; removed, it is forgotten', async (t) => {
  const fa = newFingerprint()
  const fb = newFingerprint()
  const aContacts: string[] = []
  const a = discovery(t, { fingerprint: fa, port: 40181, contacts: () => aContacts })
  const b = discovery(t, { fingerprint: fb, port: 40182, contacts: () => [fa] })
  const peers: string[] = []
  a.on('peer', p => peers.push(p.fingerprint))
  await a.start()
  await b.start()
  // A has heard B's records, but B is a stranger to A: cached, never a peer
  t.ok(await until(() => a.stats().cached >= 1, 10_000), 'A cached B’s instance')
  t.same(peers, [], 'a stranger’s node is not a peer')

  aContacts.push(fb) // the user adds B
  const queriesBefore = a.stats().queries
  a.contactsChanged()
  t.same(peers, [fb], 'B became a peer within the call, from what A had already heard')
  const pb = a.peers().find(p => p.fingerprint === fb)
  t.same(pb?.addresses.filter(x => x.host === '127.0.0.1'), [{ host: '127.0.0.1', port: 40182 }], 'with B’s address and dmess port')
  t.ok(await until(() => a.stats().queries > queriesBefore, 10_000), 'and A browsed at once (for contacts whose records it had not heard)')

  const lost = waitForEvent<LostPeer>(a, 'peer-lost', l => l.fingerprint === fb, 5000)
  aContacts.length = 0 // the user removes B
  a.contactsChanged()
  const l = await lost
  t.equal(l.reason, 'forgotten', 'removed: its token is a stranger’s again')
  t.notOk(a.peers().some(p => p.fingerprint === fb))
})

t.test('contactsChanged() before start() or after stop() does nothing', async (t) => {
  const a = new MdnsDiscovery({ fingerprint: newFingerprint(), port: 40185, ...LOOPBACK })
  a.contactsChanged()
  t.equal(a.stats().queries, 0)
  await a.start()
  await a.stop()
  const q = a.stats().queries
  a.contactsChanged()
  t.equal(a.stats().queries, q)
})
