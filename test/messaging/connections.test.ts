// The connection manager's state machine (proto-spec/messaging.md §5), driven by hand.
import t from 'tap'
import { ConnectionManager, type ConnAction } from '../../src/messaging/connections.js'

const A = { host: '127.0.0.1', port: 4001 }
const B = { host: '127.0.0.1', port: 4002 }
const mk = (): ConnectionManager => new ConnectionManager({ random: () => 0.5, reconnect: { initialMs: 500, maxMs: 8000, jitter: 0 } })
const dials = (a: ConnAction[]): Array<{ key: string, port: number, expect: string | null }> =>
  a.flatMap(x => x.type === 'dial' ? [{ key: x.key, port: x.address.port, expect: x.expectFingerprint }] : [])
const states = (a: ConnAction[]): string[] => a.flatMap(x => x.type === 'state' ? [`${x.fingerprint}:${x.state}`] : [])

t.test('a static peer given with its fingerprint is that peer\'s entry from the start, and every dial names it (wire.md §4.1.1)', async t => {
  const c = mk()
  c.addStatic(A, 0, 'bob')
  t.same(dials(c.tick(0)), [{ key: 'bob', port: 4001, expect: 'bob' }])
  t.same(c.list().map(p => [p.fingerprint, p.source]), [['bob', 'static']])
  c.dialFailed('bob', 100)
  t.same(dials(c.tick(600)), [{ key: 'bob', port: 4001, expect: 'bob' }], 'a pinned peer is redialled')
  c.dialSucceeded('bob', 'bob')
  t.same(states(c.sessionUp('bob', A, 700)), ['bob:online'])
  t.equal(c.list().length, 1, 'one entry')
})

t.test('a static peer is dialled at once with XX, learns its fingerprint, and is redialled with backoff', async t => {
  const c = mk()
  c.addStatic(A, 0)
  t.same(dials(c.tick(0)), [{ key: 'static:127.0.0.1|4001', port: 4001, expect: null }])
  t.same(c.list()[0]?.state, 'connecting')
  t.same(dials(c.tick(0)), [], 'one dial at a time')
  t.same(states(c.dialFailed('static:127.0.0.1|4001', 100)), [], 'no fingerprint yet: no presence event')
  t.equal(c.nextDeadline, 600)
  t.same(dials(c.tick(600)).length, 1)
  c.dialSucceeded('static:127.0.0.1|4001', 'bob')
  t.same(states(c.sessionUp('bob', A, 700)), ['bob:online'])
  t.same(c.list(), [{ fingerprint: 'bob', address: A, source: 'static', state: 'online', since: 700 }])
  t.equal(c.onlineCount, 1)
  t.same(states(c.sessionDown('bob', 1000)), ['bob:offline'])
  t.equal(c.nextDeadline, 1500, 'first reconnect after 500 ms')
  t.same(dials(c.tick(1500)), [{ key: 'bob', port: 4001, expect: 'bob' }], 'redialled, now expecting its fingerprint')
  c.dialFailed('bob', 2000)
  t.equal(c.nextDeadline, 3000, 'then 1 s')
})

t.test('sessions that keep ending early back off further each time; a stable one starts the backoff over', async t => {
  // a full peer evicting us as one stranger too many (session.md §3.7) must not be redialled in a loop
  const c = mk()
  c.addStatic(A, 0, 'bob')
  let now = 0
  const flap = (lastsMs: number): number => {
    c.tick(now)
    c.dialSucceeded('bob', 'bob')
    c.sessionUp('bob', A, now)
    now += lastsMs
    c.sessionDown('bob', now)
    const wait = c.nextDeadline - now
    now = c.nextDeadline
    return wait
  }
  t.same([flap(100), flap(100), flap(100), flap(100), flap(100), flap(100)], [500, 1000, 2000, 4000, 8000, 8000], 'doubling to the cap')
  t.equal(flap(60_000), 500, 'after a session of a minute: the short delay again')
  t.equal(flap(100), 1000)
})

t.test('mDNS peers are dialled while announced; addresses rotate on failure', async t => {
  const c = mk()
  c.discovered('carol', [A, B], 0)
  t.same(dials(c.tick(0)), [{ key: 'carol', port: 4001, expect: 'carol' }])
  c.dialFailed('carol', 10)
  t.same(dials(c.tick(600)), [{ key: 'carol', port: 4002, expect: 'carol' }], 'the next address')
  c.dialFailed('carol', 700)
  c.lost('carol')
  t.equal(c.nextDeadline, Infinity, 'gone from the LAN and not wanted: no more dials')
  t.same(c.list()[0]?.source, 'mdns')
})

t.test('inbound strangers are recorded but not redialled; contacts are (demand)', async t => {
  const c = mk()
  t.same(states(c.sessionUp('eve', A, 0)), ['eve:online'])
  c.sessionDown('eve', 10)
  t.equal(c.nextDeadline, Infinity)
  c.demand('eve', true, 20)
  t.ok(c.nextDeadline <= 510, 'a contact with a known address is redialled')
  t.same(dials(c.tick(1000)), [{ key: 'eve', port: 4001, expect: 'eve' }])
})

t.test('presence: online ⇄ away while connected; ignored while offline', async t => {
  const c = mk()
  t.same(states(c.presence('bob', 'away', 0)), [], 'unknown peer')
  c.sessionUp('bob', A, 0)
  t.same(states(c.presence('bob', 'away', 1)), ['bob:away'])
  t.same(states(c.presence('bob', 'away', 2)), [], 'no change, no event')
  t.same(states(c.sessionUp('bob', A, 3)), [], 'a rekeyed session keeps away')
  t.same(states(c.presence('bob', 'online', 4)), ['bob:online'])
  c.sessionDown('bob', 5)
  t.same(states(c.presence('bob', 'online', 6)), [])
  t.equal(c.state('bob'), 'offline')
})

t.test('poke: the outbox asks for a peer with a remembered address', async t => {
  const c = mk()
  c.remember('dave', B, 'inbound', 0)
  t.equal(c.nextDeadline, Infinity, 'remembered only')
  c.poke('dave', 5)
  t.same(dials(c.tick(5)), [{ key: 'dave', port: 4002, expect: 'dave' }])
  c.poke('nobody', 5)
})

t.test('a static entry that turns out to be a known peer merges into it', async t => {
  const c = mk()
  c.discovered('bob', [B], 0)
  c.addStatic(A, 0)
  c.addStatic(A, 0)
  t.equal(dials(c.tick(0)).length, 2)
  c.dialSucceeded('static:127.0.0.1|4001', 'bob')
  c.sessionUp('bob', A, 1)
  const rows = c.list()
  t.equal(rows.length, 1)
  t.same(rows[0]?.source, 'static')
  t.same(rows[0]?.address, A, 'the address of the live session first')
})

t.test('dials are bounded and the table cannot be flooded with strangers', async t => {
  const c = new ConnectionManager({ random: () => 0.5, maxDials: 2, maxPeers: 10 })
  for (let i = 0; i < 5; i++) c.addStatic({ host: '127.0.0.1', port: 5000 + i }, 0)
  t.equal(dials(c.tick(0)).length, 2)
  for (let i = 0; i < 100; i++) { c.sessionUp(`s${i}`, A, i); c.sessionDown(`s${i}`, i) }
  t.ok(c.list().length <= 11, `table bounded (${c.list().length})`)
})

t.test('a peer is shown connecting on the first attempt only: offline while failed dials are retried, with no event for them', async t => {
  const c = mk()
  c.discovered('bob', [A], 0)
  t.same(states(c.tick(0)), ['bob:connecting'], 'first attempt')
  t.same(states(c.dialFailed('bob', 100)), ['bob:offline'])
  for (let i = 0; i < 5; i++) {
    const at = c.nextDeadline
    t.same(states(c.tick(at)), [], `redial ${i + 1}: no event`)
    t.equal(c.list()[0]?.state, 'offline', 'shown offline while the redial runs')
    t.equal(c.state('bob'), 'offline')
    c.dialFailed('bob', at + 100)
  }
  c.dialSucceeded('bob', 'bob')
  t.same(states(c.sessionUp('bob', A, 100_000)), ['bob:online'])
  t.same(states(c.sessionDown('bob', 200_000)), ['bob:offline'], 'the session ended')
  t.same(states(c.tick(c.nextDeadline)), [], 'the redial after a session ended shows offline too')
  t.equal(c.list()[0]?.state, 'offline')
})
