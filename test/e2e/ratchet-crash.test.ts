// Envelope v2 across `kill -9` of real daemons (proto-spec/envelope.md §8.4): both daemons keep
// prekeys and talk in a Double Ratchet session; at seeded random points of an exchange one of them
// is SIGKILLed mid-burst and started again. Each appends a line per v2 envelope it seals (its
// SHA-256 and the session, ratchet key and message number), per one it receives, and per session
// it reads back at start (DMESS_TRACE_ENVELOPES, one file per daemon), so every envelope that
// crossed the wire is traced to the key that sealed it: no key may carry two different
// ciphertexts, and no restart may read back a state behind a key whose ciphertext left (where a
// reuse would start). Then nothing is lost or stored twice.
import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli, crash, history, ipc, makeNodes, startDaemon, waitForStatus, type Node } from './helpers.js'
import { testRng } from '../helpers/seed.js'
import type { IpcClient } from '../../src/daemon/ipc-client.js'

t.setTimeout(600_000)

t.test('SIGKILL either daemon at random points: no ratchet key used twice on the wire, nothing lost or duplicated', async t => {
  const rng = testRng(t, 0x9c1a5, 'whom to kill and when')
  const dir = await mkdtemp(join(tmpdir(), 'dmess-ratchet-trace-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  const traceOf = (n: Node): string => join(dir, n.name)
  const start = async (n: Node, peer: Node): Promise<number> => {
    process.env.DMESS_TRACE_ENVELOPES = traceOf(n) // the daemon inherits it through the CLI that starts it
    try { return await startDaemon(t, n, [peer]) } finally { delete process.env.DMESS_TRACE_ENVELOPES }
  }
  const pids = [await start(alice, bob), await start(bob, alice)]
  await cli(alice, ['contacts', 'add', bob.invite])
  await cli(bob, ['contacts', 'add', alice.invite])
  const nodes = [alice, bob]
  const names = ['alice', 'bob']
  const clients: IpcClient[] = [await ipc(alice), await ipc(bob)]
  t.teardown(() => { for (const c of clients) c.close() })
  const sent: string[][] = [[], []]
  const send = async (from: number, text: string): Promise<void> => {
    sent[from]!.push((await clients[from]!.call('messages.send', { contact: names[1 - from]!, text })).id)
  }
  await send(0, 'hello')
  await waitForStatus(alice, 'bob', sent[0]!, 'delivered', 60_000)

  for (let round = 0; round < 3; round++) {
    const victim = rng.int(2)
    const killAt = rng.int(15)
    for (let i = 0; i < 15; i++) {
      const from = rng.int(2)
      if (i <= killAt || from !== victim) await send(from, `round ${round} #${i} from ${names[from]!}`)
      if (i === killAt) {
        await crash(pids[victim]!)
        clients[victim]!.close()
      }
      await new Promise(resolve => setTimeout(resolve, rng.int(20)))
    }
    t.comment(`round ${round}: ${names[victim]!} killed after #${killAt}`)
    pids[victim] = await start(nodes[victim]!, nodes[1 - victim]!)
    clients[victim] = await ipc(nodes[victim]!)
  }
  // a failure is reported and the trace still judged: a lost message and a reused key go together
  for (const from of [0, 1]) {
    await waitForStatus(nodes[from]!, names[1 - from]!, sent[from]!, 'delivered', 240_000).then(() => { t.pass(`every message ${names[from]!} sent shows as delivered`) }, (err: Error) => { t.fail(err.message) })
  }

  for (const i of [0, 1]) {
    const stats: Record<string, unknown> = await clients[i]!.call('messaging.stats', {}).catch((err: Error) => ({ error: err.message }))
    t.comment(`${names[i]!}: refused ${JSON.stringify(stats.rejected ?? stats)}, duplicates ${String(stats.duplicates)}, resets ${String(stats.sessionResets)}`)
  }
  for (const from of [0, 1]) {
    const got = (await history(nodes[1 - from]!, names[from]!)).filter(m => m.direction === 'in')
    const counts = new Map<string, number>()
    for (const m of got) counts.set(m.id, (counts.get(m.id) ?? 0) + 1)
    t.same([...counts.values()].filter(n => n !== 1), [], `${names[1 - from]!} stored no message of ${names[from]!} twice`)
    t.same(new Set(got.map(m => m.id)), new Set(sent[from]), `and has all ${sent[from]!.length} ${names[from]!} sent`)
  }

  const lines = await Promise.all(nodes.map(async n => (await readFile(traceOf(n), 'utf8')).split('\n').filter(l => l !== '').map(l => l.split(' '))))
  const keyOf = new Map<string, string>()
  for (const f of lines) for (const [kind, h, key] of f) if (kind === 'sealed') keyOf.set(h!, key!)
  const received = lines.map(f => new Set(f.filter(([kind]) => kind === 'received').map(([, h]) => h!)))
  const onWire = new Map<string, Set<string>>()
  const unknown: string[] = []
  for (const h of [...received[0]!, ...received[1]!]) {
    const key = keyOf.get(h)
    if (key === undefined) { unknown.push(h); continue }
    onWire.set(key, (onWire.get(key) ?? new Set()).add(h))
  }
  t.ok(onWire.size > sent[0]!.length, `${onWire.size} ratchet keys carried envelopes (${lines[0]!.length + lines[1]!.length} trace lines)`)
  t.same(unknown, [], 'every envelope received was one a ratchet sealed')
  t.same([...onWire].filter(([, hs]) => hs.size > 1).map(([k]) => k), [], 'no (session, ratchet key, message number) carried two different ciphertexts')
  t.same(lines.flatMap((f, i) => behind(f, received[1 - i]!).map(b => `${names[i]!} ${b}`)), [], 'every restart read back a state past every key whose ciphertext left')
  t.ok(lines.some(f => f.some(([kind]) => kind === 'loaded')), 'a restart read sessions back')
})

/**
 * The `loaded` lines of one daemon's trace that are behind what it had sent (envelope.md §8.4):
 * on a ratchet key it had sealed with, a next message number not past every one the peer
 * received; or a ratchet key older than one whose messages the peer received.
 */
function behind (trace: string[][], peerReceived: ReadonlySet<string>): string[] {
  const out: string[] = []
  /** per session base, per ratchet key: the highest message number that left, and when the key first sealed */
  const sent = new Map<string, Map<string, { n: number, first: number }>>()
  const firstSeal = new Map<string, number>()
  trace.forEach(([kind, h, key], at) => {
    // `sealed <sha256> <base:key:n>`, `received <sha256>`, `loaded <base:key:next n>`
    const [base, dh, n] = (kind === 'loaded' ? h : key)?.split(':') ?? []
    if (kind === 'sealed') {
      if (!firstSeal.has(dh!)) firstSeal.set(dh!, at)
      if (!peerReceived.has(h!)) return
      const chains = sent.get(base!) ?? new Map<string, { n: number, first: number }>()
      sent.set(base!, chains)
      chains.set(dh!, { n: Math.max(Number(n), chains.get(dh!)?.n ?? -1), first: firstSeal.get(dh!)! })
    } else if (kind === 'loaded') {
      const chains = sent.get(base!)
      const mine = chains?.get(dh!)
      if (chains === undefined || mine === undefined) return
      if (mine.first < Math.max(...[...chains.values()].map(c => c.first))) out.push(`restarted on an older ratchet key of session ${base!.slice(0, 8)} than one that sent`)
      else if (Number(n) <= mine.n) out.push(`restarted to send message ${n!} on ratchet key ${dh!.slice(0, 8)}, but ${mine.n} of it left`)
    }
  })
  return out
}
