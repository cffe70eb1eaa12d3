// Network lab: NAT classification through real Linux NAT (scripts/lab/nat.ts). Two STUN servers,
// as `dmess bootstrap` runs them, at two public addresses of the lab's internet; a node's STUN
// wiring (fixture stun-probe.ts) behind a MASQUERADE router finds 'endpoint-independent' (the
// router keeps the port: one reflexive address), behind a `--random-fully` router
// 'address-dependent' (a new random port per server), and on the internet side itself 'open'.
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { join } from 'node:path'
import { addAddress, labReady, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { createNatLab } from '../../scripts/lab/nat.js'
import { repoRoot, spawnJson, type JsonChild } from '../../scripts/bench/peers/reliable-child.js'

const STUN_PORT = 3478
const LOCAL_PORT = 5000
const SECOND_PUBLIC = '198.18.0.2'
const WAIT_MS = 30_000

const fixture = (name: string): string => join(repoRoot, 'test/lab/fixtures', name)
const inNs = (ns: string, script: string, args: string[]): JsonChild =>
  spawnJson('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture(script), ...args])

if (labReady(t, 'the STUN NAT lab', iptablesUnavailableReason)) {
  t.test('STUN classifies real Linux NAT', async t => {
    await withLab(async lab => {
      const net = await createNatLab(lab, ['masquerade', 'random-fully'])
      await addAddress(net.inetNs, 'lo', `${SECOND_PUBLIC}/32`)
      const publicIps = [net.publicAddress, SECOND_PUBLIC]
      const servers = inNs(net.inetNs, 'stun-servers.ts', ['--port', String(STUN_PORT), ...publicIps.flatMap(h => ['--host', h])])
      const children: JsonChild[] = [servers]
      try {
        await servers.next(o => Array.isArray(o.listening), WAIT_MS)
        const serverArgs = publicIps.flatMap(h => ['--server', `${h}:${STUN_PORT}`])
        const probe = async (ns: string): Promise<Record<string, unknown>> => {
          const p = inNs(ns, 'stun-probe.ts', ['--port', String(LOCAL_PORT), ...serverArgs])
          children.push(p)
          return await p.next(o => typeof o.natKind === 'string', WAIT_MS)
        }
        const [masq, random, open] = await Promise.all([probe(net.sites[0]!.hostNs), probe(net.sites[1]!.hostNs), probe(net.inetNs)])

        t.equal(masq.natKind, 'endpoint-independent', 'MASQUERADE: endpoint-independent')
        t.same(masq.reflexive, [`${net.sites[0]!.wanAddress}:${LOCAL_PORT}`], 'one reflexive address: the router\'s, with our port kept')
        t.equal(masq.serving, false, 'behind NAT: not serving STUN')

        t.equal(random.natKind, 'address-dependent', '--random-fully: address-dependent')
        const r = random.reflexive as string[]
        t.equal(r.length, 2, `a different mapping per server: ${r.join(', ')}`)
        t.ok(r.every(a => a.startsWith(`${net.sites[1]!.wanAddress}:`)), 'both on the router\'s address')

        t.equal(open.natKind, 'open', 'on the internet side, no NAT: open')
        t.equal(open.serving, true, 'and then it serves STUN itself')
        for (const o of [masq, random, open]) t.equal(o.answered, 2, 'both servers answered')
      } finally {
        for (const c of children) c.stop()
      }
    })
  })
}
