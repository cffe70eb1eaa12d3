// The automatic relay's decisions (proto-spec/traversal.md §7), with its parts replaced by
// recorders on a simulated clock: relay first when both NATs are symmetric, the race after
// AUTO_RELAY_RACE_MS otherwise, the fallback when a punch gives up with no relay, the next relay
// when one does not answer, a peer's offer joined instead, a stranger answered from our own relay,
// and the release of a path no session uses.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { SimClock } from '../../src/sim/clock.js'
import { simScheduler } from '../../src/sim/io.js'
import { silentLogger } from '../../src/daemon/log.js'
import { AutoRelay, AUTO_RELAY_RACE_MS, AUTO_RELAY_TIMEOUT_MS, AUTO_RELAY_UNUSED_MS } from '../../src/node/auto-relay.js'
import type { RelayClient, RelayOffer } from '../../src/relay/client.js'
import type { TraversalService } from '../../src/traversal/service.js'
import type { PunchTarget } from '../../src/traversal/punch.js'
import type { Endpoint } from '../../src/transport/index.js'
import type { NatKind } from '../../src/traversal/candidates.js'

class FakePath extends EventEmitter {
  state = 'waiting'
  released = false
  constructor (readonly relay: { host: string, port: number }, readonly port: number) { super() }
  get address (): { host: string, port: number } { return { host: this.relay.host, port: this.port } }
  async ready (): Promise<void> { await new Promise(() => {}) } // the peer never binds here
  release (): void { this.released = true; this.close() }
  close (): void { if (this.state !== 'closed') { this.state = 'closed'; this.emit('closed') } }
}

interface Rig { relay: AutoRelay, clock: SimClock, log: string[], paths: FakePath[], spray: { since: number | null } }

function rig (ours: NatKind, answering: (host: string) => boolean = () => true): Rig {
  const clock = new SimClock()
  const scheduler = simScheduler(clock)
  const log: string[] = []
  const paths: FakePath[] = []
  /** when our birthday spray toward bob began (the simulated clock), if one runs */
  const spray: { since: number | null } = { since: null }
  const client = {
    allocate: async (relay: { host: string, port: number }, signal?: AbortSignal) => {
      log.push(`allocate ${relay.host}`)
      if (!answering(relay.host)) {
        return await new Promise((_resolve, reject) => { signal?.addEventListener('abort', () => { reject(new Error('timeout')) }) })
      }
      const path = new FakePath(relay, 40000 + paths.length)
      paths.push(path)
      const offer: RelayOffer = { relay, allocationId: new Uint8Array(8), port: 40100, pairSecret: new Uint8Array(32) }
      return { path, offer }
    },
    join: async (offer: RelayOffer) => {
      log.push(`join ${offer.relay.host}`)
      const path = new FakePath(offer.relay, offer.port)
      paths.push(path)
      return path
    }
  }
  const traversal = {
    punch: (p: PunchTarget) => { log.push(p.relay === undefined ? 'punch' : `punch+relay ${p.relay.relay.host}`); return true },
    sendRelay: (_t: unknown, offer: RelayOffer) => { log.push(`relay-message ${offer.relay.host}`); return true },
    natKind: () => ours,
    candidates: () => [],
    puncher: { active: () => true, sprayingSince: () => spray.since },
    registrar: { entries: () => [{ address: '198.51.100.9:7000' }] },
    answerWithRelay: () => { log.push('answer-stranger') },
    connected: () => {}
  }
  const endpoint = { sessions: () => [] }
  const relay = new AutoRelay({
    scheduler,
    log: silentLogger(),
    endpoint: () => endpoint as unknown as Endpoint,
    client: () => client as unknown as RelayClient,
    traversal: () => traversal as unknown as TraversalService,
    bootstrap: [{ host: '198.51.100.1', port: 7000 }],
    adopt: () => { log.push('adopt') }
  })
  return { relay, clock, log, paths, spray }
}

const target = (natKind: NatKind): PunchTarget => ({
  fingerprint: 'bob', dhPublic: new Uint8Array(32), natKind, candidates: [{ kind: 'reflexive', host: '203.0.113.2', port: 6000 }],
  rendezvous: [{ address: '198.51.100.7:7000', tag: new Uint8Array(16) }]
})

async function run (r: Rig, ms: number): Promise<void> {
  for (let i = 0; i < ms / 10; i++) {
    r.clock.advance(10)
    await new Promise(resolve => setImmediate(resolve))
  }
}

t.test('both NATs symmetric: allocate on the target\'s rendezvous first, the offer carries it', async t => {
  const r = rig('address-dependent')
  r.relay.punch(target('address-dependent'))
  await run(r, 50)
  t.same(r.log, ['allocate 198.51.100.7', 'punch+relay 198.51.100.7'], 'no punch before the relay; the rendezvous is the relay')
  t.same(r.relay.report().map(u => [u.via, u.role]), [['198.51.100.7:7000', 'dialer']], 'dmess status: the relay in use')
  await run(r, AUTO_RELAY_UNUSED_MS + 6_000)
  t.same(r.relay.report(), [], 'a path no session ever used is released (traversal.md §7.4)')
  t.equal(r.paths[0]?.released, true, 'with a RELEASE to the relay')
})

t.test('otherwise: punch at once, race a relay after AUTO_RELAY_RACE_MS; a silent relay is passed over', async t => {
  const r = rig('endpoint-independent', host => host !== '198.51.100.7')
  r.relay.punch(target('address-dependent'))
  t.same(r.log, ['punch'], 'the punch goes first')
  await run(r, AUTO_RELAY_RACE_MS - 20)
  t.same(r.log, ['punch'], 'nothing else before the race')
  await run(r, 40 + AUTO_RELAY_TIMEOUT_MS + 50)
  t.same(r.log, ['punch', 'allocate 198.51.100.7', 'allocate 198.51.100.1', 'relay-message 198.51.100.1'],
    'the rendezvous did not answer within its time: the bootstrap node relays')
  r.relay.punch(target('address-dependent'))
  await run(r, 50)
  t.equal(r.log.filter(l => l.startsWith('allocate')).length, 2, 'a refused relay is skipped for a while: no new allocation there')
})

t.test('a birthday spray of ours gets the race\'s head start from its first probe, not from the offer (traversal.md §7.2)', async t => {
  const r = rig('endpoint-independent')
  r.relay.punch(target('address-dependent'))
  await run(r, 300)
  r.spray.since = r.clock.now // the symmetric side answered now, and the spray began
  await run(r, AUTO_RELAY_RACE_MS - 300 + 50)
  t.same(r.log, ['punch'], 'no relay at AUTO_RELAY_RACE_MS after the offer while the spray is younger than that')
  await run(r, 300)
  t.same(r.log, ['punch', 'allocate 198.51.100.7', 'relay-message 198.51.100.7'], 'the race starts AUTO_RELAY_RACE_MS after the spray began')
})

t.test('a punch that gives up with no relay set up falls back to one; a peer\'s relay offer is joined instead of racing our own', async t => {
  const r = rig('unknown')
  r.relay.gaveUp({ type: 'failed', fingerprint: 'bob', reason: 'no-path', natKind: 'unknown' })
  t.same(r.log, [], 'nothing known about bob: nothing to do')
  r.relay.punch(target('unknown'))
  r.relay.joinOffered({ type: 'relay', fingerprint: 'bob', dhPublic: new Uint8Array(32), offer: { relay: { host: '198.51.100.8', port: 7000 }, allocationId: new Uint8Array(8), port: 40200, pairSecret: new Uint8Array(32) }, dial: false })
  await run(r, AUTO_RELAY_RACE_MS + 100)
  t.same(r.log, ['punch', 'join 198.51.100.8'], 'the peer\'s relay offer came first: we join it and allocate none of our own')
  r.relay.gaveUp({ type: 'failed', fingerprint: 'bob', reason: 'no-path', natKind: 'unknown' })
  await run(r, 50)
  t.equal(r.log.filter(l => l.startsWith('allocate')).length, 0, 'no fallback while a relay path is held')
  const fresh = rig('unknown')
  fresh.relay.punch(target('unknown'))
  await run(fresh, 20)
  fresh.relay.gaveUp({ type: 'failed', fingerprint: 'bob', reason: 'no-path', natKind: 'unknown' })
  await run(fresh, 50)
  t.same(fresh.log, ['punch', 'allocate 198.51.100.7', 'relay-message 198.51.100.7'], 'gave up before the race: the relay is offered now')
  await run(fresh, AUTO_RELAY_RACE_MS)
  t.equal(fresh.log.filter(l => l.startsWith('allocate')).length, 1, 'and the race does not allocate a second one')
})

t.test('a stranger is answered with a relay from our own rendezvous; stop closes every path', async t => {
  const r = rig('address-dependent')
  r.relay.answerStranger({ fingerprint: 'carol', dhPublic: new Uint8Array(32), punchId: new Uint8Array(16), handle: new Uint8Array(16), rendezvous: '198.51.100.9:7000' })
  await run(r, 50)
  t.same(r.log, ['allocate 198.51.100.9', 'answer-stranger'])
  t.same(r.relay.report().map(u => u.stranger), [true])
  await r.relay.stop()
  t.same(r.relay.report(), [], 'nothing held after stop')
  t.ok(r.paths.every(p => p.state === 'closed'))
})
