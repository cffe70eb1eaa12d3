// One open session per peer (session.md §3.1): the newest handshake wins, except in a
// simultaneous open, where both ends keep the session opened by the smaller fingerprint.
import t from 'tap'
import { supersedes, SIMULTANEOUS_OPEN_WINDOW_MS } from '../../src/transport/peer-policy.js'
import type { SessionCore } from '../../src/transport/session-core.js'

const fake = (outbound: boolean, createdAt: number, remoteFingerprint = 'zz'): SessionCore =>
  ({ outbound, createdAt, remoteFingerprint }) as unknown as SessionCore

t.test('newest wins outside a simultaneous open', async t => {
  t.ok(supersedes(fake(false, 100), fake(false, 0), 'aa', 100), 'same direction: a reconnect')
  t.ok(supersedes(fake(true, 100), fake(true, 0), 'aa', 100))
  t.ok(supersedes(fake(false, 0), fake(true, 0), 'aa', SIMULTANEOUS_OPEN_WINDOW_MS), 'opposite directions but long apart')
})

t.test('simultaneous open: the session initiated by the smaller fingerprint survives, seen from either end', async t => {
  // local 'aa' < remote 'zz': the session we initiated (outbound) survives
  t.ok(supersedes(fake(true, 10), fake(false, 0), 'aa', 10))
  t.notOk(supersedes(fake(false, 10), fake(true, 0), 'aa', 10))
  // the same pair seen from 'zz' (whose remote is 'aa'): it keeps the one it did not initiate
  t.notOk(supersedes(fake(true, 10, 'aa'), fake(false, 0, 'aa'), 'zz', 10))
  t.ok(supersedes(fake(false, 10, 'aa'), fake(true, 0, 'aa'), 'zz', 10))
})

t.test('simultaneous open with one session through a relay: both ends keep the direct one, whoever dialled it', async t => {
  const relayed = new Set<SessionCore>()
  const isRelayed = (s: SessionCore): boolean => relayed.has(s)
  // seen from 'zz' (remote 'aa'): it dialled the relayed session; 'aa' now dials direct, which the
  // smaller-initiator rule alone would let through anyway. From 'aa' it dialled the relayed one
  // and 'zz' dials direct: that rule alone would keep the relayed session.
  const oldAtAa = fake(true, 0)
  const newAtAa = fake(false, 10)
  relayed.add(oldAtAa)
  t.ok(supersedes(newAtAa, oldAtAa, 'aa', 10, isRelayed), 'at aa: the direct session, initiated by zz, replaces aa\'s relayed one')
  const oldAtZz = fake(false, 0, 'aa')
  const newAtZz = fake(true, 10, 'aa')
  relayed.add(oldAtZz)
  t.ok(supersedes(newAtZz, oldAtZz, 'zz', 10, isRelayed), 'at zz: its direct session replaces the relayed one aa initiated')
  t.ok(supersedes(fake(true, 10), fake(false, 0), 'aa', 10, () => true), 'both relayed: the smaller initiator\'s, as before')
  t.notOk(supersedes(fake(false, 10), fake(true, 0), 'aa', 10, () => true), 'and from the other direction')
  const directOld = fake(false, 0)
  const relayedNew = fake(true, 10)
  relayed.add(relayedNew)
  t.notOk(supersedes(relayedNew, directOld, 'aa', 10, isRelayed), 'a relayed session never replaces a direct one in the window, though aa initiated it')
})
