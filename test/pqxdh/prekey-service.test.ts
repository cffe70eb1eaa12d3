// The prekey service over a real file and simulated time (src/pqxdh/prekey-service.ts,
// proto-spec/pqxdh.md §5, §6): the first pair is made and written at start, a new one every
// 7 days by its own timer, the old one deleted 14 days after retirement — from the file too, and
// wiped; the ring and its replay memory survive a restart; a start committed twice is refused the
// second time.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity } from '../../src/crypto/identity.js'
import { randomBytes } from '../../src/crypto/primitives.js'
import { SimClock } from '../../src/sim/clock.js'
import { simScheduler } from '../../src/sim/io.js'
import { memoryStorage } from '../../src/io/storage.js'
import {
  PrekeyService, prekeyFileKey, loadPrekeyRing, initiate, openBundle, type PrekeySet
} from '../../src/pqxdh/index.js'

const HOUR = 3600_000
const DAY = 24 * HOUR
const T0 = Date.UTC(2030, 0, 1)
const alice = generateIdentity()
const bob = generateIdentity()
const storeKey = randomBytes(32)

const dir = mkdtempSync(join(tmpdir(), 'dmess-prekey-svc-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function service (path: string, clock: SimClock, rotated: Uint8Array[] = [], errors: unknown[] = []): PrekeyService {
  return new PrekeyService({
    path, fileKey: prekeyFileKey(storeKey), identity: bob, scheduler: simScheduler(clock, T0),
    onRotated: b => rotated.push(b), onError: e => errors.push(e)
  })
}

/** Runs simulated time forward hour by hour, letting each fired timer's work finish. */
async function advance (clock: SimClock, svc: PrekeyService, ms: number): Promise<void> {
  const end = clock.now + ms
  while (clock.now < end) {
    clock.run({ until: Math.min(end, clock.now + HOUR) })
    await svc.settled()
  }
}

const ids = (sets: readonly PrekeySet[] | undefined): number[] => (sets ?? []).map(s => s.id)

t.test('rotation on its own timer, written to disk, old pairs deleted and wiped', async t => {
  const path = join(dir, 'prekeys-a')
  const clock = new SimClock()
  const rotated: Uint8Array[] = []
  const errors: unknown[] = []
  const svc = service(path, clock, rotated, errors)
  await svc.start()
  t.teardown(() => svc.stop())
  t.equal(rotated.length, 1, 'the first pair is made at start')
  t.same(ids((await loadPrekeyRing(path, prekeyFileKey(storeKey)))?.sets), [1], 'and written before anyone gets its bundle')
  const first = openBundle(svc.bundle(), bob.fingerprint, T0)
  t.ok(first.ok && first.value.prekeyId === 1)
  const firstSet = svc.ring.sets[0]!

  await advance(clock, svc, 7 * DAY)
  t.equal(rotated.length, 2, 'a week later the timer made pair 2')
  t.same(ids((await loadPrekeyRing(path, prekeyFileKey(storeKey)))?.sets), [1, 2])
  const second = openBundle(rotated[1]!, bob.fingerprint, T0 + 7 * DAY)
  t.ok(second.ok && second.value.prekeyId === 2, 'onRotated hands out the new bundle')

  await advance(clock, svc, 14 * DAY)
  t.same(ids(svc.ring.sets), [2, 3, 4], 'day 21: pair 1 deleted (retired on day 7)')
  t.same(ids((await loadPrekeyRing(path, prekeyFileKey(storeKey)))?.sets), [2, 3, 4], 'and gone from the file')
  t.ok(firstSet.spk.secretKey.every(b => b === 0) && firstSet.kemSeed.every(b => b === 0), "pair 1's secrets are wiped")
  t.same(errors, [])
})

t.test('the ring and its replay memory survive a restart', async t => {
  const path = join(dir, 'prekeys-b')
  const clock = new SimClock()
  const svc1 = service(path, clock)
  await svc1.start()
  const i = initiate(alice, svc1.bundle(), bob.fingerprint, T0)
  if (!i.ok) throw i.error
  await svc1.stop()

  const svc2 = service(path, clock)
  await svc2.start()
  t.same(ids(svc2.ring.sets), [1], 'same pair after the restart, no new one')
  const r = svc2.respond(i.value.initialMessage)
  if (!r.ok) throw r.error
  t.ok(Buffer.from(r.value.sk).equals(Buffer.from(i.value.sk)), 'a start made before the restart is answered after it')
  const [a, b] = await Promise.all([svc2.commitStart(r.value), svc2.commitStart(r.value)])
  t.same([a, b], [true, false], 'committed once; the racing second commit is refused')
  await svc2.stop()

  const svc3 = service(path, clock)
  await svc3.start()
  t.teardown(() => svc3.stop())
  const again = svc3.respond(i.value.initialMessage)
  t.equal(again.ok ? 'ok' : again.error.code, 'PQXDH_REPLAY', 'after another restart the replay is still refused')
})

t.test('a prekey file sealed under another store key stops the start with PREKEYS_CORRUPT', async t => {
  const path = join(dir, 'prekeys-c')
  const clock = new SimClock()
  const svc = service(path, clock)
  await svc.start()
  await svc.stop()
  const other = new PrekeyService({ path, fileKey: prekeyFileKey(randomBytes(32)), identity: bob, scheduler: simScheduler(clock, T0) })
  await t.rejects(other.start(), { code: 'PREKEYS_CORRUPT' })
})

t.test('on a simulated node the file lives in its in-memory Storage, and survives its restart there', async t => {
  const storage = memoryStorage()
  const clock = new SimClock()
  const mk = (): PrekeyService => new PrekeyService({ path: '/sim/node-0/prekeys', fileKey: prekeyFileKey(storeKey), identity: bob, scheduler: simScheduler(clock, T0), storage })
  const a = mk()
  await a.start()
  await advance(clock, a, 7 * DAY)
  t.same(ids(a.ring.sets), [1, 2])
  await a.stop()
  t.not(await storage.readFile('/sim/node-0/prekeys'), null, 'written to the simulated storage')
  const b = mk()
  await b.start()
  t.teardown(() => b.stop())
  t.same(ids(b.ring.sets), [1, 2], 'the restarted node has the same ring')
  t.same(ids((await loadPrekeyRing('/sim/node-0/prekeys', prekeyFileKey(storeKey), storage))?.sets), [1, 2])
})
