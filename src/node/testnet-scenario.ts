// The whole-node conversation scenario on a testnet (src/node/testnet.ts), in one place for its
// users: test/node/testnet.test.ts (50 simulated nodes, and 10 on loopback UDP),
// test/node/sim-determinism.test.ts (the same scenario twice, traced) and
// scripts/bench/testnet-sim.ts (docs/performance.md §13).
//
//   await formDht(net, 10)                       // routing tables filled, every node announced
//   const sent = await conversation(net, { members, restarted, downMs, maxMs })
//   workCounts(net)                              // what every node did so far, summed
//
// Contacts know each other by invite only (keys, no address), so each first finds the other in
// the DHT (proto-spec/dht.md §5, messaging.md §5.2).
import type { DaemonEvent } from '../runtime/events.js'
import { nodeCounts, type NodeCounts, type Testnet } from './testnet.js'

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
 * event list: the old one is kept and read too. The messages handed to watch() are looked up by
 * the text or receipt that just came, not all rechecked at each new event (418 messages against
 * every event of the 50-node scenario was a few million set lookups per run).
 */
export class Deliveries {
  readonly #runs: DaemonEvent[][][]
  readonly #read: number[][]
  readonly texts: Array<Set<string>>
  readonly receipts: Array<Set<string>>
  /** watched messages not yet through, by "to text" and by "from id" */
  readonly #byText = new Map<string, Sent>()
  readonly #byReceipt = new Map<string, Sent>()
  readonly #outstanding = new Set<Sent>()

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
          if (e.type === 'message' && m?.direction === 'in' && m.text !== undefined) {
            this.texts[i]!.add(m.text)
            this.#settle(this.#byText.get(textKey(i, m.text)))
          }
          if (e.type === 'receipt' && e.direction === 'out' && (e.status === 'delivered' || e.status === 'read')) {
            for (const id of e.ids as string[]) {
              this.receipts[i]!.add(id)
              this.#settle(this.#byReceipt.get(textKey(i, id)))
            }
          }
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

  /** Counts `sent` in `outstanding` until each is through (read as of each catchUp). */
  watch (sent: readonly Sent[]): void {
    this.catchUp()
    for (const s of sent) {
      if (this.through(s)) continue
      this.#outstanding.add(s)
      this.#byText.set(textKey(s.to, s.text), s)
      this.#byReceipt.set(textKey(s.from, s.id), s)
    }
  }

  /** watched messages not yet through */
  get outstanding (): number { return this.#outstanding.size }

  #settle (s: Sent | undefined): void {
    if (s === undefined || !this.through(s)) return
    this.#outstanding.delete(s)
    this.#byText.delete(textKey(s.to, s.text))
    this.#byReceipt.delete(textKey(s.from, s.id))
  }
}

function textKey (node: number, s: string): string { return `${node}\n${s}` }

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
  deliveries.watch(sent)
  await net.until(() => {
    deliveries.catchUp()
    return deliveries.outstanding === 0
  }, plan.maxMs, 'every message received and receipted')
  return sent
}

/** What the nodes did, summed over every instance (restarted ones' earlier runs too): what the work is made of. */
export interface WorkCounts {
  /** handshakes begun (connects, rekeys), their initiations (retransmissions included), responses computed, completed; sessions a newer one with the same peer replaced */
  handshakes: { started: number, initiations: number, responses: number, completed: number, replaced: number }
  /** envelopes sent, by payload type and version, and the PQXDH prekey frames */
  envelopes: Record<string, number>
  prekeyFrames: number
  /** PRESENCE frames (messaging.md §7) */
  presenceFrames: number
  /** PQXDH starts made and answered; link-ups where the larger fingerprint waited for the smaller's start, and waits that ran out (envelope.md §8.3) */
  sessions: { started: number, answered: number, waits: number, waitsExpired: number }
  sendFailures: number
  dials: { started: number, failed: number }
  lookups: { started: number, found: number }
  /** store write batches, and the puts and deletes in them */
  store: { batches: number, puts: number, dels: number }
}

export function workCounts (net: Testnet): WorkCounts {
  const w: WorkCounts = {
    handshakes: { started: 0, initiations: 0, responses: 0, completed: 0, replaced: 0 },
    envelopes: {},
    prekeyFrames: 0,
    presenceFrames: 0,
    sessions: { started: 0, answered: 0, waits: 0, waitsExpired: 0 },
    sendFailures: 0,
    dials: { started: 0, failed: 0 },
    lookups: { started: 0, found: 0 },
    store: { batches: 0, puts: 0, dels: 0 }
  }
  const add = ({ endpoint: e, messaging: c, store: s }: NodeCounts): void => {
    w.handshakes.started += e.handshakes.started
    w.handshakes.initiations += e.handshakes.initiationsSent
    w.handshakes.responses += e.handshakes.responsesSent
    w.handshakes.completed += e.handshakesCompleted
    w.handshakes.replaced += e.handshakes.sessionsReplaced
    for (const [k, v] of Object.entries(c.envelopesByType)) w.envelopes[k] = (w.envelopes[k] ?? 0) + v
    w.prekeyFrames += c.prekeyFramesOut
    w.presenceFrames += c.presenceFramesOut
    w.sessions.started += c.sessionsStarted
    w.sessions.answered += c.sessionsAnswered
    w.sessions.waits += c.startWaits
    w.sessions.waitsExpired += c.startWaitsExpired
    w.sendFailures += c.sendFailures
    w.dials.started += c.dialsStarted
    w.dials.failed += c.dialsFailed
    w.lookups.started += c.lookupsStarted
    w.lookups.found += c.lookupsFound
    w.store.batches += s.batches
    w.store.puts += s.puts
    w.store.dels += s.dels
  }
  for (const c of net.retired.values()) add(c)
  for (const n of net.nodes) if (!net.retired.has(n)) add(nodeCounts(n))
  return w
}

/** b − a, field by field (envelope types sorted). */
export function workSince (a: WorkCounts, b: WorkCounts): WorkCounts {
  const d = <T extends Record<string, number>>(x: T, y: T): T => Object.fromEntries(Object.keys(y).sort().map(k => [k, (y[k] ?? 0) - (x[k] ?? 0)])) as T
  return {
    handshakes: d(a.handshakes, b.handshakes),
    envelopes: d(a.envelopes, b.envelopes),
    prekeyFrames: b.prekeyFrames - a.prekeyFrames,
    presenceFrames: b.presenceFrames - a.presenceFrames,
    sessions: d(a.sessions, b.sessions),
    sendFailures: b.sendFailures - a.sendFailures,
    dials: d(a.dials, b.dials),
    lookups: d(a.lookups, b.lookups),
    store: d(a.store, b.store)
  }
}
