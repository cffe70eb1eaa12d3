// The discovery cache with a fake clock (discovery.md §4, §5): peers appear when complete, go on
// goodbye one second later, expire with their TTLs, get refresh queries at 80–95 %, merge
// instances of one fingerprint, and never include our own records.
import t from 'tap'
import type { Question } from 'dns-packet'
import { PeerCache, type PeerChange } from '../../src/discovery/mdns-cache.js'
import type { Observation } from '../../src/discovery/mdns-parse.js'
import { SERVICE_TYPE } from '../../src/discovery/constants.js'
import { newFingerprint } from './fixtures/helpers.js'
import { discoveryToken, tokenKey } from '../../src/discovery/token.js'

const tokenOf = (fp: string): string => discoveryToken(tokenKey(fp), 1)

const me = newFingerprint()
const OWN_INSTANCE = `me-00000000.${SERVICE_TYPE}`
const OWN_HOST = 'dmess-me.local'
const cache = (maxInstances?: number): PeerCache =>
  new PeerCache({ ownFingerprint: me, ownInstance: OWN_INSTANCE, ownHost: OWN_HOST, random: () => 0, maxInstances })

interface Node { fp: string, instance: string, host: string, port: number, address: string }
function node (label: string, address: string, fp = newFingerprint()): Node {
  return { fp, instance: `${label}.${SERVICE_TYPE}`, host: `${label}.local`, port: 40000 + address.length, address }
}

/** What one announcement of `n` says, with the given TTLs (s). */
function announce (n: Node, ttl = { host: 120, other: 4500 }): Observation[] {
  return [
    { kind: 'ptr', instance: n.instance, ttl: ttl.other },
    { kind: 'srv', instance: n.instance, port: n.port, target: n.host, ttl: ttl.host },
    { kind: 'txt', instance: n.instance, token: tokenOf(n.fp), fingerprint: n.fp, protocolVersion: 1, ttl: ttl.other },
    { kind: 'addr', host: n.host, family: 4, address: n.address, ttl: ttl.host, flush: true }
  ]
}
const bye = (n: Node): Observation[] => announce(n, { host: 0, other: 0 })
const kinds = (cs: PeerChange[]): string[] => cs.map(c => c.type === 'peer' ? `peer ${c.peer.fingerprint}` : `lost ${c.lost.fingerprint} ${c.lost.reason}`)
const names = (qs: Question[]): string[] => qs.map(q => `${q.name} ${q.type}`).sort()

t.test('a complete instance becomes a peer with fingerprint, address:port, version and lastSeen', async (t) => {
  const c = cache()
  const a = node('a', '10.0.0.2')
  const { changes, drops } = c.ingest(announce(a), 1000)
  t.same(drops, [])
  t.same(changes, [{ type: 'peer', peer: { fingerprint: a.fp, addresses: [{ host: '10.0.0.2', port: a.port }], protocolVersion: 1, lastSeen: 1000 } }])
  t.same(c.ingest(announce(a), 5000).changes, [], 're-announcing the same thing is not news')
  t.equal(c.peers()[0]?.lastSeen, 5000, 'but lastSeen moves')
})

t.test('partial instances are resolved with SRV/TXT and then A/AAAA questions (RFC 6763 §12)', async (t) => {
  const c = cache()
  const a = node('a', '10.0.0.2')
  const [ptr, srv, txt, addr] = announce(a) as [Observation, Observation, Observation, Observation]
  t.same(c.ingest([ptr], 0).changes, [])
  t.same(c.dueQuestions(100), [], 'the rest may still be on its way')
  t.same(names(c.dueQuestions(250)), [`${a.instance} SRV`, `${a.instance} TXT`])
  t.same(c.dueQuestions(300), [], 'not asked again at once')
  t.same(names(c.dueQuestions(1250)), [`${a.instance} SRV`, `${a.instance} TXT`], 'asked again after 1 s')
  c.ingest([srv, txt], 1300)
  t.same(names(c.dueQuestions(3300)), ['a.local A', 'a.local AAAA'])
  t.same(kinds(c.ingest([addr], 3400).changes), [`peer ${a.fp}`])
  t.same(c.dueQuestions(100_000).filter(q => q.type !== 'PTR' && q.type !== 'TXT' && q.type !== 'SRV' && q.type !== 'A'), [])
})

t.test('own records and our fingerprint elsewhere are dropped and counted', async (t) => {
  const c = cache()
  const own: Node = { fp: me, instance: OWN_INSTANCE, host: OWN_HOST, port: 1, address: '10.0.0.1' }
  const r = c.ingest(announce(own), 0)
  t.same(r.changes, [])
  t.same(r.drops, ['own', 'own', 'own', 'own'])
  const twin = node('twin', '10.0.0.3', me)
  const r2 = c.ingest(announce(twin), 0)
  t.same(r2.changes, [], 'another node with our identity is not a peer')
  t.ok(r2.drops.includes('same-identity'))
  t.same(c.peers(), [])
})

t.test('a stranger\'s instance (token not recognised) is cached but never a peer', async (t) => {
  const c = cache()
  const s = node('s', '10.0.0.9')
  const obs = announce(s).map(o => o.kind === 'txt' ? { ...o, fingerprint: null } : o)
  const r = c.ingest(obs, 0)
  t.same(r.changes, [], 'no peer')
  t.same(r.drops, [])
  t.same(c.peers(), [])
  t.equal(c.size, 1, 'cached, so it is not asked for again and again')
  t.same(c.dueQuestions(300).filter(q => q.name === s.instance), [], 'nothing missing to resolve')
})

t.test('a new token window: the last window\'s names are ours too', async (t) => {
  const c = cache()
  c.ownNames(`next-1.${SERVICE_TYPE}`, 'dmess-next-1.local')
  const old: Node = { fp: me, instance: OWN_INSTANCE, host: OWN_HOST, port: 1, address: '10.0.0.1' }
  const now: Node = { fp: me, instance: `next-1.${SERVICE_TYPE}`, host: 'dmess-next-1.local', port: 1, address: '10.0.0.1' }
  t.same(c.ingest(bye(old), 0).drops, ['own', 'own', 'own', 'own'], 'the goodbye of the last window, looped back')
  t.same(c.ingest(announce(now), 0).drops, ['own', 'own', 'own', 'own'], 'this window\'s announcement')
})

t.test('goodbye: the peer is lost one second later, not before (RFC 6762 §10.1)', async (t) => {
  const c = cache()
  const a = node('a', '10.0.0.2')
  c.ingest(announce(a), 0)
  t.same(c.ingest(bye(a), 10_000).changes, [], 'TTL 0 is not instant')
  t.equal(c.nextDeadline(), 11_000)
  t.same(c.expire(10_999), [])
  const lost = c.expire(11_000)
  t.same(lost, [{ type: 'peer-lost', lost: { fingerprint: a.fp, reason: 'goodbye', lastSeen: 10_000 } }])
  t.same(c.peers(), [])
  t.equal(c.size, 0, 'nothing left in the cache')
  t.same(c.ingest(bye(a), 12_000), { drops: [], changes: [] }, 'a goodbye for something unknown creates nothing')
})

t.test('TTL expiry: refresh queries at 80/85/90/95 %, then the peer is lost (RFC 6762 §5.2)', async (t) => {
  const c = cache()
  const a = node('a', '10.0.0.2')
  c.ingest(announce(a, { host: 100, other: 200 }), 0)
  t.same(c.dueQuestions(79_999), [])
  const at80 = names(c.dueQuestions(80_000))
  t.same(at80, [`${a.instance} SRV`, 'a.local A'], 'host records (100 s) first')
  t.same(names(c.dueQuestions(85_000)), [`${a.instance} SRV`, 'a.local A'])
  t.same(names(c.dueQuestions(90_000)), [`${a.instance} SRV`, 'a.local A'])
  t.same(names(c.dueQuestions(95_000)), [`${a.instance} SRV`, 'a.local A'])
  t.same(c.dueQuestions(99_000), [], 'four refreshes, no more')
  t.same(c.expire(99_999), [])
  t.same(kinds(c.expire(100_000)), [`lost ${a.fp} expired`])
  t.same(names(c.dueQuestions(160_000)), [`${SERVICE_TYPE} PTR`, `${a.instance} SRV`, `${a.instance} TXT`],
    'PTR and TXT still cached and refreshed at 80 %; the missing SRV is asked for')
  c.expire(200_000)
  t.equal(c.size, 0)
})

t.test('an answer to a refresh keeps the peer', async (t) => {
  const c = cache()
  const a = node('a', '10.0.0.2')
  c.ingest(announce(a), 0)
  c.dueQuestions(96_000)
  c.ingest(announce(a), 97_000)
  t.same(c.expire(150_000), [])
  t.equal(c.peers().length, 1)
})

t.test('cache-flush: a new address replaces the old one after a second (RFC 6762 §10.2)', async (t) => {
  const c = cache()
  const a = node('a', '10.0.0.2')
  c.ingest(announce(a), 0)
  const moved: Observation = { kind: 'addr', host: a.host, family: 4, address: '10.0.0.99', ttl: 120, flush: true }
  const r = c.ingest([moved], 5000)
  t.same(r.changes.map(x => x.type === 'peer' && x.peer.addresses.map(y => y.host)), [['10.0.0.2', '10.0.0.99']], 'both for a second')
  const after = c.expire(6000)
  t.same(after.map(x => x.type === 'peer' && x.peer.addresses.map(y => y.host)), [['10.0.0.99']])
  const second: Observation = { ...moved, address: '10.0.0.100', flush: false }
  c.ingest([second], 7000)
  t.same(c.peers()[0]?.addresses.map(y => y.host).sort(), ['10.0.0.100', '10.0.0.99'], 'no flush bit: addresses add up')
})

t.test('two instances of one fingerprint merge; losing one is a change, not a loss', async (t) => {
  const c = cache()
  const fp = newFingerprint()
  const a = node('a', '10.0.0.2', fp)
  const b = { ...node('b', '10.0.0.3', fp), port: 5 }
  c.ingest([...announce(a), ...announce(b)], 0)
  t.same(c.peers()[0]?.addresses, [{ host: '10.0.0.2', port: a.port }, { host: '10.0.0.3', port: 5 }])
  c.ingest(bye(b), 1000)
  const r = c.expire(2000)
  t.same(kinds(r), [`peer ${fp}`])
  t.same(c.peers()[0]?.addresses, [{ host: '10.0.0.2', port: a.port }])
})

t.test('bounds: at most maxInstances instances; known answers need > half their TTL', async (t) => {
  const c = cache(2)
  c.ingest(announce(node('a', '10.0.0.2')), 0)
  c.ingest(announce(node('b', '10.0.0.3')), 0)
  const r = c.ingest(announce(node('c', '10.0.0.4')), 0)
  t.same(r.drops, ['cache-full', 'cache-full', 'cache-full'])
  t.equal(c.size, 2)
  t.equal(c.knownAnswers(0).length, 2)
  t.equal(c.knownAnswers(2_250_000).length, 0, 'at half the PTR TTL they no longer suppress answers')
  t.equal(c.knownAnswers(2_249_000).length, 2)
})

t.test('a TXT that changes fingerprint loses the old peer and finds the new one', async (t) => {
  const c = cache()
  const a = node('a', '10.0.0.2')
  c.ingest(announce(a), 0)
  const other = newFingerprint()
  const r = c.ingest([{ kind: 'txt', instance: a.instance, token: tokenOf(other), fingerprint: other, protocolVersion: 2, ttl: 4500 }], 10)
  t.same(kinds(r.changes).sort(), [`lost ${a.fp} expired`, `peer ${other}`].sort())
  t.equal(c.peers()[0]?.protocolVersion, 2)
})
