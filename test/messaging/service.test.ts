// The messaging service around the daemon: the store-only methods without a daemon, and mDNS
// discovery between real daemons in this process (real multicast on 127.0.0.1, real LevelDB),
// including a contact added while both run (discovery.md §2.4). proto-spec/messaging.md §5.1, §9. What nodes do with each other (requests, decline, typing,
// presence, read receipts, blocking, clock skew) is tested on whole nodes of the testnet:
// test/node/requests.test.ts, test/node/conversation.test.ts, test/node/block-flood.test.ts.
import t from 'tap'
import { Daemon } from '../../src/daemon/daemon.js'
import { unlock, withStore } from '../../src/app/profile.js'
import { addContact } from '../../src/app/contacts.js'
import { silentLogger } from '../../src/daemon/log.js'
import { localCall } from '../../src/daemon/rpc-methods.js'
import type { HomePaths } from '../../src/config/home.js'
import { PASS, profileHome, waitFor } from '../daemon/helpers.js'
import multicastDns from 'multicast-dns'
import type { Packet } from 'dns-packet'
import { IpcClient } from '../../src/daemon/ipc-client.js'
import { discoveryToken, tokenKey, tokenWindow } from '../../src/discovery/token.js'

interface Who { paths: HomePaths, fingerprint: string, invite: string }

const api = (d: Daemon): Daemon['node']['actions'] => d.node.actions

t.test('history, search and conversations run on the store alone; the rest needs a daemon', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  await withStore(alice.paths, PASS, async (store, u) => {
    await store.putContact({ fingerprint: bob.fingerprint, name: 'bob', verified: false, addedAt: 1 })
    await store.addMessage({ id: 'a1', peer: bob.fingerprint, direction: 'in', text: 'lunch at noon?', timestamp: 1_700_000_000_000, receivedAt: 1_700_000_000_001, status: 'received', read: false })
    await store.addMessage({ id: 'a2', peer: bob.fingerprint, direction: 'out', text: 'yes', timestamp: 1_700_000_000_005, receivedAt: 1_700_000_000_005, status: 'delivered', read: true })
    const call = localCall({ store, identity: u.identity, now: Date.now })
    const h = await call('messages.history', { contact: 'bob' })
    t.same(h.messages.map(m => [m.id, m.direction, m.status, m.seq]), [['a1', 'in', 'received', 1], ['a2', 'out', 'delivered', 2]], 'oldest first')
    t.same((await call('messages.search', { query: 'NOON' })).map(m => [m.peer, m.name, m.id]), [[bob.fingerprint, 'bob', 'a1']])
    t.same((await call('messages.conversations', {})).map(c => [c.name, c.unread]), [['bob', 1]])
    t.same((await call('messages.history', { contact: bob.fingerprint, limit: 1 })).messages.map(m => m.id), ['a2'])
    await t.rejects(call('messages.send', { contact: 'bob', text: 'x' }), { code: 'DAEMON_NOT_RUNNING' })
    await t.rejects(call('messages.history', { contact: 'bob', limit: 0 }), { code: -32602 }, 'bad params are INVALID_PARAMS')
    await t.rejects(call('messages.search', { query: '  ' }), { code: 'BAD_ARGUMENT' })
  })
})

t.test('mDNS: two contacts\' daemons on 127.0.0.1 find each other without --peer and record the peer as mdns', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  // mDNS announces a token only those who know the fingerprint recognise (discovery.md §2.4)
  await withStore(alice.paths, PASS, async store => { await addContact(store, bob.invite, { self: alice.fingerprint, now: Date.now() }) })
  await withStore(bob.paths, PASS, async store => { await addContact(store, alice.invite, { self: bob.fingerprint, now: Date.now() }) })
  const mk = async (who: Who): Promise<Daemon> => {
    const d = new Daemon({ paths: who.paths, host: '127.0.0.1', port: 0, mdns: true, bootstrap: [], log: silentLogger(), peers: [] }, await unlock(who.paths, PASS))
    t.teardown(async () => { await d.stop('teardown') })
    await d.start()
    return d
  }
  const A = await mk(alice)
  const B = await mk(bob)
  await waitFor(() => api(A).peers().some(p => p.fingerprint === bob.fingerprint && p.state === 'online') &&
    api(B).peers().some(p => p.fingerprint === alice.fingerprint && p.state === 'online'), 30_000, () => 'mDNS discovery and a Noise session')
  const row = api(A).peers().find(p => p.fingerprint === bob.fingerprint)
  t.equal(row?.address, `127.0.0.1:${B.status().port}`)
  t.ok(['mdns', 'inbound'].includes(row?.source ?? ''), `found by ${row?.source}`)
  t.ok(api(A).peers().some(p => p.fingerprint === bob.fingerprint && p.source === 'mdns') || api(B).peers().some(p => p.fingerprint === alice.fingerprint && p.source === 'mdns'), 'at least one side found the other by mDNS')

  // that side restarted with --no-mdns: the address it remembers is not shown as found by mDNS
  const aliceFound = api(A).peers().some(p => p.fingerprint === bob.fingerprint && p.source === 'mdns')
  const [finder, found, d] = aliceFound ? [alice, bob, A] : [bob, alice, B]
  await d.stop('restart')
  const again = new Daemon({ paths: finder.paths, host: '127.0.0.1', port: 0, mdns: false, bootstrap: [], log: silentLogger(), peers: [] }, await unlock(finder.paths, PASS))
  t.teardown(async () => { await again.stop('teardown') })
  await again.start()
  await waitFor(() => api(again).peers().some(p => p.fingerprint === found.fingerprint), 30_000, () => 'the remembered contact listed')
  const source = api(again).peers().find(p => p.fingerprint === found.fingerprint)?.source
  t.not(source, 'mdns', `a remembered address under --no-mdns shows ${source}, not mdns`)
})

t.test('mDNS: a contact added while both daemons run is found on the LAN at once, not at its next announcement', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  // a raw browser on the link, to know when Alice's daemon has heard Bob's records (discovery.md §2.4)
  const spy = multicastDns({ interface: '127.0.0.1', bind: '0.0.0.0' })
  t.teardown(() => new Promise<void>(resolve => spy.destroy(() => resolve())))
  await new Promise(resolve => spy.once('ready', resolve))
  const bobsToken = (): string => discoveryToken(tokenKey(bob.fingerprint), tokenWindow(Date.now()))
  let bobHeard = 0
  spy.on('response', (res: Packet) => {
    for (const r of [...(res.answers ?? []), ...(res.additionals ?? [])]) {
      const data = (r as { data?: unknown }).data
      if (r.type === 'TXT' && Array.isArray(data) && data.some(x => Buffer.from(x as Buffer).toString('latin1') === `t=${bobsToken()}`)) bobHeard++
    }
  })
  const mk = async (who: Who): Promise<Daemon> => {
    const d = new Daemon({ paths: who.paths, host: '127.0.0.1', port: 0, mdns: true, bootstrap: [], log: silentLogger(), peers: [] }, await unlock(who.paths, PASS))
    t.teardown(async () => { await d.stop('teardown') })
    await d.start()
    return d
  }
  // Bob announces (three times: RFC 6762 §8.3) to a link where nobody knows him yet
  const B = await mk(bob)
  await waitFor(() => bobHeard >= 3, 15_000, () => 'Bob\'s announcements')
  // Alice starts and asks; Bob answers with his records, which Alice keeps as a stranger's
  const heardBefore = bobHeard
  const A = await mk(alice)
  await waitFor(() => bobHeard > heardBefore, 10_000, () => 'Bob\'s answer to Alice\'s query')
  t.notOk(api(A).peers().some(p => p.fingerprint === bob.fingerprint), 'Bob is nobody to Alice yet')
  // Alice adds Bob (through the daemon's socket, as `dmess contacts add` does); from here on her
  // queries list Bob's instance as a known answer, so Bob would not send his TXT again before his
  // next token window: only the contacts change finds him now
  const c = await IpcClient.connect(A.files.socket)
  t.teardown(() => { c.close() })
  await c.call('contacts.add', { who: bob.invite, name: 'bob' })
  const added = Date.now()
  await waitFor(() => api(A).peers().some(p => p.fingerprint === bob.fingerprint && p.source === 'mdns'), 10_000, () => 'Alice to find Bob by mDNS')
  // The wait is for the event, not against a clock (a loaded machine stretches any bound). Measured:
  // 19 ms; without the contacts change reaching mDNS, 2.8 s (Alice's next query, whose interval
  // doubles up to an hour as the daemon runs on). That the peer appears within contactsChanged(),
  // from records already heard, is asserted in test/discovery/contacts-change.test.ts.
  t.comment(`Alice found Bob by mDNS ${Date.now() - added} ms after adding him`)
  t.equal(api(A).peers().find(p => p.fingerprint === bob.fingerprint)?.address, `127.0.0.1:${B.status().port}`)
})
