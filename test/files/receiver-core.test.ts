// The receiver's pure core (proto-spec/files.md §3.2, §4): it asks for missing chunks within its
// window, takes only chunks it asked for that verify, and resumes from a bitmap by asking only for
// what the bitmap lacks. A seeded run over a lossy, corrupting, reordering "sender" always ends
// with every chunk held exactly once.
import t from 'tap'
import { ReceiverCore } from '../../src/files/receiver-core.js'
import { HashTree, leafHash } from '../../src/files/merkle.js'
import { nextState, TERMINAL, type TransferState } from '../../src/files/state.js'
import { testRng } from '../helpers/seed.js'

const CHUNK = 4096
function fileTree (size: number, seed = 1): { data: Uint8Array, tree: HashTree } {
  const data = Uint8Array.from({ length: size }, (_, j) => (j * 31 + seed) & 0xff)
  const leaves: Uint8Array[] = []
  for (let i = 0; i * CHUNK < size; i++) leaves.push(leafHash(data.subarray(i * CHUNK, (i + 1) * CHUNK)))
  return { data, tree: new HashTree(leaves) }
}
const chunk = (data: Uint8Array, i: number): Uint8Array => data.subarray(i * CHUNK, (i + 1) * CHUNK)

t.test('asks within the window, as coalesced ranges; takes only verified, asked-for chunks', async t => {
  const { data, tree } = fileTree(10 * CHUNK + 7)
  const r = new ReceiverCore(data.length, CHUNK, tree.root)
  t.equal(r.chunks, 11)
  t.same(r.nextRequest(4), [{ first: 0, count: 4 }])
  t.same(r.nextRequest(4), [], 'nothing more while 4 are in flight')
  t.equal(r.onData(5, chunk(data, 5), tree.proof(5)), 'unexpected', 'a chunk not asked for is not taken')
  const bad = chunk(data, 1).slice(); bad[0] = (bad[0] as number) ^ 1
  t.equal(r.onData(1, bad, tree.proof(1)), 'bad-proof')
  t.equal(r.onData(0, chunk(data, 0), tree.proof(0)), 'verified')
  r.markHave(0)
  t.equal(r.onData(0, chunk(data, 0), tree.proof(0)), 'duplicate')
  t.equal(r.onData(2, chunk(data, 2).subarray(1), tree.proof(2)), 'unexpected', 'wrong length')
  t.equal(r.onData(99, chunk(data, 2), tree.proof(2)), 'unexpected', 'beyond the accepted size')
  t.same(r.nextRequest(4), [{ first: 1, count: 1 }, { first: 4, count: 1 }], 'the bad chunk is asked again, then the next')
})

t.test('resume: a bitmap restores what is held; only the rest is asked for', async t => {
  const { data, tree } = fileTree(9 * CHUNK)
  const a = new ReceiverCore(data.length, CHUNK, tree.root)
  for (const i of [0, 1, 2, 5, 8]) a.markHave(i)
  const b = new ReceiverCore(data.length, CHUNK, tree.root, a.bitmap())
  t.equal(b.haveCount, 5)
  t.equal(b.haveBytes, 5 * CHUNK)
  t.same(b.nextRequest(32), [{ first: 3, count: 2 }, { first: 6, count: 2 }])
  b.forgetRequests()
  t.same(b.nextRequest(1), [{ first: 3, count: 1 }], 'forgotten requests are asked again')
})

t.test('the empty file is complete at once; haveBytes counts a short last chunk', async t => {
  t.ok(new ReceiverCore(0, CHUNK, new HashTree([]).root).complete)
  const { data, tree } = fileTree(CHUNK + 1)
  const r = new ReceiverCore(data.length, CHUNK, tree.root)
  r.nextRequest(2)
  t.equal(r.onData(1, chunk(data, 1), tree.proof(1)), 'verified')
  r.markHave(1)
  t.equal(r.haveBytes, 1)
})

t.test('property: lossy, corrupting, reordering delivery always completes with every byte verified', async t => {
  const rng = testRng(t, 0xf11e)
  for (let round = 0; round < 30; round++) {
    const size = rng.int(40 * CHUNK)
    const { data, tree } = fileTree(size, round)
    const r = new ReceiverCore(size, CHUNK, tree.root)
    const got = new Map<number, Uint8Array>()
    let steps = 0
    while (!r.complete && steps++ < 10_000) {
      const asked = r.nextRequest(1 + rng.int(8)).flatMap(g => Array.from({ length: g.count }, (_, k) => g.first + k))
      if (asked.length === 0 || rng.float() < 0.05) { r.forgetRequests(); continue } // a lost link
      for (const i of asked.sort(() => rng.float() - 0.5)) {
        if (rng.float() < 0.2) continue // lost
        let c = chunk(data, i)
        if (rng.float() < 0.1 && c.length > 0) { c = c.slice(); const at = rng.int(c.length); c[at] = (c[at] as number) ^ 0x80 } // corrupted
        if (r.onData(i, c, tree.proof(i)) === 'verified') { got.set(i, c); r.markHave(i) }
      }
    }
    if (!r.complete) { t.fail(`round ${round}: not complete`); continue }
    const out = new Uint8Array(size)
    for (const [i, c] of got) out.set(c, i * CHUNK)
    if (Buffer.compare(out, data) !== 0) t.fail(`round ${round}: bytes differ`)
  }
  t.pass('30 transfers')
})

t.test('states: terminal states absorb; a sender hearing DONE while offered is done', async t => {
  const states: TransferState[] = ['offered', 'active', 'done', 'declined', 'cancelled', 'failed']
  for (const s of TERMINAL) for (const e of ['accept', 'decline', 'cancel', 'fail', 'complete'] as const) t.equal(nextState(s, e, 'in'), null, `${s} ignores ${e}`)
  t.equal(nextState('offered', 'accept', 'in'), 'active')
  t.equal(nextState('offered', 'complete', 'in'), null, 'a receiver completes only an active transfer')
  t.equal(nextState('offered', 'complete', 'out'), 'done')
  t.equal(nextState('active', 'decline', 'out'), null, 'no decline once accepted')
  t.equal(nextState('active', 'fail', 'in'), 'failed')
  t.equal(states.length, 6)
})
