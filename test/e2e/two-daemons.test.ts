// Two people on one network, end to end: two daemons as separate processes
// with separate homes on 127.0.0.1 (static --peer), everything through the real CLI. Alice adds
// Bob from his invite; Bob sees her request and accepts; 100 messages each way reach
// `delivered`, then `read` after `dmess read`; both histories hold the same messages, mirrored,
// each direction in the order it was sent.
import t from 'tap'
import { cli, cliJson, history, makeNodes, pool, startDaemon, waitForStatus, type HistoryEntry } from './helpers.js'

const N = 100

t.setTimeout(900_000) // 200+ CLI processes: slow on a loaded 2-core machine

t.test('add, accept, 100 messages each way: delivered, read, identical histories', async t => {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Awaited<ReturnType<typeof makeNodes>>[number], Awaited<ReturnType<typeof makeNodes>>[number]]
  await startDaemon(t, alice, [bob])
  await startDaemon(t, bob, [alice])

  await cli(alice, ['contacts', 'add', bob.invite])
  const first = await cliJson<{ id: string, status: string }>(alice, ['send', 'bob', 'hello Bob, it is Alice'])
  t.match(first, { id: /^[0-9a-f]{32}$/, status: /^(sending|sent)$/ }, 'send --json has id and status')

  // Bob: a request, not a conversation
  let reqs: Array<{ fingerprint: string, name?: string, text?: string, timestamp: number }> = []
  for (let i = 0; i < 100 && reqs.length === 0; i++) {
    reqs = await cliJson(bob, ['requests'])
    if (reqs.length === 0) await new Promise(resolve => setTimeout(resolve, 200))
  }
  t.same(reqs.map(r => [r.fingerprint, r.name, r.text]), [[alice.fingerprint, 'alice', 'hello Bob, it is Alice']], 'requests --json shows Alice, her name and her message')
  t.type(reqs[0]?.timestamp, 'number')
  t.same(JSON.parse(await cli(bob, ['contacts', 'list', '--json'])), [], 'Alice is not a contact yet')
  await cli(bob, ['requests', 'accept', alice.fingerprint.slice(0, 10)])
  t.same(await cliJson(bob, ['requests']), [], 'the request is answered')
  t.same((await history(bob, 'alice')).map(m => m.text), ['hello Bob, it is Alice'], 'her held message is now the conversation')

  // 100 each way, both directions at once, through the CLI
  const send = async (from: typeof alice, to: string, i: number): Promise<string> =>
    (await cliJson<{ id: string }>(from, ['send', to, `${from.name} #${i} ${'·'.repeat(i % 7)}`])).id
  const idx = Array.from({ length: N }, (_, i) => i)
  const [aIds, bIds] = await Promise.all([pool(idx, 3, async i => await send(alice, 'bob', i)), pool(idx, 3, async i => await send(bob, 'alice', i))])
  t.equal(new Set([...aIds, ...bIds]).size, 2 * N, 'every send got its own id')
  t.comment(`sent ${2 * N} through the CLI`)
  await Promise.all([waitForStatus(alice, 'bob', [first.id, ...aIds], 'delivered', 300_000), waitForStatus(bob, 'alice', bIds, 'delivered', 300_000)])
  t.pass('all 201 messages reached delivered on the sender\'s side')

  await cli(bob, ['read', 'alice'])
  await cli(alice, ['read', 'bob'])
  await Promise.all([waitForStatus(alice, 'bob', [first.id, ...aIds], 'read', 120_000), waitForStatus(bob, 'alice', bIds, 'read', 120_000)])
  t.pass('and read after `dmess read` on the other side')

  const ha = await history(alice, 'bob')
  const hb = await history(bob, 'alice')
  t.equal(ha.length, 2 * N + 1)
  t.equal(hb.length, 2 * N + 1)
  const mirror = (m: HistoryEntry): string => `${m.id}|${m.direction === 'in' ? 'out' : 'in'}|${m.text}|${m.timestamp}`
  t.same(new Set(hb.map(m => `${m.id}|${m.direction}|${m.text}|${m.timestamp}`)), new Set(ha.map(mirror)), 'same ids, texts and timestamps; directions mirrored')
  const order = (h: HistoryEntry[], dir: 'in' | 'out'): string[] => h.filter(m => m.direction === dir).map(m => m.id)
  t.same(order(hb, 'in'), order(ha, 'out'), 'Bob sees Alice\'s messages in the order she sent them')
  t.same(order(ha, 'in'), order(hb, 'out'), 'and Alice sees Bob\'s in his order')
  t.ok(ha.every(m => m.status === 'read'), 'every message shows as read on Alice\'s side')

  const found = await cliJson<Array<{ peer: string, text: string }>>(alice, ['search', 'bob #42'])
  t.same(found.map(f => [f.peer, f.text]), [[bob.fingerprint, 'bob #42 ']], 'search finds a received message')
  const peers = await cliJson<Array<{ fingerprint: string, address: string, source: string, state: string, rtt: number | null }>>(alice, ['peers'])
  t.match(peers, [{ fingerprint: bob.fingerprint, address: `127.0.0.1:${bob.port}`, source: /static|inbound/, state: 'online' }])
  t.type(peers[0]?.rtt, 'number', 'a link that carried messages has an RTT')

  // presence: Bob steps away, Alice's peer list follows; then he is back
  const bobAsAliceSees = async (): Promise<string | undefined> =>
    (await cliJson<Array<{ fingerprint: string, state: string }>>(alice, ['peers'])).find(p => p.fingerprint === bob.fingerprint)?.state
  const waitState = async (want: string): Promise<string | undefined> => {
    let seen: string | undefined
    for (let i = 0; i < 50 && seen !== want; i++) {
      seen = await bobAsAliceSees()
      if (seen !== want) await new Promise(resolve => setTimeout(resolve, 200))
    }
    return seen
  }
  t.same(await cliJson(bob, ['presence', 'away']), { state: 'away', told: 1 }, 'Bob goes away; his one connected contact is told')
  t.equal(await waitState('away'), 'away', 'Alice sees Bob away')
  t.match(await cli(bob, ['presence', 'online']), /You are online; told 1 connected contact$/m)
  t.equal(await waitState('online'), 'online', 'and online again')
})
