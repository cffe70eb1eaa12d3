// Contact requests (proto-spec/messaging.md §3): budgets, quotas, eviction and expiry; the files
// that keep them (§10), and the move from the single-file book of version 1.
import t from 'tap'
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RequestBook } from '../../src/messaging/requests.js'
import { StateFile } from '../../src/messaging/state-file.js'
import { RequestFiles } from '../../src/messaging/request-files.js'
import { diskStorage } from '../../src/io/storage.js'
import { createNodes, SIM_WALL_BASE_MS, type TestNode } from '../../src/node/testnet.js'
import { homePaths } from '../../src/config/home.js'
import { writeV1State } from './fixtures/state-v1.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0x7e95).bytes

const ident = { signPublic: new Uint8Array(32).fill(1), dhPublic: new Uint8Array(32).fill(2), dhSignature: new Uint8Array(64).fill(3) }
const msg = (id: string, text = 'hi'): { id: string, text: string, timestamp: number, receivedAt: number } => ({ id, text, timestamp: 1_700_000_000_000, receivedAt: 1_700_000_000_500 })

t.test('a stranger\'s request and messages are held together; duplicates change nothing', async t => {
  const b = new RequestBook()
  t.equal(b.hold('eve', ident, msg('m1', 'first'), 0), 'new', 'a bare message opens an entry')
  t.equal(b.hold('eve', ident, msg('m1', 'first'), 1), 'duplicate')
  t.equal(b.introduce('eve', { id: 'r1', identity: ident, name: 'Eve', greeting: 'hello, it is Eve', timestamp: 5 }, 2), 'updated')
  t.equal(b.introduce('eve', { id: 'r1', identity: ident, name: 'Eve', timestamp: 5 }, 3), 'duplicate', 'a resent request')
  t.equal(b.hold('eve', ident, msg('m2', 'second'), 4), 'updated')
  const r = b.get('eve')
  t.same(r?.held.map(h => h.id), ['m1', 'm2'], 'held in arrival order')
  t.equal(r?.name, 'Eve')
  t.equal(r?.introduced, true)
  t.same(b.list().map(x => x.fingerprint), ['eve'])
})

t.test('accept hands the entry over; decline drops it and ignores the fingerprint for a while', async t => {
  const b = new RequestBook({ maxPending: 10, maxHeld: 10, declineMemoryMs: 1000 })
  b.introduce('eve', { id: 'r1', identity: ident, timestamp: 5 }, 0)
  b.hold('eve', ident, msg('m1'), 0)
  t.equal(b.accept('eve')?.held.length, 1)
  t.equal(b.get('eve'), undefined)
  b.introduce('mallory', { id: 'r2', identity: ident, timestamp: 5 }, 0)
  t.ok(b.decline('mallory', 100))
  t.equal(b.introduce('mallory', { id: 'r3', identity: ident, timestamp: 5 }, 500), 'declined')
  t.equal(b.hold('mallory', ident, msg('m9'), 500), 'declined')
  t.equal(b.introduce('mallory', { id: 'r4', identity: ident, timestamp: 5 }, 1200), 'new', 'remembered for declineMemoryMs only')
  t.same(b.snapshot(1200).declined, [], 'old declines are forgotten')
  t.equal(b.drop('mallory')?.fingerprint, 'mallory')
  t.equal(b.accept('nobody'), undefined)
})

t.test('bounds: a full book evicts its oldest request for a newcomer; held messages are bounded', async t => {
  const b = new RequestBook({ maxPending: 2, maxHeld: 2, declineMemoryMs: 1000 })
  t.equal(b.hold('a', ident, msg('1'), 0), 'new')
  t.equal(b.hold('b', ident, msg('1'), 1), 'new')
  t.equal(b.hold('c', ident, msg('1'), 2), 'new', 'the book is full: the newcomer gets in')
  t.same(b.list().map(r => r.fingerprint), ['b', 'c'], 'the oldest request left')
  t.same(b.drainRemoved().map(r => [r.request.fingerprint, r.why]), [['a', 'evicted']], 'and is handed out once, for its file to go')
  t.same(b.drainRemoved(), [])
  t.equal(b.hold('b', ident, msg('2'), 3), 'updated')
  t.equal(b.hold('b', ident, msg('3'), 3), 'full', 'not acknowledged: the sender retries')
  t.same(b.tally, { dropped: 0, evicted: 1, expired: 0, heldDropped: 1 })
})

t.test('the state file: sealed, 0600, survives a reload, refuses another identity\'s key', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-state-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const path = join(dir, 'messaging.state')
  const key = randomBytes(32)
  const b = new RequestBook()
  b.introduce('eve', { id: 'r1', identity: ident, name: 'Eve', greeting: 'secret greeting', timestamp: 5 }, 0)
  b.hold('eve', ident, msg('m1', 'a held secret'), 0)
  const f = new StateFile(path, key)
  t.same(await f.load(), { pending: [], declined: [], introduced: [], addresses: [] }, 'absent: empty')
  await f.save({ ...b.snapshot(0), introduced: ['bob'], addresses: [{ fingerprint: 'bob', host: '127.0.0.1', port: 4000, source: 'static' }] })
  t.equal((await stat(path)).mode & 0o777, 0o600)
  const raw = await readFile(path)
  t.notOk(raw.includes('secret'), 'nothing readable on disk')
  const back = await new StateFile(path, key).load()
  const b2 = new RequestBook()
  b2.restore(back)
  t.same(b2.get('eve')?.held.map(h => h.text), ['a held secret'])
  t.same(b2.get('eve')?.identity.dhPublic, ident.dhPublic)
  t.same(back.introduced, ['bob'])
  t.same(back.addresses[0]?.port, 4000)
  const errors: string[] = []
  const other = new StateFile(path, randomBytes(32), e => errors.push(e.message))
  t.same(await other.load(), { pending: [], declined: [], introduced: [], addresses: [] })
  t.match(errors[0], /did not open/)
  t.ok((await readdir(dir)).some(n => n.startsWith('messaging.state.unreadable-')), 'moved aside, not deleted')
  await writeFile(path, 'junk')
  t.same((await f.load()).pending, [], 'junk: empty')
  f.close()
  await t.rejects(f.save({ pending: [], declined: [], introduced: [], addresses: [] }), { code: 'DAEMON_FAILED' }, 'a closed file (wiped key) refuses to write')
})

t.test('byte budgets: per request and in all; what does not fit is dropped and counted', async t => {
  const kb = (n: number): string => 'x'.repeat(n * 1024)
  const b = new RequestBook({ maxHeldBytes: 200 * 1024, maxTotalHeldBytes: 300 * 1024 })
  t.equal(b.hold('a', ident, msg('1', kb(60)), 0), 'new')
  t.equal(b.hold('a', ident, msg('2', kb(60)), 0), 'updated')
  t.equal(b.hold('a', ident, msg('3', kb(60)), 0), 'updated')
  t.equal(b.hold('a', ident, msg('4', kb(60)), 0), 'full', 'a fourth 60 KiB text is past the 200 KiB per request')
  t.equal(b.hold('a', ident, msg('5', 'short'), 0), 'updated', 'a short one still fits')
  t.equal(b.hold('b', ident, msg('1', kb(60)), 0), 'new')
  t.equal(b.hold('b', ident, msg('2', kb(60)), 0), 'full', 'past the 300 KiB of the whole book')
  t.equal(b.introduce('c', { id: 'r', identity: ident, greeting: kb(100), timestamp: 5 }, 0), 'full', 'a greeting counts too')
  t.ok(b.totalBytes <= 300 * 1024, `${b.totalBytes} bytes held`)
  t.equal(b.tally.heldDropped, 3)
  t.ok(b.accept('a'))
  t.equal(b.hold('b', ident, msg('2', kb(60)), 0), 'updated', 'accepting frees the budget')
})

t.test('one network has a quota; a full book evicts from the busiest network, so a newcomer from elsewhere gets in', async t => {
  const b = new RequestBook({ maxPending: 10, maxPerNetwork: 4 })
  for (let i = 0; i < 6; i++) b.hold(`flood${i}`, ident, msg('1'), i, '198.51.100.0/24')
  t.equal(b.size, 4, 'one /24 holds 4 of the 10 slots')
  t.equal(b.tally.dropped, 2)
  for (let i = 0; i < 6; i++) b.hold(`other${i}`, ident, msg('1'), 10 + i, `203.0.${i < 3 ? 113 : 114}.0/24`)
  t.equal(b.size, 10, 'the book is full')
  t.equal(b.introduce('alice', { id: 'r', identity: ident, name: 'Alice', timestamp: 5 }, 20, '192.0.2.0/24'), 'new', 'a newcomer from another network gets in')
  t.same(b.drainRemoved().map(r => r.request.fingerprint), ['flood0'], 'the oldest request of the busiest network made room')
  t.equal(b.tally.evicted, 1)
})

t.test('requests expire with their messages', async t => {
  const b = new RequestBook({ expiryMs: 1000 })
  b.hold('a', ident, msg('1'), 0)
  b.hold('b', ident, msg('1'), 500)
  t.equal(b.nextExpiry, 1000)
  t.equal(b.expire(999), 0)
  t.equal(b.expire(1000), 1)
  t.same(b.list().map(r => r.fingerprint), ['b'])
  t.equal(b.hold('c', ident, msg('1'), 1600), 'new', 'any change expires what is due first')
  t.same(b.drainRemoved().map(r => [r.request.fingerprint, r.why]), [['a', 'expired'], ['b', 'expired']])
  t.equal(b.tally.expired, 2)
  t.equal(b.totalBytes, b.bytesOf('c'), 'expired bytes are freed')
})

t.test('request files: one sealed file per request, coalesced writes, unreadable ones moved aside', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-requests-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const key = randomBytes(32)
  const b = new RequestBook()
  const files = new RequestFiles(join(dir, 'requests'), key, diskStorage)
  // 20 messages held one after the other, each saved as the inbound worker does: all acknowledged once durable
  const saves: Array<Promise<void>> = []
  for (let i = 0; i < 20; i++) {
    b.hold('eve', ident, msg(`m${i}`, `a held secret ${i}`), i, '127.0.0.0/24')
    saves.push(files.save('eve', () => b.get('eve')))
  }
  b.hold('mallory', ident, msg('x'), 0)
  saves.push(files.save('mallory', () => b.get('mallory')))
  await Promise.all(saves)
  t.ok(files.writes <= 3, `20 changes of one request took ${files.writes - 1} writes of its file (one in flight, one waiting)`)
  const names = await readdir(join(dir, 'requests'))
  t.same(names.sort(), [files.nameOf('eve'), files.nameOf('mallory')].sort(), 'one file per request, named by a keyed hash')
  t.notOk(names.some(n => n.includes('eve')), 'the name does not give the fingerprint away')
  const raw = await readFile(join(dir, 'requests', files.nameOf('eve')))
  t.notOk(raw.includes('secret'), 'nothing readable on disk')
  t.equal((await stat(join(dir, 'requests', files.nameOf('eve')))).mode & 0o777, 0o600)

  const back = await new RequestFiles(join(dir, 'requests'), key, diskStorage).loadAll()
  const eve = back.find(r => r.fingerprint === 'eve')
  t.equal(eve?.held.length, 20, 'every held message is in the file')
  t.equal(eve?.network, '127.0.0.0/24')
  t.same(eve?.identity.dhPublic, ident.dhPublic)

  b.accept('mallory')
  await files.save('mallory', () => b.get('mallory'))
  t.same(await readdir(join(dir, 'requests')), [files.nameOf('eve')], 'a request that left the book leaves the disk')

  const errs: string[] = []
  t.same(await new RequestFiles(join(dir, 'requests'), randomBytes(32), diskStorage, e => errs.push(e.message)).loadAll(), [], 'another identity reads nothing')
  t.match(errs[0], /did not open/)
  t.ok((await readdir(join(dir, 'requests'))).some(n => n.includes('.unreadable-')), 'moved aside, not deleted')
  files.close()
  await t.rejects(files.save('eve', () => b.get('eve')), { code: 'DAEMON_FAILED' }, 'closed: no write under a wiped key')
})

t.test('a version 1 state file (the whole book in one file) is moved to one file per request on first start', async t => {
  const net = await createNodes(2, { network: 'sim', seed: 0x7e96, dht: false })
  t.teardown(async () => { await net.destroy() })
  const [, bob] = net.nodes as [TestNode, TestNode]
  const paths = homePaths(bob.opts.paths.home)
  await net.stop(1)
  // what a daemon of the old layout left: the request book inside messaging.state, version 1
  const storage = bob.opts.world.storage
  const old = new RequestBook()
  old.introduce('f'.repeat(64), { id: 'r1', identity: ident, name: 'Old', greeting: 'from before', timestamp: 5 }, SIM_WALL_BASE_MS)
  old.hold('f'.repeat(64), ident, msg('m1', 'held before the upgrade'), SIM_WALL_BASE_MS)
  await writeV1State(storage, `${paths.home}/messaging.state`, bob.identity.dhSecret, { ...old.snapshot(0), introduced: [], addresses: [] })
  const again = await net.restart(1)
  t.same(again.actions.requests().map(r => [r.name, r.text, r.held]), [['Old', 'from before', 1]], 'the old request is still there')
  await net.stop(1)
  const files = await storage.list(`${paths.home}/requests`)
  t.equal(files.length, 1, 'and has its own file')
  const state = await new StateFile(`${paths.home}/messaging.state`, bob.identity.dhSecret, () => {}, storage).load()
  t.same(state.pending, [], 'the state file no longer holds it')
  const third = await net.restart(1)
  t.same(third.actions.requests().map(r => r.name), ['Old'], 'kept across the next start too')
})
