// Joining (dht.md §6.4, Kademlia §2.3): ping the bootstrap addresses (their answers put them in
// the table), look up our own id (which fills the buckets near us and makes us known there), then
// refresh every bucket farther than our closest neighbour that is not yet full.
import { commonPrefixLength } from './ids.js'
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
  const afterPings = (): void => {
    if (node.table.size === 0) return onDone({ reached, contacts: 0, lookups: 0 })
    node.startLookup({ mode: 'find-node', target: node.id, onDone: () => refreshFar(node, reached, onDone) })
  }
  if (waiting === 0) return afterPings()
  for (const addr of bootstrap) {
    node.ping(addr, (id) => {
      if (id !== null) reached++
      if (--waiting === 0) afterPings()
    })
  }
}

function refreshFar (node: DhtNode, reached: number, onDone: (r: JoinResult) => void): void {
  const table = node.table
  const nearest = table.closest(node.id, 1)[0]
  const limit = nearest ? Math.min(commonPrefixLength(node.id, nearest.id), table.bucketCount) : 0
  const todo: number[] = []
  if (node.internals.settings.refreshOnJoin) {
    for (let i = 0; i < limit; i++) if (table.bucket(i).length < table.k) todo.push(i)
  }
  let waiting = todo.length
  const finish = (): void => onDone({ reached, contacts: table.size, lookups: 1 + todo.length })
  if (waiting === 0) return finish()
  for (const i of todo) {
    if (!node.maintenance.refresh(i, () => { if (--waiting === 0) finish() })) {
      if (--waiting === 0) finish()
    }
  }
}
