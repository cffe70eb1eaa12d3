// The port-mapping client's tests' harness (client.test.ts, upnp-client.test.ts, parallel.test.ts):
// a PortMapper over real UDP on loopback, its gateway 127.0.0.1 (the fakes listen there), every
// status change kept, and a wait for a status that wakes on each change (PortMapper.#set calls
// onChange) with one timer as the bound on how long a test may hang, not a poll.
import type { Test } from 'tap'
import { udpSockets } from '../../src/io/udp.js'
import { realScheduler } from '../../src/io/scheduler.js'
import { osRandom } from '../../src/io/random.js'
import { PortMapper, type PortMapperOptions, type PortmapStatus } from '../../src/portmap/client.js'

/** The node's own socket: the port that must be mapped. */
export const ENDPOINT_PORT = 47474

export interface MapperHarness {
  mapper: PortMapper
  changes: PortmapStatus[]
  until: (pred: (s: PortmapStatus) => boolean) => Promise<PortmapStatus>
}

/** A mapper (stopped at teardown) for the endpoint port, toward the gateway 127.0.0.1. */
export function mapperHarness (t: Test, opts: Partial<PortMapperOptions> = {}): MapperHarness {
  const waiters: Array<() => void> = []
  const changes: PortmapStatus[] = []
  const mapper = new PortMapper({
    sockets: udpSockets,
    scheduler: realScheduler,
    random: osRandom(),
    internalPort: ENDPOINT_PORT,
    findGateway: async () => ({ gateway: '127.0.0.1', local: '127.0.0.1', interface: 'lo' }),
    ...opts,
    onChange: st => { changes.push(st); opts.onChange?.(st); for (const w of waiters.splice(0)) w() }
  })
  t.teardown(async () => { await mapper.stop() })
  const until = async (pred: (s: PortmapStatus) => boolean): Promise<PortmapStatus> => {
    const deadline = Date.now() + 15_000
    while (!pred(mapper.status())) {
      if (Date.now() >= deadline) throw new Error(`status never matched: ${JSON.stringify(mapper.status())}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
    return mapper.status()
  }
  return { mapper, changes, until }
}
