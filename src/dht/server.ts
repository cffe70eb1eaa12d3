// Answering requests (dht.md §3): PING → PONG with the asker's address as we see it, FIND_NODE →
// the k closest contacts we know, FIND_VALUE → a write token and the records or closer contacts,
// STORE → token check, full record verification, replacement rules, a status byte.
import { DhtType, ValueStatus, StoreStatus, MAX_VALUE_RECORDS } from './constants.js'
import { hostOf } from '../io/address.js'
import { idEquals, type NodeId } from './ids.js'
import type { DhtMessage, NodeInfo } from './messages.js'
import type { NodeInternals } from './context.js'
import type { Contact } from './routing-table.js'

/**
 * The k closest contacts to `target`, leaving out the asker (it knows itself): up to k. `closest`
 * is the table's k closest to `target` when the caller has them already (node.ts).
 */
function closestNodes (n: NodeInternals, target: Uint8Array, asker: NodeId, closest: readonly Contact[] | null): NodeInfo[] {
  const out: NodeInfo[] = []
  for (const c of closest ?? n.table.closest(target, n.settings.k)) {
    if (!idEquals(c.id, asker)) out.push({ id: c.id, addr: c.addr })
  }
  return out
}

/**
 * dht.md §3.5: the records under the key (under the asked period key only, if one is named) with a
 * seq above `have seq`, from `start` on, as many as fit one VALUE; NOT_NEWER if the question
 * selects records but none is newer; NONE if it selects none.
 */
function onFindValue (n: NodeInternals, msg: DhtMessage & { type: typeof DhtType.FIND_VALUE }, from: string, asker: NodeId, closest: readonly Contact[] | null): void {
  const now = n.scheduler.wallNow()
  const token = n.tokens.issue(from, msg.key, now)
  const periodKey = msg.periodKey
  const selected = n.store.list(msg.key, now).map(s => s.record)
    .filter(r => periodKey == null || Buffer.compare(r.periodPublic, periodKey) === 0)
  const fresh = msg.haveSeq === null ? selected : selected.filter(r => r.seq > msg.haveSeq!)
  const start = msg.start ?? 0
  if (start < fresh.length) {
    const records = fresh.slice(start, start + MAX_VALUE_RECORDS).map(r => r.bytes)
    n.reply(from, msg.txid, { type: DhtType.VALUE, token, status: ValueStatus.RECORDS, total: fresh.length, start, records })
    return
  }
  const nodes = closestNodes(n, msg.key, asker, closest)
  if (selected.length > 0 && fresh.length === 0) {
    const seq = selected.reduce((m, r) => Math.max(m, r.seq), 0)
    n.reply(from, msg.txid, { type: DhtType.VALUE, token, status: ValueStatus.NOT_NEWER, seq, nodes })
  } else {
    n.reply(from, msg.txid, { type: DhtType.VALUE, token, status: ValueStatus.NONE, nodes })
  }
}

function storeStatus (n: NodeInternals, msg: DhtMessage & { type: typeof DhtType.STORE }, from: string): number {
  const now = n.scheduler.wallNow()
  if (!n.tokens.check(msg.token, from, msg.key, now)) {
    n.drops.count('bad-token')
    return StoreStatus.BAD_TOKEN
  }
  const record = n.verifyRecord(msg.record, msg.key, now)
  if (record === null) {
    n.drops.count('bad-record')
    return StoreStatus.INVALID
  }
  const put = n.store.put(record, hostOf(from), now)
  if (put === 'stale') n.drops.count('stale-record')
  if (put === 'full') n.drops.count('store-full')
  return put === 'stale' ? StoreStatus.STALE : put === 'full' ? StoreStatus.FULL : StoreStatus.OK
}

/**
 * Answers one rate-limited, decoded request from node `asker` at `from`; `closest` (optional) is
 * the table's k closest contacts to a FIND_NODE's target or a FIND_VALUE's key.
 */
export function handleRequest (n: NodeInternals, msg: DhtMessage, from: string, asker: NodeId, closest: readonly Contact[] | null = null): void {
  switch (msg.type) {
    case DhtType.PING:
      n.reply(from, msg.txid, { type: DhtType.PONG, observed: from })
      return
    case DhtType.FIND_NODE:
      n.reply(from, msg.txid, { type: DhtType.NODES, nodes: closestNodes(n, msg.target, asker, closest) })
      return
    case DhtType.FIND_VALUE:
      onFindValue(n, msg, from, asker, closest)
      return
    case DhtType.STORE:
      n.reply(from, msg.txid, { type: DhtType.STORED, status: storeStatus(n, msg, from) as typeof StoreStatus.OK })
  }
}
