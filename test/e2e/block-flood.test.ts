// Blocked peers and flooding peers (messaging.md §6): a blocked fingerprint's messages never reach the
// store; a stranger sending 10,000 contact requests a second (a separate process speaking the
// real protocol, bounded in count and time) is rate-limited and counted, and a contact's
// messages are delivered while the flood runs.
import t from 'tap'

type Teardown = { teardown: (fn: () => Promise<void> | void) => void }
import { join } from 'node:path'
import { spawnJson } from '../../scripts/bench/peers/reliable-child.js'
import { cli, cliJson, history, ipc, makeNodes, startDaemon, waitFor, type Node } from './helpers.js'
import { decodeInvite } from '../../src/crypto/invite.js'

t.setTimeout(600_000)

async function pair (t: Teardown): Promise<[Node, Node]> {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  await startDaemon(t, alice, [bob])
  await startDaemon(t, bob, [alice])
  await cli(alice, ['contacts', 'add', bob.invite])
  await cli(bob, ['contacts', 'add', alice.invite])
  return [alice, bob]
}

interface Stats { blocked: number, sessionsRefused: number, rateLimited: number, framesIn: number, peer?: { admitted: number, rateLimited: number, blocked: number } }

t.test('a blocked fingerprint\'s messages never reach the store (and do once unblocked)', async t => {
  const [alice, bob] = await pair(t)
  const ca = await ipc(alice)
  const cb = await ipc(bob)
  t.teardown(() => { ca.close(); cb.close() })
  const hello = await ca.call('messages.send', { contact: 'bob', text: 'before the block', wait: 'delivered', timeoutMs: 60_000 }, 70_000)
  t.equal(hello.status, 'delivered')

  t.match(await cliJson(bob, ['block', 'alice']), { fingerprint: alice.fingerprint, changed: true })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await ca.call('messages.send', { contact: 'bob', text: `while blocked ${i}` })).id)
  // Alice keeps trying (her daemon redials Bob, a static peer and a contact); give her time
  await waitFor(async () => {
    const s = await cb.call('messaging.stats', {}) as unknown as Stats
    return s.sessionsRefused + s.blocked >= 3
  }, 60_000, () => 'Bob refusing Alice repeatedly')
  const inBob = (await history(bob, 'alice')).map(m => m.text)
  t.same(inBob, ['before the block'], 'nothing Alice sent while blocked is in Bob\'s store')
  t.ok((await history(alice, 'bob')).filter(m => ids.includes(m.id)).every(m => m.status !== 'delivered'), 'and none of it shows as delivered to Alice')
  t.same(await cliJson(bob, ['requests']), [], 'nor is it held as a request')

  t.match(await cliJson(bob, ['unblock', 'alice']), { fingerprint: alice.fingerprint, changed: true })
  await waitFor(async () => (await history(bob, 'alice')).length === 6, 120_000, () => 'the retried messages after unblock')
  t.same((await history(bob, 'alice')).map(m => m.text), ['before the block', ...ids.map((_, i) => `while blocked ${i}`)], 'Alice\'s outbox delivered them after the unblock, in order')
})

t.test('10,000 requests per second from a stranger do not delay a contact\'s messages', async t => {
  const [alice, bob] = await pair(t)
  const bobKeys = decodeInvite(bob.invite).identity
  const ca = await ipc(alice)
  const cb = await ipc(bob)
  t.teardown(() => { ca.close(); cb.close() })
  await ca.call('messages.send', { contact: 'bob', text: 'warm up', wait: 'delivered', timeoutMs: 60_000 }, 70_000)
  const twenty = async (tag: string): Promise<{ ms: number, statuses: string[] }> => {
    const t0 = Date.now()
    const rs = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
      await ca.call('messages.send', { contact: 'bob', text: `${tag} ${i}`, wait: 'delivered', timeoutMs: 60_000 }, 70_000)))
    return { ms: Date.now() - t0, statuses: rs.map(r => r.status) }
  }
  const quiet = await twenty('before the flood')

  const flood = spawnJson(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'flood-peer.ts'),
    '--to', `127.0.0.1:${bob.port}`, '--fingerprint', bob.fingerprint, '--dh', Buffer.from(bobKeys.dhPublic).toString('hex'),
    '--rate', '10000', '--seconds', '30', '--count', '300000'])
  t.teardown(() => { flood.stop() })
  const ready = await flood.next(o => o.ready === true, 60_000)
  const mallory = ready.fingerprint as string
  // the flood is on when Bob has counted a few thousand of its frames
  await waitFor(async () => ((await cb.call('messaging.stats', { peer: mallory }) as unknown as Stats).peer?.rateLimited ?? 0) > 2000, 30_000, () => 'the flood to reach Bob')

  const during = await twenty('during the flood')
  const floodDone = flood.lines.some(l => l.done === true)
  t.notOk(floodDone, 'the flood was still running when the last of Alice\'s messages was delivered')
  t.ok(during.statuses.every(s => s === 'delivered' || s === 'read'), `20 messages delivered in ${during.ms} ms during the flood (${quiet.ms} ms without it)`)
  const stats = await cb.call('messaging.stats', { peer: mallory }) as unknown as Stats
  flood.proc.stdin?.end() // asks the flood to stop and report (stop() in teardown kills it if it does not)
  const done = await flood.next(o => o.done === true, 30_000)
  t.comment(`flood: ${String(done.sent)} requests in ${Number(done.seconds).toFixed(1)} s (${String(done.rate)}/s); Bob counted ${JSON.stringify(stats.peer)}`)

  const p = stats.peer as NonNullable<Stats['peer']>
  t.ok(p.rateLimited > 10 * p.admitted, `rate-limited (${p.rateLimited}) far more than admitted (${p.admitted})`)
  const seconds = Number(done.seconds)
  t.ok(p.admitted <= 10 + Math.ceil(2 * seconds) + 2, `admitted at most the stranger's burst plus 2/s (${p.admitted} in ${seconds.toFixed(1)} s)`)
  const reqs = await cliJson<Array<{ fingerprint: string, name?: string }>>(bob, ['requests'])
  t.same(reqs.map(r => [r.fingerprint, r.name]), [[mallory, 'flood']], 'the flood is one pending request, not thousands')
  t.equal((await history(bob, 'alice')).filter(m => m.text.startsWith('during the flood')).length, 20, 'Alice\'s messages are stored once each')
})
