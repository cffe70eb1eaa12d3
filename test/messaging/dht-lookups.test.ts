// DHT lookups of wanted peers (proto-spec/messaging.md §5.2): the connection manager's decisions
// driven by hand with a fake clock, and the lookup runner with a fake lookup function.
import t from 'tap'
import { ConnectionManager, type ConnAction, type FoundPresence } from '../../src/messaging/connections.js'
import { PresenceLookups, foundPresence, presenceVersion, type LookupPresence, type LookedUpPresence } from '../../src/messaging/dht-lookups.js'
import type { DialScope } from '../../src/dht/address-scope.js'

const A = { host: '10.1.0.2', port: 4001 }
const B = { host: '10.2.0.2', port: 4002 }
const C = { host: '10.3.0.2', port: 4003 }
const KEY = new Uint8Array(32).fill(7)
const POLICY = { initialMs: 5000, maxMs: 40_000, jitter: 0 }
const mk = (o: { maxLookups?: number } = {}): ConnectionManager => new ConnectionManager({
  random: () => 0.5, reconnect: { initialMs: 500, maxMs: 8000, jitter: 0 }, lookups: true, lookupBackoff: POLICY, ...o
})
const lookups = (a: ConnAction[]): string[] => a.flatMap(x => x.type === 'lookup' ? [x.fingerprint] : [])
const cancels = (a: ConnAction[]): string[] => a.flatMap(x => x.type === 'cancel-lookup' ? [x.fingerprint] : [])
const dials = (a: ConnAction[]): Array<{ port: number, expect: string | null, ik: boolean }> =>
  a.flatMap(x => x.type === 'dial' ? [{ port: x.address.port, expect: x.expectFingerprint, ik: x.remoteStatic !== null }] : [])
const found = (seq: number, expiresAt: number, ...addresses: Array<typeof A>): FoundPresence => ({ addresses, expiresAt, seq, dhPublic: KEY })

t.test('a wanted peer with no address is looked up, then dialled with IK at the record\'s address', async t => {
  const c = mk()
  c.poke('bob', 0)
  t.same(c.list(), [], 'not shown while only sought')
  t.equal(c.nextDeadline, 0, 'a lookup is due at once')
  const first = c.tick(0)
  t.same(lookups(first), ['bob'])
  t.same(dials(first), [], 'nothing to dial yet')
  t.same(lookups(c.tick(10)), [], 'one lookup in flight per fingerprint')
  t.equal(c.nextDeadline, Infinity, 'nothing to wait for while it runs')
  c.lookupDone('bob', found(1, 100_000, A), 50)
  t.same(dials(c.tick(50)), [{ port: 4001, expect: 'bob', ik: true }], 'dialled at once, IK with the record\'s key')
  c.dialSucceeded('bob', 'bob')
  c.sessionUp('bob', A, 60)
  t.same(c.list(), [{ fingerprint: 'bob', address: A, source: 'dht', state: 'online', since: 60 }], 'found through the DHT')
})

t.test('nothing found: 5 s doubling to the cap; demand that comes back resets it; demand that ends cancels', async t => {
  const c = mk()
  c.demand('bob', true, 0)
  t.same(lookups(c.tick(0)), ['bob'])
  c.lookupDone('bob', null, 100)
  t.equal(c.nextDeadline, 5100, 'then after 5 s')
  t.same(lookups(c.tick(5000)), [], 'not before')
  t.same(lookups(c.tick(5100)), ['bob'])
  c.lookupDone('bob', null, 5100)
  t.equal(c.nextDeadline, 15_100, '10 s')
  for (const at of [15_100, 35_100]) { c.tick(at); c.lookupDone('bob', null, at) }
  t.equal(c.nextDeadline, 35_100 + 40_000, 'capped at maxMs')
  c.tick(75_100)
  t.same(cancels(c.demand('bob', false, 75_200)), ['bob'], 'demand ended: the lookup in flight is cancelled')
  c.lookupDone('bob', found(1, 1e9, A), 75_300)
  t.same(dials(c.tick(75_300)), [], 'a cancelled lookup\'s answer is ignored')
  t.equal(c.nextDeadline, Infinity, 'not wanted: nothing more')
  t.same(c.demand('bob', true, 80_000), [])
  t.ok(c.nextDeadline <= 80_000, 'wanted again: due at once')
  t.same(lookups(c.tick(80_000)), ['bob'])
  c.lookupDone('bob', null, 80_000)
  t.equal(c.nextDeadline, 85_000, '5 s again')
  c.tick(85_000)
  c.lookupDone('bob', null, 85_000)
  t.equal(c.nextDeadline, 95_000, '10 s')
  c.renew('bob', 86_000)
  t.equal(c.nextDeadline, 86_000, 'a message sent now: the lookup may go at once')
  c.renew('nobody', 86_000)
})

t.test('a remembered address that fails is replaced by the record\'s; a record seen before is no progress', async t => {
  const c = mk()
  c.remember('bob', A, 'mdns', 0)
  c.demand('bob', true, 0)
  t.same(dials(c.tick(0)), [{ port: 4001, expect: 'bob', ik: false }], 'the remembered address first, XX (no key yet)')
  t.same(lookups(c.tick(0)), [], 'no lookup while dialling')
  c.dialFailed('bob', 20_000)
  t.same(lookups(c.tick(20_000)), ['bob'], 'one failed dial: ask the DHT')
  c.lookupDone('bob', found(5, 1e9, B), 20_100)
  t.same(dials(c.tick(20_100)), [{ port: 4002, expect: 'bob', ik: true }], 'the new address at once, before the dial backoff ran out')
  t.same(c.list()[0]?.source, 'dht')
  c.dialFailed('bob', 40_000)
  t.same(lookups(c.tick(40_000)), ['bob'], 'the record\'s address failed too: ask again')
  c.lookupDone('bob', found(5, 1e9, B), 40_100)
  t.equal(c.nextDeadline, 40_500, 'the same record: the dial backoff goes on, not reset')
  t.same(dials(c.tick(40_500)).length, 1)
  c.dialFailed('bob', 60_500)
  t.equal(c.nextDeadline, 45_100, 'the lookup after no news waits 5 s')
  t.same(lookups(c.tick(60_500)), ['bob'])
  c.lookupDone('bob', null, 60_500)
  t.equal(c.nextDeadline, 61_500, 'the next dial (1 s) comes before the next lookup (10 s)')
  t.same(lookups(c.tick(61_500)), [])
})

t.test('record addresses expire with the record; another source keeps an address', async t => {
  const c = mk()
  c.demand('bob', true, 0)
  c.tick(0)
  c.lookupDone('bob', found(1, 10_000, A, B), 0)
  t.same(dials(c.tick(0)), [{ port: 4001, expect: 'bob', ik: true }])
  c.tick(9_999)
  t.equal(c.list().length, 1, 'still listed before expiry')
  c.tick(10_000)
  t.same(c.list(), [], 'gone with the record')
  c.dialFailed('bob', 12_000)
  t.same(lookups(c.tick(12_000)), ['bob'], 'no address left: asked again')

  const d = mk()
  d.demand('carol', true, 0)
  d.tick(0)
  d.lookupDone('carol', found(1, 10_000, A, C), 0)
  d.dialSucceeded('carol', 'carol')
  d.sessionUp('carol', C, 100)
  d.sessionDown('carol', 200)
  d.tick(10_000)
  t.same(d.list().map(p => p.address), [C], 'the address a session proved outlives the record')
})

t.test('a session or mDNS answer ends the need; bounded lookups; off by default', async t => {
  const c = mk({ maxLookups: 2 })
  for (const fp of ['p1', 'p2', 'p3']) c.poke(fp, 0)
  t.same(lookups(c.tick(0)), ['p1', 'p2'], 'at most maxLookups at once')
  t.equal(c.nextDeadline, Infinity, 'a finished lookup rearms; no spinning meanwhile')
  t.same(cancels(c.sessionUp('p1', A, 10)), ['p1'], 'p1 reached us: its lookup is cancelled')
  t.same(c.list().find(p => p.fingerprint === 'p1')?.source, 'inbound')
  t.same(lookups(c.tick(10)), ['p3'], 'the slot goes to the next')
  c.discovered('p2', [B], 20)
  c.lookupDone('p2', null, 30)
  t.same(dials(c.tick(30)), [{ port: 4002, expect: 'p2', ik: false }], 'found on the LAN meanwhile: dialled there')
  t.same(c.list().find(p => p.fingerprint === 'p2')?.source, 'mdns')

  const off = new ConnectionManager({ random: () => 0.5 })
  off.poke('bob', 0)
  off.demand('bob', true, 0)
  t.same(off.tick(0), [], 'no DHT: no lookups and no entry')
  t.same(off.list(), [])
})

t.test('a record with nothing usable or already expired counts as not found', async t => {
  const c = mk()
  c.poke('bob', 0)
  c.tick(0)
  c.lookupDone('bob', found(1, 50, A), 100)
  t.same(c.list(), [], 'expired on arrival')
  t.equal(c.nextDeadline, 5100)
  c.tick(5100)
  c.lookupDone('bob', found(2, 1e9), 5100)
  t.equal(c.nextDeadline, 15_100, 'no addresses: backoff grows')
})

t.test('a record that says to punch is used (by the punch): no second lookup within 5 s, though a message is sent meanwhile', async t => {
  const c = mk()
  c.demand('bob', true, 0)
  t.same(lookups(c.tick(0)), ['bob'])
  const punch = { rendezvous: [{ address: '198.18.0.1:4000', tag: new Uint8Array(16) }], candidates: [{ kind: 'reflexive' as const, ...B }], natKind: 'endpoint-independent' as const }
  c.lookupDone('bob', { ...found(1, 1e9), punch }, 100)
  t.same(dials(c.tick(100)), [], 'nothing to dial: the punch reaches it')
  c.renew('bob', 120)
  t.equal(c.nextDeadline, 5100, 'the message sent meanwhile does not bring the next lookup forward: it would find the same record')
  t.same(lookups(c.tick(120)), [], 'no lookup now')
  t.same(lookups(c.tick(5100)), ['bob'], 'the punch did not bring the peer: asked again after 5 s')
  c.lookupDone('bob', { ...found(1, 1e9), punch }, 5100)
  t.equal(c.nextDeadline, 10_100, 'the same record again is no progress: backoff')
  c.renew('bob', 6000)
  t.equal(c.nextDeadline, 6000, 'and a message sent then may look again at once')
})

// ---- the runner ----

/** A reader on 10.0.0.0/8 and fd00::/8: the private addresses below are on its networks. */
const LAN: DialScope = { loopback: false, localNetworks: [{ ip: Uint8Array.of(10, 0, 0, 0), bits: 8 }, { ip: Uint8Array.of(0xfd, ...new Array<number>(15).fill(0)), bits: 8 }] }

function record (fp: string, hosts: string[], seq = 1, scope: DialScope | null = LAN): LookedUpPresence {
  return {
    fingerprint: fp,
    key: new Uint8Array(32),
    publicIdentity: { signPublic: new Uint8Array(32), dhPublic: KEY, dhSignature: new Uint8Array(64) },
    addresses: hosts.map((host, i) => ({ host, port: 5000 + i, kind: 'lan' as const })),
    period: 20_000,
    seq,
    expiresAt: Date.now() + 60_000,
    ...(scope === null ? {} : { scope })
  }
}

interface Call { fp: string, signal: AbortSignal, resolve: (r: LookedUpPresence | null) => void, reject: (e: Error) => void }

function fakeLookup (): { fn: LookupPresence, calls: Call[] } {
  const calls: Call[] = []
  const fn: LookupPresence = async (fp, signal) => await new Promise((resolve, reject) => { calls.push({ fp, signal, resolve, reject }) })
  return { fn, calls }
}

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

t.test('the runner: one lookup per fingerprint; answers reported; cancel and stop abort and report nothing', async t => {
  const { fn, calls } = fakeLookup()
  const done: Array<[string, FoundPresence | null]> = []
  const failed: string[] = []
  const r = new PresenceLookups({ lookup: fn, done: (fp, f) => done.push([fp, f]), failed: fp => failed.push(fp), usable: a => !a.host.includes(':') })
  r.start('bob')
  r.start('bob')
  r.start('carol')
  r.start('dave')
  t.equal(calls.length, 3, 'bob once')
  t.equal(r.inFlight, 3)
  calls[0]?.resolve(record('bob', ['10.2.0.2', 'fd00::2']))
  calls[1]?.reject(new Error('socket closed'))
  r.cancel('dave')
  t.ok(calls[2]?.signal.aborted, 'cancel aborts the lookup')
  calls[2]?.resolve(record('dave', ['10.9.0.2']))
  await tick()
  t.same(done.map(([fp, f]) => [fp, f?.addresses ?? null]), [['bob', [{ host: '10.2.0.2', port: 5000 }]], ['carol', null]], 'an IPv6 address a udp4 node cannot use is left out; a failure is "not found"; dave was cancelled')
  t.same(failed, ['carol'])
  t.same(done[0]?.[1]?.dhPublic, KEY)
  t.same([r.started, r.found], [3, 1])

  r.start('erin')
  r.stop()
  t.ok(calls[3]?.signal.aborted, 'stop aborts what runs')
  r.start('frank')
  t.equal(calls.length, 4, 'nothing starts after stop')
  await tick()
  t.equal(done.length, 2)
})

t.test('the runner: a lookup past its time limit is aborted and reported as not found', async t => {
  const { fn, calls } = fakeLookup()
  const done: Array<[string, FoundPresence | null]> = []
  const r = new PresenceLookups({ lookup: fn, done: (fp, f) => done.push([fp, f]), timeoutMs: 20 })
  r.start('bob')
  const call = calls[0] as Call
  // The runner's timer is unref'd: a bound of our own keeps the process alive until it fires.
  const aborted = new Promise<void>((resolve, reject) => {
    const bound = setTimeout(() => { reject(new Error('not aborted within 5 s')) }, 5000)
    call.signal.addEventListener('abort', () => { clearTimeout(bound); call.reject(call.signal.reason as Error); resolve() })
  })
  await aborted
  for (let i = 0; i < 100 && done.length === 0; i++) await new Promise(resolve => setImmediate(resolve)) // the rejection settles
  t.same(done, [['bob', null]])
  t.equal(r.inFlight, 0, 'and may be started again')
})

t.test('foundPresence: the fingerprint must be the one asked for', async t => {
  t.equal(foundPresence('bob', record('mallory', ['10.0.0.1']), () => true), null)
  t.equal(foundPresence('bob', null, () => true), null)
  t.equal(foundPresence('bob', record('bob', ['fd00::1']), a => !a.host.includes(':')), null, 'nothing usable')
  const rec = record('bob', ['10.0.0.1'], 9)
  t.same(foundPresence('bob', rec, () => true), { addresses: [{ host: '10.0.0.1', port: 5000 }], expiresAt: rec.expiresAt, seq: presenceVersion(20_000, 9), dhPublic: KEY })
  t.ok(presenceVersion(20_001, 0) > presenceVersion(20_000, 97_200), 'a new period\'s record is news though its seq starts again')
})

t.test('foundPresence: record addresses a reader refuses to dial (dht.md §5.3)', async t => {
  const hosts = ['127.0.0.1', '::1', '169.254.3.4', 'fe80::1', '0.0.0.0', '::', '224.0.0.251', 'ff02::fb', '255.255.255.255',
    '192.168.7.7', '172.16.0.9', '100.64.1.1', 'fc00::9', '10.0.0.1', 'fd00::2', '198.51.100.7', '2001:db8::7']
  const ports = (scope: DialScope | null): string[] => foundPresence('bob', record('bob', hosts, 1, scope), () => true)?.addresses.map(a => a.host) ?? []
  t.same(ports(LAN), ['10.0.0.1', 'fd00::2', '198.51.100.7', '2001:db8::7'], 'public, and private only on our own networks')
  t.same(ports(null), ['198.51.100.7', '2001:db8::7'], 'no scope given: public only')
  t.same(ports({ loopback: true, localNetworks: [] }), hosts, 'a node on loopback (tests) dials what it finds')
  t.equal(foundPresence('bob', record('bob', ['127.0.0.1', '192.168.1.1'], 1, null), () => true), null, 'nothing dialable: not found')
})

// ---- a record behind a NAT (proto-spec/traversal.md §5.3) ----

const RENDEZVOUS = [{ host: '198.51.100.9', port: 4000, tag: new Uint8Array(16).fill(3) }]

function natRecord (natKind: LookedUpPresence['natKind']): LookedUpPresence {
  const rec = record('bob', [])
  return {
    ...rec,
    natKind,
    rendezvous: RENDEZVOUS,
    addresses: [{ host: '10.0.0.1', port: 5000, kind: 'lan' }, { host: '203.0.113.2', port: 6000, kind: 'reflexive' }]
  }
}

t.test('foundPresence: a filtering NAT is punched only; one of unknown kind is dialled as well, LAN last', async t => {
  for (const kind of ['endpoint-independent', 'address-dependent'] as const) {
    const f = foundPresence('bob', natRecord(kind), () => true)
    t.same(f?.addresses, [], `${kind}: nothing to dial, a NAT that filters drops it`)
    t.equal(f?.punch?.natKind, kind)
    t.same(f?.punch?.rendezvous.map(r => r.address), ['198.51.100.9:4000'])
  }
  const f = foundPresence('bob', natRecord('unknown'), () => true)
  t.same(f?.addresses, [{ host: '203.0.113.2', port: 6000 }, { host: '10.0.0.1', port: 5000 }], 'unknown: the reflexive address dialled first (a full cone, a forwarded port lets it in)')
  t.same(f?.punch?.candidates.map(c => c.kind), ['lan', 'reflexive'], 'and punched')
  const open = foundPresence('bob', natRecord('open'), () => true)
  t.equal(open?.punch, undefined, 'no NAT: dialled, not punched')
  const noRv = foundPresence('bob', { ...natRecord('unknown'), rendezvous: [] }, () => true)
  t.equal(noRv?.punch, undefined, 'no rendezvous: only a dial is possible')
  t.equal(noRv?.addresses.length, 2)
})

t.test('a punch that finds a path while the record\'s dial runs supersedes it: its address is dialled as that dial ends, no backoff', async t => {
  const c = mk()
  c.poke('bob', 0)
  c.tick(0)
  c.lookupDone('bob', found(1, 1e9, A), 10)
  t.same(dials(c.tick(10)), [{ port: 4001, expect: 'bob', ik: true }], 'the record\'s address is dialled')
  t.equal(c.state('bob'), 'connecting')
  t.equal(c.punched('bob', B, KEY, { candidate: 'reflexive', rttMs: 12 }, 500), true, 'a dial runs: abort it')
  t.same(dials(c.tick(500)), [], 'one dial at a time')
  const next = c.dialFailed('bob', 510)
  t.same(dials(next), [{ port: 4002, expect: 'bob', ik: true }], 'the punched address, at once')
  t.equal(c.state('bob'), 'connecting', 'still connecting: no offline flicker')
  c.dialSucceeded('bob', 'bob')
  c.sessionUp('bob', B, 530)
  t.same(c.list()[0]?.path, { candidate: 'reflexive', rttMs: 12 })
  t.equal(c.punched('bob', C, KEY, { candidate: 'lan', rttMs: 1 }, 600), false, 'online: nothing to abort')
  const d = mk()
  d.poke('bob', 0)
  d.tick(0)
  d.lookupDone('bob', { ...found(1, 1e9), addresses: [] }, 10)
  t.equal(d.punched('bob', B, KEY, { candidate: 'reflexive', rttMs: 3 }, 20), false, 'no dial running')
  t.same(dials(d.tick(20)), [{ port: 4002, expect: 'bob', ik: true }], 'dialled on the next tick')
  t.same(dials(d.dialFailed('bob', 40)), [], 'an ordinary failure backs off')
})

t.test('the answerer\'s early dial (traversal.md §5.3): the offer\'s address at once; a path to it leaves it running', async t => {
  const c = mk()
  c.poke('alice', 0)
  c.tick(0)
  c.lookupDone('alice', null, 10) // no record yet: nothing to dial
  t.same(dials(c.tick(20)), [])
  t.equal(c.offered('alice', A, KEY, 30), true, 'a dial is due')
  t.same(dials(c.tick(30)), [{ port: 4001, expect: 'alice', ik: true }], 'the offerer\'s address, IK with the offer\'s key')
  t.equal(c.offered('alice', B, KEY, 31), false, 'one dial at a time')
  t.equal(c.punched('alice', A, KEY, { candidate: 'reflexive', rttMs: null }, 40, true), false, 'the path is where the dial goes: it is not aborted')
  t.same(dials(c.dialFailed('alice', 50)), [], 'so its failure is an ordinary one, not a punched redial')
  t.equal(c.punched('alice', B, KEY, { candidate: 'reflexive', rttMs: null }, 60), false)
  c.tick(60)
  t.equal(c.punched('alice', A, KEY, { candidate: 'reflexive', rttMs: null }, 70), true, 'a dial elsewhere gives way to the path')
  c.dialSucceeded('alice', 'alice')
  c.sessionUp('alice', A, 80)
  t.equal(c.offered('alice', B, KEY, 90), false, 'online: no dial')
})
