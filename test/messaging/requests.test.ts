// Contact requests (proto-spec/messaging.md §3) and the file that keeps them (§10).
import t from 'tap'
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RequestBook } from '../../src/messaging/requests.js'
import { StateFile } from '../../src/messaging/state-file.js'
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
