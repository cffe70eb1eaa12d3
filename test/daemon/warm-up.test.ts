// The first connect's crypto run once on throwaway keys after start (src/daemon/warm-up.ts): every
// step runs and checks its result, other work runs between the steps, a stopping daemon ends it,
// and a daemon runs it after start (its log says so) while the unlock agent does not.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { warmUp } from '../../src/daemon/warm-up.js'
import { Daemon } from '../../src/daemon/daemon.js'
import { unlock } from '../../src/app/profile.js'
import { PASS, profileHome } from './helpers.js'

t.test('every step runs, one turn of the event loop each, with other work between them', async t => {
  let turns = 0
  let ticking = true
  const tick = (): void => { turns++; if (ticking) setImmediate(tick) }
  setImmediate(tick)
  const r = await warmUp()
  ticking = false
  t.equal(r.steps, 11, 'identities, handshake, punch, envelopes, prekeys, and two session starts of three steps each')
  t.equal(r.stepMs.length, r.steps)
  t.ok(r.stepMs.every(ms => ms >= 0) && r.cpuMs > 0, 'CPU per step and in all')
  t.ok(turns >= r.steps - 1, `other work ran between the steps (${turns} turns)`)
})

t.test('a stop ends it between steps', async t => {
  let asked = 0
  const r = await warmUp(() => ++asked > 3)
  t.equal(r.steps, 3, 'three steps, then nothing more')
})

function capture (): { log: pino.Logger, lines: Array<{ msg?: string, steps?: number }> } {
  const lines: Array<{ msg?: string, steps?: number }> = []
  const out = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as { msg?: string }); done() } })
  return { log: pino({ level: 'debug' }, out), lines }
}

async function until (cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise(resolve => setImmediate(resolve))
}

t.test('a daemon warms up after it is ready; the unlock agent does not', async t => {
  for (const agent of [false, true]) {
    const { paths } = await profileHome(t)
    const { log, lines } = capture()
    const d = new Daemon({ paths, host: '127.0.0.1', port: 0, mdns: false, peers: [], bootstrap: [], log, ...(agent ? { agent: { lockAfterMs: 60_000 } } : {}) }, await unlock(paths, PASS))
    t.teardown(async () => { await d.stop('teardown') })
    await d.start()
    const ready = lines.findIndex(l => l.msg === 'daemon running' || l.msg === 'unlock agent running (offline)')
    t.ok(ready >= 0, 'ready')
    t.notOk(lines.some(l => l.msg === 'warm-up done'), 'not before start returned')
    if (agent) {
      // the warm-up would have begun on the next turn: give it several
      for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
      t.notOk(lines.some(l => l.msg === 'warm-up done'), 'the agent connects nothing and warms nothing')
    } else {
      await until(() => lines.some(l => l.msg === 'warm-up done'))
      t.equal(lines.find(l => l.msg === 'warm-up done')?.steps, 11, 'the daemon ran every step')
    }
    await d.stop('done')
  }
})
