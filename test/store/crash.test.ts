// A writer killed with SIGKILL at random moments leaves a consistent store holding everything
// it acknowledged (proto-spec/storage.md §Atomicity); a store open elsewhere is STORE_LOCKED.
import t from 'tap'
import { openStore } from '../../src/store/index.js'
import { killAndWait, msg, newKey, spawnFixture, tempStoreDir } from './fixtures/helpers.js'
import { checkInvariants, readAll } from './fixtures/raw.js'
import { testRng } from '../helpers/seed.js'

const ROUNDS = 10

t.test('killed writers leave a consistent store with every acknowledged message', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const keyHex = Buffer.from(key).toString('hex')
  const acked = new Set<string>()
  const rng = testRng(t, 0x5107e, 'when each writer is killed')
  for (let round = 0; round < ROUNDS; round++) {
    const w = spawnFixture('writer.ts', ['write', dir, keyHex, `r${round}`])
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

t.test('a store held by another process is STORE_LOCKED, and free once it exits', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const first = await openStore(dir, key)
  await first.addMessage(msg('alice', { text: 'hello' }))
  await t.rejects(openStore(dir, key), { code: 'STORE_LOCKED' }, 'a second open in this process')
  await first.close()

  const holder = spawnFixture('writer.ts', ['hold', dir, Buffer.from(key).toString('hex')])
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
