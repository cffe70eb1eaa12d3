// A writer killed with SIGKILL at random moments leaves a consistent store holding everything
// it acknowledged (proto-spec/storage.md §Atomicity); a migration killed part-way leaves the old
// store as it was or the new one complete (§Migration v2 → v3, §Migration v3 → v4, §Migration v4 → v5); a store open elsewhere is
// STORE_LOCKED.
import t from 'tap'
import { unpack } from 'msgpackr'
import { openStore } from '../../src/store/index.js'
import { killAndWait, msg, newKey, spawnFixture, tempStoreDir } from './fixtures/helpers.js'
import { checkInvariants, readAll, sub } from './fixtures/raw.js'
import { writeV2Store, type V2Message } from './fixtures/v2.js'
import { testRng } from '../helpers/seed.js'

const ROUNDS = 10

t.test('killed writers leave a consistent store with every acknowledged message', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const keyHex = Buffer.from(key).toString('hex')
  const acked = new Set<string>()
  const rng = testRng(t, 0x5107e, 'when each writer is killed')
  for (let round = 0; round < ROUNDS; round++) {
    const w = await spawnFixture('writer.ts', ['write', dir, keyHex, `r${round}`])
    t.teardown(async () => { await killAndWait(w.child) })
    // killed right after a random number of acknowledgements (the writer keeps writing meanwhile)
    const acks = 1 + rng.int(20)
    await w.waitFor(() => w.lines.filter((l) => l.startsWith('ack ')).length >= acks, 30_000)
    await killAndWait(w.child)
    const ids = w.lines.filter((l) => l.startsWith('ack ')).flatMap((l) => l.slice(4).split(' '))
    for (const id of ids) acked.add(id)

    const { problems, ids: present } = checkInvariants(await readAll(dir), key)
    t.same(problems, [], `round ${round}: indexes, counters and seqs consistent (${ids.length} acked this round)`)
    const missing = [...acked].filter((id) => !present.has(id))
    t.same(missing, [], `round ${round}: all ${acked.size} acknowledged messages present`)
  }
  // the store opens normally after all that, reads every conversation, and carries on
  const store = await openStore(dir, key)
  t.teardown(async () => { await store.close() })
  let total = 0
  for (const c of await store.conversations()) {
    const all = await store.history(c.peer, { limit: 10_000 })
    total += all.length
    t.equal(all[0]?.seq, all.length, `${c.peer}: ${all.length} messages, seq 1..n`)
  }
  t.ok(total >= acked.size, 'history holds at least every acknowledged message')
  const next = await store.addMessage(msg('p0'))
  t.equal(next.message.seq, (await store.history('p0', { limit: 2 }))[1]!.seq + 1, 'the next seq follows on')
})

t.test('killed while sending: a message and its outbox entry land together, a receipt\'s status and removal together', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const keyHex = Buffer.from(key).toString('hex')
  const sent = new Set<string>()
  const settled = new Set<string>()
  const rng = testRng(t, 0x5e4d, 'when each sending writer is killed')
  for (let round = 0; round < 6; round++) {
    const w = await spawnFixture('writer.ts', ['send', dir, keyHex, `s${round}`])
    t.teardown(async () => { await killAndWait(w.child) })
    const lines = (kind: string): string[] => w.lines.filter(l => l.startsWith(`${kind} `)).flatMap(l => l.slice(kind.length + 1).split(' '))
    const acks = 1 + rng.int(30)
    await w.waitFor(() => lines('sent').length >= acks, 30_000)
    await killAndWait(w.child)
    for (const id of lines('sent')) sent.add(id)
    for (const id of lines('settled')) settled.add(id)
    t.same(checkInvariants(await readAll(dir), key).problems, [], `round ${round}: indexes, held outbox entries and their lowest seqs consistent`)

    const store = await openStore(dir, key)
    const outbox = new Set((await store.listOutbox({ limit: 10_000 })).map(e => e.id))
    const messages = (await Promise.all(['q0', 'q1'].map(async p => await store.history(p, { limit: 10_000 })))).flat()
    await store.close()
    const torn = messages.filter(m => outbox.has(m.id) === (m.status === 'delivered')).map(m => `${m.id} ${m.status} ${outbox.has(m.id) ? 'queued' : 'not queued'}`)
    t.same(torn, [], `round ${round}: every message is queued and undelivered, or delivered and no longer queued (${messages.length} written)`)
    const byId = new Map(messages.map(m => [m.id, m]))
    t.same([...sent].filter(id => byId.get(id) === undefined), [], `round ${round}: all ${sent.size} acknowledged sends present`)
    t.same([...settled].filter(id => byId.get(id)?.status !== 'delivered' || outbox.has(id)), [], `round ${round}: all ${settled.size} acknowledged receipts applied`)
    t.equal(outbox.size + messages.filter(m => m.status === 'delivered').length, messages.length)
  }
})

t.test('a v2 → v3 → v4 → v5 migration killed at a random moment loses nothing', async (t) => {
  const N = 2000
  const PEERS = ['p0', 'p1', 'p2', 'p3']
  const rng = testRng(t, 0x3197c, 'when each migrating process is killed')
  const outcomes = { v2: 0, v3: 0, v4: 0, v5: 0 }
  let window = 0
  // round -1 migrates in this process, uninterrupted, to measure how long the migration takes
  for (let round = -1; round < 4; round++) {
    const dir = await tempStoreDir(t)
    const key = newKey()
    const messages: V2Message[] = Array.from({ length: N }, (_, i) => ({
      id: `r${round}-${i}`, peer: PEERS[i % PEERS.length] as string, seq: Math.floor(i / PEERS.length) + 1, direction: i % 3 === 0 ? 'out' : 'in',
      text: `message ${i} `.repeat(1 + (i % 7)), timestamp: 1_700_000_000_000 + i, receivedAt: 1_700_000_000_000 + i, status: i % 3 === 0 ? 'sent' : 'received', read: i % 5 !== 0
    }))
    await writeV2Store(dir, key, { messages, contacts: [{ fingerprint: 'p0', name: 'Pat', verified: false, addedAt: 1 }], outbox: [], blocked: [{ fingerprint: 'p9', blockedAt: 2 }] })
    if (round === -1) {
      const started = Date.now()
      await (await openStore(dir, key)).close()
      window = Date.now() - started
      t.comment(`migrating ${N} messages took ${Date.now() - started} ms: kills land within it`)
      continue
    }
    const before = await readAll(dir)
    const w = await spawnFixture('writer.ts', ['open', dir, Buffer.from(key).toString('hex')])
    t.teardown(async () => { await killAndWait(w.child) })
    await w.waitFor((l) => l === 'opening', 30_000)
    // fault injection, not a wait for a result: the kill lands anywhere in (or after) the migration
    await new Promise((resolve) => setTimeout(resolve, rng.int(window)))
    await killAndWait(w.child)

    const all = await readAll(dir)
    const version = unpack(sub(all, 'meta').get('schemaVersion') as Uint8Array) as number
    if (version === 2) {
      outcomes.v2++
      t.same(all, before, `round ${round}: killed before the batch landed, the v2 store is as it was`)
    } else {
      // each migration is its own batch: killed between two, the store is wholly v3 or v4
      if (version === 3) outcomes.v3++
      else if (version === 4) outcomes.v4++
      else outcomes.v5++
      t.ok(version === 3 || version === 4 || version === 5, `round ${round}: at v3, v4 or v5`)
      const { problems, ids } = checkInvariants(all, key)
      t.same(problems, [], `round ${round}: killed after a batch, the v${version} store is consistent`)
      t.equal(ids.size, N, `round ${round}: every message is in it`)
    }
    const store = await openStore(dir, key)
    t.equal(store.schemaVersion, 5)
    const counts = await Promise.all(PEERS.map(async (p) => (await store.history(p, { limit: 10_000 })).length))
    t.same(counts, PEERS.map(() => N / PEERS.length), `round ${round}: every message readable after the next open`)
    t.equal((await store.getContact('p0'))?.name, 'Pat')
    t.equal(await store.isBlocked('p9'), true)
    await store.close()
  }
  t.comment(JSON.stringify({ metric: 'store_migration_kill_outcomes', value: outcomes.v3 + outcomes.v4 + outcomes.v5, unit: 'rounds ending migrated (v3, v4 or v5)', params: outcomes }))
})

t.test('a store held by another process is STORE_LOCKED, and free once it exits', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const first = await openStore(dir, key)
  await first.addMessage(msg('alice', { text: 'hello' }))
  await t.rejects(openStore(dir, key), { code: 'STORE_LOCKED' }, 'a second open in this process')
  await first.close()

  const holder = await spawnFixture('writer.ts', ['hold', dir, Buffer.from(key).toString('hex')])
  t.teardown(async () => { await killAndWait(holder.child) })
  await holder.waitFor((l) => l === 'ready', 30_000)
  const err = await openStore(dir, key).then(() => null, (e: unknown) => e as Error & { code: string })
  t.equal(err?.code, 'STORE_LOCKED')
  t.match(err?.message, /in use by another process/, 'a message a user can act on')
  await killAndWait(holder.child)
  const store = await openStore(dir, key)
  t.equal((await store.history('alice'))[0]?.text, 'hello', 'opens once the holder is gone')
  await store.close()
})
