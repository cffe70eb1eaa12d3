// Real mDNS on 127.0.0.1 (multicast loopback, port 5353): two MdnsDiscovery instances in one
// process that know each other's fingerprint find each other (rotation.test.ts: across token
// windows); a stranger's node is never a peer and nothing on the link names a fingerprint; a
// stop() says goodbye, interface changes are re-announced, junk from the link is counted, and a
// legacy resolver gets a unicast answer (discovery.md §2.4, §3–§5).
import t, { type Test } from 'tap'
import { createSocket } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import packet from 'dns-packet'
import type { Packet } from 'dns-packet'
import multicastDns from 'multicast-dns'
import { MdnsDiscovery, type DiscoveredPeer, type LostPeer } from '../../src/discovery/index.js'
import { SERVICE_TYPE } from '../../src/discovery/constants.js'
import type { DatagramSockets, MulticastOptions } from '../../src/io/datagram.js'
import { udpSockets } from '../../src/io/udp.js'
import { discovery, LOOPBACK, newFingerprint, until, waitForEvent } from './fixtures/helpers.js'

t.test('two contacts on 127.0.0.1 discover each other; stop() makes the other emit peer-lost', async (t) => {
  const fa = newFingerprint()
  const fb = newFingerprint()
  const a = discovery(t, { fingerprint: fa, port: 40101, contacts: () => [fb] })
  const b = discovery(t, { fingerprint: fb, port: 40102, contacts: () => [fa] })
  const aSeesB = waitForEvent<DiscoveredPeer>(a, 'peer', p => p.fingerprint === fb, 10_000)
  const bSeesA = waitForEvent<DiscoveredPeer>(b, 'peer', p => p.fingerprint === fa, 10_000)
  await a.start()
  await b.start()
  const [pb, pa] = await Promise.all([aSeesB, bSeesA])
  t.same(pb.addresses.filter(x => x.host === '127.0.0.1'), [{ host: '127.0.0.1', port: 40102 }], 'A has B’s address and dmess port')
  t.same(pa.addresses.filter(x => x.host === '127.0.0.1'), [{ host: '127.0.0.1', port: 40101 }], 'B has A’s address and dmess port')
  t.equal(pb.protocolVersion, 1)
  t.ok(pb.lastSeen > 0)
  t.ok(a.peers().some(p => p.fingerprint === fb), 'peers() lists B')
  t.notOk(a.peers().some(p => p.fingerprint === fa), 'A never lists itself')
  t.ok(a.stats().drops.own > 0, `A heard its own announcements and ignored them (${a.stats().drops.own})`)

  const lost = waitForEvent<LostPeer>(a, 'peer-lost', l => l.fingerprint === fb, 10_000)
  const stoppedAt = Date.now()
  await b.stop()
  const l = await lost
  t.equal(l.reason, 'goodbye')
  t.comment(`peer-lost ${Date.now() - stoppedAt} ms after stop() (RFC 6762 §10.1 waits 1 s)`)
  t.notOk(a.peers().some(p => p.fingerprint === fb), 'B is gone from peers()')
  t.ok(b.stats().goodbyes >= 1)
})

t.test('a node that falls silent (no goodbye) expires with its TTL after unanswered refreshes', async (t) => {
  let cut = false
  // B's link goes dead after discovery: everything it sends is lost, as if it crashed
  const factory = (opts: multicastDns.Options): multicastDns.MulticastDNS => {
    const m = multicastDns(opts)
    const respond = m.respond.bind(m) as (...args: unknown[]) => void
    const query = m.query.bind(m) as (...args: unknown[]) => void
    const gate = (send: (...args: unknown[]) => void) => (...args: unknown[]): void => {
      if (!cut) return send(...args)
      const cb = args.find(x => typeof x === 'function') as (() => void) | undefined
      cb?.()
    }
    Object.assign(m, { respond: gate(respond), query: gate(query) })
    return m
  }
  const fb = newFingerprint()
  const a = discovery(t, { port: 40151, contacts: () => [fb] })
  const b = discovery(t, { fingerprint: fb, port: 40152, ttl: 3, mdnsFactory: factory })
  const found = waitForEvent<DiscoveredPeer>(a, 'peer', p => p.fingerprint === fb, 10_000)
  await a.start()
  await b.start()
  await found
  cut = true
  const cutAt = Date.now()
  const queriesBefore = a.stats().queries
  const lost = await waitForEvent<LostPeer>(a, 'peer-lost', l => l.fingerprint === fb, 15_000)
  t.equal(lost.reason, 'expired')
  t.comment(`lost ${Date.now() - cutAt} ms after B fell silent (TTL 3 s)`)
  t.ok(a.stats().queries > queriesBefore, 'A asked before giving up (refresh at 80–95 % of TTL)')
})

t.test('an interface change is re-announced and peers see the new address (RFC 6762 §8.3)', async (t) => {
  let extra: string | null = null
  const table = (): ReturnType<typeof networkInterfaces> => {
    const real = networkInterfaces()
    if (extra === null) return real
    const lo = real.lo ?? []
    return { ...real, lo: [...lo, { address: extra, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: `${extra}/64`, scopeid: 0 }] }
  }
  const fa = newFingerprint()
  const a = discovery(t, { fingerprint: fa, port: 40111, networkInterfaces: table, interfacePollMs: 100 })
  const b = discovery(t, { port: 40112, contacts: () => [fa] })
  const found = waitForEvent<DiscoveredPeer>(b, 'peer', p => p.fingerprint === fa, 10_000)
  await b.start()
  await a.start()
  await found
  const moved = waitForEvent<DiscoveredPeer>(b, 'peer', p => p.fingerprint === fa && p.addresses.some(x => x.host === 'fd00:dead::7'), 10_000)
  const announced = a.stats().announcements
  extra = 'fd00:dead::7'
  const p = await moved
  t.ok(p.addresses.some(x => x.host === '127.0.0.1'), 'old address kept')
  t.ok(a.stats().announcements > announced, 'announced again after the change')
})

t.test('junk on the link is counted, not believed', async (t) => {
  const a = discovery(t, { port: 40121 })
  await a.start()
  const rogue = multicastDns({ ...LOOPBACK })
  t.teardown(() => new Promise<void>(resolve => rogue.destroy(() => resolve())))
  await new Promise(resolve => rogue.once('ready', resolve))
  const inst = `rogue-00000001.${SERVICE_TYPE}`
  const fake = (txt: string[]): Packet => ({
    type: 'response',
    answers: [
      { name: SERVICE_TYPE, type: 'PTR', ttl: 120, data: inst },
      { name: inst, type: 'SRV', ttl: 120, data: { port: 9, target: 'rogue.local' } },
      { name: inst, type: 'TXT', ttl: 120, data: txt },
      { name: 'rogue.local', type: 'A', ttl: 120, data: '127.0.0.1' }
    ]
  })
  const before = a.stats().drops
  let peers = 0
  a.on('peer', () => { peers++ })
  rogue.respond(fake(['v=1']) as multicastDns.ResponseOutgoingPacket) // no token
  rogue.respond(fake([`fp=${newFingerprint()}`, 'v=1']) as multicastDns.ResponseOutgoingPacket) // an old node's fingerprint instead of a token
  rogue.respond({ answers: [{ name: `x.${SERVICE_TYPE}`, type: 'SRV', ttl: 120, data: { port: 0, target: 'x.local' } }] })
  rogue.respond({ answers: [{ name: a.instanceName, type: 'TXT', ttl: 120, data: [`t=${'0'.repeat(32)}`, 'v=1'] }] }) // claims our name
  const raw = createSocket('udp4')
  t.teardown(() => new Promise<void>(resolve => raw.close(() => resolve())))
  await new Promise<void>(resolve => raw.bind(0, '127.0.0.1', () => resolve()))
  raw.setMulticastInterface('127.0.0.1')
  raw.send(Buffer.from('00008400000000010000000003', 'hex'), 5353, '224.0.0.251') // truncated
  const counted = await until(() => {
    const d = a.stats().drops
    return d['bad-txt'] >= before['bad-txt'] + 2 && d['bad-srv'] >= before['bad-srv'] + 1 && d.own >= before.own + 1 &&
      d.undecodable >= before.undecodable + 1
  }, 5000)
  t.ok(counted, `drops counted: ${JSON.stringify(a.stats().drops)}`)
  t.equal(peers, 0, 'no peer from any of it')
  t.equal(a.peers().length, 0)
})

t.test('a legacy resolver (source port ≠ 5353) gets a unicast answer with its query id (RFC 6762 §6.7)', async (t) => {
  const a = discovery(t, { port: 40131 })
  await a.start()
  const sock = createSocket('udp4')
  t.teardown(() => new Promise<void>(resolve => sock.close(() => resolve())))
  await new Promise<void>(resolve => sock.bind(0, '127.0.0.1', () => resolve()))
  sock.setMulticastInterface('127.0.0.1')
  const reply = new Promise<Packet>((resolve) => {
    sock.on('message', (msg) => {
      try {
        const p = packet.decode(msg)
        if (p.id === 4242) resolve(p)
      } catch { /* not for us */ }
    })
  })
  const query = packet.encode({ type: 'query', id: 4242, questions: [{ name: a.instanceName, type: 'SRV' }] })
  sock.send(query, 5353, '224.0.0.251')
  const timeout = new Promise<null>(resolve => setTimeout(() => resolve(null), 5000).unref())
  const res = await Promise.race([reply, timeout])
  t.ok(res, 'a unicast reply arrived')
  const srv = res?.answers?.find(x => x.type === 'SRV') as { data: { port: number }, ttl: number, flush?: boolean } | undefined
  t.equal(srv?.data.port, 40131)
  t.ok((srv?.ttl ?? 99) <= 10, 'TTL at most 10 s')
  t.notOk(srv?.flush, 'no cache-flush bit')
  t.same(res?.questions?.map(q => q.name), [a.instanceName], 'question repeated')
})

t.test('start() refuses twice; stop() is idempotent; bad options are local errors', async (t) => {
  const a = discovery(t, { port: 40141 })
  await a.start()
  await t.rejects(a.start(), { code: 'BAD_ARGUMENT' })
  await a.stop()
  await a.stop()
  t.throws(() => new MdnsDiscovery({ fingerprint: 'nope', port: 1 }), { code: 'BAD_FINGERPRINT' })
  t.throws(() => new MdnsDiscovery({ fingerprint: newFingerprint(), port: 70000 }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new MdnsDiscovery({ fingerprint: newFingerprint(), port: 1, hostname: 'a.b.c' }), { code: 'BAD_ARGUMENT' })
})

t.test('a socket that cannot bind rejects start() with MDNS_UNAVAILABLE', async (t) => {
  const d = new MdnsDiscovery({ fingerprint: newFingerprint(), port: 1, interface: '127.0.0.1', bind: '192.0.2.1' })
  await t.rejects(d.start(), { code: 'MDNS_UNAVAILABLE' })
})

t.test('the mDNS socket comes from the sockets it is given: their openMulticast, with SO_REUSEADDR', async (t) => {
  const opened: MulticastOptions[] = []
  const outgoing: string[] = []
  const sockets: DatagramSockets = {
    bind: udpSockets.bind,
    openMulticast: opts => {
      opened.push(opts)
      const s = udpSockets.openMulticast!(opts)
      const set = s.setMulticastInterface.bind(s)
      s.setMulticastInterface = iface => { outgoing.push(iface); set(iface) }
      return s
    }
  }
  const fa = newFingerprint()
  const fb = newFingerprint()
  const a = discovery(t, { fingerprint: fa, port: 40143, contacts: () => [fb], sockets })
  const b = discovery(t, { fingerprint: fb, port: 40144, contacts: () => [fa] })
  const found = waitForEvent<DiscoveredPeer>(b, 'peer', p => p.fingerprint === fa, 10_000)
  await b.start()
  await a.start()
  await found
  t.same(opened, [{ reuseAddr: true }], 'one multicast socket, port shared (RFC 6762 §15.1)')
  t.ok(outgoing.includes('127.0.0.1'), 'its announcements left by the interface it was given')
})

t.test('sockets without multicast (the simulator, offline): start() rejects with MDNS_UNAVAILABLE and can be retried', async (t) => {
  const d = new MdnsDiscovery({ fingerprint: newFingerprint(), port: 40145, ...LOOPBACK, sockets: { bind: udpSockets.bind } })
  await t.rejects(d.start(), { code: 'MDNS_UNAVAILABLE' })
  await t.rejects(d.start(), { code: 'MDNS_UNAVAILABLE' }, 'back to idle, not stuck starting')
  await d.stop()
})

/** Every name and TXT string a raw mDNS browser hears on the link while `run` runs. */
async function overheard (t: Test, run: (heard: string[]) => Promise<void>): Promise<string[]> {
  const spy = multicastDns({ ...LOOPBACK })
  t.teardown(() => new Promise<void>(resolve => spy.destroy(() => resolve())))
  await new Promise(resolve => spy.once('ready', resolve))
  const heard: string[] = []
  spy.on('response', (res: Packet) => {
    for (const r of [...(res.answers ?? []), ...(res.additionals ?? [])]) {
      heard.push(r.name)
      const data = (r as { data?: unknown }).data
      if (typeof data === 'string') heard.push(data)
      else if (Array.isArray(data)) heard.push(...data.map(x => Buffer.isBuffer(x) ? x.toString('latin1') : String(x)))
      else if (data !== null && typeof data === 'object') heard.push(JSON.stringify(data))
    }
  })
  spy.query({ questions: [{ name: SERVICE_TYPE, type: 'PTR' }] })
  await run(heard)
  return heard
}

t.test('a stranger on the link: no fingerprint in any record, and its node is never our peer', async (t) => {
  const fa = newFingerprint()
  const fb = newFingerprint()
  const fs = newFingerprint()
  const a = discovery(t, { fingerprint: fa, port: 40161, contacts: () => [fb] })
  const b = discovery(t, { fingerprint: fb, port: 40162, contacts: () => [fa] })
  const s = discovery(t, { fingerprint: fs, port: 40163, contacts: () => [] }) // a stranger to both, knows nobody
  const strangerPeers: string[] = []
  s.on('peer', p => strangerPeers.push(p.fingerprint))
  a.on('peer', p => { if (p.fingerprint === fs) strangerPeers.push(`a saw ${p.fingerprint}`) })
  const heard = await overheard(t, async heard => {
    const aSeesB = waitForEvent<DiscoveredPeer>(a, 'peer', p => p.fingerprint === fb, 10_000)
    const bSeesA = waitForEvent<DiscoveredPeer>(b, 'peer', p => p.fingerprint === fa, 10_000)
    await s.start()
    await a.start()
    await b.start()
    await Promise.all([aSeesB, bSeesA])
    // the stranger has heard both contacts' records, and the spy all three tokens
    const heardAll = await until(() => s.stats().cached >= 2 && new Set(heard.filter(x => x.startsWith('t='))).size >= 3, 10_000)
    t.ok(heardAll, 'everyone heard everyone')
  })
  const txt = heard.filter(x => x.startsWith('t='))
  t.ok(txt.length >= 3, `the spy heard the tokens of all three (${new Set(txt).size} distinct)`)
  for (const fp of [fa, fb, fs]) {
    const pieces = Array.from({ length: fp.length - 7 }, (_, i) => fp.slice(i, i + 8))
    const leaks = heard.filter(x => pieces.some(p => x.toLowerCase().includes(p)))
    t.same(leaks, [], 'no fingerprint, nor any 8-character piece of one, in any name or record the link carries')
  }
  t.same(strangerPeers, [], 'the stranger recognises nobody, and nobody lists the stranger')
  t.ok(s.stats().cached >= 2, `the stranger did hear both contacts' records (${s.stats().cached} instances cached)`)
  t.notOk(a.peers().some(p => p.fingerprint === fs))
})
