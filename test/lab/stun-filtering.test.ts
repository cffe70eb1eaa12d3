// Network lab: NAT filtering discovery (RFC 5780 §4.4) through real Linux NAT (scripts/lab/nat.ts).
// A STUN behaviour server on two public addresses × two ports in the lab's internet; a node's STUN
// wiring (fixture stun-probe.ts) behind a MASQUERADE router finds address-and-port-dependent
// filtering (conntrack admits only replies), behind a `--random-fully` router the same, behind a
// full-cone router (MASQUERADE + DNAT of the WAN to the host) endpoint-independent filtering —
// a full cone, reachable at its reflexive address without a punch — and on the internet side no
// NAT and nothing filtering: publicly reachable.
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { join } from 'node:path'
import { addAddress, labReady, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { createNatLab } from '../../scripts/lab/nat.js'
import { repoRoot, spawnJson, type JsonChild } from '../../scripts/bench/peers/reliable-child.js'

const PORTS = [3478, 3479]
const LOCAL_PORT = 5000
const SECOND_PUBLIC = '198.18.0.2'
const WAIT_MS = 60_000

const fixture = (name: string): string => join(repoRoot, 'test/lab/fixtures', name)
const inNs = (ns: string, script: string, args: string[]): JsonChild =>
  spawnJson('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture(script), ...args])

if (labReady(t, 'the STUN filtering lab', iptablesUnavailableReason)) {
  t.test('STUN tells the filtering of real Linux NAT', async t => {
    await withLab(async lab => {
      const net = await createNatLab(lab, ['masquerade', 'random-fully', 'full-cone'])
      await addAddress(net.inetNs, 'lo', `${SECOND_PUBLIC}/32`)
      const hosts = [net.publicAddress, SECOND_PUBLIC]
      const server = inNs(net.inetNs, 'stun-behaviour-server.ts', [...hosts.flatMap(h => ['--host', h]), ...PORTS.flatMap(p => ['--port', String(p)])])
      const children: JsonChild[] = [server]
      try {
        await server.next(o => Array.isArray(o.listening), WAIT_MS)
        // the mapping test needs two server IPs: the behaviour server's primary and its A2:P1
        const serverArgs = hosts.flatMap(h => ['--server', `${h}:${PORTS[0]!}`])
        const probe = async (ns: string): Promise<Record<string, unknown>> => {
          const p = inNs(ns, 'stun-probe.ts', ['--port', String(LOCAL_PORT), ...serverArgs])
          children.push(p)
          return await p.next(o => typeof o.natKind === 'string', WAIT_MS)
        }
        const [masq, random, cone, open] = await Promise.all([...net.sites.map(async s => await probe(s.hostNs)), probe(net.inetNs)])

        t.equal(masq!.natKind, 'endpoint-independent', 'MASQUERADE: endpoint-independent mapping')
        t.equal(masq!.filtering, 'address-and-port-dependent', 'MASQUERADE: address-and-port-dependent filtering')
        t.equal(masq!.fullCone, false, 'MASQUERADE: needs a punch')

        t.equal(random!.natKind, 'address-dependent', '--random-fully: address-dependent mapping')
        t.equal(random!.filtering, 'address-and-port-dependent', '--random-fully: address-and-port-dependent filtering')
        t.equal(random!.fullCone, false, '--random-fully: needs a punch')

        t.equal(cone!.natKind, 'endpoint-independent', 'full cone: endpoint-independent mapping')
        t.equal(cone!.filtering, 'endpoint-independent', 'full cone: endpoint-independent filtering')
        t.equal(cone!.fullCone, true, 'full cone: reachable at its reflexive address without a punch')
        t.equal(cone!.publiclyReachable, false, 'full cone: not publicly reachable (a fresh port has no mapping)')
        t.same(cone!.reflexive, [`${net.sites[2]!.wanAddress}:${LOCAL_PORT}`], 'full cone: the router\'s address, our port kept')

        t.equal(open!.natKind, 'open', 'internet side: no NAT')
        t.equal(open!.filtering, 'endpoint-independent', 'internet side: nothing filters')
        t.equal(open!.publiclyReachable, true, 'internet side: publicly reachable')
      } finally {
        for (const c of children) c.stop()
      }
    })
  })
}
