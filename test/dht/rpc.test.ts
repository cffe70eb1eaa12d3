// The transaction table's timers (dht.md §7.1): every request still times out, retries and stalls
// at its own deadline, but the table holds one scheduler timer at a time, not one per request.
import t from 'tap'
import { SimClock } from '../../src/sim/clock.js'
import { createRng } from '../../src/sim/rng.js'
import { RpcTable } from '../../src/dht/rpc.js'
import type { Scheduler } from '../../src/io/scheduler.js'
import { DhtType } from '../../src/dht/constants.js'

function countingScheduler (clock: SimClock): Scheduler & { live: () => number, maxLive: number } {
  let live = 0
  const s = {
    maxLive: 0,
    live: () => live,
    now: () => clock.now,
    wallNow: () => clock.now,
    setTimer: (ms: number, fn: () => void) => {
      live++
      s.maxLive = Math.max(s.maxLive, live)
      const timer = { done: false, t: clock.after(ms, () => { timer.done = true; live--; fn() }) }
      return timer
    },
    clearTimer: (h: unknown) => {
      const timer = h as { done: boolean, t: ReturnType<SimClock['after']> }
      if (!timer.done) { timer.done = true; live--; clock.cancel(timer.t) }
    }
  }
  return s
}

t.test('200 requests: each times out at its own deadline, on one timer', async t => {
  const clock = new SimClock(0)
  const rng = createRng(3)
  const sched = countingScheduler(clock)
  let sent = 0
  const rpc = new RpcTable({ scheduler: sched, random: n => rng.bytes(n), send: () => { sent++ } })
  const events: Array<{ i: number, what: string, at: number }> = []
  const txids: number[] = []
  for (let i = 0; i < 200; i++) {
    clock.schedule(i * 7, () => {
      const tx = rpc.request(`198.51.100.${1 + (i % 200)}:1`, DhtType.PING, () => new Uint8Array(1), {
        timeoutMs: 1000, retries: i % 2, stallMs: 400,
        onStall: () => events.push({ i, what: 'stall', at: clock.now }),
        onResponse: () => events.push({ i, what: 'answer', at: clock.now }),
        onTimeout: () => events.push({ i, what: 'timeout', at: clock.now })
      })!
      txids[i] = tx.txid
    })
  }
  // every third one is answered 50 ms after it was sent
  for (let i = 0; i < 200; i += 3) {
    clock.schedule(i * 7 + 50, () => {
      t.equal(rpc.receive({ txid: txids[i]!, readOnly: false, senderKey: new Uint8Array(32), type: DhtType.PONG, observed: '1.2.3.4:5' }, `198.51.100.${1 + (i % 200)}:1`), 'ok')
    })
  }
  clock.run()
  t.equal(sched.maxLive, 1, 'never more than one timer')
  t.equal(sched.live(), 0, 'no timer left once nothing is pending')
  t.equal(rpc.size, 0)
  for (let i = 0; i < 200; i++) {
    const mine = events.filter(e => e.i === i)
    if (i % 3 === 0) {
      t.same(mine, [{ i, what: 'answer', at: i * 7 + 50 }], `request ${i} answered, no stall or timeout`)
    } else {
      const end = i * 7 + 1000 * (1 + (i % 2))
      t.same(mine, [{ i, what: 'stall', at: i * 7 + 400 }, { i, what: 'timeout', at: end }], `request ${i} stalls at 400 ms, times out after ${1 + (i % 2)} sends`)
    }
  }
  t.equal(sent, 200 + Array.from({ length: 200 }, (_, i) => i).filter(i => i % 3 !== 0 && i % 2 === 1).length, 'retries resent')
})

t.test('a cancelled request never calls back', async t => {
  const clock = new SimClock(0)
  const rng = createRng(4)
  const rpc = new RpcTable({ scheduler: countingScheduler(clock), random: n => rng.bytes(n), send: () => {} })
  const events: string[] = []
  const a = rpc.request('198.51.100.1:1', DhtType.PING, () => new Uint8Array(1), { timeoutMs: 100, onResponse: () => events.push('a'), onTimeout: () => events.push('a timeout') })!
  rpc.request('198.51.100.2:1', DhtType.PING, () => new Uint8Array(1), { timeoutMs: 200, onResponse: () => events.push('b'), onTimeout: () => events.push('b timeout') })
  rpc.cancel(a)
  clock.run()
  t.same(events, ['b timeout'])
  t.equal(clock.now, 200)
})
