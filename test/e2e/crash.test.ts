// `kill -9` of the receiving daemon in the middle of a burst, then a restart: every
// message arrives exactly once, in the order it was sent. The burst goes through the sender's
// IPC socket (a CLI process per message would only measure node's startup); the daemons, the
// crash and the restart are real processes started with the real CLI.
import t from 'tap'
import { cli, crash, history, ipc, makeNodes, startDaemon, waitForStatus } from './helpers.js'

const N = 60
const CRASH_AT = 20

t.setTimeout(600_000)

t.test('SIGKILL the receiver mid-burst; after a restart every message arrives exactly once', async t => {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Awaited<ReturnType<typeof makeNodes>>[number], Awaited<ReturnType<typeof makeNodes>>[number]]
  await startDaemon(t, alice, [bob])
  const bobPid = await startDaemon(t, bob, [alice])
  // they add each other: no request to accept (messaging.md §3.2)
  await cli(alice, ['contacts', 'add', bob.invite])
  await cli(bob, ['contacts', 'add', alice.invite])

  const c = await ipc(alice)
  t.teardown(() => { c.close() })
  const ids: string[] = []
  for (let i = 0; i < N; i++) {
    ids.push((await c.call('messages.send', { contact: 'bob', text: `burst ${i}` })).id)
    if (i === CRASH_AT) await crash(bobPid)
    await new Promise(resolve => setTimeout(resolve, 10)) // a burst spread over time: some are in flight at the kill
  }
  t.comment(`sent ${N}; Bob was killed after #${CRASH_AT}`)
  const before = await history(alice, 'bob')
  t.ok(before.some(m => m.status !== 'delivered'), 'some messages are still undelivered while Bob is down')

  await startDaemon(t, bob, [alice])
  await waitForStatus(alice, 'bob', ids, 'delivered', 240_000)
  t.pass('every message reached delivered after the restart')

  const got = (await history(bob, 'alice')).filter(m => m.direction === 'in')
  const counts = new Map<string, number>()
  for (const m of got) counts.set(m.id, (counts.get(m.id) ?? 0) + 1)
  t.same([...counts.values()].filter(n => n !== 1), [], 'no message stored twice')
  t.equal(got.length, N, `exactly ${N} messages`)
  t.same(got.map(m => m.id), ids, 'in the order they were sent')
  t.same(got.map(m => m.text), ids.map((_, i) => `burst ${i}`))
})
