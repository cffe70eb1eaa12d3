// Network lab: the textbook UDP hole punch (as in test/sim/hole-punch.test.ts) through real Linux
// NAT. Two hosts, both at 192.168.1.2 behind their own NAT router (scripts/lab/nat.ts), register
// from port 5000 with a rendezvous server on a public address; it tells each the other's
// reflexive address, and both send punches there at once (plain node:dgram, fixtures
// punch-rendezvous.ts and punch-peer.ts). Through two MASQUERADE routers the source port is kept
// and conntrack lets the other's punch in once the own punch has gone out: both hear each other.
// Through two `--random-fully` routers each punch leaves from a new random port the other side
// was never told about, and its conntrack drops it: neither hears anything. Both pairs run at
// once in one lab (four NATed sites, one rendezvous), to keep the run short.
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { join } from 'node:path'
import { labReady, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { createNatLab, type NatLab } from '../../scripts/lab/nat.js'
import { repoRoot, spawnJson, type JsonChild } from '../../scripts/bench/peers/reliable-child.js'

const PORT = 5000
const PUNCHES = 15
const INTERVAL_MS = 100
// start-up of node processes plus PUNCHES × INTERVAL_MS, with room for a loaded machine
const WAIT_MS = 30_000

const fixture = (name: string): string => join(repoRoot, 'test/lab/fixtures', name)

function inNs (ns: string, script: string, args: string[]): JsonChild {
  return spawnJson('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture(script), ...args])
}

/** Starts the peers at sites `first` and `first + 1` of `net` as one rendezvous group. */
function startPair (net: NatLab, rendezvousPort: number, first: number, group: string): JsonChild[] {
  return [first, first + 1].map(i => inNs(net.sites[i]!.hostNs, 'punch-peer.ts', [
    '--port', String(PORT), '--rendezvous', `${net.publicAddress}:${String(rendezvousPort)}`, '--group', group,
    '--punches', String(PUNCHES), '--interval', String(INTERVAL_MS)
  ]))
}

const told = async (p: JsonChild): Promise<string> => String((await p.next(o => typeof o.told === 'string', WAIT_MS)).told)
const heard = (p: JsonChild): unknown[] => p.lines.filter(o => typeof o.heard === 'string').map(o => o.heard)

if (labReady(t, 'the NAT hole-punch lab', iptablesUnavailableReason)) {
  t.test('the textbook hole punch through real Linux NAT', async t => {
    await withLab(async lab => {
      const net = await createNatLab(lab, ['masquerade', 'masquerade', 'random-fully', 'random-fully'])
      const wan = net.sites.map(s => s.wanAddress)
      const rendezvous = inNs(net.inetNs, 'punch-rendezvous.ts', ['--host', net.publicAddress])
      const children = [rendezvous]
      try {
        const port = Number((await rendezvous.next(o => typeof o.port === 'number', WAIT_MS)).port)
        const masq = startPair(net, port, 0, 'masquerade')
        const random = startPair(net, port, 2, 'random-fully')
        children.push(...masq, ...random)

        await t.test('two MASQUERADE NATs: the punch gets through both ways, at the reflexive addresses', async t => {
          t.same(await Promise.all(masq.map(told)), [`${wan[1]}:${PORT}`, `${wan[0]}:${PORT}`],
            "each was told the other NAT's address, with the port kept")
          // a peer that is done has heard all it will: no need to wait longer when it fails
          await Promise.all(masq.map(async p => await p.next(o => typeof o.heard === 'string' || o.done === true, WAIT_MS)))
          t.same(heard(masq[0]!), [`${wan[1]}:${PORT}`], 'A hears B at exactly the address it was told')
          t.same(heard(masq[1]!), [`${wan[0]}:${PORT}`], 'B hears A at exactly the address it was told')
        })

        await t.test('two --random-fully NATs: every punch is dropped', async t => {
          const addresses = await Promise.all(random.map(told))
          t.ok(addresses[0]!.startsWith(`${wan[3]}:`) && addresses[1]!.startsWith(`${wan[2]}:`), `both were introduced (${addresses.join(', ')})`)
          const done = await Promise.all(random.map(async p => await p.next(o => o.done === true, WAIT_MS)))
          t.same(done.map(o => o.error), [undefined, undefined], 'both sent all their punches')
          t.same(random.map(heard), [[], []], 'neither heard the other')
        })
      } finally {
        for (const c of children) c.stop()
      }
    })
  })
}
