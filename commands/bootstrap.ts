import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { StandaloneDht } from '../src/dht/standalone.js'
import { LOOPBACK_SETTINGS } from '../src/dht/testnet.js'
import { parseHostPort } from '../src/daemon/run.js'
import { addressOf, idToHex, type DhtStats } from '../src/dht/index.js'
import { errors } from '../src/errors.js'
import { udpSockets } from '../src/io/udp.js'
import { osRandom } from '../src/io/random.js'
import { realScheduler } from '../src/io/scheduler.js'
import { RendezvousServer } from '../src/traversal/rendezvous.js'
import { withRendezvous } from '../src/traversal/shared-socket.js'

/** The port a public bootstrap node listens on unless told otherwise (bootstrap/README.md). */
export const BOOTSTRAP_DEFAULT_PORT = 47400

function line (event: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n')
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
  static override description = 'Run a DHT bootstrap node: no user identity, answers DHT requests and serves as a NAT traversal rendezvous, logs stats as JSON lines'
  static override examples = [
    '<%= config.bin %> bootstrap',
    '<%= config.bin %> bootstrap --host 0.0.0.0 --port 47400 --stats-interval 300',
    '<%= config.bin %> bootstrap --port 47401 --join 198.51.100.7:47400'
  ]

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
    // the socket is shared with the rendezvous role (proto-spec/traversal.md §3.2)
    const socket = await udpSockets.bind({ host: flags.host ?? '0.0.0.0', port: flags.port ?? BOOTSTRAP_DEFAULT_PORT })
    const random = osRandom()
    const dht = await StandaloneDht.listen({
      transport: withRendezvous(socket, new RendezvousServer({ random: n => random.bytes(n) }), realScheduler),
      random,
      node: flags.testnet ? LOOPBACK_SETTINGS : {}
    })
    line('listening', { address: dht.address, nodeId: idToHex(dht.node.id), testnet: flags.testnet })
    if (join.length > 0) {
      const r = await dht.node.bootstrap(join)
      line('joined', { reached: r.reached, of: join.length, routingTable: r.contacts })
    }
    await this.#serve(dht, intervalS * 1000)
  }

  // Stats every interval; the first SIGINT/SIGTERM stops the node and closes the socket.
  async #serve (dht: StandaloneDht, intervalMs: number): Promise<void> {
    let last = { at: Date.now(), answered: 0 }
    const tick = (): void => {
      const s = dht.node.stats()
      const now = Date.now()
      line('stats', statsFields(s, (s.requestsAnswered - last.answered) * 1000 / Math.max(1, now - last.at)))
      last = { at: now, answered: s.requestsAnswered }
    }
    const timer = setInterval(tick, intervalMs)
    const signal = await new Promise<NodeJS.Signals>(resolve => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    clearInterval(timer)
    const s = dht.node.stats()
    await dht.close()
    line('stopped', { signal, address: dht.address, ...statsFields(s, 0) })
  }
}
