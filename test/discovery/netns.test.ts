// Two hosts on one LAN (network namespaces on a bridge, scripts/lab/netns.ts), each running
// MdnsDiscovery in its own process with default options, each a contact of the other: each
// recognises the other's token and finds it at its LAN address (never loopback), and a stopped
// node is lost by the other. A third host, a stranger to both, finds neither.
// Root only: skips with the reason elsewhere, fails under CI=true.
import t from 'tap'
import { Lab, createLan, labUnavailableReason } from '../../scripts/lab/netns.js'
import { JsonLinesChild, newFingerprint, prerequisite, ROOT } from './fixtures/helpers.js'

type Line = Record<string, unknown>
interface PeerLine { fingerprint: string, addresses: Array<{ host: string, port: number }> }
const peerIs = (fp: string) => (l: Line): boolean => l.event === 'peer' && (l.peer as PeerLine).fingerprint === fp

t.test('two namespaces on a bridge discover each other by LAN address', async (t) => {
  if (!prerequisite(t, labUnavailableReason())) return
  const lab = new Lab()
  const children: JsonLinesChild[] = []
  t.teardown(async () => {
    for (const c of children) await c.stop('SIGKILL').catch(() => {})
    await lab.destroy()
  })
  const lan = await createLan(lab, { hosts: 3 })
  const nodes = lan.hosts.map((h, i) => ({ host: h, fp: newFingerprint(), port: 42000 + i }))
  const [n0, n1, n2] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]]
  const contactsOf = [[n1.fp], [n0.fp], []] // host 2 is a stranger: it knows nobody, nobody knows it
  nodes.forEach((n, i) => {
    const child = new JsonLinesChild('ip', ['netns', 'exec', n.host.ns, process.execPath, '--import', 'tsx',
      'test/discovery/fixtures/announce.ts', n.fp, String(n.port), '-', ...(contactsOf[i] ?? [])], { cwd: ROOT })
    children.push(child)
  })
  const [c0, c1, c2] = children as [JsonLinesChild, JsonLinesChild, JsonLinesChild]

  const seen1 = (await c0.waitFor(peerIs(n1.fp), 20_000, `${n0.host.ns} seeing ${n1.host.ns}`)).peer as PeerLine
  const seen0 = (await c1.waitFor(peerIs(n0.fp), 20_000, `${n1.host.ns} seeing ${n0.host.ns}`)).peer as PeerLine
  t.same(seen1.addresses, [{ host: n1.host.address, port: n1.port }], `host 0 sees host 1 at ${n1.host.address}:${n1.port} only`)
  t.same(seen0.addresses, [{ host: n0.host.address, port: n0.port }], `host 1 sees host 0 at ${n0.host.address}:${n0.port} only`)
  for (const c of children) {
    const peers = c.lines.filter(l => l.event === 'peer').map(l => l.peer as PeerLine)
    t.notOk(peers.some(p => p.addresses.some(a => a.host.startsWith('127.') || a.host === '::1')), 'no loopback address ever reported')
  }
  // the stranger is on the same LAN: it hears both contacts' records (its stats count them)
  const heard = await c2.waitFor(l => l.event === 'stats' && (l.stats as { cached: number }).cached >= 2, 20_000, 'the stranger hearing both records')
  t.ok((heard.stats as { cached: number }).cached >= 2, `the stranger heard both contacts' records (${(heard.stats as { cached: number }).cached} instances)`)
  await c2.stop('SIGTERM')
  t.same(c2.lines.filter(l => l.event === 'peer'), [], 'but recognised neither: no peer')
  t.notOk([c0, c1].some(c => c.lines.some(peerIs(n2.fp))), 'and neither of them lists the stranger')

  // host 1 stops: its goodbye reaches host 0 across the bridge
  await c1.stop('SIGTERM')
  const stopped = c1.lines.find(l => l.event === 'stopped') as { stats: { goodbyes: number } } | undefined
  t.ok((stopped?.stats.goodbyes ?? 0) >= 1, 'host 1 said goodbye')
  const lost = await c0.waitFor(l => l.event === 'peer-lost' && (l.lost as { fingerprint: string }).fingerprint === n1.fp, 10_000, 'peer-lost')
  t.equal((lost.lost as { reason: string }).reason, 'goodbye')
})
