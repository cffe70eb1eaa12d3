// Real mDNS on 127.0.0.1: two contacts keep each other as peers across token windows, while
// each window brings a new token, instance name and host name (proto-spec/discovery.md §2.4).
import t from 'tap'
import type { DiscoveredPeer } from '../../src/discovery/index.js'
import { discovery, newFingerprint, until, waitForEvent } from './fixtures/helpers.js'

t.test('contacts keep each other across token windows: new token and names, no peer lost', async (t) => {
  const fa = newFingerprint()
  const fb = newFingerprint()
  const windowMs = 2500
  const a = discovery(t, { fingerprint: fa, port: 40171, contacts: () => [fb], tokenWindowMs: windowMs })
  const b = discovery(t, { fingerprint: fb, port: 40172, contacts: () => [fa], tokenWindowMs: windowMs })
  const lost: string[] = []
  b.on('peer-lost', l => lost.push(l.fingerprint))
  const bSeesA = waitForEvent<DiscoveredPeer>(b, 'peer', p => p.fingerprint === fa, 10_000)
  await a.start()
  await b.start()
  await bSeesA
  const names = new Set([a.instanceName])
  // three window boundaries: each goodbye before the last has had a whole window to take effect
  t.ok(await until(() => { names.add(a.instanceName); return names.size >= 4 }, 5 * windowMs + 2000), `A rotated its names: ${[...names].join(', ')}`)
  t.ok(await until(() => b.peers().some(p => p.fingerprint === fa), 5000), 'B has A as a peer')
  t.same(lost, [], 'B never lost A across the rotations')
  t.ok(b.peers().some(p => p.fingerprint === fa && p.addresses.some(x => x.host === '127.0.0.1' && x.port === 40171)))
  t.ok(a.stats().goodbyes >= 2, 'A said goodbye to each old window')
})
