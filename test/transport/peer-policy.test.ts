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
