// Session flood (proto-spec/session.md §3.7): strangers — real identities, each with a real
// Endpoint on its own loopback address — open sessions to a node and keep them idle. Before, 2,000
// of them cost the node 192 MiB. Now sessions with non-contacts are capped at
// MAX_STRANGER_SESSIONS; beyond it the stranger heard from least recently is closed (a stranger
// that just spoke survives older ones: LRU, not FIFO); a contact still connects and is never
// evicted (how long its connect took is printed, not judged: the machine's load is in it); a
// stranger's reliable channel gets a 64 KiB receive window, a contact's 1 MiB; and a stranger's
// message above 128 KiB fails its channel (the window alone would not bound what it makes the
// node assemble).
// Real loopback UDP; bounded in count (each connect gives up after 20 s and fails the test, and
// tap's t.setTimeout below guards the whole): the verdict is what the node held and evicted, not
// how fast this machine opened 2,000 sessions (the duration is printed).
import t from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { MAX_STRANGER_SESSIONS } from '../../src/transport/constants.js'
import { RELIABLE_SESSION_RECV_WINDOW_BYTES, RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES, RELIABLE_SESSION_STRANGER_RECV_WINDOW_BYTES } from '../../src/transport/reliable-session-constants.js'
import { until } from '../transport/fixtures/tap.js'
import { metric } from './fixtures.js'

const STRANGERS = 2000 // what cost 192 MiB before
const BATCH = 40
const HANG_GUARD_MS = 540_000

t.test(`${STRANGERS} stranger sessions: the node holds ${MAX_STRANGER_SESSIONS}, evicts the least recently heard, and a contact still connects`, async t => {
  t.setTimeout(HANG_GUARD_MS)
  const started = Date.now()
  const victimId = generateIdentity()
  const contacts = new Set<string>()
  const victim = await Endpoint.listen({ host: '127.0.0.1', identity: victimId, isContact: fp => contacts.has(fp) })
  const inbound = new Map<string, Session>()
  victim.on('session', s => { inbound.set(s.remoteFingerprint, s) })
  const strangers: Array<{ ep: Endpoint, s: Session | null }> = []
  t.teardown(async () => { for (const x of strangers) await x.ep.close(); await victim.close() })
  const connect = async (i: number): Promise<void> => {
    const ep = await Endpoint.listen({ host: `127.0.${60 + Math.floor(i / 200)}.${1 + (i % 200)}`, identity: generateIdentity() })
    const x = { ep, s: null as Session | null }
    strangers.push(x)
    x.s = await ep.connect(victim.address, { expectFingerprint: victimId.fingerprint, timeoutMs: 20_000 })
  }
  const heapBefore = process.memoryUsage().heapUsed

  // fill to the cap, then the first stranger speaks: it becomes the most recently heard
  for (let i = 0; i < MAX_STRANGER_SESSIONS; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, MAX_STRANGER_SESSIONS - i) }, (_, k) => connect(i + k)))
  await until(() => victim.stats().sessions === MAX_STRANGER_SESSIONS, 10_000, 'the strangers at the cap')
  const first = strangers[0]!
  const firstHeard = new Promise(resolve => inbound.get(first.ep.fingerprint)!.once('data', resolve))
  first.s!.send(new TextEncoder().encode('still here'))
  await firstHeard
  await connect(MAX_STRANGER_SESSIONS)
  await until(() => victim.stats().strangersEvicted === 1, 10_000, 'one eviction')
  await until(() => strangers[1]!.s!.closed !== null, 5000, 'the second stranger (least recently heard) to be closed')
  t.equal(strangers[1]!.s!.closed, 'peer', 'the evicted stranger learns it by a SESSION_CLOSE')
  t.equal(first.s!.closed, null, 'the first stranger, heard from since, is kept: LRU, not FIFO')

  // the rest of the flood
  for (let i = MAX_STRANGER_SESSIONS + 1; i < STRANGERS; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, STRANGERS - i) }, (_, k) => connect(i + k)))
    t.ok(victim.stats().sessions <= MAX_STRANGER_SESSIONS, `after ${i + BATCH} strangers: ${victim.stats().sessions} sessions held`)
  }
  t.equal(strangers.length, STRANGERS, `all ${STRANGERS} strangers connected`)
  // the last FINALs may still be on their way: wait for the responder's side of every handshake
  await until(() => victim.stats().handshakesCompleted >= STRANGERS, 10_000, 'every stranger\'s handshake at the victim')
  t.equal(victim.stats().sessions, MAX_STRANGER_SESSIONS, 'sessions held stay at the cap')
  t.equal(victim.stats().strangersEvicted, STRANGERS - MAX_STRANGER_SESSIONS, 'every stranger beyond the cap evicted one')
  const open = strangers.filter(x => x.s?.closed === null).map(x => x.ep.fingerprint)
  t.same(open.slice(-10), strangers.slice(-10).map(x => x.ep.fingerprint), 'the newest strangers are the ones held')

  // a contact connects during the flood and is not counted against the strangers' cap
  const friendId = generateIdentity()
  contacts.add(friendId.fingerprint)
  const friend = await Endpoint.listen({ host: '127.0.59.1', identity: friendId })
  t.teardown(async () => { await friend.close() })
  const connectStarted = performance.now()
  const fs = await friend.connect(victim.address, { expectFingerprint: victimId.fingerprint })
  const connectMs = performance.now() - connectStarted
  t.equal(fs.remoteFingerprint, victimId.fingerprint, 'the contact connects while the strangers hold every stranger slot')
  await until(() => victim.stats().sessions === MAX_STRANGER_SESSIONS + 1, 5000, 'the contact\'s session')
  for (let i = 0; i < BATCH; i++) await connect(STRANGERS + i) // more strangers after the contact
  t.equal(fs.closed, null, 'the contact is never evicted')
  t.equal(victim.stats().sessions, MAX_STRANGER_SESSIONS + 1)

  // receive windows: what the victim advertises to a stranger and to a contact (reliable.md §9)
  const advertised = async (from: Session, fp: string): Promise<number> => {
    await until(() => inbound.get(fp)?.closed === null, 5000, 'the victim\'s side of the session')
    const remote = new ReliableSession(inbound.get(fp)!)
    const local = new ReliableSession(from)
    t.teardown(() => { remote.close(); local.close() })
    await local.send(new Uint8Array(10))
    await until(() => local.stats.sendBufferedBytes === 0, 5000, 'the acknowledgement, which carries the window')
    return local.stats.peerLimit
  }
  const last = strangers.at(-1)!
  const strangerWindow = await advertised(last.s!, last.ep.fingerprint)
  const contactWindow = await advertised(fs, friendId.fingerprint)
  t.ok(strangerWindow <= RELIABLE_SESSION_STRANGER_RECV_WINDOW_BYTES + 1500, `a stranger may send ${strangerWindow} bytes ahead`)
  t.ok(contactWindow >= RELIABLE_SESSION_RECV_WINDOW_BYTES, `a contact ${contactWindow}`)
  metric(t, 'session-flood.strangers-connected', strangers.length, 'sessions opened')
  metric(t, 'session-flood.sessions-held', victim.stats().sessions - 1, 'stranger sessions', { cap: MAX_STRANGER_SESSIONS })
  metric(t, 'session-flood.evicted', victim.stats().strangersEvicted, 'sessions')
  metric(t, 'session-flood.heap-growth', Math.round((process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024), 'MiB', { note: 'whole process: victim and all stranger endpoints' })
  metric(t, 'session-flood.window', strangerWindow, 'bytes', { contact: contactWindow })
  metric(t, 'session-flood.contact-connect', Math.round(connectMs), 'ms')
  metric(t, 'session-flood.duration', Date.now() - started, 'ms')
})

// The window alone does not bound a stranger's channel: a message is assembled whole once its
// length prefix arrives, and credit is released while it is, so without its own limit one stranger
// session could make the node hold a 4 MiB message (and 128 of them 512 MiB). A stranger's message
// above RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES fails its channel; a contact's 1 MiB arrives.
t.test('a stranger\'s oversized message fails its channel; a contact\'s large message arrives', async t => {
  const victimId = generateIdentity()
  const friendId = generateIdentity()
  const victim = await Endpoint.listen({ host: '127.0.0.1', identity: victimId, isContact: fp => fp === friendId.fingerprint })
  const stranger = await Endpoint.listen({ host: '127.0.58.1', identity: generateIdentity() })
  const friend = await Endpoint.listen({ host: '127.0.58.2', identity: friendId })
  t.teardown(async () => { await stranger.close(); await friend.close(); await victim.close() })
  const inbound = new Map<string, ReliableSession>()
  const received = new Map<string, number[]>()
  const closed = new Map<string, string>()
  victim.on('session', s => {
    const rs = new ReliableSession(s)
    inbound.set(s.remoteFingerprint, rs)
    rs.on('message', m => { received.set(s.remoteFingerprint, [...(received.get(s.remoteFingerprint) ?? []), m.length]) })
    rs.once('close', info => { closed.set(s.remoteFingerprint, info.reason) })
  })
  const send = async (ep: Endpoint, bytes: number): Promise<ReliableSession> => {
    const rs = new ReliableSession(await ep.connect(victim.address, { expectFingerprint: victimId.fingerprint }))
    t.teardown(() => { rs.close() })
    void rs.send(new Uint8Array(bytes)).catch(() => {})
    return rs
  }
  await send(stranger, RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES + 1)
  await send(friend, 1024 * 1024)
  await until(() => closed.get(stranger.fingerprint) !== undefined, 10_000, 'the stranger\'s channel to fail')
  t.equal(closed.get(stranger.fingerprint), 'channel-failed', `a ${RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES + 1}-byte message from a stranger fails its channel`)
  t.same(received.get(stranger.fingerprint), undefined, 'and is never delivered')
  await until(() => (received.get(friendId.fingerprint) ?? []).length === 1, 20_000, 'the contact\'s message')
  t.same(received.get(friendId.fingerprint), [1024 * 1024], 'a contact\'s 1 MiB message arrives')
  t.equal(closed.get(friendId.fingerprint), undefined)
})

// A contact is usually added while a session with the peer is up (the invite's first contact is a
// stranger's session): that session gets a contact's window and message limit once the peer is a
// contact, not at its next session. It kept a stranger's 64 KiB window for its whole life, so a
// file sent to a contact just added went ~64 KiB per round trip (docs/performance.md §10.8).
t.test('a stranger who becomes a contact while the session is up gets a contact\'s window and message limit', async t => {
  const victimId = generateIdentity()
  const friendId = generateIdentity()
  const contacts = new Set<string>()
  const victim = await Endpoint.listen({ host: '127.0.0.1', identity: victimId, isContact: fp => contacts.has(fp) })
  const friend = await Endpoint.listen({ host: '127.0.58.3', identity: friendId })
  t.teardown(async () => { await friend.close(); await victim.close() })
  const received: number[] = []
  let inbound: ReliableSession | undefined
  victim.on('session', s => {
    inbound = new ReliableSession(s)
    inbound.on('message', m => { received.push(m.length) })
  })
  const local = new ReliableSession(await friend.connect(victim.address, { expectFingerprint: victimId.fingerprint }))
  t.teardown(() => { local.close(); inbound?.close() })
  const acked = async (bytes: number): Promise<number> => {
    await local.send(new Uint8Array(bytes))
    await until(() => local.stats.sendBufferedBytes === 0, 20_000, 'the acknowledgement, which carries the window')
    return local.stats.peerLimit - local.ackedOffset
  }
  const asStranger = await acked(10)
  t.ok(asStranger <= RELIABLE_SESSION_STRANGER_RECV_WINDOW_BYTES, `as a stranger it may send ${asStranger} bytes ahead`)
  contacts.add(friendId.fingerprint)
  const asContact = await acked(10)
  t.ok(asContact >= RELIABLE_SESSION_RECV_WINDOW_BYTES, `as a contact ${asContact}`)
  await acked(RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES * 2)
  await until(() => received.length === 3, 20_000, 'the large message')
  t.same(received, [10, 10, RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES * 2], 'a message above a stranger\'s limit arrives once the peer is a contact')
})
