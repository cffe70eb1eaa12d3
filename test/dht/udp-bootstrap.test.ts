// `dmess bootstrap` as a real process (bootstrap/README.md): it answers DHT requests on UDP, nodes join the
// network through it and find each other's records, it logs stats as JSON lines, and it stops
// cleanly on SIGTERM and on SIGINT.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { BIN } from '../helpers/cli.js'
import { StandaloneDht } from '../../src/dht/standalone.js'
import { LOOPBACK_SETTINGS } from '../../src/dht/loopback.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { sealNow } from './helpers.js'

interface Line { event: string, [k: string]: unknown }

function startBootstrap (t: Test): { child: ChildProcess, next: (event: string) => Promise<Line>, exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'bootstrap', '--host', '127.0.0.1', '--port', '0', '--stats-interval', '0.2', '--testnet'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const exit = new Promise<number | null>(resolve => child.on('close', c => { clearTimeout(killer); resolve(c) }))
  t.teardown(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exit } })
  const waiting: Array<{ event: string, resolve: (l: Line) => void }> = []
  createInterface({ input: child.stdout! }).on('line', text => {
    const l = JSON.parse(text) as Line
    for (const w of [...waiting]) if (w.event === l.event) { waiting.splice(waiting.indexOf(w), 1); w.resolve(l) }
  })
  const next = async (event: string): Promise<Line> => await new Promise(resolve => waiting.push({ event, resolve }))
  return { child, next, exit }
}

t.test('nodes join through `dmess bootstrap`, find a record, stats report it, SIGTERM stops it cleanly', async t => {
  const b = startBootstrap(t)
  const listening = await b.next('listening')
  const addr = listening.address as string
  t.match(addr, /^127\.0\.0\.1:\d+$/, 'reports its address')

  const nodes: StandaloneDht[] = []
  t.teardown(async () => { await Promise.all(nodes.map(async n => { await n.close() })) })
  for (let i = 0; i < 8; i++) nodes.push(await StandaloneDht.listen({ node: LOOPBACK_SETTINGS }))
  for (const n of nodes) {
    const r = await n.node.bootstrap([addr])
    t.equal(r.reached, 1, 'the bootstrap node answers PING')
  }
  const id = generateIdentity()
  const { bytes, key } = sealNow(id, [{ host: '192.0.2.5', port: 9, kind: 'public' }], 1)
  const pub = await nodes[0]!.node.publish(bytes, key)
  t.ok(pub.stored > 0)
  const found = await nodes[7]!.node.findPresence(id.fingerprint)
  t.equal(found?.fingerprint, id.fingerprint, 'found through a network joined via the bootstrap node')

  let stats = await b.next('stats')
  while ((stats.routingTable as number) < 8) stats = await b.next('stats')
  t.ok((stats.routingTable as number) >= 8, `routing table holds the joined nodes (${String(stats.routingTable)})`)
  t.type(stats.requestsPerSecond, 'number')
  t.ok((stats.requestsAnswered as number) > 0, 'counts answered requests')
  t.type(stats.records, 'number')

  b.child.kill('SIGTERM')
  const stopped = await b.next('stopped')
  t.equal(stopped.signal, 'SIGTERM')
  t.equal(await b.exit, 0, 'exits 0')
  const after = await new Promise(resolve => nodes[1]!.node.ping(addr, resolve, 0))
  t.equal(after, null, 'the socket is closed after stop')
})

t.test('SIGINT also stops it cleanly', async t => {
  const b = startBootstrap(t)
  await b.next('listening')
  b.child.kill('SIGINT')
  t.equal((await b.next('stopped')).signal, 'SIGINT')
  t.equal(await b.exit, 0)
})
