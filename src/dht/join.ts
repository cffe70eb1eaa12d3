// Joining (dht.md §6.4, Kademlia §2.3): ping the bootstrap addresses (their answers put them in
// the table), look up our own id (which fills the buckets near us and makes us known there), then
// refresh every bucket farther than our closest neighbour that holds fewer than α contacts.
// The pings do not all have to come back: once one answered, the others get one stall time
// (rtt.ts) and the join goes on — a list of remembered nodes (dht.md §6.4) is partly dead, and
// each dead one would otherwise hold the join for its whole timeout and retry (2 s).
import { commonPrefixLength } from './ids.js'
import { after } from '../io/scheduler.js'
import type { DhtNode } from './node.js'

export interface JoinResult {
  /** Bootstrap addresses that answered. */
  reached: number
  /** Contacts in the routing table afterwards. */
  contacts: number
  /** Lookups run (the self-lookup and the refreshes). */
  lookups: number
}

export function join (node: DhtNode, bootstrap: readonly string[], onDone: (r: JoinResult) => void): void {
  let reached = 0
  let waiting = bootstrap.length
  let moved = false
  let cancelGrace: (() => void) | null = null
  const afterPings = (): void => {
    if (moved) return
    moved = true
    cancelGrace?.()
    if (node.table.size === 0) return onDone({ reached, contacts: 0, lookups: 0 })
    node.startLookup({ mode: 'find-node', target: node.id, onDone: () => refreshFar(node, () => reached, onDone) })
  }
  if (waiting === 0) return afterPings()
  const n = node.internals
  for (const addr of bootstrap) {
    node.ping(addr, (id) => {
      if (id !== null) reached++
      if (--waiting === 0) return afterPings()
      if (id !== null && reached === 1 && !moved) cancelGrace = after(n.scheduler, n.rpc.rtt.stallMs(n.settings.lookupStallMs), afterPings)
    })
  }
}

// One bucket at a time, farthest first, each re-checked just before its lookup, and only while it
// holds fewer than α contacts: what a lookup needs from a bucket is α nodes to ask in that part
// of the id space (an empty middle bucket is what made lookups fail in the simulator); a refresh
// of one bucket also meets nodes of the nearer ones. Buckets fill up further as other nodes
// contact us. Refreshing every non-full bucket cost 4× the join traffic for no measured gain.
function refreshFar (node: DhtNode, reached: () => number, onDone: (r: JoinResult) => void): void {
  const table = node.table
  const nearest = table.closest(node.id, 1)[0]
  const limit = nearest && node.internals.settings.refreshOnJoin
    ? Math.min(commonPrefixLength(node.id, nearest.id), table.bucketCount)
    : 0
  let lookups = 1
  const step = (i: number): void => {
    while (i < limit && table.bucket(i).length >= node.internals.settings.alpha) i++
    if (i >= limit) return onDone({ reached: reached(), contacts: table.size, lookups })
    lookups++
    if (!node.maintenance.refresh(i, () => step(i + 1))) step(i + 1)
  }
  step(0)
}
