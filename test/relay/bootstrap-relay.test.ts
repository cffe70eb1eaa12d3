// `dmess bootstrap` as a real process relays (proto-spec/relay.md §1): two endpoints in this
// process allocate on its address, complete a Noise session through it and exchange data; its
// stats lines report the relay's figures.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { BIN } from '../helpers/cli.js'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { realScheduler } from '../../src/io/scheduler.js'
import { osRandom } from '../../src/io/random.js'
import { splitHostPort } from '../../src/io/address.js'
import { RelayClient, attachRelay } from '../../src/relay/index.js'

interface Line { event: string, [k: string]: unknown }

t.test('two endpoints talk through `dmess bootstrap`', async t => {
  const child = spawn(process.execPath, [BIN, 'bootstrap', '--host', '127.0.0.1', '--port', '0', '--stats-interval', '0.2', '--testnet'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const exit = new Promise<number | null>(resolve => child.on('close', c => { clearTimeout(killer); resolve(c) }))
  t.teardown(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exit } })
  const waiting: Array<{ test: (l: Line) => boolean, resolve: (l: Line) => void }> = []
  createInterface({ input: child.stdout! }).on('line', text => {
    const l = JSON.parse(text) as Line
    for (const w of [...waiting]) if (w.test(l)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(l) }
  })
  const next = async (test: (l: Line) => boolean): Promise<Line> => await new Promise(resolve => waiting.push({ test, resolve }))

  const listening = await next(l => l.event === 'listening')
  const relay = splitHostPort(listening.address as string)!
  const random = osRandom()
  const user = async (): Promise<{ ep: Endpoint, client: RelayClient }> => {
    const ep = await Endpoint.listen({ host: '127.0.0.1', port: 0, identity: generateIdentity() })
    const client = new RelayClient({ send: (to, b) => { ep.sendDatagram(to, b) }, scheduler: realScheduler, random: n => random.bytes(n) })
    attachRelay(ep, { client })
    t.teardown(async () => { client.close(); await ep.close() })
    return { ep, client }
  }
  const a = await user()
  const b = await user()
  const { path, offer } = await a.client.allocate(relay)
  await b.client.join(offer)
  await path.ready()
  const inbound = new Promise<Session>(resolve => b.ep.once('session', resolve))
  const sa = await a.ep.connect(path.address, { expectFingerprint: b.ep.fingerprint })
  const sb = await inbound
  const got = new Promise<string>(resolve => sb.once('data', d => { resolve(new TextDecoder().decode(d)) }))
  sa.send(new TextEncoder().encode('via the bootstrap node'))
  t.equal(await got, 'via the bootstrap node')
  const stats = await next(l => l.event === 'stats' && ((l.relay as { forwardedPackets?: number })?.forwardedPackets ?? 0) >= 4)
  t.match(stats.relay, { allocations: 1 }, 'the stats line reports the allocation and what it forwarded')
  child.kill('SIGTERM')
  const stopped = await next(l => l.event === 'stopped')
  t.equal(stopped.signal, 'SIGTERM')
  t.equal(await exit, 0)
})
