// The RFC 6479-style replay window (proto-spec/session.md §5): unit cases at the edges, and a
// property test against a plain model (a set of seen counters and the highest one).
import t from 'tap'
import { ReplayWindow } from '../../src/transport/replay-window.js'
import { REPLAY_WINDOW, MAX_COUNTER } from '../../src/wire/constants.js'
import { createRng } from '../../src/sim/index.js'

const W = BigInt(REPLAY_WINDOW)

t.test('check is pure; commit marks; a counter is accepted once', async t => {
  const w = new ReplayWindow()
  t.equal(w.highest, -1n)
  t.ok(w.check(0n))
  t.ok(w.check(0n), 'checking twice changes nothing')
  t.ok(w.commit(0n))
  t.notOk(w.check(0n))
  t.notOk(w.commit(0n), 'a second commit is refused')
  t.ok(w.commit(5n))
  t.ok(w.check(3n), 'a gap below the top is still open')
  t.ok(w.commit(3n))
  t.notOk(w.check(3n))
  t.equal(w.highest, 5n)
})

t.test('window edges: exactly REPLAY_WINDOW below the top is too old', async t => {
  const w = new ReplayWindow()
  w.commit(10_000n)
  t.ok(w.check(10_000n - W + 1n), 'top − (W − 1) is inside')
  t.notOk(w.check(10_000n - W), 'top − W is outside')
  t.notOk(w.check(-1n))
  t.notOk(w.check(MAX_COUNTER + 1n), '2^64 − 1 is reserved (Noise §5.1)')
  t.ok(w.check(MAX_COUNTER))
})

t.test('a big jump clears the whole ring; counters near 2^64 work', async t => {
  const w = new ReplayWindow()
  for (let i = 0n; i < 100n; i++) w.commit(i)
  w.commit(1_000_000n)
  for (let i = 1_000_000n - W + 1n; i < 1_000_000n; i++) if (!w.check(i)) t.fail(`counter ${i} should be fresh`)
  const v = new ReplayWindow()
  v.commit(MAX_COUNTER - 3n)
  v.commit(MAX_COUNTER)
  t.notOk(v.check(MAX_COUNTER - 3n))
  t.ok(v.check(MAX_COUNTER - 1n))
})

// start: where the first counter lands (the window does plain-number arithmetic below 2^53
// and BigInt above: a run from just below 2^53 crosses over)
function agreesWithModel (seed: number, start: bigint, ops: number): number {
  const rng = createRng(seed)
  const w = new ReplayWindow()
  const seen = new Set<bigint>()
  let top = -1n
  let mismatches = 0
  for (let i = 0; i < ops; i++) {
    // mostly near the top (reordering), sometimes far behind, sometimes a jump ahead
    const r = rng.float()
    const base = top < 0n ? start : top
    let c = r < 0.7 ? base - BigInt(rng.int(2 * REPLAY_WINDOW)) + 8n : r < 0.95 ? base + BigInt(rng.int(64)) : base + BigInt(rng.int(5000))
    if (c < 0n) c = 0n
    const expect = c <= MAX_COUNTER && !seen.has(c) && (c > top || top - c < W)
    if (w.check(c) !== expect) mismatches++
    if (expect && rng.chance(0.9)) { // 10%: decryption "failed", so nothing is committed
      w.commit(c)
      seen.add(c)
      if (c > top) top = c
    }
  }
  return mismatches
}

t.test('property: agrees with a set-based model on 200k random operations', async t => {
  t.equal(agreesWithModel(6479, 0n, 200_000), 0)
})

t.test('property: the same across 2^53 and near 2^64', async t => {
  t.equal(agreesWithModel(6480, BigInt(Number.MAX_SAFE_INTEGER) - 40_000n, 50_000), 0)
  t.equal(agreesWithModel(6481, MAX_COUNTER - 3_000_000n, 50_000), 0)
})
