// Two nodes in two processes over real UDP on 127.0.0.1 (session.md §2): XX and IK, in both
// directions, datagrams both ways, and each side verifies the other's fingerprint.
import t from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { PacketType, HandshakePattern } from '../../src/wire/constants.js'
import { spawnPeer } from './fixtures/child.js'
import { TapTransport } from './fixtures/tap.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

async function nextData (s: Session): Promise<string> {
  return await new Promise(resolve => s.once('data', d => { resolve(dec.decode(d)) }))
}

async function local (tap?: TapTransport): Promise<Endpoint> {
  return await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity(), transport: tap })
}

t.test('we dial a peer process: XX, then IK; both verify fingerprints; datagrams both ways', async t => {
  const peer = await spawnPeer()
  t.teardown(peer.stop)
  const to = { host: '127.0.0.1', port: peer.info.port }

  for (const ik of [false, true]) {
    const tap = await TapTransport.bind()
    const ep = await local(tap)
    t.teardown(async () => { await ep.close() })
    const s = await ep.connect(to, {
      expectFingerprint: peer.info.fingerprint,
      remoteStatic: ik ? Uint8Array.from(Buffer.from(peer.info.dhPublic, 'hex')) : undefined
    })
    const greeting = await nextData(s)
    t.equal(s.remoteFingerprint, peer.info.fingerprint, `${ik ? 'IK' : 'XX'}: we verified the peer`)
    t.same(JSON.parse(greeting), { hello: ep.fingerprint }, `${ik ? 'IK' : 'XX'}: the peer verified us`)
    const echo = nextData(s)
    t.ok(s.send(enc.encode('ping')))
    t.equal(await echo, 'echo:ping')
    const init = tap.sentOfType(PacketType.HANDSHAKE_INITIATION)
    t.equal(init.length, 1, 'one initiation (no loss on loopback)')
    t.equal(init[0]?.bytes[6], ik ? HandshakePattern.IK : HandshakePattern.XX)
    t.equal(tap.sentOfType(PacketType.HANDSHAKE_FINAL).length, ik ? 0 : 1, ik ? 'IK: two messages' : 'XX: three messages')
    t.equal(s.remoteAddress.port, peer.info.port)
    s.close()
  }
})

t.test('a peer process dials us: XX and IK; we see its fingerprint, it sees ours', async t => {
  const identity = generateIdentity()
  const ep = await Endpoint.listen({ host: '127.0.0.1', identity })
  t.teardown(async () => { await ep.close() })
  const sessions: Session[] = []
  ep.on('session', s => { sessions.push(s) })

  for (const ik of [false, true]) {
    const args = ['--connect', `127.0.0.1:${ep.address.port}`, '--expect', ep.fingerprint]
    if (ik) args.push('--static', Buffer.from(identity.dhPublic).toString('hex'))
    const got = new Promise<{ s: Session, first: string }>(resolve => {
      ep.once('session', s => { s.once('data', d => { resolve({ s, first: dec.decode(d) }) }) })
    })
    const peer = await spawnPeer(args)
    t.teardown(peer.stop)
    const connected = await peer.next(o => 'connected' in o || 'error' in o)
    t.same(connected, { connected: true, remote: ep.fingerprint }, `${ik ? 'IK' : 'XX'}: the child verified us`)
    const { s, first } = await got
    t.equal(s.remoteFingerprint, peer.info.fingerprint, 'we verified the child')
    t.same(JSON.parse(first), { hello: ep.fingerprint })
    t.notOk(s.outbound)
    s.send(enc.encode(`to child ${ik ? 'ik' : 'xx'}`))
    const echoed = await peer.next(o => o.data === `to child ${ik ? 'ik' : 'xx'}`)
    t.ok(echoed)
    peer.stop()
  }
  t.equal(sessions.length, 2)
})
