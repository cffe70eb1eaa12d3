// Interop: python3-zeroconf, an independent mDNS/DNS-SD implementation, lists our service type,
// resolves our instance with the right SRV port, TXT and address, finds no fingerprint (nor a
// piece of one) in any name or TXT string (discovery.md §2.4), and sees our goodbye.
// As root both run in network namespaces on a fresh bridge (isolated from the host's 5353);
// otherwise both run on 127.0.0.1. Skips without /usr/bin/python3 + zeroconf, except under CI=true.
import t from 'tap'
import { Lab, createLan, labUnavailableReason } from '../../scripts/lab/netns.js'
import { JsonLinesChild, newFingerprint, prerequisite, zeroconfUnavailableReason, ROOT, SYSTEM_PYTHON, FIXTURES } from './fixtures/helpers.js'

interface Resolved {
  types: string[]
  services: Array<{ name: string, server: string, port: number, addresses: string[], txt: Record<string, string | null> }>
}

t.test('python3-zeroconf sees _dmess._udp with our TXT, and our goodbye', async (t) => {
  if (!prerequisite(t, zeroconfUnavailableReason())) return
  const inLab = labUnavailableReason() === null
  const lab = new Lab()
  const children: JsonLinesChild[] = []
  t.teardown(async () => {
    for (const c of children) await c.stop('SIGKILL').catch(() => {})
    await lab.destroy()
  })
  const fp = newFingerprint()
  const port = 43210
  let nodeCmd = [process.execPath, '--import', 'tsx', 'test/discovery/fixtures/announce.ts', fp, String(port)]
  let browseCmd = [SYSTEM_PYTHON, `${FIXTURES}/browse.py`, '--seconds', '15', '--until-removed']
  let expectAddress = '127.0.0.1'
  if (inLab) {
    const lan = await createLan(lab, { hosts: 2 })
    const [ours, theirs] = lan.hosts as [typeof lan.hosts[0], typeof lan.hosts[0]]
    nodeCmd = ['ip', 'netns', 'exec', ours.ns, ...nodeCmd]
    browseCmd = ['ip', 'netns', 'exec', theirs.ns, ...browseCmd]
    expectAddress = ours.address
  } else {
    t.comment(`not in a namespace (${labUnavailableReason() ?? ''}): browsing on 127.0.0.1`)
    nodeCmd.push('127.0.0.1')
    browseCmd.push('--interface', '127.0.0.1')
  }
  const node = new JsonLinesChild(nodeCmd[0] as string, nodeCmd.slice(1), { cwd: ROOT })
  children.push(node)
  const ready = await node.waitFor(l => l.event === 'ready', 20_000, 'our node to start')
  const instance = `${String(ready.instanceName)}.`

  const browser = new JsonLinesChild(browseCmd[0] as string, browseCmd.slice(1), { cwd: ROOT })
  children.push(browser)
  const resolved = await browser.waitFor(l => l.event === 'resolved', 30_000, 'zeroconf to resolve') as unknown as Resolved
  t.ok(resolved.types.includes('_dmess._udp.local.'), `service type listed via _services._dns-sd._udp (${resolved.types.join(', ')})`)
  const svc = resolved.services.find(s => s.name === instance)
  t.ok(svc, `zeroconf resolved ${instance}`)
  t.equal(svc?.port, port, 'SRV port')
  t.equal(svc?.server, `${String(ready.hostName)}.`, 'SRV target')
  t.match(svc?.txt.t ?? '', /^[0-9a-f]{32}$/, 'TXT t: the token')
  t.equal(svc?.txt.v, '1', 'TXT v')
  t.same(Object.keys(svc?.txt ?? {}).sort(), ['t', 'v'], 'no other TXT key (no fp, no per-run nonce)')
  const everything = JSON.stringify(resolved).toLowerCase()
  const pieces = Array.from({ length: fp.length - 7 }, (_, i) => fp.slice(i, i + 8))
  t.same(pieces.filter(p => everything.includes(p)), [], 'no 8-character piece of the fingerprint in anything zeroconf saw')
  t.ok(svc?.addresses.includes(expectAddress), `address ${expectAddress} in ${JSON.stringify(svc?.addresses)}`)

  await node.stop('SIGTERM')
  const removed = await browser.waitFor(l => l.event === 'removed', 30_000, 'zeroconf to report removal')
  t.ok((removed.names as string[]).includes(instance), 'zeroconf saw our goodbye and removed the instance')
  await browser.waitFor(l => l.event === 'done', 10_000, 'zeroconf to finish')
})
