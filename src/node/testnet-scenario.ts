// The whole-node conversation scenario on a testnet (src/node/testnet.ts), in one place for its
// users: test/node/testnet.test.ts (50 simulated nodes, and 10 on loopback UDP),
// test/node/sim-determinism.test.ts (the same scenario twice, traced) and
// scripts/bench/testnet-sim.ts (docs/performance.md §13).
//
//   await formDht(net, 10)                       // routing tables filled, every node announced
//   const sent = await conversation(net, { members, restarted, downMs, maxMs })
//
// Contacts know each other by invite only (keys, no address), so each first finds the other in
// the DHT (proto-spec/dht.md §5, messaging.md §5.2).
import type { DaemonEvent } from '../runtime/events.js'
import type { Testnet } from './testnet.js'

export interface Sent { from: number, to: number, id: string, text: string }

export interface ConversationPlan {
  /** the nodes (indexes) that befriend each other, every pair */
  members: number[]
  /** the member that stops while the first messages are in flight and starts again after downMs */
  restarted: number
  downMs: number
  /** how long (simulated time, or real time on UDP) every message may take to arrive and be receipted */
  maxMs: number
}

/**
 * Resolves once every node's routing table holds at least `minTable` contacts and every node has
 * finished its first announce (its presence record stored, dht.md §5.5): what a network of
 * running daemons looks like by the time their users add each other. A lookup made before its
 * contact announced finds nothing, walks the whole neighbourhood of the key for it, and is
 * made again later (messaging.md §5.2).
 */
export async function formDht (net: Testnet, minTable: number, maxMs = 60_000): Promise<void> {
  await net.until(() => net.nodes.every(n => (n.dht?.tableSize ?? 0) >= minTable), maxMs, 'every routing table filled')
  let announced = 0
  const count = (): void => { announced++ }
  for (const n of net.nodes) n.dht?.ready().then(count, count) // one that failed counts as finished: it is not coming
  const withDht = net.nodes.filter(n => n.dht !== null).length
  await net.until(() => announced === withDht, maxMs, 'every node announced')
}

/**
 * What each node received (texts) and holds receipts for (ids), read from its events as they
 * come: the condition is checked after every simulated event, and rescanning every node's events
 * each time cost more CPU than some of the work it measures. A restarted node's new run is a new
 * event list: the old one is kept and read too.
 */
export class Deliveries {
  readonly #runs: DaemonEvent[][][]
  readonly #read: number[][]
  readonly texts: Array<Set<string>>
  readonly receipts: Array<Set<string>>

  constructor (readonly net: Testnet) {
    this.#runs = net.nodes.map(n => [n.seen])
    this.#read = net.nodes.map(() => [0])
    this.texts = net.nodes.map(() => new Set())
    this.receipts = net.nodes.map(() => new Set())
  }

  /** Reads what came since the last call; true when anything did. */
  catchUp (): boolean {
    let news = false
    const nodes = this.net.nodes
    for (let i = 0; i < nodes.length; i++) {
      const runs = this.#runs[i]!
      const read = this.#read[i]!
      const seen = nodes[i]!.seen
      if (runs[runs.length - 1] !== seen) { runs.push(seen); read.push(0) }
      for (let k = 0; k < runs.length; k++) {
        const events = runs[k]!
        if (read[k] === events.length) continue
        news = true
        for (let j = read[k]!; j < events.length; j++) {
          const e = events[j]!
          const m = e.message as { direction?: string, text?: string } | undefined
          if (e.type === 'message' && m?.direction === 'in' && m.text !== undefined) this.texts[i]!.add(m.text)
          if (e.type === 'receipt' && e.direction === 'out' && (e.status === 'delivered' || e.status === 'read')) for (const id of e.ids as string[]) this.receipts[i]!.add(id)
        }
        read[k] = events.length
      }
    }
    return news
  }

  /** s arrived and its sender holds a receipt for it (as of the last catchUp) */
  through (s: Sent): boolean {
    return this.texts[s.to]!.has(s.text) && this.receipts[s.from]!.has(s.id)
  }
}

/**
 * The conversation: every pair of members befriends (by invite), each sends the other a message;
 * then `restarted` stops with those in flight, the others each send it one more while it is down,
 * it starts again after `downMs` and sends everyone one. Returns every message sent, once each
 * arrived and its sender holds a receipt; throws past `maxMs`.
 */
export async function conversation (net: Testnet, plan: ConversationPlan): Promise<Sent[]> {
  const { members, restarted } = plan
  const deliveries = new Deliveries(net)
  for (const [k, a] of members.entries()) for (const b of members.slice(k + 1)) await net.befriend(net.nodes[a]!, net.nodes[b]!)
  const sent: Sent[] = []
  const round = async (name: string, from: (a: number) => boolean, to: (b: number) => boolean = () => true): Promise<void> => {
    for (const a of members) {
      if (!from(a)) continue
      for (const b of members) {
        if (a === b || !to(b)) continue
        const text = `${name}: ${a} to ${b}`
        sent.push({ from: a, to: b, id: (await net.nodes[a]!.actions.send(net.nodes[b]!.fingerprint, text)).id, text })
      }
    }
  }
  await round('first', () => true)
  await net.advance(1) // the first datagrams are on the wire
  await net.stop(restarted)
  await round('while down', a => a !== restarted, b => b === restarted)
  await net.advance(plan.downMs)
  await net.restart(restarted)
  await round('after restart', a => a === restarted)
  let pending = sent.slice()
  await net.until(() => {
    if (deliveries.catchUp()) pending = pending.filter(s => !deliveries.through(s))
    return pending.length === 0
  }, plan.maxMs, 'every message received and receipted')
  return sent
}
