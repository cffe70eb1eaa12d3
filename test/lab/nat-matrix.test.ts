// The rest of the NAT matrix with real daemons (scripts/lab/nat.ts, scripts/lab/daemons.ts): each
// case starts `dmess bootstrap` in the lab's internet namespace (DHT bootstrap and rendezvous) and
// Alice's and Bob's `dmess daemon` with mDNS off, each in its topology; Bob has Alice as a contact,
// Alice adds Bob by fingerprint and sends, and Bob's daemon must emit the message. Then what the
// users see: `dmess peers --json` (where Alice reaches Bob, how) and `dmess status` (a port mapping).
//  - double NAT: Bob behind a home router behind a carrier-grade NAT (RFC 6598 between them), Alice
//    behind a home router. Both NATs are Linux MASQUERADE, endpoint-independent mapping in practice
//    (nat.ts), so the product must end direct, at the CGN's public address;
//  - one NAT without hairpinning (nothing DNATs its WAN address back in), no mDNS: only Bob's
//    record's LAN candidate leads to him, and Alice must reach him at his private address;
//  - a home router running miniupnpd: Bob's daemon gets a PCP mapping, his record carries it as a
//    `mapped` address (directly reachable: dialled, not punched), Alice behind another NAT dials it
//    and reaches him at the router's public address, and `dmess status` shows the mapping.
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t, { type Test } from 'tap'
import { labReady, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { miniupnpdUnavailableReason } from '../../scripts/lab/miniupnpd.js'
import { withPair, type Home, type Pair, type PairName } from '../../scripts/lab/daemons.js'
import { dmess } from './fixtures/daemons.js'
import { waitFor } from '../daemon/helpers.js'

interface Peer { fingerprint: string, address: string, state: string, path: { via: string, candidate: string | null } | null }

const CONNECT_MS = 60_000

async function peerOf (p: Pair, from: Home, to: Home): Promise<Peer | undefined> {
  return (JSON.parse(await dmess(from, ['peers', '--json'])) as Peer[]).find(q => q.fingerprint === to.fingerprint)
}

/**
 * Alice's peer row for Bob once it is at an address `at` accepts (up to CONNECT_MS): a session
 * found first through a relay moves direct when a candidate answers later (proto-spec/traversal.md
 * §7.3), so one look right after the delivery may still see the relay. The last row either way.
 */
async function settled (p: Pair, at: (address: string) => boolean): Promise<Peer | undefined> {
  let row: Peer | undefined
  await waitFor(async () => at((row = await peerOf(p, p.alice, p.bob))?.address ?? ''), CONNECT_MS).catch(() => {})
  return row
}

/** Alice's message reaches Bob; what Alice's peer list then says of Bob. */
async function connects (t: Test, p: Pair, text: string): Promise<Peer | undefined> {
  const ms = await p.connect(text, CONNECT_MS)
  t.not(ms, null, `Bob got Alice's message (${String(ms)} ms after she added him)`)
  const row = await peerOf(p, p.alice, p.bob)
  t.equal(row?.state, 'online', 'Alice sees Bob online')
  return row
}

function matrixCase (name: string, pair: PairName, body: (t: Test, p: Pair) => Promise<void>): void {
  t.test(name, async t => {
    t.setTimeout(240_000)
    const t0 = Date.now()
    const step = (what: string): void => { t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`) }
    await withLab(async lab => { await withPair(lab, pair, async p => { await body(t, p) }, step) })
    t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s wall`)
  })
}

if (labReady(t, 'the NAT matrix lab', iptablesUnavailableReason, miniupnpdUnavailableReason)) {
  matrixCase('double NAT (home NAT behind a carrier-grade NAT) ↔ home NAT: direct, at the CGN\'s public address', 'double-nat', async (t, p) => {
    const cgn = p.topo.net.sites[1]!
    t.ok(p.record.addresses.some(a => a.kind === 'reflexive' && a.host === cgn.wanAddress), `Bob's record: the CGN's address ${cgn.wanAddress} as his reflexive one (${JSON.stringify(p.record.addresses)})`)
    t.notOk(p.record.addresses.some(a => a.host === cgn.routerWanAddress), 'not his home router\'s 100.64 address: nobody outside can use it')
    await connects(t, p, 'through two NATs')
    const row = await settled(p, a => a.startsWith(`${cgn.wanAddress}:`))
    t.ok(row?.address.startsWith(`${cgn.wanAddress}:`), `Alice reaches Bob at the CGN's address (${row?.address})`)
    t.equal(row?.path?.via, 'direct', 'direct: no relay')
  })

  matrixCase('both behind one NAT without hairpinning, no mDNS: through the LAN candidate of the record', 'same-nat', async (t, p) => {
    t.ok(p.record.addresses.some(a => a.kind === 'lan' && a.host === p.topo.bob.address), `Bob's record carries his LAN address ${p.topo.bob.address} (${JSON.stringify(p.record.addresses)})`)
    await connects(t, p, 'down the hall')
    const row = await settled(p, a => a.startsWith(`${p.topo.bob.address}:`))
    t.ok(row?.address.startsWith(`${p.topo.bob.address}:`), `Alice reaches Bob at his private address (${row?.address})`)
  })

  matrixCase('a home router with miniupnpd: Bob\'s mapping is in his record and Alice dials it directly', 'cone-upnp', async (t, p) => {
    const upnp = p.topo.upnp!
    const mapped = p.record.addresses.find(a => a.kind === 'mapped')
    t.equal(mapped?.host, upnp.wanAddress, `Bob's record carries the mapped address on the router (${JSON.stringify(p.record.addresses)})`)
    // a mapped address makes him directly reachable (traversal.md §2): a reader dials it and does not
    // punch, whatever rendezvous entries from before the mapping the record still lists
    const row = await connects(t, p, 'through the mapped port')
    t.equal(row?.address, `${mapped?.host}:${mapped?.port}`, 'Alice reaches Bob at the mapped address')
    t.equal(row?.path?.via, 'direct')
    const status = await dmess(p.bob, ['status'])
    t.match(status, new RegExp(`Port map: +${upnp.wanAddress.replace(/\./g, '\\.')}:${mapped?.port} via pcp on ${upnp.lanGateway.replace(/\./g, '\\.')}`), '`dmess status` shows the mapping')
  })
}
