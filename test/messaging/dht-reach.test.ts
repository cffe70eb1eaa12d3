// The connection manager reaching a contact through the DHT (proto-spec/messaging.md §5.2), inside
// real daemons in this process: real UDP on 127.0.0.1, real LevelDB, the real DHT on the shared
// socket, joined through one standalone DHT node (what `dmess bootstrap` runs). No --peer and no
// mDNS: Bob announces his presence record; Alice adds Bob by fingerprint alone, and the only way
// her daemon can learn where he is, and his key, is that record.
import t from 'tap'
import { Daemon } from '../../src/daemon/daemon.js'
import { unlock } from '../../src/app/profile.js'
import { silentLogger } from '../../src/daemon/log.js'
import { localCall } from '../../src/daemon/rpc-methods.js'
import type { HomePaths } from '../../src/config/home.js'
import { StandaloneDht } from '../../src/dht/standalone.js'
import { LOOPBACK_SETTINGS } from '../../src/dht/testnet.js'
import { PASS, profileHome, waitFor } from '../daemon/helpers.js'

type T = { teardown: (fn: () => Promise<void> | void) => void }
interface Who { paths: HomePaths, fingerprint: string }

/** A DHT node with no identity on 127.0.0.1 (as `dmess bootstrap --testnet` runs): its port. */
async function bootstrapNode (t: T): Promise<number> {
  const s = await StandaloneDht.listen({ host: '127.0.0.1', node: LOOPBACK_SETTINGS })
  t.teardown(async () => { await s.close() })
  return Number(s.address.split(':').pop())
}

async function daemon (t: T, who: Who, bootstrapPort: number): Promise<Daemon> {
  const d = new Daemon({
    paths: who.paths, host: '127.0.0.1', port: 0, mdns: false, peers: [], log: silentLogger(),
    bootstrap: [{ host: '127.0.0.1', port: bootstrapPort }]
  }, await unlock(who.paths, PASS))
  t.teardown(async () => { await d.stop('teardown') })
  await d.start()
  return d
}

const api = (d: Daemon): Daemon['node']['actions'] => d.node.actions
const addContact = async (d: Daemon, who: string): Promise<unknown> =>
  await localCall({ store: d.store, identity: {} as never, now: Date.now, events: d.events })('contacts.add', { who })

t.test('a contact added by fingerprint is found through the DHT, dialled, and the two talk', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  const port = await bootstrapNode(t)
  const A = await daemon(t, alice, port)
  const B = await daemon(t, bob, port)
  await B.dht.ready() // Bob's record is stored

  await addContact(A, bob.fingerprint)
  await waitFor(() => api(B).requests().some(r => r.fingerprint === alice.fingerprint), 20_000, () => 'Alice\'s contact request at Bob')
  const row = api(A).peers().find(p => p.fingerprint === bob.fingerprint)
  t.equal(row?.source, 'dht', 'Alice found Bob through the DHT')
  t.equal(row?.address, `127.0.0.1:${B.status().port}`, 'at the address his record holds')
  const st = api(A).stats() as { lookupsStarted: number, lookupsFound: number }
  t.ok(st.lookupsFound >= 1 && st.lookupsStarted >= st.lookupsFound, `lookups counted (${st.lookupsStarted} started, ${st.lookupsFound} found)`)

  await api(B).accept(alice.fingerprint)
  t.equal((await api(A).send(bob.fingerprint, 'found you', 'delivered', 20_000)).status, 'delivered')
  t.same((await B.store.history(alice.fingerprint)).map(m => [m.direction, m.text]), [['in', 'found you']])
  t.equal((await api(B).send(alice.fingerprint, 'and I you', 'delivered', 20_000)).status, 'delivered', 'Bob replies')
  t.same((await A.store.history(bob.fingerprint)).filter(m => m.direction === 'in').map(m => m.text), ['and I you'], 'Alice has his reply')
})

t.test('a contact the DHT does not know is looked up, not listed, and the lookups back off', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  const carol = await profileHome(t, 'carol') // no daemon: no record anywhere
  const port = await bootstrapNode(t)
  const A = await daemon(t, alice, port)
  const B = await daemon(t, bob, port)
  await B.dht.ready()
  await addContact(A, carol.fingerprint)
  await waitFor(() => (api(A).stats() as { lookupsStarted: number }).lookupsStarted >= 1, 10_000, () => 'a lookup of Carol')
  await new Promise(resolve => setTimeout(resolve, 2000))
  const st = api(A).stats() as { lookupsStarted: number, lookupsFound: number, dialsStarted: number }
  t.equal(st.lookupsStarted, 1, 'one lookup within the first 5 s (backoff), not a stream')
  t.equal(st.lookupsFound, 0)
  t.equal(st.dialsStarted, 0, 'nowhere to dial')
  t.notOk(api(A).peers().some(p => p.fingerprint === carol.fingerprint), 'not listed without an address')
})
