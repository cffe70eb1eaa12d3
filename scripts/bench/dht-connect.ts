// Join-and-announce and connect-by-fingerprint on a 10-node loopback DHT testnet (real UDP on
// 127.0.0.1, one process), the measurements to set beside hyperdht's testnet:
//   join-announce   a new server node pings the bootstrap nodes, looks itself up, refreshes, and
//                   stores a sealed presence record on the k closest (dht.md §6.2, §6.4)
//   announce        the announce alone (lookup for the key + STOREs); announce-cpu the process's
//                   CPU time in it (a figure a loaded machine's scheduling does not inflate)
//   connect         an already bootstrapped client finds the server's record by fingerprint
//                   (dht.md §5.3: looked up, opened, certified) and completes a Noise handshake
//                   with the server at the record's address (session.md)
//   churn-*         the same after restarting full DHT nodes (new id, new port) between rounds
//   sim-announce    the same rounds' announce (a server joins, announces, leaves silently) on the
//                   simulator with 1 ms round trips: simulated ms, which a loaded host does not
//                   inflate — the protocol's own cost, departed servers among the k closest included
// Median, p90 and max of ROUNDS rounds, one JSON line per metric. hyperdht is not installed on
// this machine (`npm ls hyperdht` is empty), so no side-by-side run: the targets printed are
// announce ≤ 12 ms and connect no slower than hyperdht's (6.8 ms on its testnet when the target
// was set; docs/performance.md §4 has the transport's own side-by-side runs).
//   npx tsx scripts/bench/dht-connect.ts   (or: npm run bench -- dht-connect)
import { createTestnet } from '../../src/dht/udp-testnet.js'
import { StandaloneDht } from '../../src/dht/standalone.js'
import { LOOPBACK_SETTINGS } from '../../src/dht/loopback.js'
import { generateIdentity, type Identity } from '../../src/crypto/identity.js'
import { sealPresenceRecord } from '../../src/dht/presence-seal.js'
import { presencePlan } from '../../src/dht/presence-plan.js'
import { randomBytes } from '../../src/crypto/primitives.js'
import { Endpoint } from '../../src/transport/index.js'
import { DhtSimNetwork, SimDht, SIM_EPOCH_MS } from '../../src/dht/sim/index.js'
import { pathToFileURL } from 'node:url'

const NODES = 10
const ROUNDS = Number(process.env.ROUNDS ?? 20)
const RESTARTS_PER_ROUND = 2
const ROUND_LIMIT_MS = 10_000

const round = (x: number): number => Math.round(x * 100) / 100
function emit (metric: string, xs: number[], extra: Record<string, unknown> = {}): void {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
  console.log(JSON.stringify({ metric, value: round(at(0.5)), unit: 'ms', p90: round(at(0.9)), max: round(s[s.length - 1] ?? NaN), rounds: xs.length, nodes: NODES, ...extra }))
}

async function bounded<T> (p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} took over ${ROUND_LIMIT_MS} ms`)) }, ROUND_LIMIT_MS) })
  try { return await Promise.race([p, limit]) } finally { clearTimeout(timer) }
}

interface Server { dht: StandaloneDht, endpoint: Endpoint, identity: Identity }

/** A server: its Noise endpoint, and a DHT node that joins and announces the endpoint's address. */
async function startServer (bootstrap: string[], t: { join: number[], announce: number[], announceCpu: number[], both: number[] }): Promise<Server> {
  const identity = generateIdentity()
  const endpoint = await Endpoint.listen({ host: '127.0.0.1', port: 0, identity })
  const dht = await StandaloneDht.listen({ node: LOOPBACK_SETTINGS })
  const plan = presencePlan(Date.now(), 3_600_000)[0]!
  const { key, bytes } = sealPresenceRecord({ publicIdentity: identity, addresses: [{ host: '127.0.0.1', port: endpoint.address.port, kind: 'lan' }], ...plan }, identity, randomBytes(24))
  const t0 = performance.now()
  await bounded(dht.node.bootstrap(bootstrap), 'join')
  const t1 = performance.now()
  const cpu0 = process.cpuUsage()
  await bounded(dht.node.publish(bytes, key), 'announce')
  const t2 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  t.join.push(t1 - t0)
  t.announce.push(t2 - t1)
  t.announceCpu.push((cpu.user + cpu.system) / 1000)
  t.both.push(t2 - t0)
  return { dht, endpoint, identity }
}

async function connect (client: StandaloneDht, clientEp: Endpoint, server: Server): Promise<number> {
  const t0 = performance.now()
  const found = await bounded(client.node.findPresence(server.identity.fingerprint), 'lookup')
  const a = found?.addresses[0]
  if (a === undefined) throw new Error('the server\'s record was not found')
  const session = await bounded(clientEp.connect({ host: a.host, port: a.port }, { expectFingerprint: server.identity.fingerprint }), 'handshake')
  const ms = performance.now() - t0
  session.close()
  return ms
}

async function phase (label: string, net: Awaited<ReturnType<typeof createTestnet>>, churn: boolean): Promise<void> {
  const client = await StandaloneDht.listen({ node: LOOPBACK_SETTINGS })
  const clientEp = await Endpoint.listen({ host: '127.0.0.1', port: 0, identity: generateIdentity() })
  await client.node.bootstrap(net.bootstrap)
  const t = { join: [] as number[], announce: [] as number[], announceCpu: [] as number[], both: [] as number[] }
  const conn: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    if (churn) {
      // full DHT nodes restart: the old ones vanish silently, new ones (new id, new port) join
      for (let k = 0; k < RESTARTS_PER_ROUND; k++) {
        const i = 3 + ((r * RESTARTS_PER_ROUND + k) % (NODES - 3)) // the three bootstrap nodes stay
        await net.nodes[i]!.close()
        net.nodes[i] = await StandaloneDht.listen({ node: LOOPBACK_SETTINGS })
        await bounded(net.nodes[i]!.node.bootstrap(net.bootstrap), 'a restarted node\'s join')
      }
    }
    const server = await startServer(net.bootstrap, t)
    conn.push(await connect(client, clientEp, server))
    await server.dht.close()
    await server.endpoint.close()
  }
  emit(`${label}join-announce`, t.both)
  emit(`${label}join`, t.join)
  emit(`${label}announce`, t.announce, { target: 12 })
  // the process's CPU time during the announce: this node's and its k storers' work (one process
  // runs the testnet), which is what the wall time is made of when the machine is not busy elsewhere
  emit(`${label}announce-cpu`, t.announceCpu, { note: 'process CPU ms, all nodes of the testnet' })
  emit(`${label}connect-by-fingerprint`, conn, { target: 'hyperdht in the same run (not installed here; 6.8 ms when the target was set)' })
  await client.close()
  await clientEp.close()
}

/** The announce rounds of `phase` on the simulator (1 ms round trips, no jitter): simulated ms. */
export async function simPhase (): Promise<void> {
  const net = new DhtSimNetwork({ seed: 1, startMs: SIM_EPOCH_MS, rtt: { medianMs: 1, sigma: 0, minMs: 1 }, jitterMs: 0 })
  const dht = new SimDht({ net, seed: 1, node: LOOPBACK_SETTINGS })
  dht.grow(NODES, { bootstrapCount: 3, intervalMs: 20 })
  const seeds = dht.nodes.slice(0, 3).map(s => s.addr)
  const announce: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const server = dht.add()
    server.node.start()
    const joined = server.node.bootstrap(seeds)
    net.run({ until: net.now + ROUND_LIMIT_MS })
    await joined
    const identity = generateIdentity()
    const plan = presencePlan(net.now, 3_600_000)[0]!
    const { key, bytes } = sealPresenceRecord({ publicIdentity: identity, addresses: [{ host: '127.0.0.1', port: 1, kind: 'lan' }], ...plan }, identity, randomBytes(24))
    const record = server.node.internals.verifyRecord(bytes, key, net.now)
    if (record === null) throw new Error('the record does not verify')
    const t0 = net.now
    let t1 = NaN
    server.node.publishRecord(record, () => { t1 = net.now })
    net.run({ done: () => !Number.isNaN(t1), until: net.now + ROUND_LIMIT_MS })
    if (Number.isNaN(t1)) throw new Error(`sim announce took over ${ROUND_LIMIT_MS} simulated ms`)
    announce.push(t1 - t0)
    dht.kill(server) // leaves silently, as the real rounds' servers do
  }
  emit('sim-announce', announce, { unit: 'simulated ms', rtt: 1 })
  for (const s of dht.alive()) s.node.stop()
}

export async function run (): Promise<void> {
  await simPhase()
  const net = await createTestnet(NODES)
  try {
    await phase('', net, false)
    await phase('churn-', net, true)
  } finally {
    await net.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run()
}
