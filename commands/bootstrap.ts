import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { StandaloneDht } from '../src/dht/standalone.js'
import { LOOPBACK_SETTINGS } from '../src/dht/loopback.js'
import { addressOf, parseHostPort } from '../src/io/address.js'
import { clearDhtMemos, idToHex, type DhtStats } from '../src/dht/index.js'
import { errors } from '../src/errors.js'
import { udpSockets } from '../src/io/udp.js'
import { realScheduler } from '../src/io/scheduler.js'
import { osRandom } from '../src/io/random.js'
import type { DatagramSockets, DatagramTransport } from '../src/io/datagram.js'
import { RelayService, splitRelayControl, type RelayStats } from '../src/relay/index.js'
import { StunService } from '../src/stun/service.js'
import { RendezvousServer } from '../src/traversal/rendezvous.js'
import { heapUsedAfterGc } from '../src/platform/heap.js'
import { withRendezvous } from '../src/traversal/shared-socket.js'

/** The port a public bootstrap node listens on unless told otherwise (bootstrap/README.md). */
export const BOOTSTRAP_DEFAULT_PORT = 47400

function line (event: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n')
}

function relayFields (r: RelayStats): Record<string, unknown> {
  return {
    allocations: r.allocations,
    forwardedPackets: r.forwardedPackets,
    forwardedBytes: r.forwardedBytes,
    drops: Object.fromEntries(Object.entries(r.dropped).filter(([, n]) => n > 0))
  }
}

/**
 * The bootstrap node's socket with the relay's control messages taken off (proto-spec/relay.md §1:
 * a bootstrap node always relays); the DHT gets the rest.
 */
function relayedSockets (host: string, holder: { relay: RelayService | null, socket: DatagramTransport | null }): DatagramSockets {
  return {
    bind: async opts => {
      const random = osRandom()
      // one port for everything: relay control to the relay, traversal messages to the rendezvous
      // role (proto-spec/traversal.md §3.2), the rest (DHT, STUN) to the DHT node's socket
      const split = splitRelayControl(await udpSockets.bind(opts), (bytes, from) => { holder.relay?.onControl(bytes, from) })
      const socket = withRendezvous(split, new RendezvousServer({ random: n => random.bytes(n) }), realScheduler)
      holder.socket = socket
      holder.relay = new RelayService({ sockets: udpSockets, host, scheduler: realScheduler, random: n => random.bytes(n), send: (to, b) => { socket.send(to, b) } })
      return socket
    }
  }
}

function statsFields (s: DhtStats, perSecond: number): Record<string, unknown> {
  return {
    routingTable: s.contacts,
    records: s.records,
    requestsPerSecond: Math.round(perSecond * 10) / 10,
    requestsAnswered: s.requestsAnswered,
    pendingRpcs: s.pendingRpcs,
    drops: Object.fromEntries(Object.entries(s.drops).filter(([, n]) => n > 0))
  }
}

export default class Bootstrap extends BaseCommand {
  static override description = 'Run a DHT bootstrap node: no user identity, answers DHT and STUN Binding requests, serves as a NAT traversal rendezvous and relays for pairs that cannot reach each other, logs stats as JSON lines'
  static override examples = [
    '<%= config.bin %> bootstrap',
    '<%= config.bin %> bootstrap --host 0.0.0.0 --port 47400 --stats-interval 300',
    '<%= config.bin %> bootstrap --port 47401 --join 198.51.100.7:47400'
  ]

  // no identity and no home: --home would be taken and ignored, so it is not offered (the cast
  // only satisfies the static side's type; nothing here reads flags.home)
  static override baseFlags = {} as unknown as typeof BaseCommand.baseFlags

  static override flags = {
    port: Flags.integer({ description: `UDP port (default ${BOOTSTRAP_DEFAULT_PORT}; 0 picks a free one)`, min: 0, max: 65535 }),
    host: Flags.string({ description: 'address to bind (default 0.0.0.0)' }),
    join: Flags.string({ description: 'another bootstrap node to join, host:port (repeatable)', multiple: true }),
    'stats-interval': Flags.string({ description: 'seconds between stats lines (default 60)' }),
    testnet: Flags.boolean({ description: 'relax the per-IP defences (many nodes on one address): for loopback tests only, never on the Internet' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Bootstrap)
    const intervalS = Number(flags['stats-interval'] ?? 60)
    if (!Number.isFinite(intervalS) || intervalS < 0.05 || intervalS > 86_400) {
      throw errors.BAD_ARGUMENT(`--stats-interval must be 0.05..86400 seconds, got "${flags['stats-interval']}"`)
    }
    const join = (flags.join ?? []).map(j => {
      const hp = parseHostPort(j, '--join')
      const a = addressOf(hp.host, hp.port)
      if (a === null) throw errors.BAD_ARGUMENT(`--join needs an IP literal, got "${j}"`)
      return a
    })
    const holder: { relay: RelayService | null, socket: DatagramTransport | null } = { relay: null, socket: null }
    // a bootstrap node always answers STUN Binding requests on its one port (proto-spec/stun.md §6)
    let stun: StunService | null = null
    const dht = await StandaloneDht.listen({
      sockets: relayedSockets(flags.host ?? '0.0.0.0', holder),
      host: flags.host ?? '0.0.0.0',
      port: flags.port ?? BOOTSTRAP_DEFAULT_PORT,
      node: flags.testnet ? LOOPBACK_SETTINGS : {},
      onStun: (bytes, from) => { stun?.receive(bytes, from) }
    })
    stun = new StunService({ send: (to, bytes) => { dht.sendDatagram(to, bytes) }, scheduler: realScheduler, random: osRandom(), serve: () => true })
    // Listening for the stop signals before saying 'listening': whoever reads that line may signal
    // at once, and a SIGINT before the handler is in place would kill the node unclean.
    const stopSignal = new Promise<NodeJS.Signals>(resolve => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    line('listening', { address: dht.address, nodeId: idToHex(dht.node.id), testnet: flags.testnet })
    if (join.length > 0) {
      const r = await dht.node.bootstrap(join)
      line('joined', { reached: r.reached, of: join.length, routingTable: r.contacts })
    }
    await this.#serve(dht, holder.relay!, stun, intervalS * 1000, stopSignal)
  }

  // Stats every interval; the first SIGINT/SIGTERM stops the node and closes the socket.
  async #serve (dht: StandaloneDht, relay: RelayService, stun: StunService, intervalMs: number, stopSignal: Promise<NodeJS.Signals>): Promise<void> {
    let last = { at: Date.now(), answered: 0 }
    const tick = (): void => {
      const s = dht.node.stats()
      const now = Date.now()
      const heap = heapUsedAfterGc(clearDhtMemos)
      line('stats', { ...statsFields(s, (s.requestsAnswered - last.answered) * 1000 / Math.max(1, now - last.at)), relay: relayFields(relay.stats()), stun: { ...stun.server.stats, drops: stun.drops }, ...(heap === undefined ? {} : { heapUsedAfterGc: heap }) })
      last = { at: now, answered: s.requestsAnswered }
    }
    const timer = setInterval(tick, intervalMs)
    const signal = await stopSignal
    clearInterval(timer)
    const s = dht.node.stats()
    const r = relay.stats()
    await relay.close()
    await dht.close()
    line('stopped', { signal, address: dht.address, ...statsFields(s, 0), relay: relayFields(r), stun: { ...stun.server.stats, drops: stun.drops } })
  }
}
