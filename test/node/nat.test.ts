// Whole nodes with STUN on (src/node/nat.ts, proto-spec/stun.md §6), on the simulated testnet and on
// real loopback UDP (each node on its own 127.0.x.y). With `serve: 'always'` (a bootstrap's role)
// every node answers; a node asking its bootstrap and DHT contacts finds itself 'open' at the
// address it is bound to. With `serve: 'when-public'` and no node that serves always, nobody can
// learn it is public: that is why `dmess bootstrap` always serves.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { testnet } from './helpers.js'

for (const network of ['sim', 'udp'] as const) {
  const host = (base: number) => network === 'udp' ? (i: number) => `127.0.${base}.${i + 1}` : undefined

  t.test(`${network}: a node asks nodes that serve STUN and finds itself open at its bound address`, async t => {
    const net = await testnet(t, 3, 43, { network, host: host(1), stun: { serve: 'always' } })
    const [n0, n1, n2] = net.nodes as [TestNode, TestNode, TestNode]
    const s = await net.drive(n2.nat!.probe(), 30_000)
    t.equal(s.natKind, 'open')
    t.same(s.reflexive, [`${n2.address.host}:${n2.address.port}`], 'the reflexive address is the bound one')
    t.ok(s.answered >= 1, `its bootstrap (and any DHT contact at another IP) answered: ${s.answered} of ${s.asked}`)
    t.equal(n2.nat!.publiclyReachable(), true)
    t.equal(n2.nat!.reflexive().length, 1)
    t.equal(n0.nat!.service!.server.stats.answered + n1.nat!.service!.server.stats.answered >= s.answered, true, 'the others answered it')
  })

  t.test(`${network}: with only 'when-public' nodes nobody answers, and nobody learns it is public`, async t => {
    const net = await testnet(t, 3, 44, { network, host: host(2), stun: { serve: 'when-public', client: { rtoMs: 50, maxRequests: 2, finalWaitRtos: 4 } } })
    const [n0, , n2] = net.nodes as [TestNode, TestNode, TestNode]
    const s = await net.drive(n2.nat!.probe(), 30_000)
    t.equal(s.natKind, 'unknown')
    t.equal(s.answered, 0)
    t.equal(n2.nat!.serving(), false)
    t.ok((n0.nat!.service!.drops['not-serving'] ?? 0) >= 1, 'its bootstrap left the request unanswered, and counted it')
  })
}
